//! The page frame every HTML page shares (console and public), the error pages, and how
//! pages write and read dates and statuses. Console and public pages both build on this
//! module; neither imports the other.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};
use phananh_app::AppError;
use phananh_domain::calendar::to_local;
use phananh_domain::model::Status;

use crate::Lang;
use crate::error::status_of;
use crate::session::Staff;

/// The brand colour of `app.css` (`--brand`), used as the browser's theme colour.
pub const THEME_COLOR: &str = "#b3261e";

/// What every page's `<head>` carries for the installable app: theme colour, manifest,
/// icons, and `pwa.js` (service worker, "my reports", the offline queue).
pub fn pwa_head() -> Markup {
    html! {
        meta name="theme-color" content=(THEME_COLOR);
        link rel="manifest" href="/manifest.webmanifest";
        link rel="icon" type="image/png" href="/static/icons/icon-192.png";
        link rel="apple-touch-icon" href="/static/icons/icon-192.png";
        script src="/static/pwa.js" defer {}
    }
}

/// The start of a long text, cut at a word and marked with "…".
pub fn excerpt(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    let cut = cut
        .rsplit_once(char::is_whitespace)
        .map(|(a, _)| a)
        .unwrap_or(&cut);
    format!("{}…", cut.trim_end())
}

/// Local time in the city, as people read it.
pub fn when(t: DateTime<Utc>) -> String {
    to_local(t).format("%H:%M %d/%m/%Y").to_string()
}

pub fn status_badge(status: Status, lang: Lang) -> Markup {
    html! { span class={"badge " (status.as_str())} { (lang.t(status.label_vi(), status.label_en())) } }
}

/// The page frame. `staff` is None on the login page.
pub fn page(title: &str, lang: Lang, staff: Option<&Staff>, body: Markup) -> Html<String> {
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · phananh" }
                link rel="stylesheet" href="/static/app.css";
                (pwa_head())
            }
            body {
                a class="skip" href="#main" { (lang.t("Bỏ qua điều hướng", "Skip to content")) }
                header class="top" {
                    a class="brand" href=(if staff.is_some() { "/console" } else { "/" }) { "phananh · " (lang.t("Tiếp nhận phản ánh", "Citizen reports")) }
                    @if staff.is_none() {
                        div class="me" {
                            @if lang == Lang::Vi { a href="/lang/en" lang="en" { "English" } } @else { a href="/lang/vi" lang="vi" { "Tiếng Việt" } }
                        }
                    }
                    @if let Some(s) = staff {
                        nav aria-label=(lang.t("Chính", "Main")) {
                            a href="/console" { (lang.t("Hàng đợi", "Queue")) }
                            @if s.principal.unit.is_some() && s.principal.can_write() {
                                a href="/console/tasks" { (lang.t("Việc của tôi", "My tasks")) }
                            }
                            @if s.principal.can_use_triage_desk() {
                                a href="/console/triage" { (lang.t("Bàn điều phối", "Triage desk")) }
                            }
                            @if s.principal.can_see_performance() {
                                a href="/console/performance" { (lang.t("Tiến độ đơn vị", "Units")) }
                            }
                            @if s.principal.can_use_moderation_queue() {
                                a href="/console/moderation" { (lang.t("Kiểm duyệt", "Review")) }
                            }
                            @if s.principal.can_use_hotline() {
                                a href="/console/hotline" { (lang.t("Tổng đài", "Hotline")) }
                                a href="/console/unfiled" { (lang.t("Tin chờ xử lý", "Messages")) }
                            }
                            @if s.principal.can_admin() {
                                a href="/console/admin" { (lang.t("Quản trị", "Administration")) }
                            }
                        }
                        div class="me" {
                            span { (s.principal.name) " · " (lang.t(s.principal.role.label_vi(), s.principal.role.label_en())) }
                            a href="/console/password" { (lang.t("Đổi mật khẩu", "Change password")) }
                            (lang_switch(lang, &s.csrf))
                            form class="inline" method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(s.csrf);
                                button class="secondary" type="submit" { (lang.t("Đăng xuất", "Log out")) }
                            }
                        }
                    }
                }
                main id="main" { (body) }
            }
        }
    };
    Html(markup.into_string())
}

fn lang_switch(lang: Lang, csrf: &str) -> Markup {
    let other = if lang == Lang::Vi { "en" } else { "vi" };
    html! {
        form class="inline" method="post" action="/lang" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="lang" value=(other);
            button class="secondary" type="submit" lang=(other) { (if lang == Lang::Vi { "English" } else { "Tiếng Việt" }) }
        }
    }
}

/// An error shown as a page (for people), with the right status code.
pub fn error_page(e: &AppError, lang: Lang, staff: Option<&Staff>) -> Response {
    let status = status_of(e);
    if status.is_server_error() {
        tracing::error!(error = %e, "page failed");
    }
    let (title, detail) = match e {
        AppError::NotFound => (
            lang.t("Không tìm thấy", "Not found"),
            lang.t(
                "Không có hồ sơ hoặc trang này.",
                "There is no such report or page.",
            )
            .to_string(),
        ),
        _ => (
            lang.t("Không thực hiện được", "Could not do that"),
            e.message(),
        ),
    };
    (
        status,
        page(
            title,
            lang,
            staff,
            html! {
                h1 { (title) }
                div class="error" role="alert" { (detail) }
                p { a href="/console" { (lang.t("Về hàng đợi", "Back to the queue")) } }
            },
        ),
    )
        .into_response()
}

pub fn csrf_failed(lang: Lang, staff: Option<&Staff>) -> Response {
    (StatusCode::FORBIDDEN, page(lang.t("Phiên không hợp lệ", "Invalid session"), lang, staff, html! {
        h1 { (lang.t("Phiên làm việc không hợp lệ", "Invalid form token")) }
        div class="error" role="alert" {
            (lang.t("Biểu mẫu đã hết hạn hoặc không hợp lệ (CSRF). Vui lòng tải lại trang và thử lại.",
                    "The form expired or is not valid (CSRF). Reload the page and try again."))
        }
    }))
        .into_response()
}

/// The start of a typed local date (`YYYY-MM-DD`), or of the next day when `end`.
pub(crate) fn local_day(s: &Option<String>, end: bool) -> Option<chrono::DateTime<chrono::Utc>> {
    let d = chrono::NaiveDate::parse_from_str(s.as_deref()?.trim(), "%Y-%m-%d").ok()?;
    let d = if end { d.succ_opt()? } else { d };
    let local = d
        .and_hms_opt(0, 0, 0)?
        .and_local_timezone(phananh_domain::calendar::city_tz())
        .single()?;
    Some(local.with_timezone(&chrono::Utc))
}

/// A report's video and voice notes as players (`<video>` with its poster, `<audio>`),
/// with a link to the file for players that cannot play it (AMR, QuickTime in Firefox).
pub fn media_players(items: &[phananh_app::media::MediaItem], lang: Lang) -> Markup {
    use phananh_app::media::MediaKind;
    html! {
        @if !items.is_empty() {
            div class="media" {
                @for m in items {
                    @let src = format!("/media/{}", m.key);
                    @let secs = (m.duration_ms + 500) / 1000;
                    figure class="media-item" {
                        @match m.kind {
                            MediaKind::Video => {
                                video controls preload="metadata" src=(src) poster=[m.poster.as_ref().map(|p| format!("/media/{p}"))] {
                                    source src=(src) type=(m.content_type);
                                }
                            }
                            MediaKind::Audio => {
                                audio controls preload="metadata" src=(src) {
                                    source src=(src) type=(m.content_type);
                                }
                            }
                        }
                        figcaption class="muted" {
                            (match m.kind { MediaKind::Video => lang.t("Video", "Video"), MediaKind::Audio => lang.t("Ghi âm", "Voice note") })
                            " · " (format!("{}:{:02}", secs / 60, secs % 60)) " · "
                            a href=(src) download { (lang.t("Tải về", "Download")) }
                        }
                    }
                }
            }
        }
    }
}
