//! Routing rules: the list by field, adding one, deleting one.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::html;
use phananh_app::admin::RuleInput;
use phananh_domain::routing::Rule;
use serde::Deserialize;

use super::{admin_page, done};
use crate::AppState;
use crate::console::{Admin, CsrfForm, csrf_field};
use crate::csrf::{Csrf, csrf_form};

#[derive(Deserialize, Default)]
pub(super) struct RulesQuery {
    field: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Query(q): Query<RulesQuery>,
) -> Response {
    let l = staff.lang;
    let c = state.app.catalog().await;
    let shown: Vec<&Rule> = c
        .rules
        .iter()
        .filter(|r| {
            q.field
                .as_deref()
                .is_none_or(|f| f.is_empty() || r.field == f)
        })
        .collect();
    admin_page(
        &staff,
        l.t("Quy tắc định tuyến", "Routing rules"),
        None,
        html! {
            p class="muted" { (l.t("Quy tắc theo phường ưu tiên hơn quy tắc toàn thành phố; cùng loại thì độ ưu tiên cao hơn thắng. Không quy tắc nào khớp: hồ sơ về bàn điều phối.",
                "A ward rule beats a city-wide rule; among equals the higher priority wins. No match: the triage desk.")) }
            div class="card" {
                form method="post" action="/console/admin/rules" class="filters" {
                    (csrf_field(&staff))
                    div { label for="r-field" { (l.t("Lĩnh vực", "Field")) } select id="r-field" name="field" { @for f in &c.fields { option value=(f.code) { (f.name_vi) } } } }
                    div { label for="r-ward" { (l.t("Phường (trống: toàn thành phố)", "Ward (empty: city-wide)")) }
                        select id="r-ward" name="ward" { option value="" { (l.t("Toàn thành phố", "City-wide")) } @for w in &c.wards { option value=(w.code) { (w.name_vi) } } } }
                    div { label for="r-unit" { (l.t("Đơn vị", "Unit")) } select id="r-unit" name="unit" { @for u in &c.units { option value=(u.code) { (u.name_vi) } } } }
                    div { label for="r-prio" { (l.t("Độ ưu tiên", "Priority")) } input id="r-prio" name="priority" type="number" value="0" min="-1000" max="1000"; }
                    div { button type="submit" { (l.t("Thêm quy tắc", "Add rule")) } }
                }
            }
            form method="get" action="/console/admin/rules" class="filters card" {
                div { label for="rf" { (l.t("Xem lĩnh vực", "Show field")) } select id="rf" name="field" { option value="" { (l.t("Tất cả", "All")) } @for f in &c.fields { option value=(f.code) selected[q.field.as_deref() == Some(f.code.as_str())] { (f.name_vi) } } } }
                div { button class="secondary" type="submit" { (l.t("Lọc", "Filter")) } }
            }
            table {
                thead { tr { th { "#" } th { (l.t("Lĩnh vực", "Field")) } th { (l.t("Phường", "Ward")) } th { (l.t("Đơn vị", "Unit")) } th { (l.t("Ưu tiên", "Priority")) } th {} } }
                tbody { @for r in shown { tr {
                    td { (r.id) } td { (c.field_name(&r.field)) } td { (r.ward.as_deref().map(|w| c.ward_name(w)).unwrap_or_else(|| l.t("Toàn thành phố", "City-wide").into())) }
                    td { (c.unit_name(&r.unit)) } td { (r.priority) }
                    td { form method="post" action={"/console/admin/rules/" (r.id) "/delete"} data-confirm=(l.t("Xóa quy tắc này?", "Delete this rule?")) { (csrf_field(&staff)) button class="secondary" type="submit" { (l.t("Xóa", "Delete")) } } }
                } } }
            }
            script src="/static/confirm.js" {}
        },
    )
}

#[derive(Deserialize)]
pub(super) struct RuleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    ward: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    priority: String,
}

pub(super) async fn add(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Csrf(Form(f)): Csrf<Form<RuleForm>>,
) -> Response {
    let input = RuleInput {
        field: f.field,
        ward: f.ward,
        unit: f.unit,
        priority: f.priority,
    };
    let result = state.app.add_rule(&staff.principal, input).await;
    done(&state, &staff, "/console/admin/rules", result).await
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<CsrfForm>>,
) -> Response {
    let result = state.app.delete_rule(&staff.principal, id).await;
    done(&state, &staff, "/console/admin/rules", result).await
}

csrf_form!(RuleForm);
