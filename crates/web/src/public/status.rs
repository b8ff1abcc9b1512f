//! The status page of a report, by its tracking code: where it stands, its public history
//! and photos, and the "follow" and rating forms.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::follow;
use crate::layout::{page, status_badge, when};
use crate::session::{add_cookie, lang_of};
use crate::{AppState, Lang};

#[derive(Deserialize, Default)]
pub(super) struct StatusQuery {
    new: Option<String>,
    followed: Option<String>,
    confirm: Option<String>,
    rated: Option<String>,
}

pub(super) async fn status_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<StatusQuery>,
) -> Response {
    let lang = lang_of(&headers);
    let (report, events) = match state.app.public_report(&code).await {
        Ok(r) => r,
        Err(_) => {
            return (StatusCode::NOT_FOUND, page(lang.t("Không tìm thấy", "Not found"), lang, None, html! {
                h1 { (lang.t("Không tìm thấy hồ sơ", "No such report")) }
                div class="error" role="alert" { (lang.t("Mã hồ sơ không đúng. Mã gồm 8 ký tự, ví dụ ABCD-2345.", "That tracking code is not right. It has 8 characters, like ABCD-2345.")) }
                p { a href="/" { (lang.t("Về trang chủ", "Home")) } }
            })).into_response();
        }
    };
    let catalog = state.app.catalog().await;
    let photos = state.app.public_photos(&report).await.unwrap_or_default();
    let media = state.app.public_media(&report).await.unwrap_or_default();
    let followers = state.app.follower_count(report.id).await.unwrap_or(0);
    let csrf = phananh_app::auth::random_token();
    let mut response = page(&report.code, lang, None, html! {
        @if q.rated.is_some() {
            div class="notice" role="status" { (lang.t("Cảm ơn bạn đã đánh giá. Nếu vấn đề chưa được khắc phục, phản ánh đã được mở lại cho đơn vị xử lý.", "Thank you for rating. If it was not fixed, the report was reopened for the unit.")) }
        }
        @if q.confirm.is_some() {
            div class="notice" role="status" { (lang.t("Vui lòng mở email của bạn và bấm vào liên kết xác nhận. Bạn chỉ nhận thông báo sau khi xác nhận.", "Check your email and open the confirmation link. You will hear of updates only after confirming.")) }
        }
        @if q.followed.is_some() {
            div class="notice" role="status" { (lang.t("Bạn đang theo dõi phản ánh này. Nếu đã để lại email, bạn sẽ nhận thông báo mỗi khi có cập nhật.", "You follow this report. If you left an email, you will hear of every update.")) }
        }
        @if q.new.is_some() {
            div class="notice" role="status" {
                p { (lang.t("Đã tiếp nhận phản ánh của bạn. Mã hồ sơ:", "Your report was received. Tracking code:")) }
                p class="big" { span class="code" { (report.code) } }
                p { (lang.t("Hãy lưu mã này để tra cứu kết quả.", "Keep this code to follow your report.")) }
            }
        }
        h1 { (lang.t("Phản ánh", "Report")) " " span class="code" { (report.code) } " " (status_badge(report.status, lang)) }
        @match report.publication {
            phananh_domain::model::Publication::Review => p class="notice" role="status" { (lang.t(
                "Nội dung và ảnh của phản ánh đang chờ kiểm duyệt trước khi công khai. Hồ sơ vẫn được xử lý bình thường.",
                "The text and photos of this report wait for review before they are published. The report is handled as usual.")) },
            phananh_domain::model::Publication::Hidden => p class="notice" role="status" { (lang.t(
                "Nội dung và ảnh của phản ánh này không được công khai. Hồ sơ vẫn được xử lý bình thường.",
                "The text and photos of this report are not public. The report is handled as usual.")) },
            phananh_domain::model::Publication::Published => {}
        }
        @if let Some(of) = &report.duplicate_of {
            p class="notice" role="status" id="duplicate-of" {
                (lang.t("Trùng với hồ sơ", "Duplicate of")) " " a href={"/r/" (of)} class="code" { (of) } ". "
                (lang.t("Vấn đề này được xử lý và thông báo tiếp ở hồ sơ đó.", "The problem is handled, and its news is sent, in that report."))
            }
        }
        div class="card" {
            dl class="facts" {
                dt { (lang.t("Lĩnh vực", "Field")) } dd { (catalog.field_name(&report.field)) }
                @if report.status.is_published() {
                    dt { (lang.t("Nội dung", "Description")) } dd { (report.description) }
                    dt { (lang.t("Phường, xã", "Ward")) } dd { (report.ward.as_deref().map(|w| catalog.ward_name(w)).unwrap_or_else(|| "—".into())) }
                    // The projection has already dropped answers that are personal data.
                    @for (q, a) in crate::questions::answered(catalog.field(&report.field), &report.extra.attributes, lang) {
                        dt { (q) } dd { (a) }
                    }
                }
                dt { (lang.t("Đơn vị xử lý", "Handled by")) } dd { (catalog.unit_name(&report.unit)) }
                dt { (lang.t("Hạn xử lý", "Due")) } dd { (report.due_at.map(when).unwrap_or_else(|| "—".into())) }
                dt { (lang.t("Tiếp nhận", "Received")) } dd { (when(report.created_at)) }
            }
            @if !photos.is_empty() {
                div class="photos" { @for k in &photos { a href={"/photos/" (k)} { img src={"/photos/" (phananh_app::photos::thumb_key(k))} alt=(lang.t("Ảnh phản ánh", "Photo")) loading="lazy"; } } }
            }
            (crate::layout::media_players(&media, lang))
        }
        h2 { (lang.t("Quá trình xử lý", "What happened")) }
        div class="card" {
            ol class="history" {
                @for e in &events {
                    li {
                        div class="when" { (when(e.at)) }
                        div { (catalog.describe(&e.kind, lang == Lang::En, true)) }
                        @if let phananh_domain::event::EventKind::Resolved { photo: Some(k), .. } = &e.kind {
                            a href={"/photos/" (k)} { img src={"/photos/" (phananh_app::photos::thumb_key(k))} alt=(lang.t("Ảnh kết quả xử lý", "Photo of the result")) loading="lazy" class="thumb"; }
                        }
                    }
                }
            }
        }
        @if report.status.is_open() {
            h2 id="follow" { (lang.t("Bạn cũng gặp vấn đề này?", "Same problem for you?")) }
            form class="card" method="post" action={"/r/" (report.code) "/follow"} {
                p { (lang.t("Theo dõi thay vì gửi phản ánh mới. Để lại email nếu muốn nhận thông báo khi có cập nhật (không bao giờ công khai).",
                    "Follow it instead of filing a new report. Leave an email to hear of each update (never published).")) }
                @if followers > 0 { p class="muted" { (followers) " " (lang.t("người đang theo dõi phản ánh này", "people follow this report")) } }
                input type="hidden" name="csrf" value=(csrf);
                label for="follow-email" { "Email" }
                input id="follow-email" name="email" type="email" autocomplete="email";
                p { button type="submit" { (lang.t("Cùng vấn đề — theo dõi", "Same problem — follow")) } }
            }
        }
        p { a href="/new" { (lang.t("Gửi phản ánh khác", "Report another problem")) } }
        p { a href="/mine" { (lang.t("Phản ánh của tôi trên thiết bị này", "My reports on this device")) } }
    })
    .into_response();
    add_cookie(
        &mut response,
        follow::FOLLOW_COOKIE,
        &csrf,
        7200,
        state.config.secure_cookies,
    );
    response
}
