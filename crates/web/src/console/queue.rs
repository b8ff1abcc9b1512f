//! A unit's queue (with filters and paging) and the triage desk.

use crate::routes::{Routes, get, post};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use phananh_domain::model::{Report, Status};
use phananh_domain::procedure::{Action, Command};
use phananh_domain::routing::route;

use crate::api::ListQuery;
use crate::layout::{error_page, page, status_badge, when};
use crate::session::Staff;
use crate::{AppState, Lang};

pub fn routes() -> Routes {
    Routes::new()
        .route("/console", get(queue))
        .route("/console/triage", get(triage))
        .route("/console/bulk", post(bulk))
        .route("/console/tasks", get(tasks))
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
    selectable: bool,
) -> maud::Markup {
    html! {
        table {
            thead { tr {
                @if selectable { th { (lang.t("Chọn", "Pick")) } }
                th { (lang.t("Mã hồ sơ", "Code")) } th { (lang.t("Lĩnh vực", "Field")) } th { (lang.t("Phường, xã", "Ward")) }
                th { (lang.t("Nội dung", "Description")) } th { (lang.t("Đơn vị", "Unit")) } th { (lang.t("Trạng thái", "Status")) }
                th { (lang.t("Hạn xử lý", "Due")) } th { (lang.t("Tiếp nhận", "Received")) }
            } }
            tbody {
                @for r in reports {
                    tr {
                        @if selectable { td { input type="checkbox" name="code" value=(r.code) form="bulk" aria-label=(r.code); } }
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
                    tr { td colspan=(if selectable { "9" } else { "8" }) class="muted" { (lang.t("Không có hồ sơ nào.", "No reports.")) } }
                }
            }
        }
    }
}

/// A staff member's own open reports, soonest deadline first (urgent cases before all), as
/// cards that read well on a phone, each with the way there. The page registers the service
/// worker, which keeps the last copy of it and of the reports opened from it for offline use.
async fn tasks(State(state): State<AppState>, staff: Staff) -> Response {
    let lang = staff.lang;
    let filter = phananh_app::query::ReportQuery {
        assignee: Some(staff.principal.user_id),
        statuses: vec![Status::Assigned, Status::InProgress, Status::InfoRequested],
        due_first: true,
        limit: 200,
        ..Default::default()
    };
    let page_data = match state.app.staff_list(&staff.principal, filter).await {
        Ok(p) => p,
        Err(e) => return error_page(&e, lang, Some(&staff)),
    };
    let catalog = state.app.catalog().await;
    let now = state.app.clock.now();
    page(lang.t("Việc của tôi", "My tasks"), lang, Some(&staff), html! {
        h1 { (lang.t("Việc của tôi", "My tasks")) " (" (page_data.items.len()) ")" }
        p class="muted" data-offline-tasks {
            (lang.t("Cập nhật lúc", "As of")) " " (when(now)) ". "
            (lang.t("Trang này vẫn đọc được khi mất mạng (bản tải gần nhất).", "This page stays readable offline (the last copy loaded)."))
        }
        @if page_data.items.is_empty() {
            p class="card muted" { (lang.t("Bạn không có hồ sơ nào đang mở.", "You have no open reports.")) }
        }
        @for r in &page_data.items {
            div class="card task" {
                h2 class="mt0" {
                    a class="code" href={"/console/reports/" (r.code)} { (r.code) } (urgent_badge(r, lang))
                    " " (status_badge(r.status, lang))
                    @if r.paused_at.is_none() && r.due_at.is_some_and(|d| d < now) {
                        " " span class="badge overdue" { (lang.t("Quá hạn", "Overdue")) }
                    }
                }
                p { (catalog.field(&r.field).map(|f| f.icon.as_str()).unwrap_or("")) " " (catalog.field_name(&r.field))
                    " · " (r.ward.as_deref().map(|w| catalog.ward_name(w)).unwrap_or_else(|| "—".into())) }
                @if let Some(a) = &r.address { p { (a) } }
                p { (crate::layout::excerpt(&r.description, 200)) }
                p { strong { (lang.t("Hạn xử lý", "Due")) ": " } (r.due_at.map(when).unwrap_or_else(|| "—".into())) }
                p {
                    a class="button" href={"/console/reports/" (r.code)} { (lang.t("Mở hồ sơ", "Open")) }
                    @if let (Some(lat), Some(lon)) = (r.lat, r.lon) { " " (crate::console::report::directions(lat, lon, lang)) }
                }
            }
        }
        script src="/static/field.js" {}
    })
    .into_response()
}

/// The form for one step on the reports ticked in the table (the checkboxes belong to it
/// through their `form` attribute, so the table stays outside the form).
fn bulk_bar(staff: &Staff, catalog: &phananh_app::Catalog, lang: Lang) -> maud::Markup {
    html! {
        form id="bulk" class="card filters" method="post" action="/console/bulk" {
            (crate::console::csrf_field(staff))
            div { label for="bulk-action" { (lang.t("Với các hồ sơ đã chọn", "With the selected reports")) }
                select id="bulk-action" name="action" required {
                    @for a in Action::BULK { option value=(a.as_str()) { (lang.t(a.label_vi(), a.label_en())) } }
                } }
            div { label for="bulk-unit" { (lang.t("Đơn vị (chuyển, giao)", "Unit (assign, transfer)")) }
                select id="bulk-unit" name="unit" {
                    option value="" { "—" }
                    @for u in &catalog.units { option value=(u.code) { (u.name_vi) } }
                } }
            div { label for="bulk-text" { (lang.t("Lý do, ghi chú (nội bộ)", "Reason, note (internal)")) }
                input id="bulk-text" name="text" maxlength="2000"; }
            div { label for="bulk-of" { (lang.t("Mã hồ sơ gốc (đóng vì trùng)", "The original's code (close as a duplicate)")) }
                input id="bulk-of" name="of" maxlength="20" placeholder="XXXX-XXXX"; }
            div { button type="submit" { (lang.t("Thực hiện", "Apply")) } }
        }
    }
}

/// The bulk form as sent: `code` is repeated, one per ticked report.
#[derive(Default)]
struct BulkForm {
    action: String,
    unit: String,
    text: String,
    /// The original's tracking code (close as a duplicate of it).
    of: String,
    code: Vec<String>,
}

impl BulkForm {
    fn read(pairs: Vec<(String, String)>) -> BulkForm {
        let mut f = BulkForm::default();
        for (k, v) in pairs {
            match k.as_str() {
                "action" => f.action = v,
                "unit" => f.unit = v,
                "text" => f.text = v,
                "of" => f.of = v,
                // Bounded by the route's body limit; the use case refuses over 100.
                "code" => f.code.push(v),
                _ => {}
            }
        }
        f
    }
}

impl BulkForm {
    fn command(&self) -> Option<Command> {
        let text = self.text.trim().to_string();
        Some(match Action::parse(&self.action)? {
            Action::Assign => Command::Assign {
                unit: self.unit.clone(),
                assignee: None,
                note: (!text.is_empty()).then_some(text),
            },
            Action::Transfer => Command::Transfer {
                to: self.unit.clone(),
                reason: text,
            },
            Action::Start => Command::Start,
            Action::Comment => Command::Comment {
                text,
                public: false,
            },
            Action::MarkUrgent => Command::MarkUrgent { reason: text },
            Action::MarkDuplicate => Command::MarkDuplicate {
                of: self.of.trim().to_string(),
            },
            _ => return None,
        })
    }
}

async fn bulk(
    State(state): State<AppState>,
    staff: Staff,
    crate::csrf::Csrf(axum::Form(pairs)): crate::csrf::Csrf<axum::Form<Vec<(String, String)>>>,
) -> Response {
    let lang = staff.lang;
    let form = BulkForm::read(pairs);
    let Some(command) = form.command() else {
        return error_page(
            &phananh_app::AppError::invalid(
                "action",
                "not_a_bulk_step",
                "Thao tác này không làm hàng loạt được",
                "This step cannot be taken on many reports at once",
            ),
            lang,
            Some(&staff),
        );
    };
    let action = command.action();
    let results = match state.app.bulk(&staff.principal, &form.code, command).await {
        Ok(r) => r,
        Err(e) => return error_page(&e, lang, Some(&staff)),
    };
    let done = results.iter().filter(|r| r.ok).count();
    page(lang.t("Thao tác hàng loạt", "Bulk step"), lang, Some(&staff), html! {
        h1 { (lang.t(action.label_vi(), action.label_en())) ": " (done) "/" (results.len()) " " (lang.t("hồ sơ", "reports")) }
        table {
            thead { tr { th { (lang.t("Mã hồ sơ", "Code")) } th { (lang.t("Kết quả", "Result")) } } }
            tbody {
                @for r in &results {
                    tr {
                        td { a class="code" href={"/console/reports/" (r.code)} { (r.code) } }
                        td {
                            @if r.ok { span class="badge resolved" { (lang.t("Đã thực hiện", "Done")) } }
                            @else { span class="badge rejected" { (lang.t("Không thực hiện được", "Refused")) } " " (r.message.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
        p { a href="/console" { "← " (lang.t("Về hàng đợi", "Back to the queue")) } }
    })
    .into_response()
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
        @let selectable = staff.principal.can_write() && !page_data.items.is_empty();
        @if selectable { (bulk_bar(&staff, &catalog, lang)) }
        (table(&page_data.items, &catalog, lang, now, selectable))
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
