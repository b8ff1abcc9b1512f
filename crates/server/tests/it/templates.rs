//! Response templates (mẫu trả lời): an administrator keeps them per field and step; unit
//! staff see them filled in for the report (code, unit, due date, field) in the action forms
//! and through the staff API, never for another unit's report; a template marked automatic
//! adds its public response to the report's history once, after its step.

use chrono::{DateTime, Utc};
use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const RESOLVE_VI: &str = "Hồ sơ {code} ({field}) đã được {unit} xử lý; hạn {due}. {ghi_chu}";
const RESOLVE_EN: &str = "Report {code} ({field}) was handled by {unit}; due {due}.";

fn count_containing(history: &Value, text: &str) -> usize {
    history
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["text"].as_str().unwrap_or_default().contains(text))
        .count()
}

#[tokio::test]
async fn templates_are_kept_by_admins_filled_for_staff_and_answer_automatically() {
    for t in apps().await {
        let admin = t.staff(Role::Admin, None).await;
        let worker = t.staff(Role::UnitStaff, Some("UBND-26740")).await;
        let other = t.staff(Role::UnitStaff, Some("UBND-26743")).await;

        // Only an administrator keeps templates.
        let save = [
            ("name", "Đã giải tỏa vỉa hè"),
            ("field", "sidewalk"),
            ("action", "resolve"),
            ("text_vi", RESOLVE_VI),
            ("text_en", RESOLVE_EN),
        ];
        assert_eq!(
            worker
                .form(&t, "/console/admin/templates", &save)
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            worker.page(&t, "/console/admin/templates").await.status(),
            StatusCode::NOT_FOUND
        );
        assert!(t.store().templates().await.unwrap().is_empty());

        let r = admin.form(&t, "/console/admin/templates", &save).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = admin
            .form(
                &t,
                "/console/admin/templates",
                &[
                    ("name", "Không thuộc thẩm quyền"),
                    ("field", ""),
                    ("action", "reject"),
                    (
                        "text_vi",
                        "Phản ánh {code} không thuộc thẩm quyền của {unit}.",
                    ),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        // What cannot be saved: an automatic comment (it could answer itself), a text
        // over the limit, an unknown field.
        for bad in [
            vec![
                ("name", "x"),
                ("action", "comment"),
                ("text_vi", "x"),
                ("automatic", "1"),
            ],
            vec![
                ("name", "x"),
                ("action", "resolve"),
                ("text_vi", &*"ô".repeat(2001)),
            ],
            vec![
                ("name", "x"),
                ("field", "no-such-field"),
                ("action", "resolve"),
                ("text_vi", "x"),
            ],
        ] {
            assert_eq!(
                admin
                    .form(&t, "/console/admin/templates", &bad)
                    .await
                    .status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{bad:?}"
            );
        }
        let list = admin
            .page(&t, "/console/admin/templates")
            .await
            .text()
            .await
            .unwrap();
        assert!(list.contains("Đã giải tỏa vỉa hè") && list.contains("Không thuộc thẩm quyền"));
        let resolve_id = t
            .store()
            .templates()
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.name == "Đã giải tỏa vỉa hè")
            .unwrap()
            .id;

        // A report of the Sài Gòn ward committee, with its deadline.
        let filed = t
            .file(json!({"field": "sidewalk", "description": "Quán lấn chiếm vỉa hè đường Lê Lợi", "ward": "26740"}))
            .await;
        let code = filed["code"].as_str().unwrap().to_string();
        let view: Value = worker
            .api_get(&t, &format!("/api/v1/staff/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        let due: DateTime<Utc> = view["due_at"].as_str().unwrap().parse().unwrap();
        let due = phananh_domain::templates::format_due(Some(due));
        let expected_vi = format!(
            "Hồ sơ {code} (Lấn chiếm vỉa hè) đã được Ủy ban nhân dân Phường Sài Gòn xử lý; hạn {due}. {{ghi_chu}}"
        );
        let expected_en = format!(
            "Report {code} (Sidewalk encroachment) was handled by People's Committee of Sai Gon Ward; due {due}."
        );

        // On the report page: a choice in the resolve form, the texts filled in.
        let page = worker
            .page(&t, &format!("/console/reports/{code}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("class=\"template-pick\""),
            "a template picker"
        );
        assert!(page.contains("/static/templates.js"));
        assert!(page.contains(&expected_vi), "rendered on the page");
        assert_eq!(t.get("/static/templates.js").await.status(), StatusCode::OK);

        // Through the staff API.
        let api: Value = worker
            .api_get(
                &t,
                &format!("/api/v1/staff/reports/{code}/templates?action=resolve"),
            )
            .await
            .json()
            .await
            .unwrap();
        let items = api["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{api}");
        assert_eq!(items[0]["text_vi"], expected_vi.as_str());
        assert_eq!(items[0]["text_en"], expected_en.as_str());
        assert_eq!(
            items[0]["text"],
            format!("{expected_vi}\n\n{expected_en}").as_str()
        );
        assert_eq!(items[0]["field_specific"], true);
        let rejects: Value = worker
            .api_get(
                &t,
                &format!("/api/v1/staff/reports/{code}/templates?action=reject"),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(rejects["items"].as_array().unwrap().len(), 1);
        assert_eq!(rejects["items"][0]["field_specific"], false);
        let all: Value = worker
            .api_get(&t, &format!("/api/v1/staff/reports/{code}/templates"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(all["items"].as_array().unwrap().len(), 2);
        assert_eq!(
            worker
                .api_get(
                    &t,
                    &format!("/api/v1/staff/reports/{code}/templates?action=fly")
                )
                .await
                .status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        // Another unit's staff: not found, on the page and through the API.
        assert_eq!(
            other
                .api_get(
                    &t,
                    &format!("/api/v1/staff/reports/{code}/templates?action=resolve")
                )
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            other
                .page(&t, &format!("/console/reports/{code}"))
                .await
                .status(),
            StatusCode::NOT_FOUND
        );

        // The administrator makes the resolve template automatic (editing it by its id).
        let id = resolve_id.to_string();
        let mut edit = save.to_vec();
        edit.push(("id", &id));
        edit.push(("automatic", "1"));
        assert_eq!(
            admin
                .form(&t, "/console/admin/templates", &edit)
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            t.store().templates().await.unwrap().len(),
            2,
            "edited, not added"
        );

        let ok = |r: reqwest::Response| assert_eq!(r.status(), StatusCode::OK);
        ok(worker.act(&t, &code, json!({"action": "start"})).await);
        // A public note by staff calls for nothing.
        ok(worker
            .act(
                &t,
                &code,
                json!({"action": "comment", "text": "Đang xử lý", "public": true}),
            )
            .await);
        ok(worker
            .act(
                &t,
                &code,
                json!({"action": "resolve", "note": "Đã giải tỏa"}),
            )
            .await);
        let public: Value = t
            .get(&format!("/api/v1/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        let history = &public["history"];
        assert_eq!(count_containing(history, &expected_vi), 1, "{history}");
        let steps = history.as_array().unwrap();
        let last = steps.last().unwrap();
        assert_eq!(last["type"], "commented");
        assert_eq!(last["by"], "system");
        assert!(last["text"].as_str().unwrap().contains(&expected_en));
        assert_eq!(steps[steps.len() - 2]["type"], "resolved");
        // The reporter hears of it like any public step: a notice for its event.
        let staff_view: Value = worker
            .api_get(&t, &format!("/api/v1/staff/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        let seq = staff_view["history"].as_array().unwrap().last().unwrap()["seq"]
            .as_i64()
            .unwrap();
        let report = t.store().report_by_code(&code).await.unwrap().unwrap();
        let notices: Vec<_> = t
            .store()
            .jobs_for_report(report.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j.kind == "citizen.notify" && j.payload["seq"] == seq)
            .collect();
        assert_eq!(notices.len(), 1, "the citizen is told of the response");
        // A comment after it adds no second one; and even an automatic template on comments,
        // which the admin page refuses (here written straight to the store), is not used:
        // an automatic response could otherwise answer itself.
        t.store()
            .save_template(&phananh_domain::templates::Template {
                id: 0,
                field: None,
                action: phananh_domain::procedure::Action::Comment,
                name: "vòng lặp".into(),
                text_vi: "Phản hồi tự động cho ghi chú".into(),
                text_en: String::new(),
                automatic: true,
            })
            .await
            .unwrap();
        ok(worker
            .act(
                &t,
                &code,
                json!({"action": "comment", "text": "Cảm ơn", "public": true}),
            )
            .await);
        let public: Value = t
            .get(&format!("/api/v1/reports/{code}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(count_containing(&public["history"], &expected_vi), 1);
        assert_eq!(
            count_containing(&public["history"], "Phản hồi tự động cho ghi chú"),
            0
        );

        // Deleting: a non-admin cannot; the administrator can, once.
        let delete = format!("/console/admin/templates/{resolve_id}/delete");
        assert_eq!(
            worker.form(&t, &delete, &[]).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            admin.form(&t, &delete, &[]).await.status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            admin.form(&t, &delete, &[]).await.status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(t.store().templates().await.unwrap().len(), 2);
    }
}
