//! Moderation in the console: the queue of reports waiting for review, and the card on the
//! report page where a moderator publishes the report, edits the text the public sees,
//! hides or redacts a photo (rectangles drawn on it in the browser, rendered by the
//! server), or hides the report with a reason the reporter is told.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use phananh_app::AppError;
use phananh_domain::event::Rect;
use phananh_domain::model::{Publication, Report};
use phananh_domain::moderation::Step;
use serde::Deserialize;

use super::csrf_field;
use crate::csrf::{Csrf, csrf_form};
use crate::layout::{error_page, page, status_badge, when};
use crate::routes::{Routes, get, post};
use crate::session::Staff;
use crate::{AppState, Lang};

pub fn routes() -> Routes {
    Routes::new()
        .route("/console/moderation", get(queue))
        .route("/console/reports/{code}/moderation", post(moderate))
}

#[derive(Deserialize, Default)]
struct QueueQuery {
    #[serde(default)]
    offset: i64,
}

async fn queue(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<QueueQuery>,
) -> Response {
    let lang = staff.lang;
    let page_of = match state
        .app
        .moderation_queue(&staff.principal, q.offset.max(0))
        .await
    {
        Ok(p) => p,
        Err(e) => return error_page(&e, lang, Some(&staff)),
    };
    let catalog = state.app.catalog().await;
    let body = html! {
        h1 { (lang.t("Phản ánh chờ kiểm duyệt", "Reports waiting for review")) }
        p class="muted" { (lang.t(
            "Nội dung và ảnh của các phản ánh này chưa được công khai. Người dân vẫn theo dõi được trạng thái bằng mã hồ sơ.",
            "The text and photos of these reports are not public yet. Citizens can still follow them by their code.")) }
        @if page_of.items.is_empty() {
            p { (lang.t("Không có phản ánh nào chờ kiểm duyệt.", "Nothing is waiting for review.")) }
        } @else {
            table {
                thead { tr { th { (lang.t("Mã", "Code")) } th { (lang.t("Lĩnh vực", "Field")) } th { (lang.t("Nội dung", "Description")) } th { (lang.t("Trạng thái", "Status")) } th { (lang.t("Tiếp nhận", "Received")) } } }
                tbody {
                    @for r in &page_of.items {
                        tr {
                            td { a class="code" href={"/console/reports/" (r.code) "#moderation"} { (r.code) } }
                            td { (catalog.field_name(&r.field)) }
                            td { (r.description.chars().take(120).collect::<String>()) }
                            td { (status_badge(r.status, lang)) }
                            td { (when(r.created_at)) }
                        }
                    }
                }
            }
            @if page_of.has_more {
                p { a href={"/console/moderation?offset=" (q.offset.max(0) + 50)} { (lang.t("Trang sau", "Next page")) } }
            }
        }
    };
    page(lang.t("Kiểm duyệt", "Review"), lang, Some(&staff), body).into_response()
}

/// The moderation card of the report page, for those who may moderate it.
pub(super) async fn card(state: &AppState, staff: &Staff, r: &Report) -> Markup {
    if !staff.principal.can_moderate(&r.unit) {
        return html! {};
    }
    let lang = staff.lang;
    let photos = state
        .app
        .moderated_photos(&staff.principal, r)
        .await
        .unwrap_or_default();
    let action = format!("/console/reports/{}/moderation", r.code);
    let public_text = r.public_text.as_deref().unwrap_or(&r.description);
    html! {
        div class="card" id="moderation" {
            h2 class="mt0" { (lang.t("Kiểm duyệt nội dung công khai", "What the public sees")) }
            p { strong { (lang.t(r.publication.label_vi(), r.publication.label_en())) } }
            @if r.publication != Publication::Published {
                form method="post" action=(action) {
                    (csrf_field(staff))
                    input type="hidden" name="step" value="publish";
                    button type="submit" { (lang.t("Công khai nội dung và ảnh", "Publish the text and photos")) }
                }
            }
            details {
                summary { (lang.t("Sửa nội dung công khai (giữ nguyên bản gốc cho cán bộ)", "Edit the public text (the original stays for staff)")) }
                form method="post" action=(action) {
                    (csrf_field(staff))
                    input type="hidden" name="step" value="edit_text";
                    label for="public-text" { (lang.t("Nội dung công khai", "Public text")) }
                    textarea id="public-text" name="text" required maxlength="5000" rows="4" { (public_text) }
                    p { button type="submit" { (lang.t("Lưu nội dung công khai", "Save the public text")) } }
                }
            }
            @if r.publication != Publication::Hidden {
                details {
                    summary { (lang.t("Không công khai phản ánh này", "Hide this report from the public")) }
                    form method="post" action=(action) {
                        (csrf_field(staff))
                        input type="hidden" name="step" value="hide";
                        label for="hide-reason" { (lang.t("Lý do (người phản ánh được thông báo)", "Reason (the reporter is told)")) }
                        textarea id="hide-reason" name="reason" required maxlength="5000" {}
                        p { button type="submit" class="danger" { (lang.t("Không công khai", "Hide")) } }
                    }
                }
            }
            @for p in &photos {
                div class="moderated-photo" {
                    @if p.hidden {
                        p class="muted" { (lang.t("Ảnh đã ẩn khỏi trang công khai:", "Photo hidden from the public:")) }
                    } @else if let Some(c) = &p.public_copy {
                        p class="muted" { (lang.t("Công chúng thấy bản đã che:", "The public sees the covered copy:")) " "
                            a href={"/photos/" (c)} { img src={"/photos/" (phananh_app::photos::thumb_key(c))} alt=(lang.t("Bản đã che", "Covered copy")) class="thumb"; } }
                    }
                    (photo_tools(staff, &action, &p.key, p.hidden, lang))
                }
            }
            script src="/static/redact.js" {}
        }
    }
}

fn photo_tools(staff: &Staff, action: &str, key: &str, hidden: bool, lang: Lang) -> Markup {
    html! {
        div class="redact" data-photo=(key) {
            img src={"/photos/" (key)} alt=(lang.t("Ảnh gốc (chỉ cán bộ)", "Original photo (staff only)")) class="redact-image";
            @if !hidden {
                form method="post" action=(action) class="inline" {
                    (csrf_field(staff))
                    input type="hidden" name="step" value="hide_photo";
                    input type="hidden" name="photo" value=(key);
                    button type="submit" class="secondary" { (lang.t("Ẩn ảnh này", "Hide this photo")) }
                }
                form method="post" action=(action) class="redact-form" {
                    (csrf_field(staff))
                    input type="hidden" name="step" value="redact_photo";
                    input type="hidden" name="photo" value=(key);
                    label { (lang.t("Vùng che (kéo chuột trên ảnh, hoặc nhập x,y,rộng,cao; cách nhau bởi ;)", "Areas to cover (drag on the photo, or type x,y,width,height; separated by ;)")) }
                    input name="boxes" class="wide redact-boxes" required pattern="[0-9,; ]+";
                    button type="submit" { (lang.t("Che các vùng đã chọn", "Cover the chosen areas")) }
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct ModerationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    photo: String,
    #[serde(default)]
    boxes: String,
}

csrf_form!(ModerationForm);

/// Rectangles typed as `x,y,w,h; x,y,w,h` (what the page's script fills in).
fn parse_boxes(text: &str) -> Option<Vec<Rect>> {
    let mut out = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        if out.len() > phananh_domain::moderation::MAX_BOXES {
            return None;
        }
        let n: Vec<u32> = part
            .split(',')
            .map(|v| v.trim().parse().ok())
            .collect::<Option<Vec<u32>>>()?;
        let [x, y, w, h] = n[..] else {
            return None;
        };
        out.push(Rect { x, y, w, h });
    }
    Some(out)
}

fn step_of(f: ModerationForm) -> Result<Step, AppError> {
    Ok(match f.step.as_str() {
        "publish" => Step::Publish,
        "edit_text" => Step::EditText { text: f.text },
        "hide" => Step::Hide { reason: f.reason },
        "hide_photo" => Step::HidePhoto { photo: f.photo },
        "redact_photo" => Step::RedactPhoto {
            photo: f.photo,
            boxes: parse_boxes(&f.boxes).ok_or_else(|| {
                AppError::invalid(
                    "boxes",
                    "invalid_boxes",
                    "Vùng che không hợp lệ (x,y,rộng,cao; ...)",
                    "Invalid areas (x,y,width,height; ...)",
                )
            })?,
        },
        _ => {
            return Err(AppError::invalid(
                "step",
                "unknown_step",
                "Thao tác không hợp lệ",
                "Unknown step",
            ));
        }
    })
}

async fn moderate(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Csrf(Form(f)): Csrf<Form<ModerationForm>>,
) -> Response {
    let result = match step_of(f) {
        Ok(step) => state.app.moderate(&staff.principal, &code, step).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => Redirect::to(&format!("/console/reports/{}#moderation", r.code)).into_response(),
        Err(e) => error_page(&e, staff.lang, Some(&staff)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_read_from_the_form() {
        assert_eq!(
            parse_boxes("10,20,30,40; 0,0,5,5;"),
            Some(vec![
                Rect {
                    x: 10,
                    y: 20,
                    w: 30,
                    h: 40
                },
                Rect {
                    x: 0,
                    y: 0,
                    w: 5,
                    h: 5
                }
            ])
        );
        for bad in ["1,2,3", "a,b,c,d", "1,2,3,4,5", "-1,0,2,2"] {
            assert_eq!(parse_boxes(bad), None, "{bad}");
        }
        let many = "1,1,1,1;".repeat(phananh_domain::moderation::MAX_BOXES + 2);
        assert_eq!(parse_boxes(&many), None);
    }
}
