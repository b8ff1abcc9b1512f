//! The staff console's pages, in Vietnamese and English.

use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

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
