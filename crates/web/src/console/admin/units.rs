//! Units: the list, and adding or changing one by its code.

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use maud::html;
use phananh_app::admin::UnitInput;
use phananh_domain::profile::UnitKind;
use serde::Deserialize;

use super::{admin_page, done};
use crate::AppState;
use crate::console::{Admin, csrf_field};
use crate::csrf::{Csrf, csrf_form};

pub(super) async fn page(State(state): State<AppState>, Admin(staff): Admin) -> Response {
    let l = staff.lang;
    let c = state.app.catalog().await;
    admin_page(
        &staff,
        l.t("Đơn vị", "Units"),
        None,
        html! {
            div class="card" {
                h2 class="mt0" { (l.t("Thêm hoặc sửa đơn vị (theo mã)", "Add or edit a unit (by code)")) }
                form method="post" action="/console/admin/units" class="filters" {
                    (csrf_field(&staff))
                    div { label for="u-code" { (l.t("Mã", "Code")) } input id="u-code" name="code" required maxlength="64"; }
                    div { label for="u-vi" { (l.t("Tên tiếng Việt", "Vietnamese name")) } input id="u-vi" name="name_vi" required maxlength="200"; }
                    div { label for="u-en" { (l.t("Tên tiếng Anh", "English name")) } input id="u-en" name="name_en" maxlength="200"; }
                    div { label for="u-kind" { (l.t("Loại", "Kind")) }
                        select id="u-kind" name="kind" { @for k in [UnitKind::Department, UnitKind::WardCommittee, UnitKind::Company, UnitKind::Triage] { option value=(k.as_str()) { (k.label_vi()) } } } }
                    div { label for="u-ward" { (l.t("Phường (nếu có)", "Ward (if any)")) }
                        select id="u-ward" name="ward" { option value="" { "—" } @for w in &c.wards { option value=(w.code) { (w.name_vi) } } } }
                    div { label for="u-email" { "Email" } input id="u-email" name="email" type="email"; }
                    div { label for="u-phone" { (l.t("Điện thoại", "Phone")) } input id="u-phone" name="phone"; }
                    div { label for="u-dphone" { (l.t("Số trực (báo vụ khẩn cấp)", "Duty phone (urgent alerts)")) } input id="u-dphone" name="duty_phone" type="tel"; }
                    div { label for="u-demail" { (l.t("Email trực", "Duty email")) } input id="u-demail" name="duty_email" type="email"; }
                    div { label for="u-hook" { "Webhook URL" } input id="u-hook" name="webhook_url" type="url"; }
                    div { button type="submit" { (l.t("Lưu", "Save")) } }
                }
            }
            table {
                thead { tr { th { (l.t("Mã", "Code")) } th { (l.t("Tên", "Name")) } th { (l.t("Loại", "Kind")) } th { "Email" } th { (l.t("Trực", "On duty")) } th { "Webhook" } } }
                tbody { @for u in &c.units { tr {
                    td { code { (u.code) } } td { (u.name_vi) @if u.sample { " " span class="badge" { (l.t("mẫu", "sample")) } } }
                    td { (u.kind.label_vi()) } td { (u.email.as_deref().unwrap_or("")) }
                    td { (u.duty_phone.as_deref().unwrap_or("")) " " (u.duty_email.as_deref().unwrap_or("")) } td { (u.webhook_url.as_deref().unwrap_or("")) }
                } } }
            }
        },
    )
}

#[derive(Deserialize)]
pub(super) struct UnitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name_vi: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    ward: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    webhook_url: String,
    #[serde(default)]
    duty_phone: String,
    #[serde(default)]
    duty_email: String,
}

pub(super) async fn save(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Csrf(Form(f)): Csrf<Form<UnitForm>>,
) -> Response {
    let input = UnitInput {
        code: f.code,
        name_vi: f.name_vi,
        name_en: f.name_en,
        kind: f.kind,
        ward: f.ward,
        email: f.email,
        phone: f.phone,
        webhook_url: f.webhook_url,
        duty_phone: f.duty_phone,
        duty_email: f.duty_email,
    };
    let result = state.app.save_unit(&staff.principal, input).await;
    done(&state, &staff, "/console/admin/units", result).await
}

csrf_form!(UnitForm);
