//! Reports over the JSON API: routing by ward and field, every transition of the
//! procedure, deadlines, units' scopes, CSRF, bad input and idempotency.

use chrono::{Duration, TimeZone, Utc};
use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

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
        t.store()
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
            .store()
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
