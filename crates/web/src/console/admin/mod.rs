//! Admin pages: units, fields, response templates, routing rules, users, calendar days,
//! dead jobs, API keys.
//! Every edit takes effect at once (the catalog reloads), no release needed. The use
//! cases are `phananh_app::admin`; these pages only read forms and render.

mod apikeys;
mod calendar;
mod fields;
mod jobs;
mod rules;
mod templates;
mod units;
mod users;

use crate::routes::{Routes, get, post};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use phananh_app::AppError;

use super::Admin;
use crate::AppState;
use crate::layout::{error_page, page};
use crate::session::Staff;

pub fn routes() -> Routes {
    Routes::new()
        .route("/console/admin", get(overview))
        .route("/console/admin/units", get(units::page).post(units::save))
        .route(
            "/console/admin/fields",
            get(fields::page).post(fields::save),
        )
        .route(
            "/console/admin/fields/questions",
            post(fields::save_questions),
        )
        .route(
            "/console/admin/templates",
            get(templates::page).post(templates::save),
        )
        .route(
            "/console/admin/templates/{id}/delete",
            post(templates::delete),
        )
        .route("/console/admin/rules", get(rules::page).post(rules::add))
        .route("/console/admin/rules/{id}/delete", post(rules::delete))
        .route("/console/admin/users", get(users::page).post(users::add))
        .route("/console/admin/users/{id}", post(users::update))
        .route(
            "/console/admin/calendar",
            get(calendar::page).post(calendar::set_day),
        )
        .route("/console/admin/jobs", get(jobs::page))
        .route(
            "/console/admin/apikeys",
            get(apikeys::page).post(apikeys::add),
        )
        .route("/console/admin/apikeys/{id}/revoke", post(apikeys::revoke))
        .route("/console/admin/jobs/{id}/retry", post(jobs::retry))
}

fn tabs(staff: &Staff) -> Markup {
    let l = staff.lang;
    html! {
        nav class="card" aria-label=(l.t("Quản trị", "Administration")) class="tabs" {
            a href="/console/admin/units" { (l.t("Đơn vị", "Units")) }
            a href="/console/admin/fields" { (l.t("Lĩnh vực", "Fields")) }
            a href="/console/admin/templates" { (l.t("Mẫu trả lời", "Response templates")) }
            a href="/console/admin/rules" { (l.t("Quy tắc định tuyến", "Routing rules")) }
            a href="/console/admin/users" { (l.t("Tài khoản", "Users")) }
            a href="/console/admin/calendar" { (l.t("Lịch làm việc", "Calendar")) }
            a href="/console/admin/jobs" { (l.t("Hàng đợi gửi", "Outbox")) }
            a href="/console/admin/apikeys" { (l.t("Khóa API đối tác", "Integrator API keys")) }
        }
    }
}

pub(super) fn admin_page(
    staff: &Staff,
    title: &str,
    notice: Option<&str>,
    body: Markup,
) -> Response {
    page(
        title,
        staff.lang,
        Some(staff),
        html! {
            h1 { (title) }
            (tabs(staff))
            @if let Some(n) = notice { div class="error" role="alert" { (n) } }
            (body)
        },
    )
    .into_response()
}

/// After an edit: reload the catalog and go back, or show the error.
pub(super) async fn done(
    state: &AppState,
    staff: &Staff,
    back: &str,
    result: Result<(), AppError>,
) -> Response {
    match result {
        Ok(()) => {
            if let Err(e) = state.app.refresh_catalog().await {
                return error_page(&e, staff.lang, Some(staff));
            }
            Redirect::to(back).into_response()
        }
        Err(e) => error_page(&e, staff.lang, Some(staff)),
    }
}

async fn overview(Admin(staff): Admin) -> Response {
    let l = staff.lang;
    admin_page(
        &staff,
        l.t("Quản trị", "Administration"),
        None,
        html! {
            p { (l.t("Mọi thay đổi có hiệu lực ngay, không cần cập nhật phần mềm.", "Every change takes effect at once; no release needed.")) }
        },
    )
}
