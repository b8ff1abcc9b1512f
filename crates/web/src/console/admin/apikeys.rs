//! Integrators' API keys (Open311): the list, creating one (shown once), revoking one.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::html;
use phananh_app::admin::{number, opt};
use serde::Deserialize;

use super::{admin_page, done};
use crate::AppState;
use crate::console::{Admin, CsrfForm, csrf_field};
use crate::csrf::{Csrf, csrf_form};
use crate::layout::{error_page, when};

pub(super) async fn page(State(state): State<AppState>, Admin(staff): Admin) -> Response {
    let l = staff.lang;
    let keys = state
        .app
        .api_keys(&staff.principal)
        .await
        .unwrap_or_default();
    admin_page(
        &staff,
        l.t(
            "Khóa API đối tác (Open311)",
            "Integrator API keys (Open311)",
        ),
        None,
        html! {
            p class="muted" { (l.t("Mỗi đối tác (ứng dụng, cổng thông tin khác) dùng một khóa riêng để gửi phản ánh qua /open311/v2. Khóa chỉ hiện một lần khi tạo.",
                "Each integrator (app, other portal) files reports through /open311/v2 with its own key. A key is shown once, when created.")) }
            div class="card" {
                form method="post" action="/console/admin/apikeys" class="filters" {
                    (csrf_field(&staff))
                    div { label for="k-name" { (l.t("Tên đối tác", "Integrator")) } input id="k-name" name="name" required maxlength="100"; }
                    div { label for="k-rate" { (l.t("Số yêu cầu mỗi phút", "Requests per minute")) } input id="k-rate" name="rate" type="number" min="1" max="100000" value="120"; }
                    div { button type="submit" { (l.t("Tạo khóa", "Create key")) } }
                }
            }
            table {
                thead { tr { th { "#" } th { (l.t("Đối tác", "Integrator")) } th { (l.t("Khóa", "Key")) } th { (l.t("Giới hạn", "Limit")) } th { (l.t("Tạo lúc", "Created")) } th { (l.t("Trạng thái", "Status")) } th {} } }
                tbody { @for k in &keys { tr {
                    td { (k.id) } td { (k.name) } td { code { (k.prefix) "…" } } td { (k.rate_per_minute) "/" (l.t("phút", "min")) } td { (when(k.created_at)) }
                    td { @if k.active { (l.t("Đang dùng", "Active")) } @else { (l.t("Đã thu hồi", "Revoked")) " " (k.revoked_at.map(when).unwrap_or_default()) } }
                    td { @if k.active { form method="post" action={"/console/admin/apikeys/" (k.id) "/revoke"} { (csrf_field(&staff)) button class="danger" type="submit" { (l.t("Thu hồi", "Revoke")) } } } }
                } } }
            }
        },
    )
}

#[derive(Deserialize)]
pub(super) struct KeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    rate: String,
}

pub(super) async fn add(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Csrf(Form(f)): Csrf<Form<KeyForm>>,
) -> Response {
    let l = staff.lang;
    let rate = match opt(&f.rate)
        .map(|r| {
            number(
                &r,
                l.t("Số yêu cầu mỗi phút", "Requests per minute"),
                100_000,
            )
        })
        .transpose()
    {
        Ok(r) => r,
        Err(e) => return error_page(&e, l, Some(&staff)),
    };
    match state.app.create_api_key(&f.name, rate).await {
        Ok((_, key)) => admin_page(
            &staff,
            l.t("Khóa API mới", "New API key"),
            None,
            html! {
                div class="notice" role="status" {
                    p { (l.t("Khóa cho", "Key for")) " " strong { (f.name.trim()) } ". " (l.t("Hãy sao chép và gửi cho đối tác ngay: khóa sẽ không hiện lại.", "Copy it and hand it over now: it will not be shown again.")) }
                    p { code class="code" { (key) } }
                }
                p { a href="/console/admin/apikeys" { (l.t("Về danh sách khóa", "Back to the keys")) } }
            },
        ),
        Err(e) => error_page(&e, l, Some(&staff)),
    }
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<CsrfForm>>,
) -> Response {
    let result = state.app.revoke_api_key(&staff.principal, id).await;
    done(&state, &staff, "/console/admin/apikeys", result).await
}

csrf_form!(KeyForm);
