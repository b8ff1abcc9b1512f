//! Passwords: every staff member changes their own (the current one required); an admin
//! issues a one-time reset link (shown once, stored hashed, valid 24 hours) for someone who
//! forgot theirs. Both end the person's other sessions.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use phananh_app::AppError;
use phananh_app::auth::{MIN_PASSWORD, RESET_HOURS};
use serde::Deserialize;

use super::Admin;
use super::csrf_field;
use crate::csrf::{Csrf, csrf_form};
use crate::layout::{error_page, page};
use crate::routes::{Routes, get, post};
use crate::session::{Staff, lang_of};
use crate::{AppState, Lang};

pub fn routes() -> Routes {
    Routes::new()
        .route("/console/password", get(change_page).post(change))
        .route("/console/admin/users/{id}/reset", post(issue_reset))
        .route("/reset/{token}", get(reset_page).post(reset))
}

/// Pages that show or take a secret are never cached.
fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn new_password_fields(l: Lang) -> Markup {
    html! {
        label for="new" { (l.t("Mật khẩu mới", "New password")) " (" (l.t(&format!("ít nhất {MIN_PASSWORD} ký tự"), &format!("at least {MIN_PASSWORD} characters"))) ")" }
        input id="new" name="new" type="password" required minlength=(MIN_PASSWORD) autocomplete="new-password" class="wide";
        label for="repeat" { (l.t("Nhập lại mật khẩu mới", "Repeat the new password")) }
        input id="repeat" name="repeat" type="password" required minlength=(MIN_PASSWORD) autocomplete="new-password" class="wide";
    }
}

fn change_form(staff: &Staff, status: StatusCode, message: Option<(bool, &str)>) -> Response {
    let l = staff.lang;
    let body = html! {
        div class="card narrow" {
            h1 { (l.t("Đổi mật khẩu", "Change password")) }
            @match message {
                Some((true, m)) => div class="notice" role="status" { (m) },
                Some((false, m)) => div class="error" role="alert" { (m) },
                None => {},
            }
            p { (l.t("Sau khi đổi, các phiên đăng nhập khác của bạn (trên máy khác) sẽ kết thúc.",
                     "Your other sessions (on other devices) end when you change it.")) }
            form method="post" action="/console/password" {
                (csrf_field(staff))
                label for="current" { (l.t("Mật khẩu hiện tại", "Current password")) }
                input id="current" name="current" type="password" required autocomplete="current-password" class="wide";
                (new_password_fields(l))
                p { button type="submit" { (l.t("Đổi mật khẩu", "Change password")) } }
            }
        }
    };
    no_store(
        (
            status,
            page(l.t("Đổi mật khẩu", "Change password"), l, Some(staff), body),
        )
            .into_response(),
    )
}

async fn change_page(staff: Staff) -> Response {
    change_form(&staff, StatusCode::OK, None)
}

#[derive(Deserialize)]
struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

fn mismatch(l: Lang) -> &'static str {
    l.t(
        "Hai lần nhập mật khẩu mới không giống nhau.",
        "The two new passwords differ.",
    )
}

async fn change(
    State(state): State<AppState>,
    staff: Staff,
    Csrf(Form(f)): Csrf<Form<ChangeForm>>,
) -> Response {
    let l = staff.lang;
    if f.new != f.repeat {
        return change_form(
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some((false, mismatch(l))),
        );
    }
    match state
        .app
        .change_password(staff.principal.user_id, &staff.token, &f.current, &f.new)
        .await
    {
        Ok(()) => change_form(
            &staff,
            StatusCode::OK,
            Some((
                true,
                l.t(
                    "Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc.",
                    "Password changed. Your other sessions have ended.",
                ),
            )),
        ),
        Err(e @ AppError::Validation(_)) => change_form(
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some((false, e.message().as_str())),
        ),
        Err(e) => error_page(&e, l, Some(&staff)),
    }
}

/// An admin creates a reset link for a user; the page shows it once.
async fn issue_reset(
    State(state): State<AppState>,
    Admin(staff): Admin,
    Path(id): Path<i64>,
    Csrf(Form(_)): Csrf<Form<super::CsrfForm>>,
) -> Response {
    let l = staff.lang;
    let user = match state.app.user(&staff.principal, id).await {
        Ok(u) => u,
        Err(e) => return error_page(&e, l, Some(&staff)),
    };
    let token = match state.app.issue_password_reset(&staff.principal, id).await {
        Ok(t) => t,
        Err(e) => return error_page(&e, l, Some(&staff)),
    };
    let link = format!(
        "{}/reset/{token}",
        state.config.public_url.trim_end_matches('/')
    );
    let body = html! {
        div class="card" {
            h1 { (l.t("Liên kết đặt lại mật khẩu", "Password reset link")) }
            p { (l.t("Cho tài khoản", "For the account")) " " strong { (user.email) } " (" (user.name) ")." }
            p { input id="reset-link" type="text" readonly value=(link) class="wide" aria-label=(l.t("Liên kết", "Link")); }
            div class="notice" role="status" {
                (l.t(&format!("Liên kết chỉ hiện một lần, dùng được một lần và hết hạn sau {RESET_HOURS} giờ. Hãy trao tận tay hoặc qua kênh an toàn cho chính người dùng. Liên kết cũ (nếu có) đã hết hiệu lực."),
                     &format!("This link is shown only once, works once and expires in {RESET_HOURS} hours. Hand it to the person directly or over a safe channel. Any earlier link no longer works.")))
            }
            p { a href="/console/admin/users" { (l.t("Về danh sách tài khoản", "Back to the accounts")) } }
        }
    };
    no_store(
        page(
            l.t("Liên kết đặt lại mật khẩu", "Password reset link"),
            l,
            Some(&staff),
            body,
        )
        .into_response(),
    )
}

fn reset_form(
    l: Lang,
    token: &str,
    email: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let body = html! {
        div class="card narrow" {
            h1 { (l.t("Đặt mật khẩu mới", "Set a new password")) }
            p { (l.t("Tài khoản", "Account")) ": " strong { (email) } }
            @if let Some(e) = error { div class="error" role="alert" { (e) } }
            form method="post" action={"/reset/" (token)} {
                (new_password_fields(l))
                p { button type="submit" { (l.t("Lưu mật khẩu", "Save the password")) } }
            }
        }
    };
    no_store(
        (
            status,
            page(l.t("Đặt mật khẩu mới", "Set a new password"), l, None, body),
        )
            .into_response(),
    )
}

fn link_dead(l: Lang) -> Response {
    let body = html! {
        div class="card narrow" {
            h1 { (l.t("Liên kết không còn hiệu lực", "This link does not work")) }
            div class="error" role="alert" {
                (l.t("Liên kết đặt lại mật khẩu không đúng, đã được dùng hoặc đã hết hạn. Hãy nhờ quản trị viên tạo liên kết mới.",
                     "The reset link is wrong, used or expired. Ask an administrator for a new one."))
            }
            p { a href="/login" { (l.t("Đăng nhập", "Log in")) } }
        }
    };
    no_store(
        (
            StatusCode::NOT_FOUND,
            page(
                l.t("Liên kết không còn hiệu lực", "This link does not work"),
                l,
                None,
                body,
            ),
        )
            .into_response(),
    )
}

async fn reset_page(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(token): Path<String>,
) -> Response {
    let l = lang_of(&headers);
    match state.app.password_reset_user(&token).await {
        Ok(Some(u)) => reset_form(l, &token, &u.email, StatusCode::OK, None),
        Ok(None) => link_dead(l),
        Err(e) => error_page(&e, l, None),
    }
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
}

/// The token in the path is the proof (a forged cross-site form would need it), so this
/// form needs no other CSRF token.
async fn reset(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(token): Path<String>,
    Form(f): Form<ResetForm>,
) -> Response {
    let l = lang_of(&headers);
    let user = match state.app.password_reset_user(&token).await {
        Ok(Some(u)) => u,
        Ok(None) => return link_dead(l),
        Err(e) => return error_page(&e, l, None),
    };
    if f.new != f.repeat {
        return reset_form(
            l,
            &token,
            &user.email,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(mismatch(l)),
        );
    }
    match state.app.reset_password(&token, &f.new).await {
        Ok(()) => {
            state.limits.login_backoff.succeeded(&user.email);
            no_store(Redirect::to("/login?reset=1").into_response())
        }
        Err(AppError::NotFound) => link_dead(l),
        Err(e @ AppError::Validation(_)) => reset_form(
            l,
            &token,
            &user.email,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(e.message().as_str()),
        ),
        Err(e) => error_page(&e, l, None),
    }
}

csrf_form!(ChangeForm);
