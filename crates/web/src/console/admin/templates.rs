//! Response templates: the list, adding or editing one (`?edit=ID` fills the form), deleting
//! one. Staff pick them in the report page's action forms.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::html;
use phananh_app::templates::TemplateInput;
use phananh_domain::procedure::Action;
use phananh_domain::templates::{MAX_NAME, MAX_TEXT, Template};
use serde::Deserialize;

use super::{admin_page, done};
use crate::AppState;
use crate::console::{Admin, CsrfForm, csrf_field};
use crate::csrf::{Csrf, csrf_form};
use crate::layout::error_page;

#[derive(Deserialize, Default)]
pub(super) struct TemplatesQuery {
    edit: Option<i64>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Query(q): Query<TemplatesQuery>,
) -> Response {
    let l = staff.lang;
    let c = state.app.catalog().await;
    let list = match state.app.templates(&staff.principal).await {
        Ok(list) => list,
        Err(e) => return error_page(&e, l, Some(&staff)),
    };
    let editing: Option<&Template> = q.edit.and_then(|id| list.iter().find(|t| t.id == id));
    let field_name = |t: &Template| match &t.field {
        Some(f) => c
            .field(f)
            .map_or_else(|| f.clone(), |f| l.t(&f.name_vi, &f.name_en).to_string()),
        None => l.t("Mọi lĩnh vực", "Any field").to_string(),
    };
    admin_page(
        &staff,
        l.t("Mẫu trả lời", "Response templates"),
        None,
        html! {
            div class="card" {
                h2 class="mt0" {
                    @if editing.is_some() { (l.t("Sửa mẫu trả lời", "Edit a response template")) }
                    @else { (l.t("Thêm mẫu trả lời", "Add a response template")) }
                }
                p class="muted" {
                    (l.t("Chỗ trống được điền theo từng hồ sơ:", "Placeholders filled in for each report:"))
                    " " code { "{code}" } " " (l.t("mã hồ sơ", "tracking code"))
                    ", " code { "{unit}" } " " (l.t("đơn vị xử lý", "unit"))
                    ", " code { "{due}" } " " (l.t("hạn xử lý", "due date"))
                    ", " code { "{field}" } " " (l.t("lĩnh vực", "field")) "."
                    br; (l.t("«Tự động»: khi bước này được thực hiện, hệ thống tự gửi nội dung này công khai cho người phản ánh (không áp dụng cho ghi chú).",
                        "«Automatic»: when this step is taken, the system posts this text publicly to the reporter by itself (not for notes)."))
                }
                form method="post" action="/console/admin/templates" {
                    (csrf_field(&staff))
                    @if let Some(t) = editing { input type="hidden" name="id" value=(t.id); }
                    div class="filters" {
                        div { label for="t-name" { (l.t("Tên mẫu", "Name")) }
                            input id="t-name" name="name" required maxlength=(MAX_NAME) value=[editing.map(|t| &t.name)]; }
                        div { label for="t-field" { (l.t("Lĩnh vực", "Field")) }
                            select id="t-field" name="field" {
                                option value="" { (l.t("Mọi lĩnh vực", "Any field")) }
                                @for f in &c.fields {
                                    option value=(f.code) selected[editing.is_some_and(|t| t.field.as_deref() == Some(f.code.as_str()))] { (l.t(&f.name_vi, &f.name_en)) }
                                }
                            }
                        }
                        div { label for="t-action" { (l.t("Bước xử lý", "Step")) }
                            select id="t-action" name="action" required {
                                @for a in Action::ALL {
                                    option value=(a.as_str()) selected[editing.is_some_and(|t| t.action == a)] { (l.t(a.label_vi(), a.label_en())) }
                                }
                            }
                        }
                        div { label { input type="checkbox" name="automatic" value="1" checked[editing.is_some_and(|t| t.automatic)]; " " (l.t("Tự động trả lời công khai", "Automatic public response")) } }
                    }
                    label for="t-vi" { (l.t("Nội dung tiếng Việt", "Vietnamese text")) }
                    textarea id="t-vi" name="text_vi" required rows="4" class="wide" maxlength=(MAX_TEXT) { @if let Some(t) = editing { (t.text_vi) } }
                    label for="t-en" { (l.t("Nội dung tiếng Anh (không bắt buộc)", "English text (optional)")) }
                    textarea id="t-en" name="text_en" rows="4" class="wide" maxlength=(MAX_TEXT) { @if let Some(t) = editing { (t.text_en) } }
                    p { button type="submit" { (l.t("Lưu", "Save")) }
                        @if editing.is_some() { " " a href="/console/admin/templates" { (l.t("Thêm mẫu mới", "Add a new one instead")) } } }
                }
            }
            @if list.is_empty() {
                p class="muted" { (l.t("Chưa có mẫu trả lời nào.", "No response templates yet.")) }
            } @else {
                table {
                    thead { tr { th { (l.t("Tên", "Name")) } th { (l.t("Lĩnh vực", "Field")) } th { (l.t("Bước xử lý", "Step")) } th { (l.t("Tự động", "Automatic")) } th { (l.t("Nội dung", "Text")) } th {} } }
                    tbody { @for t in &list { tr {
                        td { (t.name) }
                        td { (field_name(t)) }
                        td { (l.t(t.action.label_vi(), t.action.label_en())) }
                        td { @if t.automatic { (l.t("Có", "Yes")) } @else { "—" } }
                        td { (t.text_vi) @if !t.text_en.is_empty() { br; span class="muted" { (t.text_en) } } }
                        td {
                            a href={"/console/admin/templates?edit=" (t.id)} { (l.t("Sửa", "Edit")) }
                            form method="post" action={"/console/admin/templates/" (t.id) "/delete"} data-confirm=(l.t("Xóa mẫu này?", "Delete this template?")) {
                                (csrf_field(&staff)) button class="secondary" type="submit" { (l.t("Xóa", "Delete")) }
                            }
                        }
                    } } }
                }
            }
            script src="/static/confirm.js" {}
        },
    )
}

#[derive(Deserialize)]
pub(super) struct TemplateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    text_vi: String,
    #[serde(default)]
    text_en: String,
    #[serde(default)]
    automatic: Option<String>,
}

pub(super) async fn save(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Csrf(Form(f)): Csrf<Form<TemplateForm>>,
) -> Response {
    let input = TemplateInput {
        id: f.id,
        field: f.field,
        action: f.action,
        name: f.name,
        text_vi: f.text_vi,
        text_en: f.text_en,
        automatic: f.automatic.is_some(),
    };
    let result = state.app.save_template(&staff.principal, input).await;
    done(
        &state,
        &staff,
        "/console/admin/templates",
        result.map(|_| ()),
    )
    .await
}

pub(super) async fn delete(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<CsrfForm>>,
) -> Response {
    let result = state.app.delete_template(&staff.principal, id).await;
    done(&state, &staff, "/console/admin/templates", result).await
}

csrf_form!(TemplateForm);
