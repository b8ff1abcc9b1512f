//! Fields (categories): the list, and adding or changing one by its code.

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use maud::html;
use phananh_app::admin::FieldInput;
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
        l.t("Lĩnh vực", "Fields"),
        None,
        html! {
            div class="card" {
                h2 class="mt0" { (l.t("Thêm hoặc sửa lĩnh vực (theo mã)", "Add or edit a field (by code)")) }
                form method="post" action="/console/admin/fields" class="filters" {
                    (csrf_field(&staff))
                    div { label for="f-code" { (l.t("Mã", "Code")) } input id="f-code" name="code" required maxlength="64"; }
                    div { label for="f-vi" { (l.t("Tên tiếng Việt", "Vietnamese name")) } input id="f-vi" name="name_vi" required; }
                    div { label for="f-en" { (l.t("Tên tiếng Anh", "English name")) } input id="f-en" name="name_en"; }
                    div { label for="f-icon" { (l.t("Biểu tượng", "Icon")) } input id="f-icon" name="icon" size="3" value="📌"; }
                    div { label for="f-ack" { (l.t("Giờ làm việc để tiếp nhận", "Working hours to acknowledge")) } input id="f-ack" name="ack_hours" type="number" min="0" max="720" value="8"; }
                    div { label for="f-days" { (l.t("Ngày làm việc để xử lý", "Working days to resolve")) } input id="f-days" name="resolve_days" type="number" min="0" max="365" value="5"; }
                    div { label for="f-kw" { (l.t("Từ khóa (cách nhau bởi dấu phẩy)", "Keywords (comma-separated)")) } input id="f-kw" name="keywords"; }
                    div { label { input type="checkbox" name="review" value="1"; " " (l.t("Kiểm duyệt trước khi công khai nội dung, ảnh", "Review text and photos before publishing")) } }
                    div { label { input type="checkbox" name="urgent" value="1"; " " (l.t("Mọi phản ánh đều khẩn cấp", "Every report is urgent")) } }
                    div { label for="f-uh" { (l.t("Giờ xử lý vụ khẩn cấp (theo đồng hồ)", "Hours for an urgent case (on the clock)")) } input id="f-uh" name="urgent_hours" type="number" min="1" max="72" value=(phananh_domain::urgent::DEFAULT_HOURS); }
                    div { label for="f-ukw" { (l.t("Từ khóa khẩn cấp (cách nhau bởi dấu phẩy)", "Urgent keywords (comma-separated)")) } input id="f-ukw" name="urgent_keywords" placeholder="cây đổ, hở nắp cống"; }
                    div { label for="f-dup" { (l.t("Bán kính tìm hồ sơ trùng (mét, để trống: giữ nguyên)", "Radius for likely duplicates (metres; empty: unchanged)")) } input id="f-dup" name="duplicate_radius_m" type="number" min="10" max="2000" placeholder=(phananh_domain::duplicates::DEFAULT_RADIUS_M); }
                    div { button type="submit" { (l.t("Lưu", "Save")) } }
                }
            }
            table {
                thead { tr { th { (l.t("Mã", "Code")) } th { (l.t("Tên", "Name")) } th { (l.t("Tiếp nhận (giờ)", "Ack (hours)")) } th { (l.t("Xử lý (ngày)", "Resolve (days)")) } th { (l.t("Từ khóa", "Keywords")) } th { (l.t("Công khai", "Publishing")) } th { (l.t("Khẩn cấp", "Urgent")) } } }
                tbody { @for f in &c.fields { tr {
                    td { code { (f.code) } } td { (f.icon) " " (f.name_vi) " / " (f.name_en) } td { (f.ack_hours) } td { (f.resolve_days) } td { (f.keywords.join(", ")) }
                    td { @if f.review { (l.t("Sau kiểm duyệt", "After review")) } @else { (l.t("Ngay", "At once")) } }
                    td { @if f.urgent { (l.t("Luôn", "Always")) } @else if !f.urgent_keywords.is_empty() { (f.urgent_keywords.join(", ")) } @else { "—" } " · " (f.urgent_hours) " h" }
                } } }
            }
            div class="card" {
                h2 class="mt0" { (l.t("Câu hỏi thêm của từng lĩnh vực", "Each field's extra questions")) }
                p class="muted" {
                    (l.t("Mỗi dòng một câu hỏi, được hỏi trên trang web, tổng đài, các kênh chat và Open311:",
                        "One question per line, asked on the web form, the hotline, the chats and Open311:"))
                    br; code { "mã | kiểu | required,private | Câu hỏi | Question | khóa=Tên; khóa=Tên" }
                    br; (l.t("Kiểu: ", "Types: ")) (phananh_domain::profile::ATTRIBUTE_TYPES.join(", "))
                    br; (l.t("«private»: câu trả lời là dữ liệu cá nhân, không bao giờ công khai.", "«private»: the answer is personal data, never published."))
                }
                @for f in &c.fields {
                    details open[!f.attributes.is_empty()] {
                        summary { (f.icon) " " (l.t(&f.name_vi, &f.name_en)) " (" (f.attributes.len()) ")" }
                        form method="post" action="/console/admin/fields/questions" {
                            (csrf_field(&staff))
                            input type="hidden" name="code" value=(f.code);
                            label for={"q-" (f.code)} { (l.t("Câu hỏi", "Questions")) }
                            textarea id={"q-" (f.code)} name="questions" rows=(f.attributes.len() + 2) class="wide" maxlength="20000" { (phananh_domain::questions::format(&f.attributes)) }
                            p { button type="submit" { (l.t("Lưu câu hỏi", "Save the questions")) } }
                        }
                    }
                }
            }
        },
    )
}

#[derive(Deserialize)]
pub(super) struct FieldForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name_vi: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    icon: String,
    #[serde(default)]
    ack_hours: String,
    #[serde(default)]
    resolve_days: String,
    #[serde(default)]
    keywords: String,
    #[serde(default)]
    review: Option<String>,
    #[serde(default)]
    urgent: Option<String>,
    #[serde(default)]
    urgent_hours: String,
    #[serde(default)]
    urgent_keywords: String,
    #[serde(default)]
    duplicate_radius_m: String,
}

pub(super) async fn save(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Csrf(Form(f)): Csrf<Form<FieldForm>>,
) -> Response {
    let input = FieldInput {
        code: f.code,
        name_vi: f.name_vi,
        name_en: f.name_en,
        icon: f.icon,
        ack_hours: f.ack_hours,
        resolve_days: f.resolve_days,
        keywords: f.keywords,
        review: f.review.is_some(),
        urgent: f.urgent.is_some(),
        urgent_hours: f.urgent_hours,
        urgent_keywords: f.urgent_keywords,
        duplicate_radius_m: f.duplicate_radius_m,
    };
    let result = state.app.save_field(&staff.principal, input).await;
    done(&state, &staff, "/console/admin/fields", result).await
}

#[derive(Deserialize)]
pub(super) struct QuestionsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    questions: String,
}

pub(super) async fn save_questions(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Csrf(Form(f)): Csrf<Form<QuestionsForm>>,
) -> Response {
    let result = state
        .app
        .save_field_questions(&staff.principal, &f.code, &f.questions)
        .await;
    done(&state, &staff, "/console/admin/fields", result).await
}

csrf_form!(FieldForm, QuestionsForm);
