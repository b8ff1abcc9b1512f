//! The unit in the field: a staff member's own tasks, soonest deadline first, with the way
//! there; resolving with a photo taken on site, whose camera position (read before it is
//! stripped) or the phone's is compared with the report's place, the distance kept in the
//! history and flagged over 200 m.

use crate::support::*;
use phananh_domain::access::Role;
use phananh_domain::event::EventKind;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn upload(t: &TestApp, who: Option<&StaffClient>, jpeg: Vec<u8>) -> Value {
    let mut req = t
        .client
        .post(t.url("/api/v1/photos"))
        .header("content-type", "image/jpeg")
        .body(jpeg);
    if let Some(s) = who {
        req = req
            .header("cookie", &s.cookie)
            .header("x-csrf-token", &s.csrf);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

fn resolved_distance(history: &[phananh_domain::event::Event]) -> Option<u32> {
    history.iter().rev().find_map(|e| match &e.kind {
        EventKind::Resolved { distance_m, .. } => Some(distance_m.unwrap_or(u32::MAX)),
        _ => None,
    })
}

#[tokio::test]
async fn tasks_in_due_order_and_a_resolution_photo_far_from_the_place_is_flagged() {
    for t in apps().await {
        // Three street-light reports at Bến Thành market, with the due dates of their order.
        let (lat, lon) = BEN_THANH_MARKET;
        let mut codes = Vec::new();
        for d in ["Đèn tắt một", "Đèn tắt hai", "Đèn tắt ba"] {
            let r = t
                .file(json!({"field": "lighting", "description": d, "lat": lat, "lon": lon}))
                .await;
            codes.push(r["code"].as_str().unwrap().to_string());
            t.clock.advance(chrono::Duration::hours(30));
        }
        let unit = t
            .store()
            .report_by_code(&codes[0])
            .await
            .unwrap()
            .unwrap()
            .unit;
        let manager = t.staff(Role::UnitManager, Some(&unit)).await;
        let lan = t.staff(Role::UnitStaff, Some(&unit)).await;
        let other = t.staff(Role::UnitStaff, Some(&unit)).await;
        // The third and the first go to Lan, the second to someone else; the third is urgent.
        for (code, who) in [(&codes[2], &lan), (&codes[0], &lan), (&codes[1], &other)] {
            let r = manager
                .act(
                    &t,
                    code,
                    json!({"action": "assign_staff", "assignee": who.user_id}),
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
        }
        let page = lan.page(&t, "/console/tasks").await;
        assert_eq!(page.status(), StatusCode::OK);
        let page = page.text().await.unwrap();
        let at = |c: &str| page.find(c).unwrap_or(usize::MAX);
        assert!(at(&codes[0]) < at(&codes[2]), "the sooner deadline first");
        assert!(!page.contains(&codes[1]), "only Lan's own");
        assert!(
            page.contains("https://www.google.com/maps/dir/?api=1&amp;destination=10.7725,106.698")
        );
        assert!(page.contains("/static/field.js") && page.contains("data-offline-tasks"));
        let marked = manager
            .act(
                &t,
                &codes[2],
                json!({"action": "mark_urgent", "reason": "Cột đèn nghiêng"}),
            )
            .await;
        assert_eq!(marked.status(), StatusCode::OK);
        let page = lan.page(&t, "/console/tasks").await.text().await.unwrap();
        let at = |c: &str| page.find(c).unwrap_or(usize::MAX);
        assert!(at(&codes[2]) < at(&codes[0]), "an urgent case before all");

        // A citizen's photo never keeps its place; a staff member's does, for the
        // resolution (the stored copy has no EXIF either way).
        let citizen = upload(&t, None, phananh_photos::sample::jpeg_at(10.7755, 106.698)).await;
        assert!(citizen.get("position").is_none(), "{citizen}");
        let taken = upload(
            &t,
            Some(&lan),
            phananh_photos::sample::jpeg_at(10.7755, 106.698),
        )
        .await;
        assert!((taken["position"]["lat"].as_f64().unwrap() - 10.7755).abs() < 1e-6);
        let kept = lan
            .page(&t, &format!("/photos/{}", taken["photo"].as_str().unwrap()))
            .await;
        // Not attached yet: nobody's to see.
        assert_eq!(kept.status(), StatusCode::NOT_FOUND);

        // Resolved from the report page's form with that photo, taken ~330 m north.
        let r = lan
            .form(
                &t,
                &format!("/console/reports/{}/actions", codes[0]),
                &[
                    ("action", "resolve"),
                    ("note", "Đã thay bóng đèn"),
                    ("photo", taken["photo"].as_str().unwrap()),
                    ("lat", "10.7725"),
                    ("lon", "106.6980"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let report = t.store().report_by_code(&codes[0]).await.unwrap().unwrap();
        let history = t.store().events(report.id).await.unwrap();
        let far = resolved_distance(&history).unwrap();
        assert!(
            (325..=340).contains(&far),
            "the photo's own place wins: {far}"
        );
        let shown = lan
            .page(&t, &format!("/console/reports/{}", codes[0]))
            .await
            .text()
            .await
            .unwrap();
        assert!(shown.contains(&format!("{far} m")) && shown.contains("Xa nơi phản ánh"));
        // The public sees the result and its photo, never the distance.
        let public = t
            .get(&format!("/api/v1/reports/{}", codes[0]))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            public.contains("Đã thay bóng đèn") && !public.contains("distance"),
            "{public}"
        );

        // The API with the phone's position only, on site: near, no flag.
        let r = lan
            .act(
                &t,
                &codes[2],
                json!({"action": "resolve", "note": "Đã dựng lại cột", "position": {"lat": 10.77255, "lon": 106.69805}}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let report = t.store().report_by_code(&codes[2]).await.unwrap().unwrap();
        let near = resolved_distance(&t.store().events(report.id).await.unwrap()).unwrap();
        assert!(near < 20, "{near}");
        let shown = lan
            .page(&t, &format!("/console/reports/{}", codes[2]))
            .await
            .text()
            .await
            .unwrap();
        assert!(!shown.contains("Xa nơi phản ánh"));
        // A resolve form offers the photo taken on site.
        let open = lan
            .page(&t, &format!("/console/reports/{}", codes[1]))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            open.contains("capture=\"environment\"") && open.contains("class=\"resolve-photo\"")
        );
        t.stop().await;
    }
}

#[tokio::test]
async fn logging_out_clears_the_offline_copies() {
    let t = spawn(Options::default()).await;
    let staff = t.staff(Role::UnitStaff, Some("SXD")).await;
    let r = staff.form(&t, "/logout", &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["clear-site-data"], "\"cache\"");
    // The service worker keeps only the tasks page and report pages for staff.
    let sw = t.get("/sw.js").await.text().await.unwrap();
    assert!(sw.contains("phananh-staff") && sw.contains("tasks|reports"));
    t.stop().await;
}
