//! The staff console: server-rendered pages, Vietnamese first, every form with a CSRF token.

mod admin;
mod hotline;
mod moderation;
mod password;
mod performance;
mod queue;
mod report;

use crate::routes::{Routes, get, post};
use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use phananh_app::AppError;
use serde::Deserialize;

use crate::csrf::{Csrf, csrf_form};
use crate::layout::{error_page, page};
use crate::session::{
    ClientIp, LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, Staff, add_cookie, lang_of,
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
        .merge(moderation::routes())
        .merge(admin::routes())
        .merge(hotline::routes())
        .merge(performance::routes())
        .merge(password::routes())
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
    Csrf(Form(form)): Csrf<Form<LoginForm>>,
) -> Response {
    let lang = lang_of(&headers);
    let secure = state.config.secure_cookies;
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

csrf_form!(LoginForm, cookie = LOGIN_CSRF_COOKIE);

/// A form with nothing but its token (and, for `/lang`, the language).
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
    Csrf(Form(_)): Csrf<Form<CsrfForm>>,
) -> Response {
    let _ = state.app.logout(&staff.token).await;
    let mut r = Redirect::to("/login").into_response();
    add_cookie(&mut r, SESSION_COOKIE, "", 0, state.config.secure_cookies);
    // The service worker's offline copies of this person's tasks and reports go too.
    r.headers_mut().insert(
        header::HeaderName::from_static("clear-site-data"),
        header::HeaderValue::from_static("\"cache\""),
    );
    r
}

async fn set_lang(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Csrf(Form(form)): Csrf<Form<CsrfForm>>,
) -> Response {
    let lang = Lang::parse(&form.lang);
    let _ = state.app.set_session_lang(&staff.token, lang.code()).await;
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

/// An administrator. Admin pages answer "not found" to everyone else, as other staff
/// routes do for what is outside a person's scope.
pub(crate) struct Admin(pub Staff);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let staff = Staff::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if staff.principal.can_admin() {
            Ok(Admin(staff))
        } else {
            Err(error_page(&AppError::NotFound, staff.lang, Some(&staff)))
        }
    }
}

/// Renders a hidden CSRF field.
pub fn csrf_field(staff: &Staff) -> Markup {
    html! { input type="hidden" name="csrf" value=(staff.csrf); }
}

csrf_form!(CsrfForm);
