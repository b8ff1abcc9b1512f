//! Integration tests: the real server on a random port, driven over HTTP.
//! SQLite always; PostgreSQL too when `PHANANH_TEST_POSTGRES_URL` is set.

#[path = "security/email.rs"]
mod sec_email;
#[path = "security/outbound.rs"]
mod sec_outbound;
#[path = "security/proxy.rs"]
mod sec_proxy;
#[path = "security/public.rs"]
mod sec_public;
#[path = "security/replay.rs"]
mod sec_replay;
#[path = "security/suite.rs"]
mod sec_suite;
mod support;

#[path = "security/limits.rs"]
mod sec_limits;

use chrono::{Duration, TimeZone, Utc};
use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;

const BEN_THANH_MARKET: (f64, f64) = (10.7725, 106.6980);
const BEN_THANH: &str = "26743";

#[tokio::test]
async fn health_metrics_and_openapi() {
    for t in apps().await {
        let r = t.get("/healthz").await;
        assert_eq!(r.status(), StatusCode::OK);
        let metrics = t.get("/metrics").await.text().await.unwrap();
        assert!(
            metrics.contains("phananh_reports_created_total 0"),
            "{metrics}"
        );
        let spec: Value = t.get("/api/v1/openapi.json").await.json().await.unwrap();
        assert_eq!(spec["openapi"], "3.1.0");
        assert!(spec["paths"]["/api/v1/reports"]["post"].is_object());
        let home = t.get("/").await.text().await.unwrap();
        assert!(home.contains("Gửi phản ánh"));
        t.stop().await;
    }
}

#[tokio::test]
async fn reports_are_routed_by_ward_and_field() {
    for t in apps().await {
        let (lat, lon) = BEN_THANH_MARKET;
        // A ward-level field goes to the ward's committee.
        let r = t.file(json!({"field": "sidewalk", "description": "Lấn chiếm vỉa hè", "lat": lat, "lon": lon})).await;
        assert_eq!(r["ward"], BEN_THANH, "{r}");
        assert_eq!(r["unit"], format!("UBND-{BEN_THANH}"));
        assert_eq!(r["status"], "assigned");
        assert!(r["due_at"].is_string());
        // A city-wide field goes to its department, whatever the ward.
        let r = t
            .file(json!({"field": "water", "description": "Mất nước", "lat": lat, "lon": lon}))
            .await;
        let catalog = t.app().catalog().await;
        let unit = catalog.unit(r["unit"].as_str().unwrap()).unwrap();
        assert_ne!(
            unit.kind,
            phananh_domain::profile::UnitKind::WardCommittee,
            "{r}"
        );
        assert_ne!(unit.kind, phananh_domain::profile::UnitKind::Triage);
        // What no rule places goes to the triage desk.
        let r = t.file(json!({"field": "other", "description": "Việc khác", "address": "12 Lê Lợi, phường Bến Thành"})).await;
        assert_eq!(r["unit"], "TONGDAI1022");
        assert_eq!(r["status"], "new");
        assert_eq!(
            r["ward"], BEN_THANH,
            "the ward is found by name in the address"
        );
        // The public view has the history and no personal data.
        let filed = t
            .file(
                json!({"field": "sidewalk", "description": "Quán lấn chiếm", "lat": lat, "lon": lon,
            "name": "Trần Thị B", "phone": "0987654321", "email": "b@example.org"}),
            )
            .await;
        let text = t
            .get(&format!(
                "/api/v1/reports/{}",
                filed["code"].as_str().unwrap()
            ))
            .await
            .text()
            .await
            .unwrap();
        for secret in ["Trần Thị B", "0987654321", "b@example.org"] {
            assert!(!text.contains(secret), "public JSON leaks {secret}");
        }
        let public: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(public["history"].as_array().unwrap().len(), 2);
        let routed = public["history"][1]["text"].as_str().unwrap();
        assert!(
            routed.starts_with("Chuyển đến Ủy ban nhân dân"),
            "names, not codes: {routed}"
        );
        assert!(
            public["history"][1]["text_en"]
                .as_str()
                .unwrap()
                .starts_with("Assigned to")
        );
        t.stop().await;
    }
}

#[tokio::test]
async fn every_transition_over_http_allowed_and_refused() {
    for t in apps().await {
        let triage = t.staff(Role::Triage, None).await;
        let unit_code = "UBND-26740";
        let manager = t.staff(Role::UnitManager, Some(unit_code)).await;
        let worker = t.staff(Role::UnitStaff, Some(unit_code)).await;
        let r = t
            .file(json!({"field": "other", "description": "Cây đổ chắn đường", "ward": "26740"}))
            .await;
        let code = r["code"].as_str().unwrap().to_string();
        // Unit staff cannot see it while it is at the triage desk.
        assert_eq!(
            worker
                .api_get(&t, &format!("/api/v1/staff/reports/{code}"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        // new: start is refused by the procedure (a supervisor may do anything the procedure allows).
        let supervisor = t.staff(Role::Supervisor, None).await;
        let refused = supervisor.act(&t, &code, json!({"action": "start"})).await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], "transition_not_allowed");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("không thể")
        );
        let ok = |s: StatusCode| assert_eq!(s, StatusCode::OK);
        ok(triage
            .act(
                &t,
                &code,
                json!({"action": "assign", "unit": unit_code, "note": "Thuộc phường"}),
            )
            .await
            .status());
        // Staff of the unit may not transfer; their manager may assign staff.
        assert_eq!(
            worker
                .act(
                    &t,
                    &code,
                    json!({"action": "transfer", "to": "TONGDAI1022", "reason": "x"})
                )
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        ok(manager
            .act(
                &t,
                &code,
                json!({"action": "assign_staff", "assignee": worker.user_id}),
            )
            .await
            .status());
        ok(worker
            .act(&t, &code, json!({"action": "start"}))
            .await
            .status());
        ok(worker
            .act(
                &t,
                &code,
                json!({"action": "request_info", "question": "Số nhà chính xác?"}),
            )
            .await
            .status());
        let paused: Value = worker
            .api_get(&t, &format!("/api/v1/staff/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(paused["status"], "info_requested");
        assert!(paused["paused_at"].is_string());
        assert_eq!(
            worker
                .act(&t, &code, json!({"action": "resolve", "note": "x"}))
                .await
                .status(),
            StatusCode::CONFLICT
        );
        ok(worker
            .act(
                &t,
                &code,
                json!({"action": "provide_info", "answer": "Số 5"}),
            )
            .await
            .status());
        // A reason is required.
        assert_eq!(
            worker
                .act(&t, &code, json!({"action": "resolve", "note": "  "}))
                .await
                .status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        ok(worker
            .act(
                &t,
                &code,
                json!({"action": "resolve", "note": "Đã dọn cây"}),
            )
            .await
            .status());
        ok(triage
            .act(
                &t,
                &code,
                json!({"action": "reopen", "reason": "Người dân báo chưa dọn hết"}),
            )
            .await
            .status());
        ok(worker
            .act(
                &t,
                &code,
                json!({"action": "resolve", "note": "Đã dọn hết"}),
            )
            .await
            .status());
        ok(triage
            .act(&t, &code, json!({"action": "close"}))
            .await
            .status());
        assert_eq!(
            triage
                .act(&t, &code, json!({"action": "close"}))
                .await
                .status(),
            StatusCode::CONFLICT
        );
        // Transfer and return to triage on a second report.
        let r2 = t
            .file(json!({"field": "sidewalk", "description": "Lấn chiếm", "ward": "26740"}))
            .await;
        let code2 = r2["code"].as_str().unwrap().to_string();
        assert_eq!(r2["unit"], unit_code);
        ok(manager.act(&t, &code2, json!({"action": "transfer", "to": "UBND-26743", "reason": "Thuộc phường Bến Thành"})).await.status());
        // Now it belongs to another unit: 404 for the first unit.
        assert_eq!(
            manager
                .act(&t, &code2, json!({"action": "start"}))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let other = t.staff(Role::UnitStaff, Some("UBND-26743")).await;
        ok(other
            .act(
                &t,
                &code2,
                json!({"action": "return_to_triage", "reason": "Không thuộc thẩm quyền"}),
            )
            .await
            .status());
        // The unit that said "not ours" no longer sees it; the triage desk does.
        assert_eq!(
            other
                .api_get(&t, &format!("/api/v1/staff/reports/{code2}"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let desk = triage
            .page(&t, "/console/triage")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            desk.contains(&code2),
            "returned report is on the triage desk"
        );
        ok(triage
            .act(
                &t,
                &code2,
                json!({"action": "reject", "reason": "Trùng hồ sơ"}),
            )
            .await
            .status());
        let full: Value = triage
            .api_get(&t, &format!("/api/v1/staff/reports/{code2}"))
            .await
            .json()
            .await
            .unwrap();
        let kinds: Vec<&str> = full["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"]["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "created",
                "assigned",
                "transferred",
                "returned_to_triage",
                "rejected"
            ]
        );
        // The oversight body sees everything and can do nothing.
        let oversight = t.staff(Role::Oversight, None).await;
        let seen: Value = oversight
            .api_get(&t, &format!("/api/v1/staff/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(seen["history"].as_array().unwrap().len(), 10);
        assert_eq!(seen["actions"], json!([]));
        assert!(
            seen["reporter"].is_null(),
            "oversight sees no personal data"
        );
        // The public timeline does not repeat the question and answer (they may hold personal data).
        let public = t
            .get(&format!("/api/v1/reports/{code}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            !public.contains("Số 5") && !public.contains("Số nhà chính xác"),
            "{public}"
        );
        assert!(public.contains("bổ sung thông tin"));
        assert_eq!(
            oversight
                .act(&t, &code, json!({"action": "comment", "text": "x"}))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        t.stop().await;
    }
}

#[tokio::test]
async fn deadlines_skip_weekends_and_tet() {
    for t in apps().await {
        t.add_field_with_rule("fivedays", 5).await;
        // Friday 6 March 2026, 09:00 in Ho Chi Minh City.
        t.clock
            .set(Utc.with_ymd_and_hms(2026, 3, 6, 2, 0, 0).unwrap());
        let r = t
            .file(json!({"field": "fivedays", "description": "x", "ward": "26740"}))
            .await;
        assert_eq!(
            r["due_at"], "2026-03-13T10:00:00Z",
            "Friday + 5 working days = next Friday 17:00"
        );
        // Thursday 12 February 2026, before Tết (16–20 February 2026 off).
        t.clock
            .set(Utc.with_ymd_and_hms(2026, 2, 12, 2, 0, 0).unwrap());
        let r = t
            .file(json!({"field": "fivedays", "description": "x", "ward": "26740"}))
            .await;
        assert_eq!(r["due_at"], "2026-02-26T10:00:00Z", "Tết week is skipped");
        // An admin adds a day off: the next report's deadline moves.
        t.app()
            .store
            .set_calendar_day(
                chrono::NaiveDate::from_ymd_opt(2026, 3, 10).unwrap(),
                Some("off"),
            )
            .await
            .unwrap();
        t.app().refresh_catalog().await.unwrap();
        t.clock
            .set(Utc.with_ymd_and_hms(2026, 3, 6, 2, 0, 0).unwrap());
        let r = t
            .file(json!({"field": "fivedays", "description": "x", "ward": "26740"}))
            .await;
        assert_eq!(r["due_at"], "2026-03-16T10:00:00Z");
        // Overdue filter uses the clock.
        t.clock.advance(Duration::days(30));
        let sup = t.staff(Role::Supervisor, None).await;
        let overdue: Value = sup
            .api_get(&t, "/api/v1/staff/reports?overdue=1")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(overdue["items"].as_array().unwrap().len(), 3);
        t.stop().await;
    }
}

#[tokio::test]
async fn another_units_report_is_not_found_on_every_staff_route() {
    for t in apps().await {
        let mine = t
            .file(
                json!({"field": "sidewalk", "description": "Của phường Sài Gòn", "ward": "26740"}),
            )
            .await;
        let theirs = t.file(json!({"field": "sidewalk", "description": "Của phường Bến Thành", "ward": BEN_THANH})).await;
        let (mine, theirs) = (
            mine["code"].as_str().unwrap().to_string(),
            theirs["code"].as_str().unwrap().to_string(),
        );
        for role in [Role::UnitStaff, Role::UnitManager] {
            let s = t.staff(role, Some("UBND-26740")).await;
            assert_eq!(
                s.page(&t, &format!("/console/reports/{mine}"))
                    .await
                    .status(),
                StatusCode::OK
            );
            for path in [
                format!("/console/reports/{theirs}"),
                format!("/api/v1/staff/reports/{theirs}"),
            ] {
                assert_eq!(
                    s.page(&t, &path).await.status(),
                    StatusCode::NOT_FOUND,
                    "{role:?} GET {path}"
                );
            }
            let form = s
                .form(
                    &t,
                    &format!("/console/reports/{theirs}/actions"),
                    &[("action", "start")],
                )
                .await;
            assert_eq!(
                form.status(),
                StatusCode::NOT_FOUND,
                "{role:?} POST console action"
            );
            for body in [
                json!({"action": "start"}),
                json!({"action": "resolve", "note": "x"}),
                json!({"action": "transfer", "to": "UBND-26740", "reason": "x"}),
                json!({"action": "comment", "text": "x"}),
                json!({"action": "assign_staff", "assignee": s.user_id}),
                json!({"action": "request_info", "question": "x"}),
            ] {
                let r = s.act(&t, &theirs, body.clone()).await;
                assert_eq!(r.status(), StatusCode::NOT_FOUND, "{role:?} API {body}");
            }
            // Lists are scoped, whatever filter is asked for.
            let list: Value = s
                .api_get(&t, &format!("/api/v1/staff/reports?unit=UBND-{BEN_THANH}"))
                .await
                .json()
                .await
                .unwrap();
            let codes: Vec<&str> = list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["code"].as_str().unwrap())
                .collect();
            assert_eq!(codes, [mine.as_str()]);
            let queue = s.page(&t, "/console").await.text().await.unwrap();
            assert!(queue.contains(&mine) && !queue.contains(&theirs));
            // Admin and triage screens do not exist for them.
            for path in [
                "/console/admin",
                "/console/admin/users",
                "/console/admin/jobs",
                "/console/triage",
            ] {
                assert_eq!(
                    s.page(&t, path).await.status(),
                    StatusCode::NOT_FOUND,
                    "{role:?} {path}"
                );
            }
        }
        t.stop().await;
    }
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    for t in apps().await {
        let r = t
            .file(json!({"field": "other", "description": "x", "ward": "26740"}))
            .await;
        let code = r["code"].as_str().unwrap();
        let s = t.staff(Role::Triage, None).await;
        for token in ["", "wrong-token"] {
            let resp = s
                .form_with_csrf(
                    &t,
                    &format!("/console/reports/{code}/actions"),
                    token,
                    &[("action", "reject"), ("reason", "x")],
                )
                .await;
            assert_eq!(resp.status(), StatusCode::FORBIDDEN);
            let resp = s.form_with_csrf(&t, "/logout", token, &[]).await;
            assert_eq!(resp.status(), StatusCode::FORBIDDEN);
            let resp = t
                .client
                .post(t.url(&format!("/api/v1/staff/reports/{code}/actions")))
                .header("cookie", &s.cookie)
                .header("x-csrf-token", token)
                .json(&json!({"action": "reject", "reason": "x"}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        }
        // The report did not change.
        let after: Value = s
            .api_get(&t, &format!("/api/v1/staff/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(after["status"], "new");
        // Login needs the double-submit token too.
        let resp = t
            .client
            .post(t.url("/login"))
            .form(&[
                ("email", "x@example.org"),
                ("password", "whatever-long"),
                ("csrf", "abc"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::FORBIDDEN);
        // With the right token the same form works.
        let resp = s
            .form(
                &t,
                &format!("/console/reports/{code}/actions"),
                &[("action", "reject"), ("reason", "Không đủ thông tin")],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        t.stop().await;
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_nothing_is_half_written() {
    for t in apps().await {
        let post = |body: String, ctype: &'static str| {
            t.client
                .post(t.url("/api/v1/reports"))
                .header("content-type", ctype)
                .body(body)
                .send()
        };
        let r = post("{not json".into(), "application/json").await.unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["code"],
            "malformed_json"
        );
        let r = post("field=x".into(), "application/x-www-form-urlencoded")
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let huge = json!({"field": "traffic", "description": "x".repeat(400_000), "ward": "26740"})
            .to_string();
        let r = post(huge, "application/json").await.unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let r = post(
            json!({"field": "nope", "description": "", "lat": 21.03, "lon": 105.85}).to_string(),
            "application/json",
        )
        .await
        .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = r.json().await.unwrap();
        let codes: Vec<&str> = body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap())
            .collect();
        assert_eq!(
            codes,
            ["required", "unknown_field", "outside_city"],
            "{body}"
        );
        assert!(
            body["error"]["fields"][0]["message_vi"]
                .as_str()
                .unwrap()
                .contains("mô tả")
        );
        let r = post(
            json!({"field": "traffic", "description": "x"}).to_string(),
            "application/json",
        )
        .await
        .unwrap();
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["fields"][0]["code"],
            "location_required"
        );
        let r = post(
            json!({"field": "traffic", "description": "x", "ward": "26740", "phone": "12"})
                .to_string(),
            "application/json",
        )
        .await
        .unwrap();
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["fields"][0]["code"],
            "invalid_phone"
        );
        let r = post(
            json!({"field": "traffic", "description": "x", "ward": "26740", "channel": "hotline"})
                .to_string(),
            "application/json",
        )
        .await
        .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "anonymous callers cannot claim a staff channel"
        );
        assert_eq!(
            t.get("/api/v1/reports/ABCD-EFGH").await.status(),
            StatusCode::NOT_FOUND
        );
        let count = t
            .app()
            .store
            .list_reports(&phananh_storage::ReportFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(count.items.is_empty(), "nothing was filed");
        t.stop().await;
    }
}

#[tokio::test]
async fn idempotency_key_files_once_over_http() {
    for t in apps().await {
        let body = json!({"field": "traffic", "description": "Đèn tín hiệu hỏng", "ward": "26740"});
        let send = || {
            t.client
                .post(t.url("/api/v1/reports"))
                .header("idempotency-key", "phone-123-draft-1")
                .json(&body)
                .send()
        };
        let (a, b, c) = tokio::join!(send(), send(), send());
        let mut codes = Vec::new();
        let mut created = 0;
        for r in [a, b, c] {
            let r = r.unwrap();
            if r.status() == StatusCode::CREATED {
                created += 1;
            } else {
                assert_eq!(r.status(), StatusCode::OK);
                assert_eq!(r.headers()["idempotency-replayed"], "true");
            }
            codes.push(
                r.json::<Value>().await.unwrap()["code"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        assert_eq!(created, 1);
        assert!(codes.windows(2).all(|w| w[0] == w[1]));
        let other = t
            .client
            .post(t.url("/api/v1/reports"))
            .header("idempotency-key", "phone-123-draft-1")
            .json(&json!({"field": "traffic", "description": "Khác hẳn", "ward": "26740"}))
            .send()
            .await
            .unwrap();
        assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            other.json::<Value>().await.unwrap()["error"]["code"],
            "idempotency_key_reused"
        );
        t.stop().await;
    }
}

#[tokio::test]
async fn reports_per_phone_or_email_are_limited_whatever_the_address() {
    let t = spawn(Options {
        contact_per_hour: 2,
        ..Options::default()
    })
    .await;
    let file = |phone: &str, email: Option<&str>| {
        let mut body = json!({"field": "traffic", "description": "Ổ gà trước nhà", "ward": "26740", "phone": phone});
        if let Some(e) = email {
            body["email"] = e.into();
        }
        t.client.post(t.url("/api/v1/reports")).json(&body).send()
    };
    assert_eq!(
        file("0912345678", None).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(
        file("0912 345 678", Some("a@example.vn"))
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    // The same number written another way is the same contact.
    let r = file("+84 912 345 678", None).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "rate_limited"
    );
    // Another person is not held back; the email used once has one report left.
    assert_eq!(
        file("0987654321", Some("A@example.vn"))
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        file("0987654322", Some("a@example.vn"))
            .await
            .unwrap()
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    t.stop().await;
}

#[tokio::test]
async fn anonymous_intake_and_logins_are_rate_limited() {
    let t = spawn(Options {
        intake_per_minute: 3,
        login_per_minute: 3,
        ..Options::default()
    })
    .await;
    let body = json!({"field": "traffic", "description": "x", "ward": "26740"});
    for _ in 0..3 {
        assert_eq!(
            t.client
                .post(t.url("/api/v1/reports"))
                .json(&body)
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::CREATED
        );
    }
    let r = t
        .client
        .post(t.url("/api/v1/reports"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "rate_limited"
    );
    let mut last = StatusCode::OK;
    for _ in 0..5 {
        last = t
            .login_attempt("nobody@example.org", "wrong password!")
            .await;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    t.stop().await;
}

#[tokio::test]
async fn console_pages_render_in_vietnamese_and_english() {
    for t in apps().await {
        let admin = t.staff(Role::Admin, None).await;
        let r = t.file(json!({"field": "other", "description": "Hồ sơ thử", "ward": "26740", "phone": "0912345678"})).await;
        let code = r["code"].as_str().unwrap();
        for path in [
            "/console",
            "/console/triage",
            &format!("/console/reports/{code}"),
            "/console/admin/units",
            "/console/admin/fields",
            "/console/admin/rules",
            "/console/admin/users",
            "/console/admin/calendar?year=2026",
            "/console/admin/jobs",
        ] {
            let resp = admin.page(&t, path).await;
            assert_eq!(resp.status(), StatusCode::OK, "{path}");
            let html = resp.text().await.unwrap();
            assert!(html.contains("lang=\"vi\""), "{path}");
        }
        let page = admin
            .page(&t, &format!("/console/reports/{code}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("0912345678"),
            "staff see the reporter's phone"
        );
        assert!(page.contains("Chuyển đơn vị xử lý"));
        let cal = admin
            .page(&t, "/console/admin/calendar?year=2026")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            cal.contains("17/02/2026") && cal.contains("Tết"),
            "Tết 2026 listed"
        );
        let resp = admin.form(&t, "/lang", &[("lang", "en")]).await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let html = admin.page(&t, "/console").await.text().await.unwrap();
        assert!(html.contains("lang=\"en\"") && html.contains("Report queue"));
        // Admin edits take effect at once: a new field with a rule routes the next report.
        let resp = admin
            .form(
                &t,
                "/console/admin/fields",
                &[
                    ("code", "potholes"),
                    ("name_vi", "Ổ gà"),
                    ("name_en", "Potholes"),
                    ("icon", "🕳"),
                    ("ack_hours", "4"),
                    ("resolve_days", "2"),
                    ("keywords", "o ga"),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let resp = admin
            .form(
                &t,
                "/console/admin/rules",
                &[
                    ("field", "potholes"),
                    ("ward", ""),
                    ("unit", "UBND-26743"),
                    ("priority", "0"),
                ],
            )
            .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let r = t
            .file(json!({"field": "potholes", "description": "Ổ gà", "ward": "26740"}))
            .await;
        assert_eq!(r["unit"], "UBND-26743");
        let resp = admin
            .form(
                &t,
                "/console/admin/users",
                &[
                    ("email", "new@example.org"),
                    ("name", "Cán bộ mới"),
                    ("role", "unit_staff"),
                    ("unit", ""),
                    ("password", "long-enough-pass"),
                ],
            )
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a unit role needs a unit"
        );
        t.stop().await;
    }
}

#[tokio::test]
async fn webhooks_to_units_are_signed_retried_and_delivered_once() {
    use phananh_app::Clock;
    use phananh_worker::{Worker, WorkerConfig, sign, verify_webhook};
    use std::sync::{Arc, Mutex};
    type Seen = Arc<Mutex<Vec<(String, String, String, Vec<u8>)>>>;
    let seen: Seen = Arc::default();
    // The unit's own system: fails twice, then accepts.
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(seen): axum::extract::State<Seen>,
                 headers: axum::http::HeaderMap,
                 body: axum::body::Bytes| async move {
                    let mut s = seen.lock().unwrap();
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string()
                    };
                    s.push((
                        h("x-phananh-delivery"),
                        h("x-phananh-timestamp"),
                        h("x-phananh-signature"),
                        body.to_vec(),
                    ));
                    if s.len() <= 2 {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::NO_CONTENT
                    }
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    for t in apps().await {
        seen.lock().unwrap().clear();
        let store = &t.app().store;
        let mut unit = t.app().catalog().await.unit("UBND-26740").unwrap().clone();
        unit.webhook_url = Some(hook.clone());
        store.save_unit(&unit).await.unwrap();
        t.app().refresh_catalog().await.unwrap();
        let r = t.file(json!({"field": "sidewalk", "description": "Lấn chiếm", "ward": "26740", "phone": "0912345678"})).await;
        let worker = Worker::new(
            t.app().clone(),
            WorkerConfig {
                webhook_secret: "test-secret".into(),
                ..WorkerConfig::default()
            },
        );
        assert_eq!(
            worker.run_once().await,
            2,
            "the webhook (refused) and the citizen's notice (phone only: nothing to send yet)"
        );
        assert_eq!(
            worker.run_once().await,
            0,
            "the retry waits for its back-off"
        );
        t.clock.advance(Duration::minutes(5));
        assert_eq!(worker.run_once().await, 1);
        t.clock.advance(Duration::minutes(5));
        assert_eq!(worker.run_once().await, 1);
        t.clock.advance(Duration::hours(2));
        assert_eq!(worker.run_once().await, 0, "delivered: nothing left");
        let seen_now = seen.lock().unwrap().clone();
        assert_eq!(seen_now.len(), 3);
        assert!(
            seen_now.iter().all(|(d, _, _, _)| *d == seen_now[0].0),
            "one delivery id across retries"
        );
        for (_, timestamp, signature, body) in &seen_now {
            // The signature covers "<timestamp>.<body>": the receiver checks both, and a
            // delivery replayed later (or with another timestamp) fails.
            let now = t.clock.now().timestamp();
            assert!(verify_webhook(
                "test-secret",
                timestamp,
                signature,
                body,
                now,
                3 * 3600
            ));
            assert!(!verify_webhook(
                "test-secret",
                timestamp,
                signature,
                body,
                now + 86_400,
                300
            ));
            assert_ne!(
                *signature,
                sign("test-secret", body),
                "not over the body alone"
            );
            let later = (timestamp.parse::<i64>().unwrap() + 600).to_string();
            assert!(!verify_webhook(
                "test-secret",
                &later,
                signature,
                body,
                now,
                3 * 3600
            ));
            let text = String::from_utf8_lossy(body);
            assert!(text.contains(r["code"].as_str().unwrap()));
            assert!(
                !text.contains("0912345678"),
                "no personal data to the unit's webhook"
            );
        }
        let jobs = store
            .jobs_for_report(
                store
                    .report_by_code(r["code"].as_str().unwrap())
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
            )
            .await
            .unwrap();
        let jobs: Vec<_> = jobs.iter().filter(|j| j.kind == "unit.webhook").collect();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].status, "done");
        assert_eq!(jobs[0].attempts, 3);
        // A unit endpoint that refuses for good is dead-lettered, visible to admins.
        unit.webhook_url = Some(format!("{hook}-missing"));
        store.save_unit(&unit).await.unwrap();
        t.app().refresh_catalog().await.unwrap();
        t.file(json!({"field": "sidewalk", "description": "Lấn chiếm 2", "ward": "26740"}))
            .await;
        assert_eq!(worker.run_once().await, 1);
        let dead = store
            .jobs(Some(phananh_storage::JobStatus::Dead), 10)
            .await
            .unwrap();
        assert_eq!(dead.len(), 1);
        assert!(dead[0].last_error.as_deref().unwrap().contains("404"));
        let admin = t.staff(Role::Admin, None).await;
        let page = admin
            .page(&t, "/console/admin/jobs")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("404"));
        t.stop().await;
    }
}

/// Kill -9 the real binary while it takes reports: every acknowledged report is there after.
#[tokio::test]
async fn a_killed_server_loses_no_acknowledged_report() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_phananh"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            db.to_str().unwrap(),
        ])
        .env("PHANANH_INTAKE_PER_MINUTE", "0")
        .env("PHANANH_PHOTOS_DIR", dir.path().join("photos"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..300 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "server did not start");
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (client, base, acked) = (client.clone(), base.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let body = json!({"field": "traffic", "description": format!("crash test {i}-{n}"), "ward": "26740"});
                match client.post(format!("{base}/api/v1/reports")).json(&body).send().await {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        if let Ok(v) = r.json::<Value>().await {
                            acked.lock().unwrap().push(v["code"].as_str().unwrap().to_string());
                        }
                    }
                    _ => break,
                }
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 20,
        "only {} reports acknowledged before the kill",
        acked.len()
    );
    let store = phananh_storage::Store::open(db.to_str().unwrap())
        .await
        .unwrap();
    for code in &acked {
        let r = store
            .report_by_code(code)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged {code} lost"));
        assert_eq!(store.events(r.id).await.unwrap().len() as i64, r.last_seq);
    }
}

// ---------------------------------------------------------------------------------------
// Open311 GeoReport v2

fn xml_text<'a>(node: roxmltree::Node<'a, 'a>, path: &[&str]) -> Option<&'a str> {
    let mut n = node;
    for name in path {
        n = n.children().find(|c| c.has_tag_name(*name))?;
    }
    Some(n.text().unwrap_or(""))
}

async fn open311_key(t: &TestApp, rate: u32) -> String {
    t.app()
        .create_api_key("Cổng đối tác thử", Some(rate))
        .await
        .unwrap()
        .1
}

async fn add_field_with_attributes(t: &TestApp) {
    use phananh_domain::profile::{Attribute, AttributeValue, Field};
    let store = &t.app().store;
    store
        .save_field(&Field {
            code: "pothole".into(),
            name_vi: "Ổ gà".into(),
            name_en: "Pothole".into(),
            icon: "🕳".into(),
            ack_hours: 8,
            resolve_days: 3,
            keywords: vec!["o ga".into(), "pothole".into()],
            attributes: vec![
                Attribute {
                    code: "size".into(),
                    datatype: "singlevaluelist".into(),
                    required: true,
                    description_vi: "Kích thước ổ gà".into(),
                    description_en: "Size of the pothole".into(),
                    order: 1,
                    values: vec![
                        AttributeValue {
                            key: "small".into(),
                            name: "Nhỏ".into(),
                        },
                        AttributeValue {
                            key: "large".into(),
                            name: "Lớn".into(),
                        },
                    ],
                },
                Attribute {
                    code: "lanes".into(),
                    datatype: "multivaluelist".into(),
                    required: false,
                    description_vi: "Làn đường bị ảnh hưởng".into(),
                    description_en: "Lanes affected".into(),
                    order: 2,
                    values: vec![
                        AttributeValue {
                            key: "left".into(),
                            name: "Trái".into(),
                        },
                        AttributeValue {
                            key: "right".into(),
                            name: "Phải".into(),
                        },
                    ],
                },
            ],
        })
        .await
        .unwrap();
    store
        .add_rule(&phananh_domain::routing::Rule {
            id: 0,
            field: "pothole".into(),
            ward: None,
            unit: "SXD".into(),
            priority: 0,
        })
        .await
        .unwrap();
    t.app().refresh_catalog().await.unwrap();
}

#[tokio::test]
async fn open311_discovery_services_and_definitions() {
    for t in apps().await {
        add_field_with_attributes(&t).await;
        let d: Value = t
            .get("/open311/v2/discovery.json")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            d["endpoints"][0]["specification"],
            "http://wiki.open311.org/GeoReport_v2"
        );
        assert_eq!(
            d["endpoints"][0]["formats"],
            json!(["application/json", "text/xml"])
        );
        let xml = t
            .get("/open311/v2/discovery.xml")
            .await
            .text()
            .await
            .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "discovery");
        let ep = doc
            .descendants()
            .find(|n| n.has_tag_name("endpoint"))
            .unwrap();
        assert_eq!(xml_text(ep, &["type"]), Some("production"));
        assert_eq!(
            ep.descendants()
                .filter(|n| n.has_tag_name("format"))
                .count(),
            2
        );

        let services: Value = t
            .get("/open311/v2/services.json")
            .await
            .json()
            .await
            .unwrap();
        let list = services.as_array().unwrap();
        assert_eq!(list.len(), 14);
        let traffic = list
            .iter()
            .find(|s| s["service_code"] == "traffic")
            .unwrap();
        for key in [
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        ] {
            assert!(traffic.get(key).is_some(), "service lacks {key}");
        }
        assert_eq!(traffic["metadata"], false);
        assert_eq!(traffic["type"], "realtime");
        let pothole = list
            .iter()
            .find(|s| s["service_code"] == "pothole")
            .unwrap();
        assert_eq!(pothole["metadata"], true);
        let xml = t
            .get("/open311/v2/services.xml")
            .await
            .text()
            .await
            .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "services");
        let services: Vec<_> = doc
            .root_element()
            .children()
            .filter(|n| n.has_tag_name("service"))
            .collect();
        assert_eq!(services.len(), 14);
        assert!(
            services
                .iter()
                .any(|s| xml_text(*s, &["service_code"]) == Some("sidewalk"))
        );

        let def: Value = t
            .get("/open311/v2/services/pothole.json")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(def["service_code"], "pothole");
        let a = &def["attributes"][0];
        assert_eq!(
            (
                a["variable"].as_bool(),
                a["code"].as_str(),
                a["datatype"].as_str(),
                a["required"].as_bool(),
                a["order"].as_i64()
            ),
            (
                Some(true),
                Some("size"),
                Some("singlevaluelist"),
                Some(true),
                Some(1)
            )
        );
        assert_eq!(a["description"], "Kích thước ổ gà");
        assert_eq!(
            a["values"],
            json!([{"key": "small", "name": "Nhỏ"}, {"key": "large", "name": "Lớn"}])
        );
        let xml = t
            .get("/open311/v2/services/pothole.xml")
            .await
            .text()
            .await
            .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "service_definition");
        let attr = doc
            .descendants()
            .find(|n| n.has_tag_name("attribute"))
            .unwrap();
        assert_eq!(xml_text(attr, &["datatype"]), Some("singlevaluelist"));
        assert_eq!(xml_text(attr, &["required"]), Some("true"));
        let value = attr
            .descendants()
            .find(|n| n.has_tag_name("value"))
            .unwrap();
        assert_eq!(xml_text(value, &["key"]), Some("small"));

        let r = t.get("/open311/v2/services/nope.json").await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e[0]["code"], 404);
        assert!(
            e[0]["description"]
                .as_str()
                .unwrap()
                .contains("service_code")
        );
        assert_eq!(
            t.get("/open311/v2/services.json?jurisdiction_id=elsewhere.example")
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            t.get("/open311/v2/services.json?jurisdiction_id=79")
                .await
                .status(),
            StatusCode::OK
        );
        t.stop().await;
    }
}

#[tokio::test]
async fn open311_post_and_get_requests() {
    for t in apps().await {
        add_field_with_attributes(&t).await;
        let key = open311_key(&t, 1000).await;
        let post = |fmt: &'static str, form: Vec<(&'static str, String)>| {
            t.client
                .post(t.url(&format!("/open311/v2/requests.{fmt}")))
                .form(&form)
                .send()
        };
        let good = |k: &str| {
            vec![
                ("api_key", k.to_string()),
                ("service_code", "pothole".to_string()),
                ("lat", "10.7725".to_string()),
                ("long", "106.6980".to_string()),
                ("description", "Ổ gà sâu giữa đường".to_string()),
                ("attribute[size]", "large".to_string()),
                ("attribute[lanes][]", "left".to_string()),
                ("attribute[lanes][]", "right".to_string()),
                ("email", "dan@example.org".to_string()),
                ("phone", "0909123456".to_string()),
                ("first_name", "Lê".to_string()),
                ("last_name", "Văn C".to_string()),
                ("account_id", "acc-42".to_string()),
                ("media_url", "https://photos.example.org/1.jpg".to_string()),
            ]
        };
        // Refused: no key, a wrong key, no location, unknown service, malformed attribute,
        // a value not in the list, a missing required attribute, a description too long.
        let refusals: Vec<(Vec<(&'static str, String)>, StatusCode, &str)> = vec![
            (
                good("")
                    .into_iter()
                    .filter(|(k, _)| *k != "api_key")
                    .collect(),
                StatusCode::FORBIDDEN,
                "api_key",
            ),
            (good("pa_wrong"), StatusCode::FORBIDDEN, "api_key"),
            (
                good(&key)
                    .into_iter()
                    .filter(|(k, _)| *k != "lat" && *k != "long")
                    .collect(),
                StatusCode::BAD_REQUEST,
                "address_string",
            ),
            (
                good(&key)
                    .into_iter()
                    .map(|(k, v)| {
                        if k == "service_code" {
                            (k, "nope".into())
                        } else {
                            (k, v)
                        }
                    })
                    .collect(),
                StatusCode::NOT_FOUND,
                "service_code",
            ),
            (
                good(&key)
                    .into_iter()
                    .chain([("attribute[size", "x".to_string())])
                    .collect(),
                StatusCode::BAD_REQUEST,
                "attribute",
            ),
            (
                good(&key)
                    .into_iter()
                    .map(|(k, v)| {
                        if k == "attribute[size]" {
                            (k, "huge".into())
                        } else {
                            (k, v)
                        }
                    })
                    .collect(),
                StatusCode::BAD_REQUEST,
                "size",
            ),
            (
                good(&key)
                    .into_iter()
                    .filter(|(k, _)| *k != "attribute[size]")
                    .collect(),
                StatusCode::BAD_REQUEST,
                "size",
            ),
            (
                good(&key)
                    .into_iter()
                    .map(|(k, v)| {
                        if k == "description" {
                            (k, "x".repeat(4001))
                        } else {
                            (k, v)
                        }
                    })
                    .collect(),
                StatusCode::BAD_REQUEST,
                "4",
            ),
            (
                good(&key)
                    .into_iter()
                    .map(|(k, v)| {
                        if k == "lat" {
                            (k, "abc".into())
                        } else {
                            (k, v)
                        }
                    })
                    .collect(),
                StatusCode::BAD_REQUEST,
                "lat",
            ),
        ];
        for (form, status, mentions) in refusals {
            let r = post("json", form).await.unwrap();
            assert_eq!(r.status(), status);
            let e: Value = r.json().await.unwrap();
            assert_eq!(e[0]["code"], status.as_u16());
            assert!(
                e[0]["description"].as_str().unwrap().contains(mentions),
                "{e}"
            );
        }
        let xml_refusal = post("xml", vec![("service_code", "pothole".into())])
            .await
            .unwrap();
        assert_eq!(xml_refusal.status(), StatusCode::FORBIDDEN);
        let doc_text = xml_refusal.text().await.unwrap();
        let doc = roxmltree::Document::parse(&doc_text).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "errors");
        assert_eq!(
            xml_text(doc.root_element().first_element_child().unwrap(), &["code"]),
            Some("403")
        );
        let none = t
            .app()
            .store
            .list_reports(&phananh_storage::ReportFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(none.items.is_empty(), "nothing half-created");

        // Filed, in JSON and XML.
        let r = post("json", good(&key)).await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let created: Value = r.json().await.unwrap();
        let id = created[0]["service_request_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(created[0]["token"], id.as_str());
        assert_eq!(created[0]["account_id"], "acc-42");
        let r = post("xml", good(&key)).await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let text = r.text().await.unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "service_requests");
        let id2 = xml_text(
            doc.root_element().first_element_child().unwrap(),
            &["service_request_id"],
        )
        .unwrap()
        .to_string();

        // The record: channel open311, the integrator as the actor, attributes kept.
        let admin = t.staff(Role::Admin, None).await;
        let full: Value = admin
            .api_get(&t, &format!("/api/v1/staff/reports/{id}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(full["channel"], "open311");
        assert_eq!(full["history"][0]["actor"]["kind"], "integrator");
        assert_eq!(full["history"][0]["actor"]["id"], "Cổng đối tác thử");
        assert_eq!(full["unit"], "SXD");
        assert_eq!(full["reporter"]["name"], "Lê Văn C");

        // One request, both formats, field by field; no personal data.
        let one = t
            .get(&format!("/open311/v2/requests/{id}.json"))
            .await
            .text()
            .await
            .unwrap();
        for secret in ["dan@example.org", "0909123456", "Văn C", "acc-42"] {
            assert!(!one.contains(secret), "GET leaks {secret}");
        }
        let one: Value = serde_json::from_str(&one).unwrap();
        let req = &one[0];
        assert_eq!(req["service_request_id"], id.as_str());
        assert_eq!(req["status"], "open");
        assert_eq!(req["service_code"], "pothole");
        assert_eq!(req["service_name"], "Ổ gà");
        assert_eq!(req["description"], "Ổ gà sâu giữa đường");
        assert_eq!(
            req["agency_responsible"],
            t.app().catalog().await.unit_name("SXD")
        );
        assert_eq!(req["requested_datetime"], "2026-03-02T09:00:00+07:00");
        assert!(
            req["expected_datetime"]
                .as_str()
                .unwrap()
                .ends_with("+07:00")
        );
        assert_eq!(req["lat"], 10.7725);
        assert_eq!(req["long"], 106.698);
        assert_eq!(req["media_url"], "https://photos.example.org/1.jpg");
        assert!(req["address"].as_str().unwrap().contains("Bến Thành"));
        let xml = t
            .get(&format!("/open311/v2/requests/{id}.xml?extensions=true"))
            .await
            .text()
            .await
            .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let r = doc.root_element().first_element_child().unwrap();
        assert_eq!(r.tag_name().name(), "request");
        assert_eq!(xml_text(r, &["status"]), Some("open"));
        assert_eq!(xml_text(r, &["lat"]), Some("10.7725"));
        assert_eq!(
            xml_text(r, &["extended_attributes", "channel"]),
            Some("open311")
        );
        assert_eq!(xml_text(r, &["extended_attributes", "ward"]), Some("26743"));
        assert_eq!(
            r.descendants().filter(|n| n.has_tag_name("note")).count(),
            2
        );
        assert_eq!(
            t.get("/open311/v2/requests/ABCD-2345.json").await.status(),
            StatusCode::NOT_FOUND
        );
        let tok: Value = t
            .get(&format!("/open311/v2/tokens/{id}.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(tok[0]["service_request_id"], id.as_str());

        // Lists with the standard filters and the common extensions.
        t.file(json!({"field": "traffic", "description": "Đèn hỏng", "ward": "26740"}))
            .await;
        let list = |q: String| {
            let t = &t;
            async move {
                t.get(&format!("/open311/v2/requests.json?{q}"))
                    .await
                    .json::<Value>()
                    .await
                    .unwrap()
            }
        };
        assert_eq!(list(String::new()).await.as_array().unwrap().len(), 3);
        assert_eq!(
            list(format!("service_request_id={id},{id2}"))
                .await
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            list("service_code=pothole".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            list("service_code=pothole,traffic".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            list("status=closed".into()).await.as_array().unwrap().len(),
            0
        );
        assert_eq!(
            list("status=open".into()).await.as_array().unwrap().len(),
            3
        );
        assert_eq!(
            list("start_date=2026-03-03T00:00:00%2B07:00".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            list("end_date=2026-03-01T00:00:00Z".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            0
        );
        assert_eq!(
            list("page_size=2&page=1".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            list("page_size=2&page=2".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            list("updated_after=2026-03-02T09:00:01%2B07:00".into())
                .await
                .as_array()
                .unwrap()
                .len(),
            0
        );
        let ext = list("extensions=true&service_code=traffic".into()).await;
        assert_eq!(ext[0]["extended_attributes"]["channel"], "web");
        assert!(ext[0]["notes"].as_array().unwrap().len() >= 2);
        let bad = t
            .get("/open311/v2/requests.json?start_date=yesterday")
            .await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            t.get("/open311/v2/requests.json?status=maybe")
                .await
                .status(),
            StatusCode::BAD_REQUEST
        );
        let xml = t
            .get("/open311/v2/requests.xml")
            .await
            .text()
            .await
            .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(
            doc.root_element()
                .children()
                .filter(|n| n.has_tag_name("request"))
                .count(),
            3
        );
        // Closing the report shows in Open311 as closed, with the status notes.
        let sup = t.staff(Role::Supervisor, None).await;
        assert_eq!(
            sup.act(&t, &id, json!({"action": "resolve", "note": "Đã vá"}))
                .await
                .status(),
            StatusCode::OK
        );
        let now: Value = t
            .get(&format!("/open311/v2/requests/{id}.json"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(now[0]["status"], "closed");
        assert!(now[0]["status_notes"].as_str().unwrap().contains("Đã vá"));
        t.stop().await;
    }
}

#[tokio::test]
async fn open311_keys_have_their_own_rate_limits_and_can_be_revoked() {
    let t = spawn(Options::default()).await;
    let slow = open311_key(&t, 2).await;
    let form = |k: &str| {
        vec![
            ("api_key", k.to_string()),
            ("service_code", "traffic".to_string()),
            ("address_string", "12 Lê Lợi, phường Bến Thành".to_string()),
        ]
    };
    for _ in 0..2 {
        let r = t
            .client
            .post(t.url("/open311/v2/requests.json"))
            .form(&form(&slow))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    let r = t
        .client
        .post(t.url("/open311/v2/requests.json"))
        .form(&form(&slow))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let fast = open311_key(&t, 100).await;
    let r = t
        .client
        .post(t.url("/open311/v2/requests.json"))
        .form(&form(&fast))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "another key is not slowed down"
    );
    let id = t.app().store.api_keys().await.unwrap().last().unwrap().id;
    t.app().store.revoke_api_key(id).await.unwrap();
    let r = t
        .client
        .post(t.url("/open311/v2/requests.json"))
        .form(&form(&fast))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    t.stop().await;
}

#[tokio::test]
async fn admins_create_and_revoke_api_keys_in_the_console() {
    let t = spawn(Options::default()).await;
    let admin = t.staff(Role::Admin, None).await;
    let page = admin
        .form(
            &t,
            "/console/admin/apikeys",
            &[("name", "Ứng dụng Y tế"), ("rate", "60")],
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    let start = html.find("pa_").expect("the key is shown once");
    let key: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let form = vec![
        ("api_key", key.clone()),
        ("service_code", "traffic".to_string()),
        ("lat", "10.7725".into()),
        ("long", "106.698".into()),
    ];
    let r = t
        .client
        .post(t.url("/open311/v2/requests.json"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let list = admin
        .page(&t, "/console/admin/apikeys")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Ứng dụng Y tế") && !list.contains(&key),
        "the list shows the prefix only"
    );
    let id = t.app().store.api_keys().await.unwrap()[0].id;
    let r = admin
        .form(&t, &format!("/console/admin/apikeys/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = t
        .client
        .post(t.url("/open311/v2/requests.json"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let staff = t.staff(Role::UnitStaff, Some("UBND-26740")).await;
    assert_eq!(
        staff.page(&t, "/console/admin/apikeys").await.status(),
        StatusCode::NOT_FOUND
    );
    t.stop().await;
}

/// A unit that keeps its own system — here a second phananh — gets its reports over Open311
/// and sends its progress back, through failures and a timeout, without loss or duplicates.
#[tokio::test]
async fn forwarding_to_a_units_own_open311_system_and_status_back() {
    use phananh_domain::profile::Open311Forward;
    use phananh_worker::{Worker, WorkerConfig};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let city = spawn(Options::default()).await;
    let unit_system = spawn(Options::default()).await;
    let key = unit_system
        .app()
        .create_api_key("Thành phố", None)
        .await
        .unwrap()
        .1;

    // A flaky link in front of the unit's system: the first POST fails, the second reaches
    // it but answers too late for the city's timeout, the third goes through.
    let upstream = unit_system.url("");
    let posts = Arc::new(AtomicUsize::new(0));
    let proxy = {
        let (upstream, posts) = (upstream.clone(), posts.clone());
        axum::Router::new().fallback(move |req: axum::extract::Request| {
            let (upstream, posts) = (upstream.clone(), posts.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                let n = if parts.method == axum::http::Method::POST {
                    posts.fetch_add(1, Ordering::SeqCst) + 1
                } else {
                    0
                };
                if n == 1 {
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, Vec::new());
                }
                let client = reqwest::Client::new();
                let url = format!("{upstream}{}", parts.uri);
                let mut rb = client.request(parts.method.clone(), url);
                for (k, v) in parts.headers.iter() {
                    if k != "host" && k != "content-length" {
                        rb = rb.header(k, v);
                    }
                }
                let resp = rb.body(body).send().await.unwrap();
                let status = axum::http::StatusCode::from_u16(resp.status().as_u16()).unwrap();
                let bytes = resp.bytes().await.unwrap().to_vec();
                if n == 2 {
                    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                }
                (status, bytes)
            }
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}/open311/v2", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, proxy).await.unwrap() });

    let mut unit = city.app().catalog().await.unit("SAWACO").unwrap().clone();
    unit.forward_open311 = Some(Open311Forward {
        url: proxy_url,
        api_key: key,
        jurisdiction_id: None,
        service_codes: Default::default(),
    });
    city.app().store.save_unit(&unit).await.unwrap();
    city.app().refresh_catalog().await.unwrap();

    let r = city.file(json!({"field": "water", "description": "Vỡ ống nước", "lat": 10.7725, "lon": 106.6980, "phone": "0912345678"})).await;
    let code = r["code"].as_str().unwrap().to_string();
    assert_eq!(r["unit"], "SAWACO");
    let worker = Worker::new(
        city.app().clone(),
        WorkerConfig {
            http_timeout: std::time::Duration::from_secs(1),
            ..WorkerConfig::default()
        },
    );
    assert_eq!(
        worker.run_once().await,
        2,
        "attempt 1: 503; and the citizen's notice (phone only: nothing to send yet)"
    );
    city.clock.advance(Duration::minutes(5));
    assert_eq!(worker.run_once().await, 1, "attempt 2: timeout");
    city.clock.advance(Duration::minutes(5));
    assert_eq!(worker.run_once().await, 1, "attempt 3: delivered");
    city.clock.advance(Duration::hours(2));
    assert_eq!(worker.run_once().await, 0);
    assert_eq!(posts.load(Ordering::SeqCst), 3);

    // The unit's system has it once, without the citizen's phone.
    let theirs = unit_system
        .app()
        .store
        .list_reports(&phananh_storage::ReportFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(
        theirs.len(),
        1,
        "filed once despite the retry after a timeout"
    );
    assert_eq!(theirs[0].channel, phananh_domain::model::Channel::Open311);
    assert!(theirs[0].description.contains(&code));
    assert!(
        unit_system
            .app()
            .store
            .reporter(theirs[0].id)
            .await
            .unwrap()
            .is_none()
    );
    let their_code = theirs[0].code.clone();

    // Work starts there: in progress here. Fixed there: resolved here, in the public history.
    let their_staff = unit_system.staff(Role::Supervisor, None).await;
    unit_system.clock.advance(Duration::minutes(30));
    assert_eq!(
        their_staff
            .act(&unit_system, &their_code, json!({"action": "start"}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(worker.poll_forwards().await, 1);
    let ours: Value = city
        .get(&format!("/api/v1/reports/{code}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ours["status"], "in_progress");
    unit_system.clock.advance(Duration::minutes(30));
    assert_eq!(
        their_staff
            .act(
                &unit_system,
                &their_code,
                json!({"action": "resolve", "note": "Đã thay đoạn ống"})
            )
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(worker.poll_forwards().await, 1);
    assert_eq!(worker.poll_forwards().await, 0, "nothing new");
    let ours: Value = city
        .get(&format!("/api/v1/reports/{code}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ours["status"], "resolved");
    let history = ours["history"].to_string();
    assert!(history.contains("Đã thay đoạn ống"), "{history}");
    assert!(history.contains("integrator"));
    city.stop().await;
    unit_system.stop().await;
}

#[tokio::test]
async fn forwarding_by_email_to_a_units_mailbox() {
    use phananh_worker::{Worker, WorkerConfig};
    for t in apps().await {
        let (port, got) = smtp_sink(1).await;
        let mut unit = t
            .app()
            .catalog()
            .await
            .unit("CT-CHIEUSANG")
            .unwrap()
            .clone();
        unit.forward_email = Some("chieusang@example.invalid".into());
        t.app().store.save_unit(&unit).await.unwrap();
        t.app().refresh_catalog().await.unwrap();
        let r = t.file(json!({"field": "lighting", "description": "Đèn đường tắt cả dãy", "ward": "26740", "phone": "0912345678"})).await;
        assert_eq!(r["unit"], "CT-CHIEUSANG");
        let worker = Worker::new(
            t.app().clone(),
            WorkerConfig {
                smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
                public_url: "https://1022.example.vn".into(),
                ..WorkerConfig::default()
            },
        );
        assert_eq!(
            worker.run_once().await,
            2,
            "the unit's email (refused at first: 421) and the citizen's notice (phone only: nothing to send yet)"
        );
        assert!(got.lock().unwrap().is_empty());
        t.clock.advance(Duration::minutes(5));
        assert_eq!(worker.run_once().await, 1);
        t.clock.advance(Duration::hours(2));
        assert_eq!(worker.run_once().await, 0);
        let mails = got.lock().unwrap().clone();
        assert_eq!(mails.len(), 1);
        let m = &mails[0];
        let code = r["code"].as_str().unwrap();
        assert!(m.contains("To: chieusang@example.invalid"), "{m}");
        assert!(
            m.contains("Subject: [1022] =?utf-8?"),
            "Vietnamese subject, encoded: {m}"
        );
        assert!(
            m.contains(&format!("Message-ID: <{code}.CT-CHIEUSANG.")),
            "{m}"
        );
        assert!(m.contains(code));
        // Quoted-printable body: undo the soft line breaks before looking for the link.
        let body = m.replace("=\n", "");
        assert!(
            body.contains(&format!("https://1022.example.vn/console/reports/{code}")),
            "{m}"
        );
        assert!(!m.contains("0912345678"), "no personal data by email");
        t.stop().await;
    }
}

/// The command line an operator uses: users, API keys, profile export and import.
#[tokio::test]
async fn command_line_users_keys_and_profile() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let bin = env!("CARGO_BIN_EXE_phananh");
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(bin)
            .arg("--database-url")
            .arg(&db)
            .args(args)
            .env("RUST_LOG", "error")
            .env("PHANANH_PHOTOS_DIR", dir.path().join("photos"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, _) = run(
        &[
            "user",
            "add",
            "--role",
            "admin",
            "--email",
            "Boss@Example.org",
            "--name",
            "Quản trị",
        ],
        "a very long password\n",
    );
    assert!(ok, "{out}");
    let (ok, _, err) = run(
        &[
            "user",
            "add",
            "--role",
            "unit_staff",
            "--email",
            "x@example.org",
        ],
        "a very long password\n",
    );
    assert!(
        !ok && err.contains("đơn vị"),
        "a unit role needs a unit: {err}"
    );
    let (ok, _, err) = run(
        &["user", "add", "--role", "admin", "--email", "y@example.org"],
        "short\n",
    );
    assert!(!ok && err.contains("10"), "{err}");
    let (_, out, _) = run(&["user", "list"], "");
    assert!(out.contains("boss@example.org\tadmin"), "{out}");
    let (ok, key, _) = run(
        &["apikey", "add", "--name", "Đối tác A", "--rate", "30"],
        "",
    );
    assert!(ok && key.trim().starts_with("pa_"));
    let (_, list, _) = run(&["apikey", "list"], "");
    assert!(list.contains("Đối tác A") && list.contains("30/min") && !list.contains(key.trim()));
    // Export, change, import: the change is there.
    let file = dir.path().join("profile.json");
    let (ok, _, err) = run(&["profile", "export", file.to_str().unwrap()], "");
    assert!(ok, "{err}");
    let mut profile: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(profile["wards"].as_array().unwrap().len(), 168);
    profile["fields"].as_array_mut().unwrap().push(json!({"code": "graffiti", "name_vi": "Vẽ bậy", "name_en": "Graffiti", "icon": "🎨", "ack_hours": 8, "resolve_days": 5}));
    std::fs::write(&file, profile.to_string()).unwrap();
    let (ok, _, err) = run(&["profile", "import", file.to_str().unwrap()], "");
    assert!(ok, "{err}");
    let (_, out, _) = run(&["profile", "export", "-"], "");
    assert!(out.contains("graffiti"));
    // A broken profile is refused with the reasons, and nothing changes.
    profile["rules"]
        .as_array_mut()
        .unwrap()
        .push(json!({"field": "nope", "ward": null, "unit": "NOPE"}));
    std::fs::write(&file, profile.to_string()).unwrap();
    let (ok, _, err) = run(&["profile", "import", file.to_str().unwrap()], "");
    assert!(
        !ok && err.contains("unknown field") && err.contains("unknown unit"),
        "{err}"
    );
}

#[tokio::test]
async fn photos_lose_their_metadata_and_travel_with_the_report() {
    for t in apps().await {
        let jpeg = phananh_photos::sample::phone_jpeg();
        assert!(jpeg.windows(4).any(|w| w == b"Exif"));
        let r = t
            .client
            .post(t.url("/api/v1/photos"))
            .header("content-type", "image/jpeg")
            .body(jpeg)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let up: Value = r.json().await.unwrap();
        let key = up["photo"].as_str().unwrap().to_string();
        assert_eq!(
            (up["width"].as_u64(), up["height"].as_u64()),
            (Some(20), Some(40)),
            "upright"
        );
        // Refused: not an image (whatever its declared type), too big, a key we never gave.
        let r = t
            .client
            .post(t.url("/api/v1/photos"))
            .header("content-type", "image/jpeg")
            .body("not a photo")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["fields"][0]["code"],
            "photo_not_an_image"
        );
        let r = t
            .client
            .post(t.url("/api/v1/photos"))
            .body(vec![0u8; 12 * 1024 * 1024])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let r = t
            .client
            .post(t.url("/api/v1/reports"))
            .json(
                &json!({"field": "traffic", "description": "x", "ward": "26740",
            "photos": ["p/2026/03/00000000000000000000000000000000.jpg"]}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["fields"][0]["code"],
            "unknown_photo"
        );
        // Filed with the photo: public JSON links it; the file served has no EXIF.
        let filed = t.file(json!({"field": "traffic", "description": "Ổ gà có ảnh", "ward": "26740", "photos": [key]})).await;
        let code = filed["code"].as_str().unwrap();
        let public: Value = t
            .get(&format!("/api/v1/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        let url = public["photos"][0]["url"].as_str().unwrap().to_string();
        let served = t.get(&url).await;
        assert_eq!(served.headers()["content-type"], "image/jpeg");
        let bytes = served.bytes().await.unwrap();
        assert!(
            !bytes.windows(4).any(|w| w == b"Exif"),
            "no EXIF in what the public gets"
        );
        let thumb = t
            .get(public["photos"][0]["thumb_url"].as_str().unwrap())
            .await;
        assert_eq!(thumb.status(), StatusCode::OK);
        assert_eq!(
            t.get("/photos/../../etc/passwd").await.status(),
            StatusCode::NOT_FOUND
        );
        // A resolution with a photo, shown in the history and on the staff page.
        let sup = t.staff(Role::Supervisor, None).await;
        let up: Value = t
            .client
            .post(t.url("/api/v1/photos"))
            .body(phananh_photos::sample::phone_jpeg())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let done = up["photo"].as_str().unwrap();
        assert_eq!(
            sup.act(
                &t,
                code,
                json!({"action": "resolve", "note": "Đã vá", "photo": done})
            )
            .await
            .status(),
            StatusCode::OK
        );
        let public: Value = t
            .get(&format!("/api/v1/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        let last = public["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(last["photo"]["url"], format!("/photos/{done}"));
        let page = sup
            .page(&t, &format!("/console/reports/{code}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(&phananh_app::photos::thumb_key(&key)));
        t.stop().await;
    }
}

#[tokio::test]
async fn citizens_report_through_the_web_form_and_follow_it() {
    use reqwest::multipart::{Form, Part};
    let t = spawn(Options::default()).await;
    let page = t.get("/new").await;
    assert_eq!(page.status(), StatusCode::OK);
    let cookie = format!(
        "phananh_form={}",
        support::set_cookie_value(&page, "phananh_form").unwrap()
    );
    let html = page.text().await.unwrap();
    let csrf = support::hidden_csrf(&html);
    assert!(html.contains("Lấn chiếm vỉa hè") && html.contains("capture=\"environment\""));
    // A chat can send the citizen here with its draft filled in.
    let prefilled = t
        .get("/new?field=trees&description=C%C3%A2y%20%C4%91%E1%BB%95%20%3Cb%3E")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        prefilled.contains("value=\"trees\" required checked"),
        "the field is chosen"
    );
    assert!(
        prefilled.contains("Cây đổ &lt;b&gt;"),
        "the description is filled in, escaped"
    );
    let send = |fields: Vec<(&'static str, String)>, photo: Option<Vec<u8>>, cookie: String| {
        let mut form = Form::new();
        for (k, v) in fields {
            form = form.text(k, v);
        }
        if let Some(p) = photo {
            form = form.part(
                "photo",
                Part::bytes(p)
                    .file_name("IMG_0001.jpg")
                    .mime_str("image/jpeg")
                    .unwrap(),
            );
        }
        t.client
            .post(t.url("/new"))
            .header("cookie", cookie)
            .multipart(form)
            .send()
    };
    let base = |csrf: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("key", "form-key-1".to_string()),
            ("field", "sidewalk".to_string()),
        ]
    };
    // Errors come back next to the fields, in Vietnamese, with what was typed kept.
    let mut bad = base(&csrf);
    bad.extend([
        ("description", "".to_string()),
        ("phone", "12".to_string()),
        ("address", "12 Lê Lợi".to_string()),
    ]);
    let r = send(bad, None, cookie.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Vui lòng mô tả vấn đề") && html.contains("Số điện thoại không hợp lệ"),
        "{html}"
    );
    assert!(html.contains("value=\"12 Lê Lợi\""), "the address is kept");
    // A photo that is not an image.
    let mut wrong = base(&csrf);
    wrong.extend([
        ("description", "x".to_string()),
        ("ward", "26740".to_string()),
    ]);
    let r = send(wrong, Some(b"not an image".to_vec()), cookie.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("không phải ảnh"));
    // Without the form's cookie: refused.
    let mut ok = base(&csrf);
    ok.extend([
        ("description", "Quán lấn chiếm vỉa hè".to_string()),
        ("lat", "10.7725".to_string()),
        ("lon", "106.6980".to_string()),
        ("phone", "0912345678".to_string()),
    ]);
    let r = send(ok.clone(), None, "phananh_form=other".into())
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Filed, with a photo; sent twice (a double tap), filed once.
    let r = send(
        ok.clone(),
        Some(phananh_photos::sample::phone_jpeg()),
        cookie.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/r/") && location.ends_with("?new=1"));
    let again = send(
        ok,
        Some(phananh_photos::sample::phone_jpeg()),
        cookie.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        again.headers()["location"].to_str().unwrap(),
        location,
        "the same report"
    );
    let status = t.get(&location).await.text().await.unwrap();
    let code = location
        .trim_start_matches("/r/")
        .trim_end_matches("?new=1");
    assert!(status.contains(code) && status.contains("Ủy ban nhân dân Phường Bến Thành"));
    assert!(
        !status.contains("0912345678"),
        "no personal data on the status page"
    );
    assert!(status.contains(".thumb.jpg"), "the photo is shown");
    let reports = t
        .app()
        .store
        .list_reports(&phananh_storage::ReportFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(reports.items.len(), 1);
    // The honeypot: a bot's post files nothing.
    let mut bot = base(&csrf);
    bot.extend([
        ("description", "spam".to_string()),
        ("ward", "26740".to_string()),
        ("website", "http://spam.example".to_string()),
        ("key", "bot".to_string()),
    ]);
    let r = send(bot, None, cookie.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        t.app()
            .store
            .list_reports(&phananh_storage::ReportFilter {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // Lookup by a code typed in lower case; an unknown code is a clear 404.
    let r = t
        .get(&format!("/lookup?code={}", code.to_lowercase()))
        .await;
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/r/{code}")
    );
    let r = t.get("/r/ABCD-2345").await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("Mã hồ sơ không đúng"));
    let home = t
        .client
        .get(t.url("/"))
        .header("accept-language", "en-US")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("Gửi phản ánh") && home.contains("/lookup"),
        "Vietnamese first, whatever the browser says"
    );
    // Switching to English: a cookie, and back to the page.
    let r = t
        .client
        .get(t.url("/lang/en"))
        .header("referer", t.url("/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"].to_str().unwrap(), "/new");
    let lang = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let en = t
        .client
        .get(t.url("/new"))
        .header("cookie", lang)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Report a problem") && en.contains("Tiếng Việt"));
    t.stop().await;
}

#[tokio::test]
async fn public_map_list_and_statistics_without_personal_data() {
    for t in apps().await {
        let (lat, lon) = BEN_THANH_MARKET;
        let a = t.file(json!({"field": "sidewalk", "description": "Lấn chiếm", "lat": lat, "lon": lon, "phone": "0912345678", "name": "Bí Mật"})).await;
        t.file(json!({"field": "traffic", "description": "Ổ gà", "ward": "26740"}))
            .await;
        let spam = t
            .file(json!({"field": "other", "description": "quảng cáo", "ward": "26740"}))
            .await;
        let sup = t.staff(Role::Supervisor, None).await;
        assert_eq!(
            sup.act(
                &t,
                spam["code"].as_str().unwrap(),
                json!({"action": "reject", "reason": "Rác"})
            )
            .await
            .status(),
            StatusCode::OK
        );
        assert_eq!(
            sup.act(
                &t,
                a["code"].as_str().unwrap(),
                json!({"action": "resolve", "note": "Đã dọn"})
            )
            .await
            .status(),
            StatusCode::OK
        );

        let all: Value = t.get("/api/v1/public/reports").await.json().await.unwrap();
        let text = all.to_string();
        assert_eq!(
            all["items"].as_array().unwrap().len(),
            2,
            "rejected reports are not public"
        );
        assert!(!text.contains("0912345678") && !text.contains("Bí Mật"));
        let f = |q: &str| {
            let t = &t;
            let q = q.to_string();
            async move {
                t.get(&format!("/api/v1/public/reports?{q}"))
                    .await
                    .json::<Value>()
                    .await
                    .unwrap()["items"]
                    .as_array()
                    .unwrap()
                    .len()
            }
        };
        assert_eq!(f("field=sidewalk").await, 1);
        assert_eq!(f("status=open").await, 1);
        assert_eq!(f("status=closed").await, 1);
        assert_eq!(f("ward=26740").await, 1);
        assert_eq!(f("bbox=106.69,10.76,106.71,10.78").await, 1);
        assert_eq!(f("from=2026-03-03").await, 0);
        assert_eq!(f("to=2026-03-02").await, 2);
        assert_eq!(
            t.get("/api/v1/public/reports?bbox=1,2,3").await.status(),
            StatusCode::BAD_REQUEST
        );

        let map = t.get("/map?field=sidewalk").await.text().await.unwrap();
        assert!(map.contains(a["code"].as_str().unwrap()) && map.contains("markercluster"));
        assert!(!map.contains(spam["code"].as_str().unwrap()) && !map.contains("0912345678"));
        let stats = t
            .get("/stats?from=2026-03-01&to=2026-03-31")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            stats.contains("Tổng số phản ánh: <strong>2</strong>"),
            "{stats}"
        );
        assert!(stats.contains("Lấn chiếm vỉa hè") && stats.contains("Hạ tầng giao thông"));
        assert!(
            stats.contains("100%"),
            "the one resolved report was on time"
        );
        t.stop().await;
    }
}

/// The email with `needle`, its quoted-printable soft breaks undone.
fn mail_with(mails: &[String], to: &str) -> Vec<String> {
    mails
        .iter()
        .filter(|m| m.contains(&format!("To: {to}")))
        .map(|m| m.replace("=\n", ""))
        .collect()
}

#[tokio::test]
async fn citizens_get_their_code_by_email_and_followers_hear_of_each_step() {
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
        let r = t.file(json!({"field": "lighting", "description": "Đèn đường tắt cả dãy phố", "lat": 10.7769, "lon": 106.7009,
            "email": "dan@example.vn", "name": "Trần Dân"})).await;
        let code = r["code"].as_str().unwrap().to_string();
        drain(&worker).await;
        let receipt = mail_with(&got.lock().unwrap(), "dan@example.vn");
        assert_eq!(receipt.len(), 1, "one receipt");
        assert!(
            receipt[0].contains(&code)
                && receipt[0].contains(&format!("https://1022.example.vn/r/{code}")),
            "{}",
            receipt[0]
        );

        // Someone else reports the same lamp: the form finds it nearby.
        let near: Value = t
            .get("/api/v1/public/nearby?field=lighting&lat=10.7770&lon=106.7010")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(near["items"][0]["code"], code.as_str(), "{near}");
        assert!(near["items"][0]["distance_m"].as_i64().unwrap() < 30);
        assert!(
            !near.to_string().contains("Trần Dân") && !near.to_string().contains("dan@example.vn")
        );
        let far: Value = t
            .get("/api/v1/public/nearby?field=lighting&lat=10.80&lon=106.70")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            far["items"].as_array().unwrap().len(),
            0,
            "another street: {far}"
        );
        let other: Value = t
            .get("/api/v1/public/nearby?field=trees&lat=10.7770&lon=106.7010")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(other["items"].as_array().unwrap().len(), 0, "another field");
        assert_eq!(
            t.get("/api/v1/public/nearby?field=lighting").await.status(),
            StatusCode::BAD_REQUEST
        );

        // ... and follows it instead of filing it again, with an email.
        let page = t.get(&format!("/r/{code}")).await;
        let cookie = format!(
            "phananh_follow={}",
            support::set_cookie_value(&page, "phananh_follow").unwrap()
        );
        let html = page.text().await.unwrap();
        let csrf = support::hidden_csrf(&html);
        let follow = |csrf: String, email: &'static str, cookie: String| {
            t.client
                .post(t.url(&format!("/r/{code}/follow")))
                .header("cookie", cookie)
                .form(&[("csrf", csrf), ("email", email.to_string())])
                .send()
        };
        let forged = follow("wrong".into(), "hang@example.vn", cookie.clone())
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let bad = follow(csrf.clone(), "not-an-email", cookie.clone())
            .await
            .unwrap();
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text().await.unwrap().contains("email không hợp lệ"));
        let ok = follow(csrf.clone(), "hang@example.vn", cookie.clone())
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        // The address confirms first (double opt-in).
        drain(&worker).await;
        let confirmation = mail_with(&got.lock().unwrap(), "hang@example.vn");
        assert_eq!(confirmation.len(), 1, "the confirmation link");
        let confirm = confirmation[0]
            .split("https://1022.example.vn/follow/confirm/")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        let confirmed = t
            .client
            .post(t.url(&format!("/follow/confirm/{confirm}")))
            .send()
            .await
            .unwrap();
        assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
        let page = t
            .get(&format!("/r/{code}?followed=1"))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Bạn đang theo dõi") && page.contains("1 người đang theo dõi"));
        assert!(!page.contains("hang@example.vn"), "followers stay private");

        // The unit resolves it: the reporter and the follower hear of it, once each.
        let staff = t.staff(Role::UnitStaff, Some("CT-CHIEUSANG")).await;
        let resp = staff
            .act(
                &t,
                &code,
                json!({"action": "resolve", "note": "Đã thay bóng đèn"}),
            )
            .await;
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "{}",
            resp.text().await.unwrap()
        );
        drain(&worker).await;
        drain(&worker).await;
        let mails = got.lock().unwrap().clone();
        let to_dan = mail_with(&mails, "dan@example.vn");
        let to_hang = mail_with(&mails, "hang@example.vn");
        assert_eq!(to_dan.len(), 2, "receipt and resolution");
        assert_eq!(to_hang.len(), 2, "the confirmation and the resolution");
        assert!(
            to_hang[1].contains("Đã thay bóng đèn") || to_hang[1].contains("=?utf-8?"),
            "{}",
            to_hang[1]
        );
        let link = to_hang[1]
            .split("https://1022.example.vn/unfollow/")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        assert!(
            !to_dan[1].contains("/unfollow/"),
            "the reporter is not a follower"
        );

        // The follower leaves; the next step reaches only the reporter.
        assert_eq!(
            t.get(&format!("/unfollow/{link}")).await.status(),
            StatusCode::OK
        );
        let left = t
            .client
            .post(t.url(&format!("/unfollow/{link}")))
            .send()
            .await
            .unwrap();
        assert_eq!(left.status(), StatusCode::OK);
        assert_eq!(
            t.client
                .post(t.url("/unfollow/nonsense"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND
        );
        let triage = t.staff(Role::Triage, None).await;
        let resp = triage.act(&t, &code, json!({"action": "close"})).await;
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "{}",
            resp.text().await.unwrap()
        );
        drain(&worker).await;
        drain(&worker).await;
        let mails = got.lock().unwrap().clone();
        assert_eq!(mail_with(&mails, "hang@example.vn").len(), 2);
        assert_eq!(mail_with(&mails, "dan@example.vn").len(), 3);
        t.stop().await;
    }
}
