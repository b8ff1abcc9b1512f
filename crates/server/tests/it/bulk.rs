//! Bulk steps from a queue: one step on many reports, still one event per report with the
//! same permission and procedure checks; what fails for one report is listed for it.

use crate::support::*;
use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn file(t: &TestApp, field: &str, description: &str) -> String {
    let r = t
        .file(json!({"field": field, "description": description, "ward": BEN_THANH}))
        .await;
    r["code"].as_str().unwrap().to_string()
}

/// How many events each report's history has.
async fn lens(t: &TestApp, codes: &[String]) -> Vec<i64> {
    let mut out = Vec::new();
    for c in codes {
        out.push(t.store().report_by_code(c).await.unwrap().unwrap().last_seq);
    }
    out
}

#[tokio::test]
async fn a_managers_bulk_step_changes_only_their_units_reports() {
    for t in apps().await {
        let lights = [
            file(&t, "lighting", "Đèn đường tắt đoạn 1").await,
            file(&t, "lighting", "Đèn đường tắt đoạn 2").await,
        ];
        let water = [
            file(&t, "water", "Nước yếu khu phố 1").await,
            file(&t, "water", "Nước đục khu phố 2").await,
        ];
        let unit = t
            .store()
            .report_by_code(&lights[0])
            .await
            .unwrap()
            .unwrap()
            .unit;
        assert_ne!(
            unit,
            t.store()
                .report_by_code(&water[0])
                .await
                .unwrap()
                .unwrap()
                .unit
        );
        let manager = t.staff(Role::UnitManager, Some(&unit)).await;
        let before: Vec<i64> = lens(&t, &[&lights[..], &water[..]].concat()).await;

        // Start all four: their own two start, the other unit's two are "not found".
        let codes: Vec<&str> = lights.iter().chain(&water).map(String::as_str).collect();
        let resp = t
            .client
            .post(t.url("/api/v1/staff/reports/bulk"))
            .header("cookie", &manager.cookie)
            .header("x-csrf-token", &manager.csrf)
            .json(&json!({"codes": codes, "action": "start"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        let results = body["results"].as_array().unwrap();
        assert_eq!(results.len(), 4);
        for (r, code) in results.iter().zip(&codes) {
            assert_eq!(r["code"], *code);
            let own = lights.iter().any(|c| c == code);
            assert_eq!(r["ok"], own, "{r}");
            if !own {
                assert_eq!(r["error"], "not_found", "{r}");
                assert!(r["message"].as_str().unwrap().contains("Không tìm thấy"));
            }
        }
        // One event per started report; nothing written on the others.
        let after: Vec<i64> = lens(&t, &[&lights[..], &water[..]].concat()).await;
        assert_eq!(after[0], before[0] + 1);
        assert_eq!(after[1], before[1] + 1);
        assert_eq!(after[2..], before[2..]);
        for c in &lights {
            let r = t.store().report_by_code(c).await.unwrap().unwrap();
            assert_eq!(r.status.as_str(), "in_progress");
        }

        // The procedure still decides per report: starting again is refused for each.
        let again: Value = t
            .client
            .post(t.url("/api/v1/staff/reports/bulk"))
            .header("cookie", &manager.cookie)
            .header("x-csrf-token", &manager.csrf)
            .json(&json!({"codes": lights, "action": "start"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            again["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["ok"] == false && r["error"] == "transition_not_allowed"),
            "{again}"
        );

        // Steps that are not bulk steps, no reports, too many: refused as a whole.
        for bad in [
            json!({"codes": lights, "action": "resolve", "note": "xong"}),
            json!({"codes": [], "action": "start"}),
            json!({"codes": (0..101).map(|i| format!("AAAA-{i:04}")).collect::<Vec<_>>(), "action": "start"}),
        ] {
            let resp = t
                .client
                .post(t.url("/api/v1/staff/reports/bulk"))
                .header("cookie", &manager.cookie)
                .header("x-csrf-token", &manager.csrf)
                .json(&bad)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        }
        // Without the session's CSRF token: refused.
        let forged = t
            .client
            .post(t.url("/api/v1/staff/reports/bulk"))
            .header("cookie", &manager.cookie)
            .json(&json!({"codes": lights, "action": "comment", "text": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);

        // From the console queue: tick reports, transfer them with a reason; the page
        // lists each report's outcome.
        let queue = manager.page(&t, "/console").await.text().await.unwrap();
        assert!(queue.contains(&format!("name=\"code\" value=\"{}\"", lights[0])));
        assert!(queue.contains("action=\"/console/bulk\""));
        let target = t
            .store()
            .report_by_code(&water[0])
            .await
            .unwrap()
            .unwrap()
            .unit;
        let page = manager
            .form(
                &t,
                "/console/bulk",
                &[
                    ("action", "transfer"),
                    ("unit", &target),
                    ("text", "Thuộc lưới cấp nước"),
                    ("code", &lights[0]),
                    ("code", &water[1]),
                ],
            )
            .await;
        assert_eq!(page.status(), StatusCode::OK);
        let page = page.text().await.unwrap();
        assert!(page.contains("1/2"), "{page}");
        assert!(page.contains("Không tìm thấy"), "{page}");
        let moved = t.store().report_by_code(&lights[0]).await.unwrap().unwrap();
        assert_eq!(moved.unit, target);
        // Oversight never writes.
        let oversight = t.staff(Role::Oversight, None).await;
        let refused = oversight
            .form(
                &t,
                "/console/bulk",
                &[("action", "start"), ("code", &lights[1])],
            )
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        t.stop().await;
    }
}

#[tokio::test]
async fn many_reports_close_as_duplicates_of_one() {
    for t in apps().await {
        let original = file(&t, "lighting", "Đèn đường tắt cả dãy phố").await;
        let again = [
            file(&t, "lighting", "Đèn đường tắt, tối om").await,
            file(&t, "lighting", "Cả dãy đèn không sáng").await,
            file(&t, "lighting", "Đèn tắt mấy hôm nay").await,
        ];
        let unit = t
            .store()
            .report_by_code(&original)
            .await
            .unwrap()
            .unwrap()
            .unit;
        let manager = t.staff(Role::UnitManager, Some(&unit)).await;
        // The queue's bulk form offers the step, with the original's code.
        let queue = manager.page(&t, "/console").await.text().await.unwrap();
        assert!(queue.contains("value=\"mark_duplicate\""), "{queue}");
        assert!(queue.contains("name=\"of\""));

        // By the API: two merged; the original into itself is refused, for itself only.
        let codes = [again[0].as_str(), original.as_str(), again[1].as_str()];
        let body: Value = t
            .client
            .post(t.url("/api/v1/staff/reports/bulk"))
            .header("cookie", &manager.cookie)
            .header("x-csrf-token", &manager.csrf)
            .json(&json!({"codes": codes, "action": "mark_duplicate", "of": original}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ok: Vec<bool> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["ok"] == true)
            .collect();
        assert_eq!(ok, [true, false, true], "{body}");
        assert_eq!(body["results"][1]["error"], "invalid_input");
        assert!(
            body["results"][1]["message"]
                .as_str()
                .unwrap()
                .contains("chính nó")
        );
        for c in &again[..2] {
            let r = t.store().report_by_code(c).await.unwrap().unwrap();
            assert_eq!(r.status.as_str(), "duplicate");
            assert_eq!(r.duplicate_of.as_deref(), Some(original.as_str()));
        }

        // From the console queue.
        let page = manager
            .form(
                &t,
                "/console/bulk",
                &[
                    ("action", "mark_duplicate"),
                    ("of", &original),
                    ("code", &again[2]),
                ],
            )
            .await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("1/1"));
        let r = t.store().report_by_code(&again[2]).await.unwrap().unwrap();
        assert_eq!(r.duplicate_of.as_deref(), Some(original.as_str()));
        assert_eq!(
            t.store().duplicates_of(&original).await.unwrap().len(),
            3,
            "{}",
            r.code
        );
        t.stop().await;
    }
}
