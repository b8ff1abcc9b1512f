//! The staff console: server-rendered pages, Vietnamese first, every form with a CSRF token.

mod admin;
mod hotline;
mod password;
mod performance;
mod queue;
mod report;

use crate::routes::{Routes, get, post};
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};
use phananh_app::AppError;
use phananh_domain::access::Role;
use phananh_domain::calendar::to_local;
use phananh_domain::model::Status;
use serde::Deserialize;

use crate::error::status_of;
use crate::session::{
    ClientIp, LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, Staff, add_cookie, cookie, lang_of,
    same_token,
};
use crate::{AppState, Lang};

pub use hotline::stream_routes;

pub fn routes() -> Routes {
    Routes::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang", post(set_lang))
        .route("/lang/{code}", get(set_lang_public))
        .merge(queue::routes())
        .merge(report::routes())
        .merge(admin::routes())
        .merge(hotline::routes())
        .merge(performance::routes())
        .merge(password::routes())
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
                (crate::public::pwa_head())
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
                            @if matches!(s.principal.role, Role::Triage | Role::Admin | Role::Supervisor) {
                                a href="/console/triage" { (lang.t("Bàn điều phối", "Triage desk")) }
                            }
                            @if matches!(s.principal.role, Role::Supervisor | Role::Admin | Role::Oversight | Role::UnitManager) {
                                a href="/console/performance" { (lang.t("Tiến độ đơn vị", "Units")) }
                            }
                            @if matches!(s.principal.role, Role::Triage | Role::Admin) {
                                a href="/console/hotline" { (lang.t("Tổng đài", "Hotline")) }
                                a href="/console/unfiled" { (lang.t("Tin chờ xử lý", "Messages")) }
                            }
                            @if s.principal.role == Role::Admin {
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

fn login_form(lang: Lang, csrf: &str, email: &str, error: Option<&str>) -> Html<String> {
    page(
        lang.t("Đăng nhập", "Log in"),
        lang,
        None,
        html! {
            div class="card narrow" {
                h1 { (lang.t("Đăng nhập cán bộ", "Staff log in")) }
                @if let Some(e) = error { div class="error" role="alert" { (e) } }
                form method="post" action="/login" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="email" { "Email" }
                    input id="email" name="email" type="email" autocomplete="username" required value=(email) class="wide";
                    label for="password" { (lang.t("Mật khẩu", "Password")) }
                    input id="password" name="password" type="password" autocomplete="current-password" required class="wide";
                    p { button type="submit" { (lang.t("Đăng nhập", "Log in")) } }
                }
            }
        },
    )
}

fn with_login_csrf(
    lang: Lang,
    secure: bool,
    email: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let csrf = phananh_app::auth::random_token();
    let mut r = (status, login_form(lang, &csrf, email, error)).into_response();
    add_cookie(&mut r, LOGIN_CSRF_COOKIE, &csrf, 3600, secure);
    r
}

async fn login_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    with_login_csrf(
        lang_of(&headers),
        state.config.secure_cookies,
        "",
        None,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang_of(&headers);
    let secure = state.config.secure_cookies;
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !same_token(&expected, &form.csrf) {
        return csrf_failed(lang, None);
    }
    let too_many = |wait_secs: Option<i64>| {
        let msg = match wait_secs {
            Some(s) => lang
                .t(
                    &format!("Đăng nhập sai nhiều lần. Vui lòng thử lại sau {s} giây."),
                    &format!("Too many failed attempts. Try again in {s} seconds."),
                )
                .to_string(),
            None => lang
                .t(
                    "Quá nhiều lần đăng nhập từ địa chỉ này. Vui lòng thử lại sau ít phút.",
                    "Too many attempts from this address. Try again in a few minutes.",
                )
                .to_string(),
        };
        let mut r = with_login_csrf(
            lang,
            secure,
            &form.email,
            Some(msg.as_str()),
            StatusCode::TOO_MANY_REQUESTS,
        );
        if let Some(s) = wait_secs
            && let Ok(v) = s.to_string().parse()
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    };
    if !state.limits.login_ip(ip) {
        return too_many(None);
    }
    let backoff = &state.limits.login_backoff;
    if let Err(wait) = backoff.check(&form.email, state.app.clock.now()) {
        // Ceiling, so "0 seconds" is never shown.
        return too_many(Some((wait.num_milliseconds() + 999) / 1000));
    }
    match state
        .app
        .login(&form.email, &form.password, lang.code())
        .await
    {
        Ok((token, _)) => {
            backoff.succeeded(&form.email);
            let mut r = Redirect::to("/console").into_response();
            let hours = phananh_app::auth::SESSION_HOURS * 3600;
            add_cookie(&mut r, SESSION_COOKIE, &token, hours, secure);
            add_cookie(&mut r, LOGIN_CSRF_COOKIE, "", 0, secure);
            r
        }
        Err(AppError::BadCredentials) => {
            backoff.failed(&form.email, state.app.clock.now());
            let msg = lang.t("Sai email hoặc mật khẩu.", "Wrong email or password.");
            with_login_csrf(
                lang,
                secure,
                &form.email,
                Some(msg),
                StatusCode::UNAUTHORIZED,
            )
        }
        Err(e) => error_page(&e, lang, None),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub lang: String,
}

async fn logout(
    State(state): State<AppState>,
    staff: Staff,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !staff.csrf_ok(&form.csrf) {
        return csrf_failed(staff.lang, Some(&staff));
    }
    let _ = state.app.logout(&staff.token).await;
    let mut r = Redirect::to("/login").into_response();
    add_cookie(&mut r, SESSION_COOKIE, "", 0, state.config.secure_cookies);
    r
}

async fn set_lang(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !staff.csrf_ok(&form.csrf) {
        return csrf_failed(staff.lang, Some(&staff));
    }
    let lang = Lang::parse(&form.lang);
    let _ = state
        .app
        .store
        .set_session_lang(&phananh_app::auth::token_hash(&staff.token), lang.code())
        .await;
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.find("/console").map(|i| r[i..].to_string()))
        .unwrap_or_else(|| "/console".into());
    let mut r = Redirect::to(&back).into_response();
    add_cookie(
        &mut r,
        LANG_COOKIE,
        lang.code(),
        365 * 86400,
        state.config.secure_cookies,
    );
    r
}

/// Switches the language for people who are not signed in, and goes back where they were.
async fn set_lang_public(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> Response {
    let lang = Lang::parse(&code);
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| r.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    let mut r = Redirect::to(&back).into_response();
    add_cookie(
        &mut r,
        LANG_COOKIE,
        lang.code(),
        365 * 86400,
        state.config.secure_cookies,
    );
    r
}

/// Renders a hidden CSRF field.
pub fn csrf_field(staff: &Staff) -> Markup {
    html! { input type="hidden" name="csrf" value=(staff.csrf); }
}
