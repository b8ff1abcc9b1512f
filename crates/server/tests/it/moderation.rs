//! Moderation: a field that publishes after review shows no text and no photo anywhere
//! public until a moderator publishes it; moderators edit the public text, hide or redact a
//! photo (the original stays for staff) and hide a report with a reason.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, TestApp};
use phananh_domain::access::Role;

const SECRET: &str = "nhà ông Nguyễn Văn Tư số 15";

async fn upload(t: &TestApp) -> String {
    let r = t
        .client
        .post(t.url("/api/v1/photos"))
        .header("content-type", "image/jpeg")
        .body(phananh_photos::sample::phone_jpeg())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["photo"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every public view of report `code`, as text.
async fn public_views(t: &TestApp, code: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for path in [
        format!("/r/{code}"),
        format!("/api/v1/reports/{code}"),
        format!("/open311/v2/requests/{code}.json?extensions=true"),
        format!("/open311/v2/requests.json?service_request_id={code}"),
        "/api/v1/public/reports?field=noise".to_string(),
        "/map?field=noise".to_string(),
    ] {
        let r = t.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        out.push((path, r.text().await.unwrap()));
    }
    out
}

async fn decode(t: &TestApp, key: &str, who: Option<&support::StaffClient>) -> image::RgbImage {
    let mut req = t.client.get(t.url(&format!("/photos/{key}")));
    if let Some(s) = who {
        req = req.header("cookie", &s.cookie);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{key}");
    let bytes = r.bytes().await.unwrap();
    image::load_from_memory(&bytes).unwrap().to_rgb8()
}

#[tokio::test]
async fn a_review_field_publishes_nothing_until_a_moderator_does() {
    for t in support::apps().await {
        let photo = upload(&t).await;
        let filed = t
            .file(json!({"field": "noise", "description": format!("Karaoke ồn tới 2 giờ sáng, {SECRET}"),
                "lat": 10.7769, "lon": 106.7009, "photos": [photo]}))
            .await;
        let code = filed["code"].as_str().unwrap().to_string();

        // Waiting for review: the code, status page, field, ward and map point exist; the
        // words and the photo do not, anywhere public.
        for (path, body) in public_views(&t, &code).await {
            assert!(!body.contains("Nguyễn Văn Tư"), "{path} shows the text");
            assert!(!body.contains(&photo), "{path} shows the photo");
        }
        let status = t.get(&format!("/r/{code}")).await.text().await.unwrap();
        assert!(status.contains("chờ kiểm duyệt") && status.contains("Tiếng ồn"));
        let api: Value = t
            .get(&format!("/api/v1/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        assert!(api["lat"].is_number(), "the map point is public: {api}");
        assert_eq!(
            t.get(&format!("/photos/{photo}")).await.status(),
            StatusCode::NOT_FOUND
        );

        // The queue lists it; a supervisor may look but not moderate.
        let triage = t.staff(Role::Triage, None).await;
        let queue = triage
            .page(&t, "/console/moderation")
            .await
            .text()
            .await
            .unwrap();
        assert!(queue.contains(&code), "in the queue");
        let sup = t.staff(Role::Supervisor, None).await;
        assert_eq!(
            sup.moderate(&t, &code, json!({"step": "publish"}))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        // Another unit's staff: not found.
        let other = t.staff(Role::UnitStaff, Some("SXD")).await;
        assert_eq!(
            other
                .moderate(&t, &code, json!({"step": "publish"}))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );

        // Edit the public text, then publish: the public sees the edited text; staff keep
        // the original.
        let r = triage
            .moderate(
                &t,
                &code,
                json!({"step": "edit_text", "text": "Karaoke ồn tới 2 giờ sáng tại một nhà trên đường Lê Lợi"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            triage
                .moderate(&t, &code, json!({"step": "publish"}))
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            triage
                .moderate(&t, &code, json!({"step": "publish"}))
                .await
                .status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "already published"
        );
        let status = t.get(&format!("/r/{code}")).await.text().await.unwrap();
        assert!(status.contains("tại một nhà trên đường Lê Lợi"));
        assert!(!status.contains("Nguyễn Văn Tư") && !status.contains("chờ kiểm duyệt"));
        assert!(
            status.contains(&phananh_app::photos::thumb_key(&photo)),
            "photo public"
        );
        let staff_view: Value = triage
            .api_get(&t, &format!("/api/v1/staff/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        assert!(staff_view["description"].as_str().unwrap().contains(SECRET));
        assert_eq!(staff_view["publication"], "published");
        let queue = triage
            .page(&t, "/console/moderation")
            .await
            .text()
            .await
            .unwrap();
        assert!(!queue.contains(&code), "out of the queue");

        // Every step is in the history, none of it in the public timeline.
        let events = t
            .store()
            .events(staff_view_id(&t, &code).await)
            .await
            .unwrap();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.type_name()).collect();
        assert!(
            kinds.ends_with(&["public_text_edited", "published"]),
            "{kinds:?}"
        );
        t.stop().await;
    }
}

async fn staff_view_id(t: &TestApp, code: &str) -> i64 {
    t.store().report_by_code(code).await.unwrap().unwrap().id
}

#[tokio::test]
async fn redaction_covers_the_public_copy_and_keeps_the_original() {
    for t in support::apps().await {
        let photo = upload(&t).await;
        let filed = t
            .file(
                json!({"field": "traffic", "description": "Xe đậu trên vỉa hè, thấy rõ biển số",
                "ward": "26740", "photos": [photo]}),
            )
            .await;
        let code = filed["code"].as_str().unwrap().to_string();
        let triage = t.staff(Role::Triage, None).await;
        let original = decode(&t, &photo, Some(&triage)).await;
        let (w, h) = original.dimensions();
        let before_bytes = t
            .client
            .get(t.url(&format!("/photos/{photo}")))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();

        // Boxes outside the photo are refused.
        let r = triage
            .moderate(
                &t,
                &code,
                json!({"step": "redact_photo", "photo": photo, "boxes": [{"x": 0, "y": 0, "w": w + 1, "h": 1}]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // A photo of another report is refused.
        let r = triage
            .moderate(
                &t,
                &code,
                json!({"step": "redact_photo", "photo": "p/2026/01/00000000000000000000000000000000.jpg",
                    "boxes": [{"x": 0, "y": 0, "w": 2, "h": 2}]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // Through the console's form, as the page's script fills it.
        let r = triage
            .form(
                &t,
                &format!("/console/reports/{code}/moderation"),
                &[
                    ("step", "redact_photo"),
                    ("photo", &photo),
                    ("boxes", &format!("0,0,{},{}", w / 2, h / 2)),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let api: Value = t
            .get(&format!("/api/v1/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        let public_url = api["photos"][0]["url"].as_str().unwrap().to_string();
        let copy = public_url.trim_start_matches("/photos/").to_string();
        assert_ne!(copy, photo, "the public sees the copy: {api}");
        assert_eq!(
            t.get(&format!("/photos/{photo}")).await.status(),
            StatusCode::NOT_FOUND,
            "the original is no longer public"
        );
        let covered = decode(&t, &copy, None).await;
        let after = decode(&t, &photo, Some(&triage)).await;
        let dark = |p: &image::Rgb<u8>| p.0.iter().all(|c| *c < 40);
        assert!(dark(covered.get_pixel(1, 1)) && dark(covered.get_pixel(w / 2 - 2, h / 2 - 2)));
        assert!(
            !dark(covered.get_pixel(w - 2, h - 2)),
            "outside the box unchanged"
        );
        assert!(!dark(after.get_pixel(1, 1)), "the original is untouched");
        let after_bytes = t
            .client
            .get(t.url(&format!("/photos/{photo}")))
            .header("cookie", &triage.cookie)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(
            before_bytes, after_bytes,
            "the original's bytes are the same"
        );
        assert_eq!(original, after);

        // Hiding a photo: gone from the public pages, still there for staff.
        let r = triage
            .moderate(&t, &code, json!({"step": "hide_photo", "photo": photo}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let api: Value = t
            .get(&format!("/api/v1/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(api["photos"], json!([]), "{api}");
        let console = triage
            .page(&t, &format!("/console/reports/{code}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(console.contains(&photo) && console.contains("Ảnh đã ẩn"));
        t.stop().await;
    }
}

#[tokio::test]
async fn a_hidden_report_tells_why_and_keeps_its_words_from_the_public() {
    let t = support::spawn(support::Options::default()).await;
    let filed = t
        .file(
            json!({"field": "traffic", "description": format!("Ổ gà, {SECRET}"), "ward": "26740"}),
        )
        .await;
    let code = filed["code"].as_str().unwrap().to_string();
    let unit = t.store().report_by_code(&code).await.unwrap().unwrap().unit;
    // The unit moderates its own reports.
    let staff = t.staff(Role::UnitStaff, Some(&unit)).await;
    let r = staff
        .moderate(
            &t,
            &code,
            json!({"step": "hide", "reason": "Nội dung nêu tên người khác"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let status = t.get(&format!("/r/{code}")).await.text().await.unwrap();
    assert!(!status.contains("Nguyễn Văn Tư"));
    assert!(
        status.contains("Nội dung nêu tên người khác"),
        "the reason is public"
    );
    assert!(status.contains("không được công khai"));
    let o311: Value = t
        .get(&format!("/open311/v2/requests/{code}.json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(o311[0]["description"], "");
    assert_eq!(o311[0]["status_notes"], "Nội dung nêu tên người khác");
    t.stop().await;
}
