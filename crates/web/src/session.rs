//! The signed-in staff member, from the session cookie; CSRF checks; the client address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use phananh_app::auth::principal;
use phananh_domain::access::Principal;
use subtle::ConstantTimeEq;

use crate::{AppState, Lang};

pub const SESSION_COOKIE: &str = "phananh_session";
pub const LANG_COOKIE: &str = "phananh_lang";
/// Double-submit cookie for the login form, which comes before any session.
pub const LOGIN_CSRF_COOKIE: &str = "phananh_login_csrf";

/// A cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Adds a cookie to a response (HttpOnly, SameSite=Lax, Secure unless configured off).
pub fn add_cookie(
    response: &mut axum::response::Response,
    name: &str,
    value: &str,
    max_age_secs: i64,
    secure: bool,
) {
    if let Ok(v) = set_cookie(name, value, max_age_secs, secure).parse() {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, v);
    }
}

fn set_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Constant-time comparison for tokens.
pub fn same_token(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The language for people who are not signed in: Vietnamese unless they switched (the
/// choice is kept in a cookie). A browser set to English is common here and says little
/// about the person, so it does not decide.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .map(|l| Lang::parse(&l))
        .unwrap_or_default()
}

/// The client's address: the TCP peer, or, when the peer is a trusted proxy, the rightmost
/// untrusted hop of `X-Forwarded-For` (see [`crate::client_ip::client_ip`]).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        // A header line that is not text counts as malformed (an empty entry).
        let lines = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|v| v.to_str().unwrap_or(""));
        Ok(ClientIp(crate::client_ip::client_ip(
            peer,
            lines,
            &state.config.trusted_proxies,
        )))
    }
}

/// A signed-in staff member. Extracting it fails with "not signed in" (a redirect to the
/// login page for pages, 401 for the API).
#[derive(Clone)]
pub struct Staff {
    pub principal: Principal,
    pub csrf: String,
    pub lang: Lang,
    pub token: String,
}

impl Staff {
    /// Checks a submitted CSRF token against the session's.
    pub fn csrf_ok(&self, submitted: &str) -> bool {
        same_token(&self.csrf, submitted)
    }
}

pub struct NotSignedIn;

impl FromRequestParts<AppState> for Staff {
    type Rejection = NotSignedIn;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Looked up once per request: later extractors (the CSRF check) reuse it.
        if let Some(staff) = parts.extensions.get::<Staff>() {
            return Ok(staff.clone());
        }
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(NotSignedIn)?;
        let session = state
            .app
            .session(&token)
            .await
            .ok()
            .flatten()
            .ok_or(NotSignedIn)?;
        let staff = Staff {
            principal: principal(&session.user),
            csrf: session.csrf,
            lang: Lang::parse(&session.lang),
            token,
        };
        parts.extensions.insert(staff.clone());
        Ok(staff)
    }
}

/// Like [`Staff`] but optional.
pub struct MaybeStaff(pub Option<Staff>);

impl FromRequestParts<AppState> for MaybeStaff {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(MaybeStaff(
            Staff::from_request_parts(parts, state).await.ok(),
        ))
    }
}

impl axum::response::IntoResponse for NotSignedIn {
    fn into_response(self) -> axum::response::Response {
        axum::response::Redirect::to("/login").into_response()
    }
}

/// Whether the request carries `Authorization: Bearer <expected>` (compared in constant
/// time). An empty `expected` means the feature is off: nothing is accepted.
pub fn bearer_ok(headers: &axum::http::HeaderMap, expected: &str) -> bool {
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    !expected.is_empty() && same_token(expected, given)
}

/// Paths a read-only role may still post to: its own session's housekeeping (signing in
/// and out, the language, its own password).
const OWN_SESSION_PATHS: [&str; 6] = [
    "/login",
    "/logout",
    "/lang",
    "/console/account",
    "/console/password",
    "/reset",
];

/// Staff whose role writes nothing (oversight) get 403 on every request that could change
/// something, whatever route it reaches, so a route added later is covered without being
/// listed. Handlers check the named permissions of `phananh_domain::access` too.
pub async fn read_only_roles(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::Method;
    use axum::response::IntoResponse;
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    let own = OWN_SESSION_PATHS
        .iter()
        .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    if safe || own || cookie(req.headers(), SESSION_COOKIE).is_none() {
        return next.run(req).await;
    }
    let api = path.starts_with("/api/") || path.starts_with("/open311/");
    let (mut parts, body) = req.into_parts();
    if let Ok(staff) = Staff::from_request_parts(&mut parts, &state).await
        && !staff.principal.can_write()
    {
        tracing::warn!(user = staff.principal.user_id, path = %parts.uri.path(), "write refused to a read-only role");
        return if api {
            crate::error::ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                crate::error::ErrorCode::ReadOnlyRole,
                "Vai trò của bạn chỉ được xem, không được thay đổi dữ liệu / your role may read but not change anything",
            )
            .into_response()
        } else {
            crate::layout::error_page(&phananh_app::AppError::Forbidden, staff.lang, Some(&staff))
        };
    }
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}
