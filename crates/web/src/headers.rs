//! Security headers on every response: a Content-Security-Policy without inline script or
//! style, no framing, a Referrer-Policy, and HSTS when the public address is https.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

use crate::WebConfig;

/// The header values, computed once from the configuration.
pub struct SecurityHeaders {
    values: Vec<(HeaderName, HeaderValue)>,
}

/// The origin of the map tiles for `img-src`: `https://tile.openstreetmap.org` for
/// `https://tile.openstreetmap.org/{z}/{x}/{y}.png`; a `{s}` subdomain becomes `*`.
/// Anything unparsable gives `None` (tiles then load only from our own origin).
pub fn tile_source(tile_url: &str) -> Option<String> {
    let (scheme, rest) = tile_url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let mut labels: Vec<&str> = authority.split('.').collect();
    if labels.first().is_some_and(|l| l.contains('{')) {
        labels[0] = "*";
    }
    let host = labels.join(".");
    let ok = host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*' | '[' | ']'))
        && !host[1..].contains('*');
    ok.then(|| format!("{scheme}://{host}"))
}

/// The Content-Security-Policy for a configuration.
pub fn content_security_policy(config: &WebConfig) -> String {
    let tiles = tile_source(&config.tile_url)
        .map(|t| format!(" {t}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; \
         img-src 'self' data: blob:{tiles}; connect-src 'self'; font-src 'self'; \
         manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

impl SecurityHeaders {
    pub fn new(config: &WebConfig) -> SecurityHeaders {
        let mut values = vec![
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&content_security_policy(config))
                    .unwrap_or(HeaderValue::from_static("default-src 'self'")),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("strict-origin-when-cross-origin"),
            ),
            (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ];
        if config.public_url.starts_with("https://") {
            values.push((
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            ));
        }
        SecurityHeaders { values }
    }
}

/// Adds the headers a handler did not set itself.
pub async fn add(State(h): State<Arc<SecurityHeaders>>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in &h.values {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_sources() {
        let t = |u: &str| tile_source(u);
        assert_eq!(
            t("https://tile.openstreetmap.org/{z}/{x}/{y}.png").as_deref(),
            Some("https://tile.openstreetmap.org")
        );
        assert_eq!(
            t("https://{s}.tile.example.vn/{z}/{x}/{y}.png").as_deref(),
            Some("https://*.tile.example.vn")
        );
        assert_eq!(
            t("http://127.0.0.1:9/{z}/{x}/{y}.png").as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(t("/tiles/{z}/{x}/{y}.png"), None);
        assert_eq!(t("javascript://x"), None);
        assert_eq!(t("https://a;b/x"), None);
        assert_eq!(t("https://a 'unsafe-inline'/x"), None);
        assert_eq!(t("https://tiles.{s}.example/x"), None);
    }

    #[test]
    fn policy() {
        let mut c = WebConfig::default();
        let csp = content_security_policy(&c);
        assert!(csp.contains("script-src 'self';"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("img-src 'self' data: blob: https://tile.openstreetmap.org;"));
        let names = |c: &WebConfig| {
            SecurityHeaders::new(c)
                .values
                .iter()
                .map(|(n, _)| n.as_str().to_string())
                .collect::<Vec<_>>()
        };
        assert!(!names(&c).contains(&"strict-transport-security".to_string()));
        c.public_url = "https://1022.example.vn".into();
        assert!(names(&c).contains(&"strict-transport-security".to_string()));
    }
}
