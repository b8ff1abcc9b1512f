//! A unit's queue (with filters and paging) and the triage desk.

use crate::routes::{Routes, get};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use phananh_domain::model::{Report, Status};
use phananh_domain::routing::route;

use crate::api::ListQuery;
use crate::layout::{error_page, page, status_badge, when};
use crate::session::Staff;
use crate::{AppState, Lang};

pub fn routes() -> Routes {
    Routes::new()
        .route("/console", get(queue))
        .route("/console/triage", get(triage))
}

/// "KHẨN / URGENT" beside an urgent case's code.
pub(crate) fn urgent_badge(r: &Report, lang: Lang) -> maud::Markup {
    html! {
        @if r.urgent { " " span class="badge urgent" { (lang.t("KHẨN", "URGENT")) } }
    }
}

fn table(
    reports: &[Report],
    catalog: &phananh_app::Catalog,
    lang: Lang,
    now: chrono::DateTime<chrono::Utc>,
) -> maud::Markup {
    html! {
        table {
            thead { tr {
                th { (lang.t("Mã hồ sơ", "Code")) } th { (lang.t("Lĩnh vực", "Field")) } th { (lang.t("Phường, xã", "Ward")) }
                th { (lang.t("Nội dung", "Description")) } th { (lang.t("Đơn vị", "Unit")) } th { (lang.t("Trạng thái", "Status")) }
                th { (lang.t("Hạn xử lý", "Due")) } th { (lang.t("Tiếp nhận", "Received")) }
            } }
            tbody {
                @for r in reports {
                    tr {
                        td { a class="code" href={"/console/reports/" (r.code)} { (r.code) } (urgent_badge(r, lang)) }
                        td { (catalog.field(&r.field).map(|f| f.icon.as_str()).unwrap_or("")) " " (catalog.field_name(&r.field)) }
                        td { (r.ward.as_deref().map(|w| catalog.ward_name(w)).unwrap_or_else(|| "—".into())) }
                        td title=(r.description) { (crate::layout::excerpt(&r.description, 90)) }
                        td { (catalog.unit_name(&r.unit)) }
                        td {
                            (status_badge(r.status, lang))
                            @if r.status.is_open() && r.paused_at.is_none() && r.due_at.is_some_and(|d| d < now) && r.status != Status::New {
                                " " span class="badge overdue" { (lang.t("Quá hạn", "Overdue")) }
                            }
                        }
                        td { (r.due_at.map(when).unwrap_or_else(|| "—".into())) }
                        td { (when(r.created_at)) }
                    }
                }
                @if reports.is_empty() {
                    tr { td colspan="8" class="muted" { (lang.t("Không có hồ sơ nào.", "No reports.")) } }
                }
            }
        }
    }
}

fn pager(q: &ListQuery, has_more: bool, base: &str, lang: Lang) -> maud::Markup {
    let page = q.page.unwrap_or(1).max(1);
    let link = |p: i64| {
        let mut parts = vec![format!("page={p}")];
        for (k, v) in [
            ("status", &q.status),
            ("field", &q.field),
            ("ward", &q.ward),
            ("unit", &q.unit),
            ("overdue", &q.overdue),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", v.replace(['&', '#', ' '], "")));
            }
        }
        format!("{base}?{}", parts.join("&"))
    };
    html! {
        nav class="pager" aria-label=(lang.t("Phân trang", "Pages")) {
            @if page > 1 { a href=(link(page - 1)) { "← " (lang.t("Trang trước", "Previous")) } }
            span class="muted" { (lang.t("Trang", "Page")) " " (page) }
            @if has_more { a href=(link(page + 1)) { (lang.t("Trang sau", "Next")) " →" } }
        }
    }
}

async fn queue(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Response {
    let lang = staff.lang;
    let now = state.app.clock.now();
    let filter = match q.filter(now) {
        Ok(f) => f,
        Err(e) => {
            return error_page(
                &phananh_app::AppError::invalid("status", e.code.as_str(), &e.message, &e.message),
                lang,
                Some(&staff),
            );
        }
    };
    let page_data = match state.app.staff_list(&staff.principal, filter).await {
        Ok(p) => p,
        Err(e) => return error_page(&e, lang, Some(&staff)),
    };
    let catalog = state.app.catalog().await;
    let unit_name = staff
        .principal
        .unit
        .as_deref()
        .map(|u| catalog.unit_name(u));
    let selected = |a: &Option<String>, b: &str| a.as_deref() == Some(b);
    page(lang.t("Hàng đợi", "Queue"), lang, Some(&staff), html! {
        h1 {
            (lang.t("Hàng đợi hồ sơ", "Report queue"))
            @if let Some(u) = &unit_name { " · " (u) }
        }
        form class="card filters" method="get" action="/console" {
            div { label for="status" { (lang.t("Trạng thái", "Status")) }
                select id="status" name="status" {
                    option value="" { (lang.t("Tất cả", "All")) }
                    @for s in Status::ALL { option value=(s.as_str()) selected[selected(&q.status, s.as_str())] { (lang.t(s.label_vi(), s.label_en())) } }
                } }
            div { label for="field" { (lang.t("Lĩnh vực", "Field")) }
                select id="field" name="field" {
                    option value="" { (lang.t("Tất cả", "All")) }
                    @for f in &catalog.fields { option value=(f.code) selected[selected(&q.field, &f.code)] { (lang.t(&f.name_vi, &f.name_en)) } }
                } }
            div { label for="ward" { (lang.t("Phường, xã", "Ward")) }
                select id="ward" name="ward" {
                    option value="" { (lang.t("Tất cả", "All")) }
                    @for w in &catalog.wards { option value=(w.code) selected[selected(&q.ward, &w.code)] { (w.name_vi) } }
                } }
            @if staff.principal.scope().is_none() {
                div { label for="unit" { (lang.t("Đơn vị", "Unit")) }
                    select id="unit" name="unit" {
                        option value="" { (lang.t("Tất cả", "All")) }
                        @for u in &catalog.units { option value=(u.code) selected[selected(&q.unit, &u.code)] { (u.name_vi) } }
                    } }
            }
            div { label { input type="checkbox" name="overdue" value="1" checked[q.overdue.is_some()]; " " (lang.t("Chỉ hồ sơ quá hạn", "Overdue only")) } }
            div { button type="submit" { (lang.t("Lọc", "Filter")) } }
        }
        (table(&page_data.items, &catalog, lang, now))
        (pager(&q, page_data.has_more, "/console", lang))
    })
    .into_response()
}

async fn triage(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Response {
    let lang = staff.lang;
    if !staff.principal.can_use_triage_desk() {
        return error_page(&phananh_app::AppError::NotFound, lang, Some(&staff));
    }
    let catalog = state.app.catalog().await;
    let filter = phananh_app::query::ReportQuery {
        unit: Some(catalog.triage_unit.clone()),
        statuses: vec![Status::New],
        limit: 50,
        offset: (q.page.unwrap_or(1).max(1) - 1) * 50,
        ..Default::default()
    };
    let page_data = match state.app.staff_list(&staff.principal, filter).await {
        Ok(p) => p,
        Err(e) => return error_page(&e, lang, Some(&staff)),
    };
    let now = state.app.clock.now();
    page(lang.t("Bàn điều phối", "Triage desk"), lang, Some(&staff), html! {
        h1 { (lang.t("Bàn điều phối – hồ sơ chờ chuyển đơn vị", "Triage desk – reports waiting for a unit")) }
        p class="muted" { (lang.t("Các hồ sơ không có quy tắc định tuyến phù hợp. Mở hồ sơ để chuyển đến đơn vị xử lý.",
            "Reports no routing rule placed. Open one to assign it to a unit.")) }
        table {
            thead { tr {
                th { (lang.t("Mã hồ sơ", "Code")) } th { (lang.t("Lĩnh vực", "Field")) } th { (lang.t("Phường, xã", "Ward")) }
                th { (lang.t("Nội dung", "Description")) } th { (lang.t("Gợi ý", "Suggestion")) } th { (lang.t("Tiếp nhận", "Received")) }
            } }
            tbody {
                @for r in &page_data.items {
                    @let suggestion = route(&catalog.rules, &r.field, r.ward.as_deref(), &catalog.triage_unit);
                    tr {
                        td { a class="code" href={"/console/reports/" (r.code)} { (r.code) } (urgent_badge(r, lang)) }
                        td { (catalog.field_name(&r.field)) }
                        td { (r.ward.as_deref().map(|w| catalog.ward_name(w)).unwrap_or_else(|| lang.t("Chưa xác định", "Unknown").into())) }
                        td title=(r.description) { (crate::layout::excerpt(&r.description, 120)) }
                        td { @if suggestion.rule.is_some() { (catalog.unit_name(&suggestion.unit)) } @else { span class="muted" { "—" } } }
                        td { (when(r.created_at)) }
                    }
                }
                @if page_data.items.is_empty() {
                    tr { td colspan="6" class="muted" { (lang.t("Không có hồ sơ chờ điều phối.", "Nothing waiting.")) } }
                }
            }
        }
        (pager(&q, page_data.has_more, "/console/triage", lang))
        p class="muted" { (lang.t("Giờ hiện tại:", "Now:")) " " (crate::layout::when(now)) }
    })
    .into_response()
}
