//! Open data: every public report as CSV and GeoJSON (all, and per day), streamed page by
//! page, with no personal data and no words; the dictionary and the licence; the units'
//! public monthly ranking.

use crate::support::*;
use chrono::Duration;
use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn public_reports_as_csv_and_geojson_without_personal_data_or_words() {
    for t in apps().await {
        let (lat, lon) = BEN_THANH_MARKET;
        let private = t
            .file(
                json!({"field": "lighting", "description": "Đèn hỏng trước nhà ông Trần Văn Bí mật",
                "lat": lat, "lon": lon, "name": "Trần Văn Bí", "phone": "0912000111",
                "email": "bi.mat@example.org", "address": "số 9 hẻm 12 Lê Lợi"}),
            )
            .await;
        let private = private["code"].as_str().unwrap().to_string();
        let review = t
            .file(json!({"field": "noise", "description": "Hàng xóm tên Khoa hát karaoke", "ward": BEN_THANH}))
            .await;
        let review = review["code"].as_str().unwrap().to_string();
        let rejected = t
            .file(json!({"field": "lighting", "description": "Thử nghiệm", "ward": BEN_THANH}))
            .await;
        let rejected = rejected["code"].as_str().unwrap().to_string();
        let r = t.store().report_by_code(&private).await.unwrap().unwrap();
        let staff = t.staff(Role::UnitStaff, Some(&r.unit)).await;
        t.clock.advance(Duration::hours(3));
        staff.act(&t, &private, json!({"action": "start"})).await;
        staff
            .act(
                &t,
                &private,
                json!({"action": "resolve", "note": "Đã thay bóng cho ông Bí"}),
            )
            .await;
        let manager = t.staff(Role::UnitManager, Some(&r.unit)).await;
        let refused = manager
            .act(
                &t,
                &rejected,
                json!({"action": "reject", "reason": "Trùng, thử nghiệm"}),
            )
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::OK,
            "{}",
            refused.text().await.unwrap()
        );

        let resp = t.get("/open-data/all.csv").await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert!(
            resp.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let csv = resp.text().await.unwrap();
        let lines: Vec<&str> = csv.trim_end().split("\r\n").collect();
        assert!(
            lines[0].starts_with("\u{feff}code,field,field_name,ward"),
            "{}",
            lines[0]
        );
        assert_eq!(
            lines.len(),
            3,
            "the header and the two public reports: {csv}"
        );
        let row = lines.iter().find(|l| l.starts_with(&private)).unwrap();
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells[8], "resolved");
        assert!(
            !cells[10].is_empty() && !cells[11].is_empty(),
            "acknowledged, resolved: {row}"
        );
        assert_eq!(cells[13], "true", "on time: {row}");
        assert!(
            csv.contains(&review),
            "under review: listed, without its words"
        );
        assert!(!csv.contains(&rejected), "rejected reports are not public");
        let geo: Value = t.get("/open-data/all.geojson").await.json().await.unwrap();
        assert_eq!(geo["type"], "FeatureCollection");
        assert_eq!(geo["licence"], "CC BY 4.0");
        let features = geo["features"].as_array().unwrap();
        assert_eq!(features.len(), 2);
        let f = features
            .iter()
            .find(|f| f["properties"]["code"] == private.as_str())
            .unwrap();
        assert_eq!(f["geometry"]["coordinates"], json!([lon, lat]));
        assert_eq!(f["properties"]["status"], "resolved");
        for text in [csv.clone(), geo.to_string()] {
            for secret in [
                "Trần Văn Bí",
                "0912000111",
                "bi.mat@example.org",
                "hẻm 12",
                "Bí mật",
                "ông Bí",
                "karaoke",
                "Khoa",
                "Thử nghiệm",
            ] {
                assert!(!text.contains(secret), "{secret} in the open data");
            }
        }
        // A day of its own, at a stable address (Viet Nam time): today has them, the day
        // before nothing; other names are not found.
        let today = t
            .get("/open-data/2026-03-02.csv")
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(today.trim_end().split("\r\n").count(), 3);
        let before = t
            .get("/open-data/2026-03-01.geojson")
            .await
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(before["features"].as_array().unwrap().len(), 0);
        for bad in [
            "/open-data/all.txt",
            "/open-data/2026-13-40.csv",
            "/open-data/all",
            "/open-data/..%2Fsecret.csv",
        ] {
            assert_eq!(t.get(bad).await.status(), StatusCode::NOT_FOUND, "{bad}");
        }
        // The index: the files, the dictionary, the licence.
        let index = t.get("/open-data/").await.text().await.unwrap();
        assert!(index.contains("all.csv") && index.contains("2026-03-02.csv"));
        assert!(index.contains("on_time") && index.contains("CC BY 4.0"));

        // The month's ranking is public: the unit that resolved on time is at 100 %.
        t.clock.advance(Duration::days(31));
        let ranking = t.get("/stats/units").await.text().await.unwrap();
        assert!(ranking.contains("03/2026"), "the last full month");
        let name = t.app().catalog().await.unit_name(&r.unit);
        let at = ranking
            .find(&name)
            .unwrap_or_else(|| panic!("{name} ranked"));
        assert!(
            ranking[at..].contains("100 %"),
            "{}",
            &ranking[at..at + 300]
        );
        let other = t
            .get("/stats/units?month=2026-01")
            .await
            .text()
            .await
            .unwrap();
        assert!(other.contains("Chưa có số liệu"));
        t.stop().await;
    }
}

/// More reports than one page of the export: all of them, each once, in order.
#[tokio::test]
async fn the_export_streams_page_after_page() {
    let t = spawn(Options::default()).await;
    let n = phananh_app::open_data::PAGE as usize + 7;
    let mut pending = Vec::new();
    for i in 0..n {
        let app = t.app().clone();
        pending.push(tokio::spawn(async move {
            app.submit(
                phananh_app::intake::IntakeRequest {
                    field: "lighting".into(),
                    description: format!("Đèn tắt số {i}"),
                    ward: Some(BEN_THANH.into()),
                    ..Default::default()
                },
                phananh_domain::model::Channel::Web,
                phananh_domain::model::Actor::citizen(),
                None,
                None,
            )
            .await
            .unwrap()
            .code
        }));
    }
    let mut codes = Vec::new();
    for p in pending {
        codes.push(p.await.unwrap());
    }
    let csv = t.get("/open-data/all.csv").await.text().await.unwrap();
    let rows: Vec<&str> = csv.trim_end().split("\r\n").skip(1).collect();
    assert_eq!(rows.len(), n);
    let mut seen: Vec<&str> = rows.iter().map(|r| &r[..9]).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), n, "each report once");
    let geo: Value = t.get("/open-data/all.geojson").await.json().await.unwrap();
    assert_eq!(geo["features"].as_array().unwrap().len(), n);
    t.stop().await;
}

/// Pictures: the statistics page's weekly line (SVG, no script needed) and the wards' map
/// data; the console's per-unit charts of on-time share and backlog by week.
#[tokio::test]
async fn statistics_and_performance_have_their_charts() {
    let t = spawn(Options::default()).await;
    let mut code = String::new();
    for week in 0..3 {
        let r = t
            .file(json!({"field": "lighting", "description": format!("Đèn tắt tuần {week}"), "ward": BEN_THANH}))
            .await;
        code = r["code"].as_str().unwrap().to_string();
        t.clock.advance(Duration::days(7));
    }
    let stats = t
        .get("/stats?from=2026-03-01&to=2026-03-25")
        .await
        .text()
        .await
        .unwrap();
    assert!(stats.contains("<svg class=\"chart\""), "the weekly line");
    assert!(stats.contains("id=\"ward-map\"") && stats.contains("/static/stats.js"));
    let wards: Value = t
        .get("/api/v1/public/wards.geojson?from=2026-03-01&to=2026-03-25")
        .await
        .json()
        .await
        .unwrap();
    let features = wards["features"].as_array().unwrap();
    assert_eq!(features.len(), 168);
    let ben_thanh = features
        .iter()
        .find(|f| f["properties"]["code"] == BEN_THANH)
        .unwrap();
    assert_eq!(ben_thanh["properties"]["reports"], 3);
    assert_eq!(
        ben_thanh["properties"]["on_time_share"],
        Value::Null,
        "none finished"
    );
    assert_eq!(ben_thanh["geometry"]["type"], "MultiPolygon");
    // The console: a unit's weeks as two charts and a table.
    let unit = t.store().report_by_code(&code).await.unwrap().unwrap().unit;
    let supervisor = t.staff(Role::Supervisor, None).await;
    let page = supervisor
        .page(
            &t,
            &format!("/console/performance?from=2026-03-01&to=2026-03-25&unit={unit}"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        page.matches("<svg class=\"chart\"").count(),
        2,
        "on time, and backlog"
    );
    assert!(page.contains("Tồn đọng"));
    t.stop().await;
}
