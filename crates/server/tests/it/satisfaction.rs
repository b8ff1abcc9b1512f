//! Satisfaction and the units' dashboard: the reporter gets a rating link on their channel
//! when the report is resolved, "not fixed" reopens it to the same unit and counts against
//! that unit, and the figures agree with the histories.

use crate::support::*;
use chrono::Duration;
use phananh_app::Clock;
use phananh_channels::sms::SmsConfig;
use phananh_domain::access::Role;
use phananh_worker::{Worker, WorkerConfig};
use reqwest::StatusCode;
use serde_json::json;

/// Posts the rating form as a citizen (with the form's CSRF cookie).
async fn rate(t: &TestApp, link: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let page = t.get(link).await;
    assert_eq!(page.status(), StatusCode::OK);
    let cookie = format!(
        "phananh_rate={}",
        crate::support::set_cookie_value(&page, "phananh_rate").unwrap()
    );
    let html = page.text().await.unwrap();
    let csrf = hidden_csrf(&html);
    let token = html
        .split("name=\"t\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let code = link
        .split("/r/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf), ("t", &token)];
    form.extend_from_slice(fields);
    t.client
        .post(t.url(&format!("/r/{code}/rate")))
        .header("cookie", cookie)
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn ratings_reopen_count_against_the_unit_and_show_on_the_dashboard() {
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
    let r = t.file(json!({"field": "lighting", "description": "Đèn đường tắt cả dãy", "ward": "26740", "phone": "0912000444"})).await;
    let code = r["code"].as_str().unwrap().to_string();
    let unit = r["unit"].as_str().unwrap().to_string();
    let staff = t.staff(Role::UnitStaff, Some(&unit)).await;

    // Not resolved yet: no rating.
    let token = t.app().rating_token(&code).await.unwrap();
    let early = t
        .client
        .post(t.url(&format!("/api/v1/reports/{code}/rating")))
        .json(&json!({"token": token, "score": 5, "fixed": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(early.text().await.unwrap().contains("not_resolved"));

    // Resolved: the SMS carries the rating link.
    let resp = staff
        .act(
            &t,
            &code,
            json!({"action": "resolve", "note": "Đã thay bóng"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    drain(&worker).await;
    let texts: Vec<String> = sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(to, _)| to == "0912000444")
        .map(|(_, x)| x.clone())
        .collect();
    let last = texts.last().unwrap().clone();
    let link = last
        .split("https://1022.example.vn")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(link.starts_with(&format!("/r/{code}/rate?t=")), "{last}");

    // Bad input is refused with a reason; the report is untouched.
    let wrong = rate(
        &t,
        &format!("/r/{code}/rate?t=0000"),
        &[("score", "4"), ("fixed", "1")],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("không đúng với phản ánh này")
    );
    let out_of_range = rate(&t, &link, &[("score", "9"), ("fixed", "1")]).await;
    assert!(out_of_range.text().await.unwrap().contains("từ 1 đến 5"));

    // "Not fixed" reopens it to the same unit.
    let r = rate(
        &t,
        &link,
        &[("score", "2"), ("fixed", "0"), ("comment", "Vẫn còn tối")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(
        (report.status.as_str(), report.unit.as_str()),
        ("assigned", unit.as_str())
    );
    let public = t.get(&format!("/r/{code}")).await.text().await.unwrap();
    assert!(
        public.contains("2/5") && !public.contains("Vẫn còn tối"),
        "the score is public, the comment is not"
    );

    // Fixed the second time, rated 5; a second rating is refused.
    staff
        .act(
            &t,
            &code,
            json!({"action": "resolve", "note": "Đã thay cả dây"}),
        )
        .await;
    let r = rate(&t, &link, &[("score", "5"), ("fixed", "1")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let again = rate(&t, &link, &[("score", "1"), ("fixed", "1")]).await;
    assert!(again.text().await.unwrap().contains("đã được đánh giá"));
    let token = t.app().rating_token(&code).await.unwrap();
    let api_again = t
        .client
        .post(t.url(&format!("/api/v1/reports/{code}/rating")))
        .json(&json!({"token": token, "score": 3, "fixed": true}))
        .send()
        .await
        .unwrap();
    assert!(api_again.text().await.unwrap().contains("already_rated"));

    // A second report moves between two units: each answers for its own part.
    let r2 = t
        .file(json!({"field": "lighting", "description": "Cột đèn nghiêng", "ward": "26740"}))
        .await;
    let code2 = r2["code"].as_str().unwrap().to_string();
    t.clock.advance(Duration::days(10));
    let manager = t.staff(Role::UnitManager, Some(&unit)).await;
    let r = manager
        .act(
            &t,
            &code2,
            json!({"action": "transfer", "to": "SXD", "reason": "Cột thuộc hạ tầng giao thông"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // The dashboard: the lighting unit received 3 accounts (report 1, its reopening,
    // report 2), resolved 2, one reopen, scores 2 and 5; the roads department has report 2.
    let supervisor = t.staff(Role::Supervisor, None).await;
    let from = (t.clock.now() - Duration::days(40))
        .format("%Y-%m-%d")
        .to_string();
    let figures = t
        .app()
        .unit_performance(
            &phananh_domain::access::Principal {
                user_id: 0,
                name: "s".into(),
                role: Role::Supervisor,
                unit: None,
            },
            t.clock.now() - Duration::days(40),
            t.clock.now() + Duration::days(1),
        )
        .await
        .unwrap();
    let light = figures.iter().find(|f| f.unit == unit).unwrap();
    assert_eq!(
        (
            light.received,
            light.resolved,
            light.reopened,
            light.ratings
        ),
        (3, 2, 1, 2),
        "{light:?}"
    );
    assert_eq!(light.average_score(), Some(3.5));
    let roads = figures.iter().find(|f| f.unit == "SXD").unwrap();
    assert_eq!((roads.received, roads.resolved), (1, 0));
    let page = supervisor
        .page(&t, &format!("/console/performance?from={from}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("3.5/5") && page.contains("Tiến độ đơn vị"),
        "the dashboard"
    );
    assert_eq!(
        t.staff(Role::UnitStaff, Some(&unit))
            .await
            .page(&t, "/console/performance")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // The trend of one unit, volume by field per week, satisfaction by field.
    let page = supervisor
        .page(&t, &format!("/console/performance?from={from}&unit={unit}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Tỷ lệ xử lý đúng hạn theo tuần")
            && page.contains("Số phản ánh theo lĩnh vực mỗi tuần")
    );
    let field_name = t.app().catalog().await.field_name("lighting");
    let by_field = page.split("Mức hài lòng theo lĩnh vực").nth(1).unwrap();
    assert!(
        by_field.contains(&field_name) && by_field.contains("3.5/5"),
        "{by_field}"
    );
    // The committee's workbook: the same figures, in Vietnamese.
    let xlsx = supervisor
        .page(&t, &format!("/console/performance/report.xlsx?from={from}"))
        .await;
    assert_eq!(
        xlsx.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let bytes = xlsx.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut read = |name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let strings = read("xl/sharedStrings.xml");
    assert!(
        strings.contains("Điểm hài lòng (1–5)") && strings.contains(&unit),
        "{strings}"
    );
    let sheet = read("xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<v>3.5</v>"), "the average score: {sheet}");
    // And as a PDF: read back with poppler's pdftotext (installed by .ci/run).
    let pdf = supervisor
        .page(&t, &format!("/console/performance/report.pdf?from={from}"))
        .await;
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    match pdf_text(&bytes) {
        Some(text) => {
            assert!(text.contains("BÁO CÁO TIẾN ĐỘ XỬ LÝ PHẢN ÁNH"), "{text}");
            let unit_name = t.app().catalog().await.unit_name(&unit);
            let row = text
                .lines()
                .find(|l| l.contains(unit_name.as_str()))
                .unwrap_or_else(|| panic!("{text}"));
            assert!(
                row.contains("3.5/5") && row.contains(" 3 ") && row.contains(" 2 "),
                "{row}"
            );
            // The on-time chart: its title, and green bars on the page (rendered by
            // poppler's pdftoppm).
            assert!(text.contains("TỶ LỆ XỬ LÝ ĐÚNG HẠN THEO ĐƠN VỊ"), "{text}");
            assert!(pdf_has_green(&bytes), "the bars are drawn");
        }
        None if std::env::var("PHANANH_E2E").is_ok() => {
            panic!("PHANANH_E2E=1 but pdftotext is missing")
        }
        None => eprintln!("pdftotext is not installed: the PDF's text was not checked"),
    }
    let stats = t
        .get(&format!("/stats?from={from}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        stats.contains("Mức hài lòng") && stats.contains("3.5"),
        "satisfaction on the public statistics"
    );
    t.stop().await;
}

#[tokio::test]
async fn deadlines_remind_the_unit_once_then_escalate() {
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
        // Monday 09:00: a lighting report, due in its field's working days.
        let r = t
            .file(json!({"field": "lighting", "description": "Đèn đường tắt", "ward": "26740"}))
            .await;
        let code = r["code"].as_str().unwrap().to_string();
        let unit = r["unit"].as_str().unwrap().to_string();
        let staff = t.staff(Role::UnitStaff, Some(&unit)).await;
        let manager = t.staff(Role::UnitManager, Some(&unit)).await;
        let supervisor = t.staff(Role::Supervisor, None).await;
        let email_of = |id: i64| {
            let store = t.store().clone();
            async move { store.user(id).await.unwrap().unwrap().email }
        };
        let (staff_email, manager_email, supervisor_email) = (
            email_of(staff.user_id).await,
            email_of(manager.user_id).await,
            email_of(supervisor.user_id).await,
        );
        let due = t
            .store()
            .report_by_code(&code)
            .await
            .unwrap()
            .unwrap()
            .due_at
            .unwrap();
        // Nothing yet.
        assert_eq!(t.app().scan_deadlines().await.unwrap(), 0);
        // The working day before the deadline: one reminder, to the unit's people.
        t.clock.advance(due - t.clock.now() - Duration::hours(2));
        assert_eq!(t.app().scan_deadlines().await.unwrap(), 1);
        t.app().scan_deadlines().await.unwrap();
        drain(&worker).await;
        let mails = got.lock().unwrap().clone();
        let reminders: Vec<&String> = mails.iter().filter(|m| m.contains(&code)).collect();
        assert!(
            reminders
                .iter()
                .any(|m| m.contains(&format!("To: {staff_email}"))),
            "{mails:?}"
        );
        assert!(
            reminders
                .iter()
                .all(|m| !m.contains(&format!("To: {supervisor_email}")))
        );
        let count = mails.len();
        assert_eq!(
            count, 3,
            "once each to the unit's mailbox, its staff member and its manager: {mails:?}"
        );
        // Past the deadline: escalated to the unit's manager and the supervisors, once.
        t.clock.advance(Duration::hours(3));
        t.app().scan_deadlines().await.unwrap();
        t.app().scan_deadlines().await.unwrap();
        drain(&worker).await;
        let mails = got.lock().unwrap().clone();
        let escalations: Vec<&String> = mails[count..].iter().collect();
        assert_eq!(escalations.len(), 2, "{escalations:?}");
        assert!(
            escalations
                .iter()
                .any(|m| m.contains(&format!("To: {manager_email}")))
        );
        assert!(
            escalations
                .iter()
                .any(|m| m.contains(&format!("To: {supervisor_email}")))
        );
        // Resolved: nothing more, even if a queued job runs late.
        let staff = t.staff(Role::UnitStaff, Some(&unit)).await;
        staff
            .act(&t, &code, json!({"action": "resolve", "note": "xong"}))
            .await;
        assert_eq!(t.app().scan_deadlines().await.unwrap(), 0);
        t.stop().await;
    }
}

#[tokio::test]
async fn the_committee_gets_its_report_once_per_period_by_email() {
    let t = spawn(Options::default()).await;
    let (port, got) = smtp_sink(0).await;
    let worker = Worker::new(
        t.app().clone(),
        WorkerConfig {
            smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
            committee_emails: vec!["vanphong@ubnd.example.vn".into()],
            ..WorkerConfig::default()
        },
    );
    t.file(json!({"field": "lighting", "description": "Đèn tắt", "ward": "26740"}))
        .await;
    t.clock.advance(Duration::days(31));
    let month = phananh_app::committee::Period::Month;
    t.app().queue_committee_report(month).await.unwrap();
    t.app().queue_committee_report(month).await.unwrap();
    drain(&worker).await;
    let mails = got.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "once per period");
    let m = &mails[0];
    assert!(m.contains("To: vanphong@ubnd.example.vn"));
    assert!(m.contains("bao-cao-don-vi-2026-03-01.xlsx"), "{m}");
    assert!(m.contains("bao-cao-don-vi-2026-03-01.pdf") && m.contains("application/pdf"));
    assert!(m.contains("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"));
    t.stop().await;
}

/// The text of a PDF, by poppler's pdftotext (None when it is not installed).
/// Whether the PDF's first page, rendered by pdftoppm, has the chart's green.
fn pdf_has_green(bytes: &[u8]) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = dir.path().join("page");
    let status = std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "40", "-f", "1", "-l", "1"])
        .arg(&path)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let png = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().extension().is_some_and(|x| x == "png"))
        .unwrap()
        .path();
    let img = image::open(png).unwrap().to_rgb8();
    img.pixels()
        .any(|p| p.0[1] > 100 && p.0[0] < 60 && p.0[2] < 90)
}

fn pdf_text(bytes: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
