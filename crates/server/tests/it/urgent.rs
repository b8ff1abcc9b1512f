//! Urgent cases (khẩn cấp): a field's urgent keywords, an operator or a staff member make a
//! report urgent; its deadline is hours on the clock across a night and a holiday, it leads
//! the queues, the unit's duty phone and email are alerted at once, and the unit's manager
//! and the city's supervisors are told if nobody takes it up within 30 minutes.

use std::sync::{Arc, Mutex};

use crate::support::*;
use chrono::{Duration, TimeZone, Utc};
use phananh_app::Clock;
use phananh_channels::sms::SmsConfig;
use phananh_domain::access::Role;
use phananh_worker::{Worker, WorkerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn mails_about(got: &Arc<Mutex<Vec<String>>>, code: &str) -> Vec<String> {
    got.lock()
        .unwrap()
        .iter()
        .filter(|m| m.contains(code))
        .cloned()
        .collect()
}

#[tokio::test]
async fn an_urgent_case_is_due_in_hours_alerts_the_duty_contact_then_escalates() {
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
        // The tree company's duty desk, set by an administrator.
        let admin = t.staff(Role::Admin, None).await;
        let saved = admin
            .form(
                &t,
                "/console/admin/units",
                &[
                    ("code", "CT-CAYXANH"),
                    ("name_vi", "Công ty Công viên Cây xanh"),
                    ("kind", "company"),
                    ("email", "ct-cayxanh@example.invalid"),
                    ("duty_phone", "+84 901 234 567"),
                    ("duty_email", "truc@cayxanh.example.invalid"),
                ],
            )
            .await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        let bad = admin
            .form(
                &t,
                "/console/admin/units",
                &[
                    ("code", "CT-CAYXANH"),
                    ("name_vi", "Công ty Công viên Cây xanh"),
                    ("kind", "company"),
                    ("duty_email", "not an address"),
                ],
            )
            .await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let unit = t.app().catalog().await.unit("CT-CAYXANH").cloned().unwrap();
        assert_eq!(unit.duty_phone.as_deref(), Some("0901234567"));

        // 22:00 on 1 September 2026 in the city: the eve of National Day, a holiday.
        t.clock
            .set(Utc.with_ymd_and_hms(2026, 9, 1, 15, 0, 0).unwrap());
        let filed_at = t.clock.now();
        let manager = t.staff(Role::UnitManager, Some("CT-CAYXANH")).await;
        let supervisor = t.staff(Role::Supervisor, None).await;
        let staff = t.staff(Role::UnitStaff, Some("CT-CAYXANH")).await;
        let email_of = |id: i64| {
            let store = t.store().clone();
            async move { store.user(id).await.unwrap().unwrap().email }
        };
        let (manager_email, supervisor_email) = (
            email_of(manager.user_id).await,
            email_of(supervisor.user_id).await,
        );

        // An older routine report of the same unit, then the citizen's fallen tree: the
        // field's urgent keyword makes it urgent (a citizen cannot just ask for it).
        let routine = t
            .file(json!({"field": "trees", "description": "Cây cần cắt tỉa", "ward": BEN_THANH, "urgent": true}))
            .await;
        let routine = routine["code"].as_str().unwrap().to_string();
        let r = t
            .file(json!({"field": "trees", "description": "Cây đổ chắn ngang đường Lê Lợi", "ward": BEN_THANH}))
            .await;
        let code = r["code"].as_str().unwrap().to_string();
        assert_eq!(r["unit"], "CT-CAYXANH");
        let report = t.store().report_by_code(&code).await.unwrap().unwrap();
        assert!(report.urgent);
        // Four hours on the clock: 02:00 on the holiday, not working days later.
        assert_eq!(report.due_at, Some(filed_at + Duration::hours(4)));
        let routine_report = t.store().report_by_code(&routine).await.unwrap().unwrap();
        assert!(!routine_report.urgent);
        assert!(routine_report.due_at.unwrap() > filed_at + Duration::days(3));

        // At once: the duty phone by SMS, the duty email by mail; nobody else yet.
        drain(&worker).await;
        let texts: Vec<(String, String)> = sent
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, text)| text.contains(&code))
            .cloned()
            .collect();
        assert_eq!(texts.len(), 1, "{texts:?}");
        assert_eq!(texts[0].0, "0901234567");
        assert!(texts[0].1.contains("KHAN CAP"), "{texts:?}");
        let mails = mails_about(&got, &code);
        assert_eq!(mails.len(), 1, "{mails:?}");
        assert!(mails[0].contains("To: truc@cayxanh.example.invalid"));
        assert!(mails_about(&got, &routine).is_empty());

        // It leads the unit's queue, though it is not the newest.
        let later = t
            .file(json!({"field": "trees", "description": "Cây khô lá", "ward": BEN_THANH}))
            .await;
        let list: Value = staff
            .api_get(&t, "/api/v1/staff/reports")
            .await
            .json()
            .await
            .unwrap();
        let codes: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap())
            .collect();
        assert_eq!(codes[0], code, "{codes:?}");
        assert_eq!(codes[1], later["code"].as_str().unwrap());
        assert_eq!(list["items"][0]["urgent"], true);
        let queue = staff.page(&t, "/console").await.text().await.unwrap();
        assert!(queue.contains("badge urgent"));

        // 29 minutes: not yet. 31 minutes, nobody started it: the manager and the
        // supervisors are told, once.
        t.clock.advance(Duration::minutes(29));
        drain(&worker).await;
        assert_eq!(mails_about(&got, &code).len(), 1);
        t.clock.advance(Duration::minutes(2));
        drain(&worker).await;
        drain(&worker).await;
        let mails = mails_about(&got, &code);
        assert_eq!(mails.len(), 3, "{mails:?}");
        assert!(
            mails
                .iter()
                .any(|m| m.contains(&format!("To: {manager_email}")))
        );
        assert!(
            mails
                .iter()
                .any(|m| m.contains(&format!("To: {supervisor_email}")))
        );

        // An operator marks a call urgent; the unit starts it within ten minutes: no
        // escalation follows.
        let operator = t.staff(Role::Triage, None).await;
        let filed = operator
            .form(
                &t,
                "/console/hotline",
                &[
                    ("phone", "0900000019"),
                    ("field", "trees"),
                    ("description", "Cây nghiêng sát nhà dân"),
                    ("ward_name", "Bến Thành"),
                    ("urgent", "1"),
                    ("key", "urgent-call-1"),
                ],
            )
            .await;
        assert_eq!(filed.status(), StatusCode::SEE_OTHER);
        let called = filed.headers()["location"]
            .to_str()
            .unwrap()
            .split("filed=")
            .nth(1)
            .unwrap()
            .to_string();
        let called_report = t.store().report_by_code(&called).await.unwrap().unwrap();
        assert!(called_report.urgent);
        drain(&worker).await;
        assert_eq!(mails_about(&got, &called).len(), 1, "the duty email");
        t.clock.advance(Duration::minutes(10));
        let started = staff.act(&t, &called, json!({"action": "start"})).await;
        assert_eq!(started.status(), StatusCode::OK);
        t.clock.advance(Duration::minutes(25));
        drain(&worker).await;
        assert_eq!(mails_about(&got, &called).len(), 1, "no escalation");

        // A unit's staff member marks a routine case urgent: the deadline shortens to
        // hours from now and the duty contact is alerted; marking it twice is refused.
        let marked = staff
            .act(
                &t,
                &routine,
                json!({"action": "mark_urgent", "reason": "Cây đã nứt gốc"}),
            )
            .await;
        assert_eq!(marked.status(), StatusCode::OK);
        let now = t.clock.now();
        let routine_report = t.store().report_by_code(&routine).await.unwrap().unwrap();
        assert!(routine_report.urgent);
        assert_eq!(routine_report.due_at, Some(now + Duration::hours(4)));
        let again = staff
            .act(
                &t,
                &routine,
                json!({"action": "mark_urgent", "reason": "lần nữa"}),
            )
            .await;
        assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(again.text().await.unwrap().contains("already_urgent"));
        drain(&worker).await;
        assert_eq!(mails_about(&got, &routine).len(), 1);
        // The public sees that it is urgent, never why.
        let public = t
            .get(&format!("/api/v1/reports/{routine}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(!public.contains("nứt gốc"), "{public}");
        t.stop().await;
    }
}
