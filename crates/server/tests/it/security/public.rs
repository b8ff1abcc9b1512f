//! Issue 11, findings 6 and 8: what the public may see and do. Uploads stay private until a
//! report uses them and are deleted after a day; uploads have a per-address quota; rejected
//! reports and internal notes reach no public view; following needs a confirmed address;
//! oversight writes nothing; staff filings have a per-user limit.

use chrono::Duration;
use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, Options, StaffClient, TestApp, apps, drain, smtp_sink, spawn};

async fn upload(t: &TestApp) -> reqwest::Response {
    t.client
        .post(t.url("/api/v1/photos"))
        .header("content-type", "image/jpeg")
        .body(phananh_photos::sample::phone_jpeg())
        .send()
        .await
        .unwrap()
}

async fn uploaded(t: &TestApp) -> Value {
    let r = upload(t).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

fn ok(r: &reqwest::Response) {
    assert!(r.status().is_success(), "{}", r.status());
}

async fn act(staff: &StaffClient, t: &TestApp, code: &str, body: Value) {
    let r = staff.act(t, code, body.clone()).await;
    let status = r.status();
    assert_eq!(
        status,
        StatusCode::OK,
        "{body}: {}",
        r.text().await.unwrap()
    );
}

#[tokio::test]
async fn an_unattached_upload_is_private_and_deleted_after_a_day() {
    for t in apps().await {
        let lone = uploaded(&t).await;
        let lone_key = lone["photo"].as_str().unwrap().to_string();
        // Not served to anyone while no report uses it: the server is no image host.
        assert_eq!(
            t.get(lone["url"].as_str().unwrap()).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            t.get(lone["thumb_url"].as_str().unwrap()).await.status(),
            StatusCode::NOT_FOUND
        );
        // The uploader still files with it by its key; then it is the report's, and public.
        let used = uploaded(&t).await;
        let filed = t
            .file(
                json!({"field": "traffic", "description": "Ổ gà giữa đường", "ward": "26740",
                "photos": [used["photo"]]}),
            )
            .await;
        let served = t.get(used["url"].as_str().unwrap()).await;
        assert_eq!(served.status(), StatusCode::OK);
        assert!(
            served.headers()["cache-control"]
                .to_str()
                .unwrap()
                .starts_with("public"),
            "{:?}",
            served.headers()
        );

        // A day later the upload nothing used is gone (file and row); the used one stays.
        t.clock.advance(Duration::hours(23));
        assert_eq!(t.app().purge_unattached_photos().await.unwrap(), 0);
        assert!(t.app().photos.get(&lone_key).is_ok(), "not before 24 hours");
        t.clock.advance(Duration::hours(2));
        assert_eq!(t.app().purge_unattached_photos().await.unwrap(), 1);
        assert!(
            t.app().photos.get(&lone_key).is_err(),
            "the file is deleted"
        );
        assert!(
            t.app()
                .photos
                .get(&phananh_app::photos::thumb_key(&lone_key))
                .is_err(),
            "and its thumbnail"
        );
        assert_eq!(t.app().purge_unattached_photos().await.unwrap(), 0);
        let late = t
            .client
            .post(t.url("/api/v1/reports"))
            .json(&json!({"field": "traffic", "description": "Ổ gà", "ward": "26740", "photos": [lone_key]}))
            .send()
            .await
            .unwrap();
        assert_eq!(late.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            t.get(used["url"].as_str().unwrap()).await.status(),
            StatusCode::OK,
            "a report's photo is kept"
        );

        // A rejected report's photo is no longer public; staff still see it, uncached.
        let code = filed["code"].as_str().unwrap();
        let triage = t.staff(Role::Triage, None).await;
        act(
            &triage,
            &t,
            code,
            json!({"action": "reject", "reason": "Trùng lặp"}),
        )
        .await;
        assert_eq!(
            t.get(used["url"].as_str().unwrap()).await.status(),
            StatusCode::NOT_FOUND
        );
        let staff_view = triage.page(&t, used["url"].as_str().unwrap()).await;
        assert_eq!(staff_view.status(), StatusCode::OK);
        assert_eq!(staff_view.headers()["cache-control"], "private, no-store");
        t.stop().await;
    }
}

#[tokio::test]
async fn uploads_have_a_quota_per_address() {
    let t = spawn(Options {
        uploads_per_hour: 2,
        ..Options::default()
    })
    .await;
    ok(&upload(&t).await);
    ok(&upload(&t).await);
    let refused = upload(&t).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upload_quota_exceeded", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Bạn đã tải lên quá nhiều ảnh"),
        "{body}"
    );
    // Staff upload for resolutions and are not counted against the address.
    let staff = t.staff(Role::UnitStaff, Some("UBND-26740")).await;
    let r = t
        .client
        .post(t.url("/api/v1/photos"))
        .header("cookie", &staff.cookie)
        .body(phananh_photos::sample::phone_jpeg())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    t.stop().await;

    // The bytes are counted too.
    let size = phananh_photos::sample::phone_jpeg().len() as u64;
    let t = spawn(Options {
        upload_bytes_per_hour: size + size / 2,
        ..Options::default()
    })
    .await;
    ok(&upload(&t).await);
    let refused = upload(&t).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "upload_quota_exceeded", "{body}");
    t.stop().await;
}

#[tokio::test]
async fn rejected_reports_are_published_nowhere() {
    for t in apps().await {
        let (lat, lon) = (10.7769, 106.7009);
        let kept = t
            .file(json!({"field": "lighting", "description": "Đèn đường hỏng", "lat": lat, "lon": lon}))
            .await;
        let kept = kept["code"].as_str().unwrap().to_string();
        let spam = t
            .file(json!({"field": "lighting", "description": "NOI-DUNG-RAC 0909123456", "lat": lat, "lon": lon}))
            .await;
        let spam = spam["code"].as_str().unwrap().to_string();
        let triage = t.staff(Role::Triage, None).await;
        act(
            &triage,
            &t,
            &spam,
            json!({"action": "reject", "reason": "Nội dung không phù hợp"}),
        )
        .await;

        let text = |path: &'static str| {
            let t = &t;
            async move {
                let r = t.get(path).await;
                assert_eq!(r.status(), StatusCode::OK, "{path}");
                r.text().await.unwrap()
            }
        };
        for (what, body) in [
            ("open311", text("/open311/v2/requests.json").await),
            (
                "open311 open and closed",
                text("/open311/v2/requests.json?status=open,closed&extensions=true").await,
            ),
            ("open311 xml", text("/open311/v2/requests.xml").await),
            ("public list", text("/api/v1/public/reports").await),
            ("map", text("/map").await),
            (
                "nearby",
                text("/api/v1/public/nearby?field=lighting&lat=10.7769&lon=106.7009").await,
            ),
        ] {
            assert!(body.contains(&kept), "{what} lists published reports");
            assert!(
                !body.contains(&spam) && !body.contains("NOI-DUNG-RAC"),
                "{what}: {body}"
            );
        }
        for path in [
            "/open311/v2/requests.json?status=closed",
            "/api/v1/public/reports?status=rejected",
        ] {
            let body = text(path).await;
            assert!(!body.contains(&spam), "{path}: {body}");
        }
        let by_code = t
            .get(&format!(
                "/open311/v2/requests.json?service_request_id={spam}"
            ))
            .await
            .text()
            .await
            .unwrap();
        assert!(!by_code.contains(&spam), "{by_code}");

        // By its code, every public view shows the same thing: that it was rejected and
        // why, not what it said or where.
        let api: Value = t
            .get(&format!("/api/v1/reports/{spam}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(api["status"], "rejected");
        assert_eq!(api["description"], "");
        assert!(api["lat"].is_null() && api["ward"].is_null(), "{api}");
        assert!(api.to_string().contains("Nội dung không phù hợp"), "{api}");
        let page = text_of(&t, &format!("/r/{spam}")).await;
        let open311 = text_of(&t, &format!("/open311/v2/requests/{spam}.json")).await;
        for (what, body) in [("status page", &page), ("open311", &open311)] {
            assert!(!body.contains("NOI-DUNG-RAC"), "{what}: {body}");
            assert!(body.contains("Nội dung không phù hợp"), "{what}: {body}");
        }
        t.stop().await;
    }
}

async fn text_of(t: &TestApp, path: &str) -> String {
    let r = t.get(path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.text().await.unwrap()
}

#[tokio::test]
async fn internal_reasons_and_notes_stay_out_of_public_timelines() {
    for t in apps().await {
        let r = t
            .file(json!({"field": "sidewalk", "description": "Lấn chiếm vỉa hè", "ward": "26740"}))
            .await;
        let code = r["code"].as_str().unwrap().to_string();
        let unit = r["unit"].as_str().unwrap().to_string();
        let manager = t.staff(Role::UnitManager, Some(&unit)).await;
        act(
            &manager,
            &t,
            &code,
            json!({"action": "transfer", "to": "UBND-26743", "reason": "LYDO-CHUYEN-9137"}),
        )
        .await;
        let other = t.staff(Role::UnitStaff, Some("UBND-26743")).await;
        act(
            &other,
            &t,
            &code,
            json!({"action": "return_to_triage", "reason": "LYDO-TRA-5521"}),
        )
        .await;
        let triage = t.staff(Role::Triage, None).await;
        act(
            &triage,
            &t,
            &code,
            json!({"action": "assign", "unit": unit, "note": "GHICHU-NOIBO-7741"}),
        )
        .await;
        act(
            &triage,
            &t,
            &code,
            json!({"action": "comment", "text": "KIN-NOIBO-8824", "public": false}),
        )
        .await;
        act(
            &triage,
            &t,
            &code,
            json!({"action": "comment", "text": "CONGKHAI-3310", "public": true}),
        )
        .await;

        let views = [
            ("status page", text_of(&t, &format!("/r/{code}")).await),
            ("status page en", {
                let r = t
                    .client
                    .get(t.url(&format!("/r/{code}")))
                    .header("cookie", "phananh_lang=en")
                    .send()
                    .await
                    .unwrap();
                r.text().await.unwrap()
            }),
            ("api", text_of(&t, &format!("/api/v1/reports/{code}")).await),
            (
                "open311 one",
                text_of(
                    &t,
                    &format!("/open311/v2/requests/{code}.json?extensions=true"),
                )
                .await,
            ),
            (
                "open311 list",
                text_of(&t, "/open311/v2/requests.json?extensions=true").await,
            ),
            (
                "open311 xml",
                text_of(
                    &t,
                    &format!("/open311/v2/requests/{code}.xml?extensions=true"),
                )
                .await,
            ),
        ];
        for (what, body) in &views {
            for secret in [
                "LYDO-CHUYEN-9137",
                "LYDO-TRA-5521",
                "GHICHU-NOIBO-7741",
                "KIN-NOIBO-8824",
            ] {
                assert!(!body.contains(secret), "{what} shows {secret}: {body}");
            }
            assert!(body.contains("CONGKHAI-3310"), "{what}: {body}");
        }
        // Staff still read every word.
        let staff_view = triage
            .api_get(&t, &format!("/api/v1/staff/reports/{code}"))
            .await
            .text()
            .await
            .unwrap();
        for word in ["LYDO-CHUYEN-9137", "LYDO-TRA-5521", "GHICHU-NOIBO-7741"] {
            assert!(staff_view.contains(word), "{word}");
        }
        t.stop().await;
    }
}

#[tokio::test]
async fn following_needs_a_confirmed_address() {
    use phananh_worker::{Worker, WorkerConfig};
    for t in apps().await {
        let (port, got) = smtp_sink(0).await;
        let worker = Worker::new(
            t.app().clone(),
            WorkerConfig {
                smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
                public_url: "https://1022.example.vn".into(),
                ..WorkerConfig::default()
            },
        );
        let r = t
            .file(json!({"field": "lighting", "description": "Đèn tắt", "lat": 10.7769, "lon": 106.7009}))
            .await;
        let code = r["code"].as_str().unwrap().to_string();
        let follow = || async {
            let page = t.get(&format!("/r/{code}")).await;
            let cookie = support::set_cookie_value(&page, "phananh_follow").unwrap();
            let csrf = support::hidden_csrf(&page.text().await.unwrap());
            t.client
                .post(t.url(&format!("/r/{code}/follow")))
                .header("cookie", format!("phananh_follow={cookie}"))
                .form(&[("csrf", csrf.as_str()), ("email", "victim@example.vn")])
                .send()
                .await
                .unwrap()
        };
        let resp = follow().await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert!(
            resp.headers()["location"]
                .to_str()
                .unwrap()
                .ends_with("?confirm=1")
        );
        drain(&worker).await;
        let to_victim = |got: &std::sync::Mutex<Vec<String>>| -> Vec<String> {
            got.lock()
                .unwrap()
                .iter()
                .filter(|m| m.contains("To: victim@example.vn"))
                .map(|m| m.replace("=\n", ""))
                .collect()
        };
        let mails = to_victim(&got);
        assert_eq!(mails.len(), 1, "only the confirmation: {mails:?}");
        let link = mails[0]
            .split("https://1022.example.vn/follow/confirm/")
            .nth(1)
            .expect("a confirmation link")
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        // Asking again sends nothing more (the form cannot flood a mailbox).
        assert_eq!(follow().await.status(), StatusCode::SEE_OTHER);
        // Unconfirmed: a public step reaches nobody at that address.
        let triage = t.staff(Role::Triage, None).await;
        act(
            &triage,
            &t,
            &code,
            json!({"action": "comment", "text": "Đã báo điện lực", "public": true}),
        )
        .await;
        drain(&worker).await;
        drain(&worker).await;
        assert_eq!(to_victim(&got).len(), 1, "no notice before confirming");

        // The link asks first (mail scanners open links), confirms once, then is spent.
        assert_eq!(
            t.get(&format!("/follow/confirm/{link}")).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            to_victim(&got).len(),
            1,
            "opening the link confirms nothing"
        );
        let confirm = || {
            t.client
                .post(t.url(&format!("/follow/confirm/{link}")))
                .send()
        };
        assert_eq!(confirm().await.unwrap().status(), StatusCode::SEE_OTHER);
        assert_eq!(confirm().await.unwrap().status(), StatusCode::NOT_FOUND);
        act(
            &triage,
            &t,
            &code,
            json!({"action": "comment", "text": "Điện lực đang sửa", "public": true}),
        )
        .await;
        drain(&worker).await;
        drain(&worker).await;
        let mails = to_victim(&got);
        assert_eq!(mails.len(), 2, "notices after confirming: {mails:?}");
        assert!(mails[1].contains("/unfollow/"));

        // A link not used in time expires, and the subscription is deleted.
        let page = t.get(&format!("/r/{code}")).await;
        let cookie = support::set_cookie_value(&page, "phananh_follow").unwrap();
        let csrf = support::hidden_csrf(&page.text().await.unwrap());
        t.client
            .post(t.url(&format!("/r/{code}/follow")))
            .header("cookie", format!("phananh_follow={cookie}"))
            .form(&[("csrf", csrf.as_str()), ("email", "late@example.vn")])
            .send()
            .await
            .unwrap();
        drain(&worker).await;
        let late: Vec<String> = got
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.contains("To: late@example.vn"))
            .map(|m| m.replace("=\n", ""))
            .collect();
        let late_link = late[0]
            .split("https://1022.example.vn/follow/confirm/")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        t.clock.advance(Duration::hours(49));
        assert_eq!(t.app().purge_unconfirmed_followers().await.unwrap(), 1);
        let r = t
            .client
            .post(t.url(&format!("/follow/confirm/{late_link}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        t.stop().await;
    }
}

#[tokio::test]
async fn oversight_writes_nothing() {
    for t in apps().await {
        let r = t
            .file(json!({"field": "traffic", "description": "Ổ gà", "ward": "26740"}))
            .await;
        let code = r["code"].as_str().unwrap().to_string();
        let oversight = t.staff(Role::Oversight, None).await;
        // Filing through the JSON API.
        let api = t
            .client
            .post(t.url("/api/v1/reports"))
            .header("cookie", &oversight.cookie)
            .header("x-csrf-token", &oversight.csrf)
            .json(&json!({"field": "traffic", "description": "Ổ gà khác", "ward": "26740"}))
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), StatusCode::FORBIDDEN);
        // Filing through the hotline screen, acting through the console, uploading.
        let hotline = oversight
            .form(
                &t,
                "/console/hotline",
                &[
                    ("phone", "0900000009"),
                    ("field", "traffic"),
                    ("description", "Ổ gà"),
                    ("ward_name", "Sài Gòn"),
                ],
            )
            .await;
        assert_eq!(hotline.status(), StatusCode::FORBIDDEN);
        let console = oversight
            .form(
                &t,
                &format!("/console/reports/{code}/actions"),
                &[("action", "comment"), ("text", "x")],
            )
            .await;
        assert_eq!(console.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            oversight
                .act(&t, &code, json!({"action": "comment", "text": "x"}))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        let photo = t
            .client
            .post(t.url("/api/v1/photos"))
            .header("cookie", &oversight.cookie)
            .body(phananh_photos::sample::phone_jpeg())
            .send()
            .await
            .unwrap();
        assert_eq!(photo.status(), StatusCode::FORBIDDEN);
        let admin = oversight
            .form(&t, "/console/admin/rules", &[("field", "traffic")])
            .await;
        assert_eq!(admin.status(), StatusCode::FORBIDDEN);
        // Nothing was filed; reading still works, and so does signing out.
        let list: Value = oversight
            .api_get(&t, "/api/v1/staff/reports")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
        assert_eq!(
            oversight
                .page(&t, &format!("/console/reports/{code}"))
                .await
                .status(),
            StatusCode::OK
        );
        let out = oversight.form(&t, "/logout", &[]).await;
        assert_eq!(out.status(), StatusCode::SEE_OTHER);
        t.stop().await;
    }
}

#[tokio::test]
async fn staff_filings_have_a_limit_per_user() {
    let t = spawn(Options {
        staff_filings_per_minute: 3,
        ..Options::default()
    })
    .await;
    let triage = t.staff(Role::Triage, None).await;
    let file = |who: &StaffClient, n: usize| {
        t.client
            .post(t.url("/api/v1/reports"))
            .header("cookie", &who.cookie)
            .header("x-csrf-token", &who.csrf)
            .json(&json!({"field": "traffic", "description": format!("Ổ gà số {n}"), "ward": "26740", "channel": "hotline"}))
            .send()
    };
    for n in 0..3 {
        assert_eq!(
            file(&triage, n).await.unwrap().status(),
            StatusCode::CREATED
        );
    }
    let refused = file(&triage, 3).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "staff_rate_limited", "{body}");
    // The hotline screen counts against the same limit.
    let hotline = triage
        .form(
            &t,
            "/console/hotline",
            &[
                ("phone", "0900000009"),
                ("field", "traffic"),
                ("description", "Ổ gà"),
                ("ward_name", "Sài Gòn"),
            ],
        )
        .await;
    assert_eq!(hotline.status(), StatusCode::TOO_MANY_REQUESTS);
    // Per user: a colleague still files.
    let colleague = t.staff(Role::Triage, None).await;
    assert_eq!(
        file(&colleague, 9).await.unwrap().status(),
        StatusCode::CREATED
    );
    t.stop().await;
}
