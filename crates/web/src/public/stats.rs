//! The public statistics page.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::map::PublicQuery;
use crate::AppState;
use crate::layout::{local_day, page, when};
use crate::session::lang_of;

fn bars(rows: &[(String, i64)], label: impl Fn(&str) -> String) -> Markup {
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    html! {
        table class="bars" {
            tbody { @for (k, n) in rows {
                tr { th scope="row" { (label(k)) } td { div class={"bar w" ((n * 100 / max).clamp(0, 100))} {} } td class="num" { (n) } }
            } }
        }
    }
}

pub(super) async fn stats_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PublicQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let now = state.app.clock.now();
    let from = local_day(&q.from, false).unwrap_or(now - chrono::Duration::days(84));
    let to = local_day(&q.to, true).unwrap_or(now);
    let stats = match state.app.public_stats(from, to).await {
        Ok(s) => s,
        Err(e) => return crate::layout::error_page(&e, lang, None),
    };
    let catalog = state.app.catalog().await;
    let (ratings, score, not_fixed) = state
        .app
        .satisfaction(from, to)
        .await
        .unwrap_or((0, None, None));
    let on_time = if stats.finished > 0 {
        stats.finished_on_time * 100 / stats.finished
    } else {
        0
    };
    let weeks: Vec<(String, i64)> = stats
        .by_week
        .iter()
        .map(|(w, n)| {
            (
                when(chrono::DateTime::from_timestamp_millis(*w).unwrap_or_default())
                    .split(' ')
                    .nth(1)
                    .unwrap_or("")
                    .to_string(),
                *n,
            )
        })
        .collect();
    page(lang.t("Thống kê", "Statistics"), lang, None, html! {
        h1 { (lang.t("Thống kê phản ánh", "Report statistics")) }
        form class="card filters" method="get" action="/stats" {
            div { label for="from" { (lang.t("Từ ngày", "From")) } input id="from" name="from" type="date" value=(q.from.clone().unwrap_or_default()); }
            div { label for="to" { (lang.t("Đến ngày", "To")) } input id="to" name="to" type="date" value=(q.to.clone().unwrap_or_default()); }
            div { button type="submit" { (lang.t("Xem", "Show")) } }
        }
        div class="card" {
            p { (lang.t("Tổng số phản ánh:", "Reports:")) " " strong { (stats.total) } " · "
                (lang.t("Đã xử lý đúng hạn:", "Resolved on time:")) " " strong { (on_time) "%" } " "
                span class="muted" { "(" (stats.finished_on_time) "/" (stats.finished) ")" } }
            @if let (Some(avg), Some(nf)) = (score, not_fixed) {
                p { (lang.t("Mức hài lòng của người dân:", "Citizens' satisfaction:")) " " strong { (format!("{avg:.1}")) "/5" } " "
                    span class="muted" { "(" (ratings) " " (lang.t("lượt đánh giá", "ratings")) "; " (format!("{:.0}%", nf * 100.0)) " " (lang.t("báo chưa khắc phục", "said not fixed")) ")" } }
            }
            p class="muted" { (when(from)) " – " (when(to)) }
        }
        @if stats.total == 0 {
            p class="muted" { (lang.t("Chưa có phản ánh nào trong khoảng thời gian này.", "No reports in this period.")) }
        }
        @if stats.by_week.len() > 1 {
            h2 { (lang.t("Số phản ánh mỗi tuần", "Reports per week")) }
            (crate::charts::line(
                lang.t("Số phản ánh mỗi tuần", "Reports per week"),
                &weeks.iter().map(|(w, _)| w.clone()).collect::<Vec<_>>(),
                &[crate::charts::Series {
                    name: lang.t("Phản ánh", "Reports"),
                    colour: "#b42318",
                    values: weeks.iter().map(|(_, n)| Some(*n as f64)).collect(),
                }],
                None,
                "",
            ))
        }
        h2 { (lang.t("Bản đồ phường, xã", "Map of the wards")) }
        div class="filters" {
            label for="ward-shade" { (lang.t("Tô màu theo", "Shade by")) }
            select id="ward-shade" {
                option value="reports" { (lang.t("Số phản ánh", "Reports")) }
                option value="on_time_share" { (lang.t("Tỷ lệ xử lý đúng hạn", "On-time share")) }
            }
        }
        div id="ward-map" class="mt1" role="img" aria-label=(lang.t("Bản đồ các phường, xã tô màu theo số liệu; số liệu ở các bảng bên dưới", "The wards shaded by their figures; the figures are in the tables below"))
            data-src={"/api/v1/public/wards.geojson?from=" (q.from.clone().unwrap_or_default()) "&to=" (q.to.clone().unwrap_or_default())}
            data-lat=(catalog.city.center[0]) data-lon=(catalog.city.center[1])
            data-tiles=(state.config.tile_url) data-attribution=(state.config.tile_attribution)
            data-reports=(lang.t("phản ánh", "reports")) data-ontime=(lang.t("đúng hạn", "on time")) {}
        div id="ward-legend" class="muted" {}
        link rel="stylesheet" href="/static/leaflet/leaflet.css";
        script src="/static/leaflet/leaflet.js" {}
        script src="/static/stats.js" {}
        div class="grid" hidden[stats.total == 0] {
            div { h2 { (lang.t("Theo lĩnh vực", "By field")) } (bars(&stats.by_field, |k| catalog.field_name(k))) }
            div { h2 { (lang.t("Theo trạng thái", "By status")) }
                (bars(&stats.by_status, |k| phananh_domain::model::Status::parse(k).map(|s| lang.t(s.label_vi(), s.label_en()).to_string()).unwrap_or_else(|| k.to_string()))) }
            div { h2 { (lang.t("Theo tuần", "By week")) } (bars(&weeks, |k| k.to_string())) }
            div { h2 { (lang.t("Phường, xã nhiều phản ánh nhất", "Wards with most reports")) } (bars(&stats.by_ward, |k| catalog.ward_name(k))) }
            div { h2 { (lang.t("Theo đơn vị xử lý", "By unit")) } (bars(&stats.by_unit, |k| catalog.unit_name(k))) }
        }
    })
    .into_response()
}

/// `/api/v1/public/wards.geojson`: the wards with their figures over a period (the stats
/// page's map). Counts only.
pub(super) async fn wards_geojson(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
) -> Response {
    let now = state.app.clock.now();
    let from = local_day(&q.from, false).unwrap_or(now - chrono::Duration::days(84));
    let to = local_day(&q.to, true).unwrap_or(now);
    match state.app.public_ward_map(from, to).await {
        Ok(v) => (
            [
                (axum::http::header::CONTENT_TYPE, "application/geo+json"),
                (axum::http::header::CACHE_CONTROL, "public, max-age=300"),
            ],
            v.to_string(),
        )
            .into_response(),
        Err(e) => crate::error::ApiError::from(e).into_response(),
    }
}
