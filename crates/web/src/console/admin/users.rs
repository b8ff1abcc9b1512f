//! Staff accounts: the list, creating one, changing a role, unit or whether it may sign in.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::html;
use phananh_app::admin::{opt, parse_role};
use phananh_domain::access::Role;
use serde::Deserialize;

use super::{admin_page, done};
use crate::AppState;
use crate::console::{Admin, csrf_field};
use crate::csrf::{Csrf, csrf_form};

pub(super) async fn page(State(state): State<AppState>, Admin(staff): Admin) -> Response {
    let l = staff.lang;
    let c = state.app.catalog().await;
    let list = state.app.users(&staff.principal).await.unwrap_or_default();
    let unit_options = |selected: Option<&str>| {
        html! {
            option value="" { "—" }
            @for u in &c.units { option value=(u.code) selected[selected == Some(u.code.as_str())] { (u.name_vi) } }
        }
    };
    admin_page(
        &staff,
        l.t("Tài khoản cán bộ", "Staff accounts"),
        None,
        html! {
            div class="card" {
                h2 class="mt0" { (l.t("Tạo tài khoản", "New account")) }
                form method="post" action="/console/admin/users" class="filters" {
                    (csrf_field(&staff))
                    div { label for="n-email" { "Email" } input id="n-email" name="email" type="email" required; }
                    div { label for="n-name" { (l.t("Họ tên", "Name")) } input id="n-name" name="name" required; }
                    div { label for="n-role" { (l.t("Vai trò", "Role")) } select id="n-role" name="role" required { option value="" { (l.t("— Chọn vai trò —", "— Choose a role —")) } @for r in Role::ALL { option value=(r.as_str()) { (l.t(r.label_vi(), r.label_en())) } } } }
                    div { label for="n-unit" { (l.t("Đơn vị (cho cán bộ đơn vị)", "Unit (for unit roles)")) } select id="n-unit" name="unit" { (unit_options(None)) } }
                    div { label for="n-pass" { (l.t("Mật khẩu (≥ 10 ký tự)", "Password (≥ 10 characters)")) } input id="n-pass" name="password" type="password" required minlength="10" autocomplete="new-password"; }
                    div { button type="submit" { (l.t("Tạo", "Create")) } }
                }
            }
            table {
                thead { tr { th { "Email" } th { (l.t("Họ tên", "Name")) } th { (l.t("Vai trò, đơn vị, trạng thái", "Role, unit, status")) } th { (l.t("Mật khẩu", "Password")) } } }
                tbody { @for u in &list { tr {
                    td { (u.email) } td { (u.name) }
                    td { form method="post" action={"/console/admin/users/" (u.id)} class="filters" {
                        (csrf_field(&staff))
                        select name="role" aria-label=(l.t("Vai trò", "Role")) { @for r in Role::ALL { option value=(r.as_str()) selected[r == u.role] { (l.t(r.label_vi(), r.label_en())) } } }
                        select name="unit" aria-label=(l.t("Đơn vị", "Unit")) { (unit_options(u.unit.as_deref())) }
                        label { input type="checkbox" name="active" value="1" checked[u.active]; " " (l.t("Hoạt động", "Active")) }
                        button class="secondary" type="submit" { (l.t("Lưu", "Save")) }
                    } }
                    td { form method="post" action={"/console/admin/users/" (u.id) "/reset"} {
                        (csrf_field(&staff))
                        button class="secondary" type="submit" { (l.t("Tạo liên kết đặt lại", "Reset link")) }
                    } }
                } } }
            }
        },
    )
}

#[derive(Deserialize)]
pub(super) struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    active: String,
}

pub(super) async fn add(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Csrf(Form(f)): Csrf<Form<UserForm>>,
) -> Response {
    let result = async {
        state
            .app
            .add_user(
                &f.email,
                &f.name,
                parse_role(&f.role)?,
                opt(&f.unit).as_deref(),
                &f.password,
            )
            .await?;
        Ok(())
    }
    .await;
    done(&state, &staff, "/console/admin/users", result).await
}

pub(super) async fn update(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<i64>,
    Csrf(Form(f)): Csrf<Form<UserForm>>,
) -> Response {
    let result = state
        .app
        .update_user(&staff.principal, id, &f.role, &f.unit, f.active == "1")
        .await;
    done(&state, &staff, "/console/admin/users", result).await
}

csrf_form!(UserForm);
