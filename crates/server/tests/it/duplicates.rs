//! Duplicates: the same problem reported twice, from any channel. The report page lists
//! the likely duplicates near by; staff close one as a duplicate of another: the duplicate's
//! reporter follows the original and hears of its steps on their own channel (SMS, email),
//! the public page and Open311 name the original, and the statistics count the problem
//! once. Undoing the merge restores the report, the follower link and the counts.

use std::sync::{Arc, Mutex};

use crate::support::*;
use chrono::Duration;
use phananh_app::Clock;
use phananh_channels::sms::SmsConfig;
use phananh_domain::access::Role;
use phananh_worker::{Worker, WorkerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PHONE: &str = "0912000555";
const EMAIL: &str = "nguoidan.trung@example.org";

/// The texts sent to `PHONE` about report `code` as its follower.
fn texts_about(sent: &SentSms, code: &str) -> Vec<String> {
    sent.lock()
        .unwrap()
        .iter()
        .filter(|(to, text)| to == PHONE && text.starts_with(&format!("1022: Phan anh {code} (")))
        .map(|(_, text)| text.clone())
        .collect()
}

/// The mails to `EMAIL` that carry an unsubscribe link (those it gets as a follower).
fn follower_mails(got: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
    got.lock()
        .unwrap()
        .iter()
        .filter(|m| m.contains(&format!("To: {EMAIL}")) && m.contains("/unfollow/"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_merge_moves_followers_and_notices_and_counts_once_an_undo_restores_both() {
    let (gateway, sent) = sms_gateway().await;
    let sms = SmsConfig {
        gateway_url: format!("{gateway}/send"),
        ..SmsConfig::default()
    };
    let apps = apps_with(|| Options {
        sms: sms.clone(),
        ..Options::default()
    })
    .await;
    for t in apps {
        let (port, got) = smtp_sink(0).await;
        let worker = Worker::new(
            t.app().clone(),
            WorkerConfig {
                sms: sms.clone(),
                smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
                public_url: "https://1022.example.vn".into(),
                ..WorkerConfig::default()
            },
        );
        let (lat, lon) = BEN_THANH_MARKET;
        let from = t.clock.now() - Duration::days(1);
        let to = t.clock.now() + Duration::days(1);
        let total = |t: &TestApp| {
            let store = t.store().clone();
            async move {
                let s = store.stats(from, to).await.unwrap();
                assert_eq!(s, store.stats_from_reports(from, to).await.unwrap());
                s.total
            }
        };
        let counted = total(&t).await;

        // The original, without a contact; 50 m north the same problem by a citizen who
        // left a phone; 33 m south by one who left an email; 1.1 km away, and another
        // field close by: not the same problem.
        let file = |dlat: f64, field: &str, contact: Value| {
            let mut body = json!({"field": field, "description": "Quán lấn chiếm vỉa hè, người đi bộ phải xuống lòng đường", "lat": lat + dlat, "lon": lon});
            if let Value::Object(extra) = contact {
                body.as_object_mut().unwrap().extend(extra);
            }
            body
        };
        let original = t.file(file(0.0, "sidewalk", json!({}))).await;
        let by_sms = t
            .file(file(0.00045, "sidewalk", json!({"phone": PHONE})))
            .await;
        let by_mail = t
            .file(file(-0.0003, "sidewalk", json!({"email": EMAIL})))
            .await;
        let far = t.file(file(0.01, "sidewalk", json!({}))).await;
        let other = t.file(file(0.0002, "lighting", json!({}))).await;
        let code = |r: &Value| r["code"].as_str().unwrap().to_string();
        let (a, b, c) = (code(&original), code(&by_sms), code(&by_mail));
        let unit = original["unit"].as_str().unwrap().to_string();
        assert_eq!(by_sms["unit"], unit.as_str());
        assert_eq!(by_mail["unit"], unit.as_str());
        assert_eq!(total(&t).await, counted + 5);
        drain(&worker).await;

        // The likely duplicates of the one by SMS: the original 50 m away, then the one by
        // email; nothing far away, nothing of another field.
        let staff = t.staff(Role::UnitStaff, Some(&unit)).await;
        let triage = t.staff(Role::Triage, None).await;
        let listed: Value = triage
            .api_get(&t, &format!("/api/v1/staff/reports/{b}/duplicates"))
            .await
            .json()
            .await
            .unwrap();
        let items = listed["items"].as_array().unwrap();
        let codes: Vec<&str> = items.iter().map(|i| i["code"].as_str().unwrap()).collect();
        assert_eq!(codes, [a.as_str(), c.as_str()], "{listed}");
        assert_eq!(items[0]["distance_m"], 50, "{listed}");
        assert_eq!(items[1]["distance_m"], 83, "{listed}");
        assert_eq!(items[0]["age_days"], 0);
        let page = staff
            .page(&t, &format!("/console/reports/{b}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Có thể trùng"), "{page}");
        assert!(page.contains(&format!("value=\"{a}\"")));
        assert!(page.contains("50 m"));
        assert!(page.contains("Đánh dấu trùng với hồ sơ này"));
        for absent in [code(&far), code(&other)] {
            assert!(!page.contains(&absent), "{absent}");
        }

        // A field may ask for a smaller radius: at 40 m neither is listed any more.
        let mut sidewalk = t.app().catalog().await.field("sidewalk").cloned().unwrap();
        assert_eq!(sidewalk.duplicate_radius_m, 150, "the default");
        sidewalk.duplicate_radius_m = 40;
        t.store().save_field(&sidewalk).await.unwrap();
        t.app().refresh_catalog().await.unwrap();
        let narrow: Value = triage
            .api_get(&t, &format!("/api/v1/staff/reports/{b}/duplicates"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(narrow["items"], json!([]), "{narrow}");
        sidewalk.duplicate_radius_m = 150;
        t.store().save_field(&sidewalk).await.unwrap();
        t.app().refresh_catalog().await.unwrap();

        // Another unit's staff: not found, neither the list nor the merge.
        let stranger = t.staff(Role::UnitStaff, Some("SXD")).await;
        assert_ne!(unit, "SXD");
        let resp = stranger
            .api_get(&t, &format!("/api/v1/staff/reports/{b}/duplicates"))
            .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let resp = stranger
            .act(&t, &b, json!({"action": "mark_duplicate", "of": a}))
            .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        // Oversight watches and does not merge.
        let oversight = t.staff(Role::Oversight, None).await;
        let resp = oversight
            .act(&t, &b, json!({"action": "mark_duplicate", "of": a}))
            .await;
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        // Not into itself, not into an unknown report.
        for (of, reason) in [
            (b.as_str(), "same_report"),
            ("ABCD-2345", "unknown_original"),
        ] {
            let resp = staff
                .act(&t, &b, json!({"action": "mark_duplicate", "of": of}))
                .await;
            assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{of}");
            assert!(resp.text().await.unwrap().contains(reason));
        }

        // Merge: by the API (the code as people type it), and from the page's button.
        let typed = a.to_lowercase().replace('-', " ");
        let resp = staff
            .act(&t, &b, json!({"action": "mark_duplicate", "of": typed}))
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let merged: Value = resp.json().await.unwrap();
        assert_eq!(merged["status"], "duplicate", "{merged}");
        assert_eq!(merged["duplicate_of"], a.as_str());
        let resp = staff
            .form(
                &t,
                &format!("/console/reports/{c}/actions"),
                &[("action", "mark_duplicate"), ("of", &a)],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let page = staff
            .page(&t, &format!("/console/reports/{b}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Trùng với hồ sơ") && page.contains("value=\"undo_duplicate\""));
        assert!(page.contains("Hủy gộp"));
        // No chains, no circles: not into a duplicate, and the original not into anything.
        let resp = staff
            .act(&t, &a, json!({"action": "mark_duplicate", "of": b}))
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(resp.text().await.unwrap().contains("original_is_duplicate"));
        let resp = triage
            .act(
                &t,
                &a,
                json!({"action": "mark_duplicate", "of": code(&far)}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(resp.text().await.unwrap().contains("has_duplicates"));

        // Public: the status page, the API and Open311 name the original.
        let public: Value = t
            .get(&format!("/api/v1/reports/{b}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(public["duplicate_of"], a.as_str(), "{public}");
        assert_eq!(public["status"], "duplicate");
        let open311: Value = t
            .get(&format!("/open311/v2/requests/{b}.json?extensions=true"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(open311[0]["status"], "closed", "{open311}");
        assert_eq!(
            open311[0]["extended_attributes"]["duplicate_of"],
            a.as_str(),
            "{open311}"
        );
        let status_page = t.get(&format!("/r/{b}")).await.text().await.unwrap();
        assert!(status_page.contains("Trùng với hồ sơ"));
        assert!(status_page.contains(&format!("href=\"/r/{a}\"")));
        // The original's page lists what was merged into it.
        let page = staff
            .page(&t, &format!("/console/reports/{a}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Hồ sơ trùng đã gộp vào hồ sơ này"));
        assert!(page.contains(&b) && page.contains(&c));
        // Its history says so, publicly too.
        assert!(page.contains(&format!("Hồ sơ {b} (cùng vấn đề) được gộp vào hồ sơ này")));
        let steps = |v: &Value| -> Vec<String> {
            v["history"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["type"].as_str().unwrap().to_string())
                .collect()
        };
        let public_a: Value = t
            .get(&format!("/api/v1/reports/{a}"))
            .await
            .json()
            .await
            .unwrap();
        assert!(
            steps(&public_a).ends_with(&["duplicate_linked".into(), "duplicate_linked".into()]),
            "{public_a}"
        );

        // Counted once; the two reporters follow the original.
        assert_eq!(total(&t).await, counted + 3);
        let original_id = t.store().report_by_code(&a).await.unwrap().unwrap().id;
        assert_eq!(t.store().follower_count(original_id).await.unwrap(), 2);

        // The original's next public step reaches both, each on their own channel.
        drain(&worker).await;
        let (texts, mails) = (texts_about(&sent, &a).len(), follower_mails(&got).len());
        let resp = staff
            .act(
                &t,
                &a,
                json!({"action": "resolve", "note": "Đã giải tỏa lấn chiếm"}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        drain(&worker).await;
        let new_texts = texts_about(&sent, &a);
        assert_eq!(new_texts.len(), texts + 1, "{new_texts:?}");
        assert!(
            new_texts.last().unwrap().contains(&b),
            "names their own report: {new_texts:?}"
        );
        let new_mails = follower_mails(&got);
        assert_eq!(new_mails.len(), mails + 1, "{new_mails:?}");
        assert!(new_mails.last().unwrap().contains(&a));

        // Undo the merge of the one by SMS: back where it was, followed no more, counted.
        let resp = staff.act(&t, &b, json!({"action": "undo_duplicate"})).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let back: Value = resp.json().await.unwrap();
        assert_eq!(back["status"], "assigned", "{back}");
        assert_eq!(back["duplicate_of"], Value::Null);
        assert_eq!(total(&t).await, counted + 4);
        assert_eq!(t.store().follower_count(original_id).await.unwrap(), 1);
        let public: Value = t
            .get(&format!("/api/v1/reports/{b}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(public["duplicate_of"], Value::Null);
        let public_a: Value = t
            .get(&format!("/api/v1/reports/{a}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            steps(&public_a).last().map(String::as_str),
            Some("duplicate_unlinked"),
            "{public_a}"
        );
        let steps: Vec<&str> = public["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["type"].as_str().unwrap())
            .collect();
        assert!(
            steps.ends_with(&["marked_duplicate", "duplicate_undone"]),
            "{steps:?}"
        );
        // The original's next step: the email follower hears of it, the SMS one no more.
        drain(&worker).await;
        let (texts, mails) = (texts_about(&sent, &a).len(), follower_mails(&got).len());
        let resp = triage
            .act(&t, &a, json!({"action": "close", "note": "Hoàn tất"}))
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        drain(&worker).await;
        assert_eq!(texts_about(&sent, &a).len(), texts);
        assert_eq!(follower_mails(&got).len(), mails + 1);

        // On the unit's account the merged duplicate is neither resolved nor overdue: a
        // month later the report taken back (still open) is overdue, the merged one is not.
        t.clock.advance(Duration::days(30));
        let supervisor = phananh_domain::access::Principal {
            user_id: 0,
            name: "Giám sát".into(),
            role: Role::Supervisor,
            unit: None,
        };
        let figures = t
            .app()
            .unit_performance(&supervisor, from, to)
            .await
            .unwrap();
        let f = figures.iter().find(|f| f.unit == unit).unwrap();
        let far_here = u32::from(far["unit"] == unit.as_str());
        assert_eq!(
            (f.received, f.resolved, f.overdue),
            (3 + far_here, 1, 1 + far_here),
            "{f:?}"
        );
        t.stop().await;
    }
}

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

/// The photo keys the public API lists with report `code`.
async fn public_photos(t: &TestApp, code: &str) -> String {
    let r: Value = t
        .get(&format!("/api/v1/reports/{code}"))
        .await
        .json()
        .await
        .unwrap();
    r["photos"].to_string()
}

#[tokio::test]
async fn a_duplicates_photos_show_with_the_original_only_when_both_may_be_public() {
    for t in apps().await {
        // A field that publishes after review: the original is published by a moderator;
        // one duplicate was published too, the other still waits for review.
        let (lat, lon) = (10.7769, 106.7009);
        let file = |photo: &str| json!({"field": "noise", "description": "Karaoke ồn tới 2 giờ sáng", "lat": lat, "lon": lon, "photos": [photo]});
        let (p0, p1, p2) = (upload(&t).await, upload(&t).await, upload(&t).await);
        let original = t.file(file(&p0)).await["code"]
            .as_str()
            .unwrap()
            .to_string();
        let published = t.file(file(&p1)).await["code"]
            .as_str()
            .unwrap()
            .to_string();
        let in_review = t.file(file(&p2)).await["code"]
            .as_str()
            .unwrap()
            .to_string();
        let triage = t.staff(Role::Triage, None).await;
        for c in [&original, &published] {
            let resp = triage.moderate(&t, c, json!({"step": "publish"})).await;
            assert_eq!(resp.status(), StatusCode::OK, "{c}");
        }
        for c in [&published, &in_review] {
            let resp = triage
                .act(&t, c, json!({"action": "mark_duplicate", "of": original}))
                .await;
            assert_eq!(resp.status(), StatusCode::OK, "{c}");
        }
        // Public: the original's own photo and the published duplicate's; the photo held
        // back for review is served to nobody but staff.
        let shown = public_photos(&t, &original).await;
        assert!(shown.contains(&p0) && shown.contains(&p1), "{shown}");
        assert!(!shown.contains(&p2), "{shown}");
        assert_eq!(
            t.get(&format!("/photos/{p2}")).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            t.get(&format!("/photos/{p1}")).await.status(),
            StatusCode::OK
        );
        let staff_view: Value = triage
            .api_get(&t, &format!("/api/v1/staff/reports/{original}"))
            .await
            .json()
            .await
            .unwrap();
        let staff_photos = staff_view["photos"].to_string();
        for p in [&p0, &p1, &p2] {
            assert!(staff_photos.contains(p.as_str()), "{staff_photos}");
        }
        // Moderation on the duplicate still rules its photo, wherever it is linked.
        let resp = triage
            .moderate(&t, &published, json!({"step": "hide_photo", "photo": p1}))
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(!public_photos(&t, &original).await.contains(&p1));
        assert_eq!(
            t.get(&format!("/photos/{p1}")).await.status(),
            StatusCode::NOT_FOUND
        );

        // Undone: the photo is no longer listed with the original, even for staff.
        let resp = triage
            .act(&t, &published, json!({"action": "undo_duplicate"}))
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        let staff_view: Value = triage
            .api_get(&t, &format!("/api/v1/staff/reports/{original}"))
            .await
            .json()
            .await
            .unwrap();
        let staff_photos = staff_view["photos"].to_string();
        assert!(
            staff_photos.contains(&p0) && staff_photos.contains(&p2) && !staff_photos.contains(&p1),
            "{staff_photos}"
        );
        t.stop().await;
    }
}

#[tokio::test]
async fn a_duplicates_reporter_from_a_chat_hears_of_the_original_in_that_chat() {
    use crate::telegram::{last_text, send, setup, texts, update};
    let (t, worker, sent) = setup().await;
    let original = t
        .file(json!({"field": "lighting", "description": "Đèn đường tắt cả dãy", "lat": 10.7733, "lon": 106.7030}))
        .await;
    let a = original["code"].as_str().unwrap().to_string();
    // The same street light, 22 m away, reported in a Telegram chat.
    let now = t.clock.now().timestamp();
    let user = 4242;
    send(
        &t,
        update(
            400,
            user,
            now,
            json!({"text": "Hello, the street lights are all off on this street"}),
        ),
    )
    .await;
    send(
        &t,
        update(401, user, now + 1, json!({"text": "Street lighting"})),
    )
    .await;
    send(&t, update(402, user, now + 2, json!({"text": "Skip"}))).await;
    send(
        &t,
        update(
            403,
            user,
            now + 3,
            json!({"location": {"latitude": 10.7731, "longitude": 106.7030}}),
        ),
    )
    .await;
    send(&t, update(404, user, now + 4, json!({"text": "Send"}))).await;
    drain(&worker).await;
    let receipt = last_text(&sent, user);
    let b = receipt.split("Tracking code: ").nth(1).unwrap()[..9].to_string();

    // Listed as a likely duplicate of the chat's report, and merged.
    let triage = t.staff(Role::Triage, None).await;
    let listed: Value = triage
        .api_get(&t, &format!("/api/v1/staff/reports/{b}/duplicates"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"][0]["code"], a.as_str(), "{listed}");
    assert_eq!(listed["items"][0]["distance_m"], 22, "{listed}");
    let resp = triage
        .act(&t, &b, json!({"action": "mark_duplicate", "of": a}))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    drain(&worker).await;
    assert!(
        last_text(&sent, user).contains(&format!("Trùng với hồ sơ {a}")),
        "told in the chat: {:?}",
        texts(&sent, user)
    );
    // The original is resolved: the chat hears of it, naming both reports.
    let unit = original["unit"].as_str().unwrap();
    let staff = t.staff(Role::UnitStaff, Some(unit)).await;
    let resp = staff
        .act(
            &t,
            &a,
            json!({"action": "resolve", "note": "Đã thay bóng đèn"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    drain(&worker).await;
    let news = last_text(&sent, user);
    assert!(
        news.starts_with(&format!(
            "Phản ánh {a} (cùng vấn đề với phản ánh {b} của bạn)"
        )) && news.contains("Đã thay bóng đèn\nTrạng thái: Đã xử lý."),
        "{news}"
    );
    t.stop().await;
}

#[tokio::test]
async fn one_person_with_two_duplicates_hears_once_per_step() {
    let (gateway, sent) = sms_gateway().await;
    let sms = SmsConfig {
        gateway_url: format!("{gateway}/send"),
        ..SmsConfig::default()
    };
    let t = spawn(Options {
        sms: sms.clone(),
        ..Options::default()
    })
    .await;
    let worker = Worker::new(
        t.app().clone(),
        WorkerConfig {
            sms,
            public_url: "https://1022.example.vn".into(),
            ..WorkerConfig::default()
        },
    );
    let original = t
        .file(json!({"field": "lighting", "description": "Đèn đường tắt", "ward": BEN_THANH}))
        .await;
    let a = original["code"].as_str().unwrap().to_string();
    let triage = t.staff(Role::Triage, None).await;
    for text in ["Đèn tắt mấy hôm", "Vẫn chưa có đèn"] {
        let dup = t
            .file(json!({"field": "lighting", "description": text, "ward": BEN_THANH, "phone": PHONE}))
            .await;
        let resp = triage
            .act(
                &t,
                dup["code"].as_str().unwrap(),
                json!({"action": "mark_duplicate", "of": a}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    drain(&worker).await;
    let resp = triage
        .act(
            &t,
            &a,
            json!({"action": "comment", "text": "Đội điện đã lên lịch", "public": true}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    drain(&worker).await;
    let texts = texts_about(&sent, &a);
    assert_eq!(texts.len(), 1, "{texts:?}");
    t.stop().await;
}
