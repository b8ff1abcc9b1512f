//! CSRF checks as an extractor: a handler that takes `Csrf<Form<T>>` only runs when the
//! form's token is right. A wrong or missing token gets the "invalid form token" page (403).
//!
//! Staff forms carry their session's token. Forms shown before any session (the login, a
//! citizen's "follow" and rating forms) name a double-submit cookie instead
//! ([`CsrfToken::COOKIE`]): the token in the form must equal the cookie's.

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::layout::csrf_failed;
use crate::session::{Staff, cookie, lang_of, same_token};
use crate::{AppState, Lang};

/// A form that carries a CSRF token.
pub trait CsrfToken {
    /// The double-submit cookie holding the expected token, for forms shown before any
    /// session; `None` (the default): the signed-in staff member's session token.
    const COOKIE: Option<&'static str> = None;

    /// The token the form carries.
    fn csrf(&self) -> &str;
}

/// Forms read as a map carry the token under `csrf`.
impl CsrfToken for std::collections::HashMap<String, String> {
    fn csrf(&self) -> &str {
        self.get("csrf").map(String::as_str).unwrap_or("")
    }
}

/// Forms with repeated names (a list of ticked checkboxes) are read as pairs; the token is
/// the pair named `csrf`.
impl CsrfToken for Vec<(String, String)> {
    fn csrf(&self) -> &str {
        self.iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

/// Implements [`CsrfToken`] for form structs with a `csrf: String` field, optionally naming
/// the double-submit cookie.
macro_rules! csrf_form {
    ($t:ty, cookie = $cookie:expr) => {
        impl $crate::csrf::CsrfToken for $t {
            const COOKIE: Option<&'static str> = Some($cookie);
            fn csrf(&self) -> &str {
                &self.csrf
            }
        }
    };
    ($($t:ty),+ $(,)?) => {
        $(impl $crate::csrf::CsrfToken for $t {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(crate) use csrf_form;

/// The header a script sends its staff session's token in (the console's `fetch` calls and
/// the JSON API used from a signed-in browser).
pub const HEADER: &str = "x-csrf-token";

/// Whether a JSON request from a signed-in browser carries its session's token in
/// [`HEADER`]. Requests with an API key have no session and need no token.
pub fn header_ok(staff: &Staff, headers: &axum::http::HeaderMap) -> bool {
    let token = headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    staff.csrf_ok(token)
}

/// Whether a form streamed by hand (the citizens' multipart form, whose photos are spooled
/// as they arrive and so cannot go through [`Csrf`]) carries the token of its double-submit
/// cookie `name`. A missing cookie matches nothing.
pub fn cookie_ok(headers: &axum::http::HeaderMap, name: &str, submitted: &str) -> bool {
    same_token(&cookie(headers, name).unwrap_or_default(), submitted)
}

/// A request body whose CSRF token was checked.
pub struct Csrf<T>(pub T);

/// What a form's token must equal.
enum Expected {
    /// The signed-in staff member's session token.
    Session(Staff),
    /// The double-submit cookie's value (empty when the cookie is missing).
    Cookie(String),
}

/// Whether `submitted` is the expected token; if not, the "invalid form token" page (403)
/// in the person's language.
fn verdict(expected: &Expected, submitted: &str, lang: Lang) -> Result<(), Response> {
    match expected {
        Expected::Session(staff) if staff.csrf_ok(submitted) => Ok(()),
        Expected::Session(staff) => Err(csrf_failed(staff.lang, Some(staff))),
        Expected::Cookie(cookie) if same_token(cookie, submitted) => Ok(()),
        Expected::Cookie(_) => Err(csrf_failed(lang, None)),
    }
}

impl<T> FromRequest<AppState> for Csrf<Form<T>>
where
    T: DeserializeOwned + CsrfToken + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let expected = match T::COOKIE {
            Some(name) => Expected::Cookie(cookie(&parts.headers, name).unwrap_or_default()),
            None => Expected::Session(
                Staff::from_request_parts(&mut parts, state)
                    .await
                    .map_err(IntoResponse::into_response)?,
            ),
        };
        let lang = lang_of(&parts.headers);
        let Form(form) = Form::<T>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        verdict(&expected, form.csrf(), lang)?;
        Ok(Csrf(Form(form)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use phananh_domain::access::{Principal, Role};

    fn staff(lang: Lang) -> Staff {
        Staff {
            principal: Principal {
                user_id: 7,
                name: "Lan".into(),
                role: Role::Triage,
                unit: None,
            },
            csrf: "session-token".into(),
            lang,
            token: "cookie".into(),
        }
    }

    async fn body(r: Response) -> String {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_wrong_or_missing_session_token_gets_the_invalid_form_page() {
        let expected = Expected::Session(staff(Lang::Vi));
        assert!(verdict(&expected, "session-token", Lang::En).is_ok());
        for submitted in ["", "wrong", "session-toke", "session-token2"] {
            let r = verdict(&expected, submitted, Lang::En).unwrap_err();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{submitted:?}");
            let html = body(r).await;
            // The staff member's language and frame, not the request's.
            assert!(html.contains("Phiên làm việc không hợp lệ"), "{html}");
            assert!(html.contains("href=\"/console/password\""), "{html}");
        }
    }

    #[tokio::test]
    async fn a_double_submit_cookie_must_match_the_form() {
        let expected = Expected::Cookie("abc123".into());
        assert!(verdict(&expected, "abc123", Lang::Vi).is_ok());
        for submitted in ["", "abc", "abc1234"] {
            let r = verdict(&expected, submitted, Lang::En).unwrap_err();
            assert_eq!(r.status(), StatusCode::FORBIDDEN);
            let html = body(r).await;
            assert!(html.contains("Invalid form token"), "{html}");
            assert!(
                !html.contains("/console/password"),
                "no staff frame: {html}"
            );
        }
        // No cookie at all: nothing matches, not even an empty token.
        let missing = Expected::Cookie(String::new());
        assert!(verdict(&missing, "", Lang::Vi).is_err());
    }

    #[test]
    fn a_json_request_needs_its_session_token_in_the_header() {
        use axum::http::{HeaderMap, HeaderValue};
        let s = staff(Lang::Vi);
        let mut h = HeaderMap::new();
        assert!(!header_ok(&s, &h), "no header");
        h.insert(HEADER, HeaderValue::from_static("session-toke"));
        assert!(!header_ok(&s, &h));
        h.insert(HEADER, HeaderValue::from_static("session-token"));
        assert!(header_ok(&s, &h));
    }

    #[test]
    fn a_streamed_form_must_match_its_cookie() {
        use axum::http::{HeaderMap, HeaderValue, header};
        let mut h = HeaderMap::new();
        assert!(!cookie_ok(&h, "pa_form", ""), "no cookie, empty token");
        assert!(!cookie_ok(&h, "pa_form", "x"));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; pa_form=tok42"),
        );
        assert!(cookie_ok(&h, "pa_form", "tok42"));
        assert!(!cookie_ok(&h, "pa_form", "tok4"));
        assert!(!cookie_ok(&h, "other", "tok42"));
    }
}
