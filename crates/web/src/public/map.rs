//! The public map and list of reports, and the JSON list the map draws from.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::html;
use phananh_app::query::{Page, ReportQuery};
use phananh_domain::model::Status;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::layout::{local_day, page, status_badge, when};
use crate::session::lang_of;

/// Filters of the public list and map.
#[derive(Deserialize, Default, Clone)]
pub(super) struct PublicQuery {
    pub(super) field: Option<String>,
    pub(super) ward: Option<String>,
    /// open, closed, or a status of the procedure.
    pub(super) status: Option<String>,
    /// YYYY-MM-DD, local dates.
    pub(super) from: Option<String>,
    pub(super) to: Option<String>,
    pub(super) bbox: Option<String>,
    /// Tracking codes, comma-separated, at most 100 ("my reports" on a device).
    pub(super) codes: Option<String>,
    pub(super) page: Option<i64>,
    pub(super) per_page: Option<i64>,
}

impl PublicQuery {
    fn filter(&self) -> Result<ReportQuery, String> {
        use phananh_domain::model::Status;
        let some = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let per_page = self.per_page.unwrap_or(50).clamp(1, 500);
        let mut f = ReportQuery {
            field: some(&self.field),
            ward: some(&self.ward),
            created_from: local_day(&self.from, false),
            created_to: local_day(&self.to, true),
            hide_rejected: true,
            limit: per_page,
            offset: (self.page.unwrap_or(1).max(1) - 1) * per_page,
            ..Default::default()
        };
        if let Some(from) = f.created_from
            && let Err(e) = phananh_app::performance::check_period(
                "from",
                from,
                f.created_to.unwrap_or_else(chrono::Utc::now),
            )
        {
            return Err(e.message());
        }
        match some(&self.status).as_deref() {
            None => {}
            Some("open") => f.statuses = Status::ALL.into_iter().filter(|s| s.is_open()).collect(),
            Some("closed") => f.statuses = vec![Status::Resolved, Status::Closed],
            Some(s) => f.statuses = vec![Status::parse(s).ok_or_else(|| format!("status {s}"))?],
        }
        if let Some(c) = some(&self.codes) {
            let codes: Vec<&str> = c
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            if codes.is_empty() || codes.len() > 100 {
                return Err("codes (1 to 100)".into());
            }
            for c in codes {
                let code = c
                    .parse::<phananh_domain::code::TrackingCode>()
                    .map_err(|_| format!("code {}", c.chars().take(20).collect::<String>()))?;
                f.codes.push(code.to_string());
            }
        }
        if let Some(b) = some(&self.bbox) {
            let v: Vec<f64> = b.split(',').filter_map(|x| x.trim().parse().ok()).collect();
            if v.len() != 4 || v.iter().any(|x| !x.is_finite()) {
                return Err("bbox".into());
            }
            f.bbox = Some([v[0], v[1], v[2], v[3]]);
        }
        Ok(f)
    }

    /// The same filters as a query string (for the map's requests and paging links).
    fn query_string(&self, page: Option<i64>) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("field", &self.field),
            ("ward", &self.ward),
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                let clean: String = v
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                    .collect();
                parts.push(format!("{k}={clean}"));
            }
        }
        if let Some(p) = page {
            parts.push(format!("page={p}"));
        }
        parts.join("&")
    }
}

/// A report on the public map and list.
#[derive(Serialize)]
struct MapItem<'a> {
    code: &'a str,
    field: &'a str,
    field_name: String,
    status: Status,
    status_label: &'static str,
    lat: Option<f64>,
    lon: Option<f64>,
    ward: Option<&'a str>,
    ward_name: Option<String>,
    unit_name: String,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct MapPage<'a> {
    items: Vec<MapItem<'a>>,
    has_more: bool,
}

/// Reports for the public map and list: no personal data, no rejected reports.
pub(super) async fn public_list(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
) -> Result<Response, crate::error::ApiError> {
    let filter = q.filter().map_err(|what| {
        crate::error::ApiError::bad_request(
            crate::error::ErrorCode::InvalidFilter,
            format!("Bộ lọc không hợp lệ / invalid filter: {what}"),
        )
    })?;
    let page = state.app.public_list(filter).await?;
    let catalog = state.app.catalog().await;
    let items = page
        .items
        .iter()
        .map(|r| MapItem {
            code: &r.code,
            field: &r.field,
            field_name: catalog.field_name(&r.field),
            status: r.status,
            status_label: r.status.label_vi(),
            lat: r.lat,
            lon: r.lon,
            ward: r.ward.as_deref(),
            ward_name: r.ward.as_deref().map(|w| catalog.ward_name(w)),
            unit_name: catalog.unit_name(&r.unit),
            created_at: r.created_at,
        })
        .collect();
    Ok(axum::Json(MapPage {
        items,
        has_more: page.has_more,
    })
    .into_response())
}

pub(super) async fn map_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let catalog = state.app.catalog().await;
    let filter = match q.filter() {
        Ok(f) => f,
        Err(_) => PublicQuery::default().filter().unwrap_or_default(),
    };
    let page_data = state.app.public_list(filter).await.unwrap_or(Page {
        items: vec![],
        has_more: false,
    });
    let page_no = q.page.unwrap_or(1).max(1);
    let [lat0, lon0] = catalog.city.center;
    let sel = |a: &Option<String>, b: &str| a.as_deref() == Some(b);
    page(lang.t("Bản đồ phản ánh", "Map of reports"), lang, None, html! {
        h1 { (lang.t("Bản đồ phản ánh", "Map of reports")) }
        form class="card filters" method="get" action="/map" {
            div { label for="f" { (lang.t("Lĩnh vực", "Field")) } select id="f" name="field" { option value="" { (lang.t("Tất cả", "All")) }
                @for f in &catalog.fields { option value=(f.code) selected[sel(&q.field, &f.code)] { (lang.t(&f.name_vi, &f.name_en)) } } } }
            div { label for="w" { (lang.t("Phường, xã", "Ward")) } select id="w" name="ward" { option value="" { (lang.t("Tất cả", "All")) }
                @for w in &catalog.wards { option value=(w.code) selected[sel(&q.ward, &w.code)] { (w.name_vi) } } } }
            div { label for="s" { (lang.t("Trạng thái", "Status")) } select id="s" name="status" {
                option value="" { (lang.t("Tất cả", "All")) }
                option value="open" selected[sel(&q.status, "open")] { (lang.t("Đang xử lý", "Open")) }
                option value="closed" selected[sel(&q.status, "closed")] { (lang.t("Đã xử lý", "Resolved")) } } }
            div { label for="from" { (lang.t("Từ ngày", "From")) } input id="from" name="from" type="date" value=(q.from.clone().unwrap_or_default()); }
            div { label for="to" { (lang.t("Đến ngày", "To")) } input id="to" name="to" type="date" value=(q.to.clone().unwrap_or_default()); }
            div { button type="submit" { (lang.t("Lọc", "Filter")) } }
        }
        div id="map" data-lat=(lat0) data-lon=(lon0) data-tiles=(state.config.tile_url) data-attribution=(state.config.tile_attribution)
            data-filters=(q.query_string(None)) class="tall" {}
        table {
            thead { tr { th { (lang.t("Mã", "Code")) } th { (lang.t("Lĩnh vực", "Field")) } th { (lang.t("Phường, xã", "Ward")) } th { (lang.t("Trạng thái", "Status")) } th { (lang.t("Tiếp nhận", "Received")) } } }
            tbody {
                @for r in &page_data.items {
                    tr { td { a class="code" href={"/r/" (r.code)} { (r.code) } } td { (catalog.field_name(&r.field)) }
                        td { (r.ward.as_deref().map(|w| catalog.ward_name(w)).unwrap_or_default()) } td { (status_badge(r.status, lang)) } td { (when(r.created_at)) } }
                }
                @if page_data.items.is_empty() { tr { td colspan="5" class="muted" { (lang.t("Không có phản ánh nào.", "No reports.")) } } }
            }
        }
        nav class="pager" {
            @if page_no > 1 { a href={"/map?" (q.query_string(Some(page_no - 1)))} { "← " (lang.t("Trang trước", "Previous")) } }
            @if page_data.has_more { a href={"/map?" (q.query_string(Some(page_no + 1)))} { (lang.t("Trang sau", "Next")) " →" } }
        }
        link rel="stylesheet" href="/static/leaflet/leaflet.css";
        link rel="stylesheet" href="/static/markercluster/MarkerCluster.css";
        link rel="stylesheet" href="/static/markercluster/MarkerCluster.Default.css";
        script src="/static/leaflet/leaflet.js" {}
        script src="/static/markercluster/leaflet.markercluster.js" {}
        script src="/static/map.js" {}
    })
    .into_response()
}
