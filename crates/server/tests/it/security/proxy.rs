//! Issue 11, findings 5 and 10: behind a reverse proxy (Secure cookies from `public_url`,
//! the client address from trusted proxies only, per-account login back-off, the shipped
//! nginx and Caddy configurations), security headers (CSP without inline script or style,
//! HSTS, frame-ancestors, Referrer-Policy) and passwords (change, one-time reset links,
//! other sessions ended).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use phananh::Config;
use phananh_app::Clock;
use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

const PASSWORD: &str = "correct horse battery";

fn https(c: &mut Config) {
    c.public_url = "https://1022.example.vn".into();
}

fn behind_local_proxy(c: &mut Config) {
    c.web.trusted_proxies = vec!["127.0.0.1".into(), "::1".into()];
}

fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

#[test]
fn secure_cookies_follow_public_url() {
    let mut c = Config::default();
    assert!(!c.secure_cookies(), "http public_url: no Secure");
    // Listening on loopback behind a TLS proxy is the usual deployment: still Secure.
    c.listen = "127.0.0.1:8022".into();
    c.public_url = "https://1022.example.vn".into();
    assert!(c.secure_cookies());
    c.public_url = "HTTPS://1022.example.vn".into();
    assert!(c.secure_cookies());
    c.web.secure_cookies = Some(false);
    assert!(!c.secure_cookies(), "an explicit setting wins");
    c.public_url = "http://10.0.0.5:8022".into();
    c.web.secure_cookies = Some(true);
    assert!(c.secure_cookies());
}

#[test]
fn trusted_proxies_config_and_the_deprecated_flag() {
    let mut c = Config::default();
    assert!(c.trusted_proxies().is_empty());
    c.web.trust_forwarded_for = true;
    let t = c.trusted_proxies();
    assert!(t.contains("127.0.0.1".parse().unwrap()) && t.contains("::1".parse().unwrap()));
    assert!(!t.contains("10.0.0.1".parse().unwrap()));
    c.web.trusted_proxies = vec!["10.0.0.0/8".into()];
    let t = c.trusted_proxies();
    assert!(t.contains("10.9.8.7".parse().unwrap()) && !t.contains("127.0.0.1".parse().unwrap()));
    let parsed: Config = toml::from_str(
        "public_url = \"https://x.vn\"\n[web]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\"]\n",
    )
    .unwrap();
    assert_eq!(parsed.web.trusted_proxies, ["127.0.0.1", "10.0.0.0/8"]);
}

#[tokio::test]
async fn cookies_are_secure_when_public_url_is_https() {
    let t = spawn(Options {
        configure: Some(https),
        ..Options::default()
    })
    .await;
    // The server listens on 127.0.0.1, as it does behind a proxy on the same host.
    assert!(t.running.addr.ip().is_loopback());
    let r = t.get("/login").await;
    let cookies = set_cookies(&r);
    assert!(!cookies.is_empty());
    assert!(
        cookies.iter().all(|c| c.contains("; Secure")),
        "{cookies:?}"
    );
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    t.stop().await;

    let t = spawn(Options::default()).await;
    let r = t.get("/login").await;
    assert!(
        set_cookies(&r).iter().all(|c| !c.contains("Secure")),
        "plain-http development keeps working"
    );
    assert!(r.headers().get("strict-transport-security").is_none());
    t.stop().await;
}

async fn file_from(t: &TestApp, forwarded_for: Option<&str>) -> StatusCode {
    let mut req = t
        .client
        .post(t.url("/api/v1/reports"))
        .json(&json!({"field": "sidewalk", "description": "Lấn chiếm vỉa hè", "lat": 10.7725, "lon": 106.698}));
    if let Some(x) = forwarded_for {
        req = req.header("x-forwarded-for", x);
    }
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn intake_limit_keys_on_the_client_behind_a_trusted_proxy() {
    // The test client plays the proxy (127.0.0.1, trusted).
    let t = spawn(Options {
        intake_per_minute: 2,
        configure: Some(behind_local_proxy),
        ..Options::default()
    })
    .await;
    let a = "198.51.100.1";
    assert_eq!(file_from(&t, Some(a)).await, StatusCode::CREATED);
    assert_eq!(file_from(&t, Some(a)).await, StatusCode::CREATED);
    assert_eq!(file_from(&t, Some(a)).await, StatusCode::TOO_MANY_REQUESTS);
    // Another citizen of the same city is not throttled with the first one.
    assert_eq!(
        file_from(&t, Some("198.51.100.2")).await,
        StatusCode::CREATED
    );
    // The first one writing another address in front changes nothing: the rightmost
    // untrusted hop (what our proxy saw) counts.
    assert_eq!(
        file_from(&t, Some(&format!("203.0.113.77, {a}"))).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A malformed header counts as the proxy itself, not as a fresh client.
    assert_eq!(file_from(&t, Some("nonsense")).await, StatusCode::CREATED);
    assert_eq!(file_from(&t, Some("1.2.3.4:80")).await, StatusCode::CREATED);
    assert_eq!(
        file_from(&t, Some("")).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the third from the proxy's own address"
    );
    t.stop().await;

    // Nobody trusted: the header is ignored, so rotating it does not help.
    let t = spawn(Options {
        intake_per_minute: 2,
        ..Options::default()
    })
    .await;
    for (i, x) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        .into_iter()
        .enumerate()
    {
        let want = if i < 2 {
            StatusCode::CREATED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(file_from(&t, Some(x)).await, want, "{x}");
    }
    t.stop().await;
}

/// A login attempt from `ip` (told by the trusted proxy); returns the status and the
/// session cookie, if any.
async fn login_from(
    t: &TestApp,
    ip: &str,
    email: &str,
    password: &str,
) -> (StatusCode, Option<String>) {
    let page = t.get("/login").await;
    let cookie = set_cookie_value(&page, "phananh_login_csrf").unwrap();
    let csrf = hidden_csrf(&page.text().await.unwrap());
    let r = t
        .client
        .post(t.url("/login"))
        .header("cookie", format!("phananh_login_csrf={cookie}"))
        .header("x-forwarded-for", ip)
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    (
        r.status(),
        set_cookie_value(&r, "phananh_session").filter(|s| !s.is_empty()),
    )
}

#[tokio::test]
async fn failed_logins_back_off_per_account_without_locking_the_owner_out() {
    let t = spawn(Options {
        login_per_minute: 1000,
        configure: Some(behind_local_proxy),
        ..Options::default()
    })
    .await;
    let email = "nv.a@example.org";
    t.app()
        .add_user(email, "Nhân viên A", Role::Triage, None, PASSWORD)
        .await
        .unwrap();
    // An attacker fails five times, from five addresses: no delay yet.
    for i in 0..5 {
        let (s, _) = login_from(&t, &format!("203.0.113.{i}"), email, "wrong-guess-1").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "failure {i}");
    }
    // Now the account waits 1 s: even the right password is not looked at.
    let (s, _) = login_from(&t, "198.51.100.7", email, PASSWORD).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // The attacker keeps failing from other addresses during the wait: refused, and the
    // wait does not grow.
    for i in 10..30 {
        let (s, _) = login_from(&t, &format!("203.0.113.{i}"), email, "wrong-guess-2").await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    }
    // Other accounts are not affected.
    let other = "nv.b@example.org";
    t.app()
        .add_user(other, "Nhân viên B", Role::Triage, None, PASSWORD)
        .await
        .unwrap();
    assert_eq!(
        login_from(&t, "203.0.113.1", other, PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );
    // When the wait is over, the owner's right password works.
    t.clock.advance(chrono::Duration::milliseconds(1001));
    let (s, session) = login_from(&t, "198.51.100.7", email, PASSWORD).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    assert!(session.is_some());
    // A success starts the count again: one more failure gets no delay.
    let (s, _) = login_from(&t, "203.0.113.99", email, "wrong-guess-3").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login_from(&t, "198.51.100.7", email, PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );

    // Delays double: 5 failures → 1 s, 6 → 2 s, 7 → 4 s.
    for i in 0..5 {
        assert_eq!(
            login_from(&t, "203.0.113.5", email, "x-wrong-pass").await.0,
            StatusCode::UNAUTHORIZED,
            "{i}"
        );
    }
    t.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        login_from(&t, "203.0.113.5", email, "x-wrong-pass").await.0,
        StatusCode::UNAUTHORIZED
    );
    t.clock.advance(chrono::Duration::seconds(1));
    let page = {
        let page = t.get("/login").await;
        let cookie = set_cookie_value(&page, "phananh_login_csrf").unwrap();
        let csrf = hidden_csrf(&page.text().await.unwrap());
        t.client
            .post(t.url("/login"))
            .header("cookie", format!("phananh_login_csrf={cookie}"))
            .form(&[("email", email), ("password", PASSWORD), ("csrf", &csrf)])
            .send()
            .await
            .unwrap()
    };
    assert_eq!(
        page.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "2 s after the 6th failure"
    );
    assert_eq!(page.headers()["retry-after"], "1");
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Vui lòng thử lại sau 1 giây")
    );
    t.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        login_from(&t, "198.51.100.7", email, PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );
    t.stop().await;
}

#[tokio::test]
async fn login_limit_per_address_uses_the_real_client_address() {
    let t = spawn(Options {
        login_per_minute: 3,
        configure: Some(behind_local_proxy),
        ..Options::default()
    })
    .await;
    let email = "nv.c@example.org";
    t.app()
        .add_user(email, "Nhân viên C", Role::Triage, None, PASSWORD)
        .await
        .unwrap();
    for _ in 0..3 {
        assert_eq!(
            login_from(&t, "203.0.113.50", "nobody@example.org", "wrong-pass-x")
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        login_from(&t, "203.0.113.50", email, PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "this address is spent"
    );
    // Staff at another address (everyone used to look like 127.0.0.1) still log in.
    assert_eq!(
        login_from(&t, "198.51.100.8", email, PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );
    t.stop().await;
}

/// The pages a visitor and an admin can reach, for the header and inline-script scans.
async fn pages(t: &TestApp) -> Vec<(String, reqwest::Response)> {
    let r = t
        .file(json!({"field": "sidewalk", "description": "Lấn chiếm vỉa hè", "lat": 10.7725, "lon": 106.698}))
        .await;
    let code = r["code"].as_str().unwrap().to_string();
    let admin = t.staff(Role::Admin, None).await;
    let mut out = Vec::new();
    for p in [
        "/".to_string(),
        "/new".into(),
        "/map".into(),
        "/stats".into(),
        "/mine".into(),
        format!("/r/{code}"),
        "/login".into(),
        "/reset/no-such-token".into(),
    ] {
        out.push((p.clone(), t.get(&p).await));
    }
    for p in [
        "/console".to_string(),
        "/console/triage".into(),
        format!("/console/reports/{code}"),
        "/console/hotline".into(),
        "/console/unfiled".into(),
        "/console/performance".into(),
        "/console/password".into(),
        "/console/admin".into(),
        "/console/admin/units".into(),
        "/console/admin/fields".into(),
        "/console/admin/rules".into(),
        "/console/admin/users".into(),
        "/console/admin/calendar".into(),
        "/console/admin/jobs".into(),
        "/console/admin/apikeys".into(),
    ] {
        out.push((p.clone(), admin.page(t, &p).await));
    }
    let id = t.store().users().await.unwrap()[0].id;
    let r = admin
        .form(t, &format!("/console/admin/users/{id}/reset"), &[])
        .await;
    out.push(("reset link page".into(), r));
    out
}

/// Inline script, event handler attributes, `javascript:` URLs and style attributes in
/// HTML (all refused by the CSP).
fn inline_code(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut rest = lower.as_str();
    while let Some(i) = rest.find("<script") {
        let tag_end = rest[i..].find('>').map(|e| i + e).unwrap_or(rest.len());
        let tag = &rest[i..tag_end];
        let body_end = rest[tag_end..]
            .find("</script>")
            .map(|e| tag_end + e)
            .unwrap_or(tag_end);
        let body = rest[(tag_end + 1).min(body_end)..body_end].trim();
        let is_data = tag.contains("application/ld+json") || tag.contains("application/json");
        if !tag.contains(" src=") && !is_data {
            found.push(format!("inline script: {}", &rest[i..body_end.min(i + 80)]));
        }
        if tag.contains(" src=") && !body.is_empty() {
            found.push("script with src and a body".into());
        }
        rest = &rest[body_end..];
    }
    // Attributes: ` on…=` inside a tag (outside quoted values), `style=`.
    let mut in_tag = false;
    let mut quote: Option<u8> = None;
    for (i, &b) in lower.as_bytes().iter().enumerate() {
        match (in_tag, quote, b) {
            (true, Some(q), _) if b == q => quote = None,
            (true, Some(_), _) => {}
            (true, None, b'"' | b'\'') => quote = Some(b),
            (false, _, b'<') => in_tag = true,
            (true, None, b'>') => in_tag = false,
            (true, None, b' ' | b'\n' | b'\t') => {
                let after = &lower[i + 1..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                let eq = after[name.len()..].trim_start().starts_with('=');
                if eq && ((name.starts_with("on") && name.len() > 2) || name == "style") {
                    found.push(format!("attribute {name}= at {i}"));
                }
            }
            _ => {}
        }
    }
    if lower.contains("javascript:") {
        found.push("javascript: URL".into());
    }
    if lower.contains("<style") {
        found.push("inline <style> element".into());
    }
    found
}

#[test]
fn the_inline_code_scan_finds_what_it_should() {
    assert!(inline_code(r#"<p><script src="/static/a.js"></script></p>"#).is_empty());
    assert!(inline_code(r#"<script type="application/ld+json">{"a":1}</script>"#).is_empty());
    assert!(inline_code(r#"<p title="a onclick=x">on=</p>"#).is_empty());
    assert_eq!(inline_code("<script>alert(1)</script>").len(), 1);
    assert_eq!(inline_code(r#"<button onclick="x()">"#).len(), 1);
    assert_eq!(inline_code("<div\n  ONLOAD = 'x'>").len(), 1);
    assert_eq!(inline_code(r#"<div style="width:1%">"#).len(), 1);
    assert_eq!(inline_code(r#"<a href="javascript:x">"#).len(), 1);
    assert_eq!(inline_code("<style>p{}</style>").len(), 1);
}

#[tokio::test]
async fn every_page_has_the_security_headers_and_no_inline_code() {
    let t = spawn(Options {
        tile_url: Some("https://{s}.tiles.example.vn/{z}/{x}/{y}.png".into()),
        ..Options::default()
    })
    .await;
    for (path, r) in pages(&t).await {
        let h = r.headers().clone();
        let csp = h
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("no CSP on {path}"))
            .to_str()
            .unwrap()
            .to_string();
        for part in [
            "default-src 'self'",
            "script-src 'self';",
            "style-src 'self';",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'none'",
            "img-src 'self' data: blob: https://*.tiles.example.vn;",
        ] {
            assert!(csp.contains(part), "{path}: {part} missing from {csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(
            h["referrer-policy"], "strict-origin-when-cross-origin",
            "{path}"
        );
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(
            h.get("strict-transport-security").is_none(),
            "http: no HSTS"
        );
        let is_html = h
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap().starts_with("text/html"));
        assert!(is_html, "{path} is a page ({})", r.status());
        let html = r.text().await.unwrap();
        let bad = inline_code(&html);
        assert!(bad.is_empty(), "{path}: {bad:?}");
    }
    // Static files get the headers too.
    let r = t.get("/static/app.css").await;
    assert!(r.headers().get("content-security-policy").is_some());
    t.stop().await;
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions() {
    for t in apps().await {
        let me = t.staff(Role::Triage, None).await;
        let email = t.store().user(me.user_id).await.unwrap().unwrap().email;
        // The same person on a second device.
        let (s, other) = login_from(&t, "127.0.0.1", &email, PASSWORD).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        let other = format!("phananh_session={}", other.unwrap());
        let other_get = |path: &'static str| {
            t.client
                .get(t.url(path))
                .header("cookie", other.clone())
                .send()
        };
        assert_eq!(
            other_get("/console").await.unwrap().status(),
            StatusCode::OK
        );

        let page = me.page(&t, "/console/password").await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["cache-control"], "no-store");
        let html = page.text().await.unwrap();
        assert!(html.contains("Đổi mật khẩu") && html.contains("Mật khẩu hiện tại"));
        let new = "a new long passphrase";
        let change = |current: &'static str, new: &'static str, repeat: &'static str| {
            let fields = vec![("current", current), ("new", new), ("repeat", repeat)];
            let (me, t) = (&me, &t);
            async move { me.form(t, "/console/password", &fields).await }
        };
        // Without the CSRF token: refused.
        let r = me
            .form_with_csrf(
                &t,
                "/console/password",
                "forged",
                &[("current", PASSWORD), ("new", new), ("repeat", new)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = change(
            "not my password",
            "a new long passphrase",
            "a new long passphrase",
        )
        .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Mật khẩu hiện tại không đúng")
        );
        let r = change(PASSWORD, "short", "short").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains("ít nhất 10 ký tự"));
        let r = change(PASSWORD, "a new long passphrase", "another long one").await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // Nothing changed so far: the other device is still in.
        assert_eq!(
            other_get("/console").await.unwrap().status(),
            StatusCode::OK
        );

        let r = change(PASSWORD, "a new long passphrase", "a new long passphrase").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.text().await.unwrap().contains("Đã đổi mật khẩu"));
        // This session goes on; the other device is signed out.
        assert_eq!(me.page(&t, "/console").await.status(), StatusCode::OK);
        let r = other_get("/console").await.unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/login");
        assert_eq!(
            login_from(&t, "127.0.0.1", &email, PASSWORD).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            login_from(&t, "127.0.0.1", &email, new).await.0,
            StatusCode::SEE_OTHER
        );
        // Signed out: the page asks to log in.
        assert_eq!(
            t.get("/console/password").await.status(),
            StatusCode::SEE_OTHER
        );
        t.stop().await;
    }
}

/// The link on the admin's page.
fn reset_link(html: &str) -> String {
    let start = html.find("/reset/").expect("a reset link");
    html[start..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn a_reset_link_works_once_and_expires() {
    for t in apps().await {
        let admin = t.staff(Role::Admin, None).await;
        let user = t.staff(Role::UnitStaff, Some("UBND-26743")).await;
        let email = t.store().user(user.user_id).await.unwrap().unwrap().email;
        let path = format!("/console/admin/users/{}/reset", user.user_id);

        // Only an admin, with the form token.
        let r = user.form(&t, &path, &[]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = admin.form_with_csrf(&t, &path, "forged", &[]).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let r = admin
            .form(&t, "/console/admin/users/999999/reset", &[])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        let r = admin.form(&t, &path, &[]).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["cache-control"], "no-store");
        let html = r.text().await.unwrap();
        assert!(
            html.contains("https://") || html.contains("http://"),
            "a full link"
        );
        assert!(html.contains("hết hạn sau 24 giờ"), "{html}");
        let link = reset_link(&html);
        let token = link.trim_start_matches("/reset/");
        // Only the hash is stored.
        let users_rows: Vec<String> = sqlx_tokens(&t).await;
        assert!(!users_rows.iter().any(|h| h == token));
        assert_eq!(
            users_rows,
            [phananh_app::auth::token_hash(token)],
            "one live link for this user"
        );

        let page = t.get(&link).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["cache-control"], "no-store");
        assert!(page.text().await.unwrap().contains(&email));
        let post = |new: &'static str, repeat: &'static str| {
            t.client
                .post(t.url(&link))
                .form(&[("new", new), ("repeat", repeat)])
                .send()
        };
        let r = post("short", "short").await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = post("a fresh long passphrase", "a fresh long passphrase")
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()["location"], "/login?reset=1");
        // The user's old session ended; the new password works, the old one does not.
        assert_eq!(
            user.page(&t, "/console").await.status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(
            login_from(&t, "127.0.0.1", &email, PASSWORD).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            login_from(&t, "127.0.0.1", &email, "a fresh long passphrase")
                .await
                .0,
            StatusCode::SEE_OTHER
        );
        // Once only.
        assert_eq!(t.get(&link).await.status(), StatusCode::NOT_FOUND);
        let r = post("a third long passphrase", "a third long passphrase")
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert!(r.text().await.unwrap().contains("không còn hiệu lực"));
        assert_eq!(
            login_from(&t, "127.0.0.1", &email, "a third long passphrase")
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );

        // A new link replaces an older one.
        let first = reset_link(&admin.form(&t, &path, &[]).await.text().await.unwrap());
        let second = reset_link(&admin.form(&t, &path, &[]).await.text().await.unwrap());
        assert_ne!(first, second);
        assert_eq!(t.get(&first).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(t.get(&second).await.status(), StatusCode::OK);
        // And expires after 24 hours.
        t.clock.advance(chrono::Duration::hours(23));
        assert_eq!(t.get(&second).await.status(), StatusCode::OK);
        t.clock.advance(chrono::Duration::hours(1));
        assert_eq!(t.get(&second).await.status(), StatusCode::NOT_FOUND);
        let r = t
            .client
            .post(t.url(&second))
            .form(&[
                ("new", "too late passphrase"),
                ("repeat", "too late passphrase"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        t.stop().await;
    }
}

/// The token hashes of the live reset links.
async fn sqlx_tokens(t: &TestApp) -> Vec<String> {
    t.store()
        .live_password_reset_hashes(t.clock.now())
        .await
        .unwrap()
}

// ---- The shipped reverse-proxy configurations, run for real. ----

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/deploy")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether a tool is required (CI) or may be skipped when missing.
fn required() -> bool {
    std::env::var("PHANANH_PROXY_TESTS").is_ok_and(|v| v == "1")
}

/// One request with curl from source address `source` (any 127.x address works on Linux),
/// over TLS without checking the test certificate. Returns the status and the headers.
async fn curl(source: &str, url: &str, spoof: Option<&str>, body: Option<&Path>) -> (u16, String) {
    let mut c = tokio::process::Command::new("curl");
    c.args([
        "-sk",
        "-o",
        "/dev/null",
        "-D",
        "-",
        "-w",
        "\n%{http_code}",
        "--max-time",
        "20",
    ])
    .args(["--interface", source]);
    if let Some(x) = spoof {
        c.args(["-H", &format!("X-Forwarded-For: {x}")]);
    }
    match body {
        Some(file) => {
            c.args(["-H", "content-type: application/json", "--data-binary"])
                .arg(format!("@{}", file.display()));
        }
        None if url.ends_with("/api/v1/reports") => {
            c.args([
                "-H",
                "content-type: application/json",
                "--data",
                r#"{"field":"sidewalk","description":"Qua proxy","lat":10.7725,"lon":106.698}"#,
            ]);
        }
        None => {}
    }
    let out = c.arg(url).output().await.expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (headers, code) = text
        .trim_end()
        .rsplit_once('\n')
        .unwrap_or(("", text.trim()));
    let code = match code.trim().parse().unwrap_or(0) {
        // No answer (or only the interim "100 Continue"): curl's exit code says why. 55/56
        // (sending or receiving failed): the proxy closed the connection under the upload,
        // a refusal; anything else (28 is a timeout) stays as it is, which no check accepts.
        0 | 100 if matches!(out.status.code(), Some(55 | 56)) => CLOSED,
        c => c,
    };
    (code, headers.to_ascii_lowercase())
}

/// Not an HTTP status: the proxy closed the connection while the body was being sent.
const CLOSED: u16 = 1;

/// The checks through a proxy at `url`: the client address phananh sees is the client's,
/// not the proxy's, and a spoofed `X-Forwarded-For` does not reset the limit.
/// `big_body_refused`: the statuses the proxy may answer a body over its limit with.
async fn check_through_proxy(url: &str, big_body_refused: &[u16]) {
    let reports = format!("{url}/api/v1/reports");
    let (a, b) = ("127.0.0.21", "127.0.0.22");
    assert_eq!(curl(a, &reports, None, None).await.0, 201);
    assert_eq!(curl(a, &reports, Some("203.0.113.1"), None).await.0, 201);
    // Spent: whatever a writes in the header.
    for spoof in [
        None,
        Some("203.0.113.2"),
        Some("127.0.0.1"),
        Some("10.1.1.1, 198.51.100.3"),
        Some("garbage"),
    ] {
        assert_eq!(
            curl(a, &reports, spoof, None).await.0,
            429,
            "spoof {spoof:?}"
        );
    }
    // b is another client: the limit is not shared by everyone behind the proxy.
    assert_eq!(curl(b, &reports, None, None).await.0, 201);
    // The security headers come through.
    let (status, headers) = curl(b, &format!("{url}/"), None, None).await;
    assert_eq!(status, 200);
    assert!(headers.contains("content-security-policy:"), "{headers}");
    // Large bodies are stopped at the proxy.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; 13 * 1024 * 1024]).unwrap();
    let status = curl("127.0.0.23", &reports, None, Some(&big)).await.0;
    assert!(big_body_refused.contains(&status), "a 13 MB body: {status}");
}

fn proxied_server(c: &mut Config) {
    behind_local_proxy(c);
}

async fn proxied_app() -> TestApp {
    spawn(Options {
        intake_per_minute: 2,
        configure: Some(proxied_server),
        ..Options::default()
    })
    .await
}

/// Kills the child when dropped (the test may panic).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {port}");
}

#[tokio::test]
async fn the_shipped_nginx_configuration() {
    let nginx = Path::new("/usr/sbin/nginx");
    if !nginx.exists() {
        assert!(
            !required(),
            "PHANANH_PROXY_TESTS=1 but nginx is not installed"
        );
        eprintln!("nginx test skipped: no /usr/sbin/nginx (apt-get install nginx-light)");
        return;
    }
    let t = proxied_app().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A self-signed certificate for the TLS server block.
    let ok = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
        ])
        .arg("-keyout")
        .arg(d.join("key.pem"))
        .arg("-out")
        .arg(d.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "openssl makes a test certificate");
    let (http_port, tls_port) = (free_port(), free_port());
    let site = std::fs::read_to_string(deploy_dir().join("nginx.conf")).unwrap();
    let site = site
        .replace("listen 80;", &format!("listen 127.0.0.1:{http_port};"))
        .replace("listen [::]:80;", "")
        .replace(
            "listen 443 ssl http2;",
            &format!("listen 127.0.0.1:{tls_port} ssl http2;"),
        )
        .replace("listen [::]:443 ssl http2;", "")
        .replace("127.0.0.1:8022", &t.running.addr.to_string())
        .replace(
            "/etc/letsencrypt/live/1022.example.vn/fullchain.pem",
            &d.join("cert.pem").to_string_lossy(),
        )
        .replace(
            "/etc/letsencrypt/live/1022.example.vn/privkey.pem",
            &d.join("key.pem").to_string_lossy(),
        )
        .replace("/var/log/nginx/", &format!("{}/", d.display()));
    assert!(
        site.contains(&t.running.addr.to_string()),
        "the upstream was rewritten"
    );
    let main = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n include /etc/nginx/mime.types;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n access_log {d}/access.log;\n\
         {site}\n}}\n",
        d = d.display()
    );
    let conf = d.join("nginx.conf");
    std::fs::write(&conf, &main).unwrap();
    let test = std::process::Command::new(nginx)
        .arg("-t")
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "nginx -t: {}\n{main}",
        String::from_utf8_lossy(&test.stderr)
    );
    let _nginx = Child(
        std::process::Command::new(nginx)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_port(http_port).await;
    wait_for_port(tls_port).await;
    // Port 80 sends people to https.
    let (status, headers) = curl(
        "127.0.0.1",
        &format!("http://127.0.0.1:{http_port}/new"),
        None,
        None,
    )
    .await;
    assert_eq!(status, 301);
    assert!(headers.contains("location: https://"), "{headers}");
    // Everything else over TLS, as citizens reach it.
    check_through_proxy(&format!("https://127.0.0.1:{tls_port}"), &[413]).await;
    let log = std::fs::read_to_string(d.join("error.log")).unwrap_or_default();
    assert!(!log.contains("[emerg]"), "{log}");
    t.stop().await;
}

#[tokio::test]
async fn the_shipped_caddyfile() {
    let caddy = Path::new("/usr/bin/caddy");
    if !caddy.exists() {
        assert!(
            !required(),
            "PHANANH_PROXY_TESTS=1 but caddy is not installed"
        );
        eprintln!("Caddy test skipped: no /usr/bin/caddy (apt-get install caddy)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shipped = std::fs::read_to_string(deploy_dir().join("Caddyfile")).unwrap();
    let run = |args: &[&str], file: &Path| {
        let mut c = std::process::Command::new(caddy);
        c.args(args)
            .arg("--config")
            .arg(file)
            .arg("--adapter")
            .arg("caddyfile")
            .env("HOME", d)
            .env("XDG_DATA_HOME", d.join("data"))
            .env("XDG_CONFIG_HOME", d.join("config"));
        c
    };
    // The shipped file as it is.
    let file = d.join("Caddyfile");
    let admin_port = free_port();
    // Logs in the temporary directory, the admin API on a free port; nothing else changes.
    let shipped = shipped
        .replace("/var/log/caddy/", &format!("{}/", d.display()))
        .replace(
            "admin localhost:2019",
            &format!("admin 127.0.0.1:{admin_port}"),
        );
    assert!(shipped.contains(&format!("admin 127.0.0.1:{admin_port}")));
    std::fs::write(&file, &shipped).unwrap();
    let out = run(&["validate"], &file).output().unwrap();
    assert!(
        out.status.success(),
        "caddy validate: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // And running, on plain http at a random port, in front of the test server.
    let t = proxied_app().await;
    let port = free_port();
    let local = shipped
        .replace("1022.example.vn {", &format!("http://127.0.0.1:{port} {{"))
        .replace("127.0.0.1:8022", &t.running.addr.to_string());
    assert!(local.contains(&t.running.addr.to_string()));
    let local_file = d.join("Caddyfile.local");
    std::fs::write(&local_file, &local).unwrap();
    let _caddy = Child(
        run(&["run"], &local_file)
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(d.join("caddy.log")).unwrap(),
            ))
            .spawn()
            .unwrap(),
    );
    wait_for_port(port).await;
    // Caddy 2.6 answers 502 when `request_body` cuts a body short while proxying it, and
    // on a loaded machine it may close the connection before curl has sent it all.
    check_through_proxy(&format!("http://127.0.0.1:{port}"), &[413, 502, CLOSED]).await;
    t.stop().await;
}
