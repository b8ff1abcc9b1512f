//! The outbox: dead letters (with a retry button) and the jobs waiting.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::html;
use phananh_app::admin::Outbox;
use phananh_app::query::Job;

use super::{admin_page, done};
use crate::AppState;
use crate::console::{Admin, CsrfForm, csrf_field};
use crate::csrf::Csrf;
use crate::layout::when;

pub(super) async fn page(State(state): State<AppState>, Admin(staff): Admin) -> Response {
    let l = staff.lang;
    let Outbox { dead, pending } = state
        .app
        .outbox(&staff.principal)
        .await
        .unwrap_or_else(|_| Outbox {
            dead: Vec::new(),
            pending: Vec::new(),
        });
    let row = |j: &Job, retry: bool| {
        html! {
            tr {
                td { (j.id) } td { code { (j.kind) } } td { (j.payload["code"].as_str().unwrap_or("")) } td { (j.attempts) "/" (j.max_attempts) }
                td { (when(j.run_at)) } td { (j.last_error.as_deref().unwrap_or("")) }
                td { @if retry { form method="post" action={"/console/admin/jobs/" (j.id) "/retry"} { (csrf_field(&staff)) button class="secondary" type="submit" { (l.t("Gửi lại", "Retry")) } } } }
            }
        }
    };
    let head = html! { thead { tr { th { "#" } th { (l.t("Loại", "Kind")) } th { (l.t("Hồ sơ", "Report")) } th { (l.t("Lần thử", "Attempts")) } th { (l.t("Lần chạy", "Run at")) } th { (l.t("Lỗi gần nhất", "Last error")) } th {} } } };
    admin_page(
        &staff,
        l.t("Hàng đợi gửi", "Outbox"),
        None,
        html! {
            h2 { (l.t("Không gửi được (cần xử lý)", "Dead letters")) }
            table { (head) tbody { @for j in &dead { (row(j, true)) } @if dead.is_empty() { tr { td colspan="7" class="muted" { (l.t("Không có.", "None.")) } } } } }
            h2 { (l.t("Đang chờ gửi", "Pending")) }
            table { (head) tbody { @for j in &pending { (row(j, false)) } @if pending.is_empty() { tr { td colspan="7" class="muted" { (l.t("Không có.", "None.")) } } } } }
        },
    )
}

pub(super) async fn retry(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<CsrfForm>>,
) -> Response {
    let result = state.app.retry_job(&staff.principal, id).await;
    done(&state, &staff, "/console/admin/jobs", result).await
}
