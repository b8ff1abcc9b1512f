//! Issue 11, findings 1, 7 (HTTP) and 9: no request can stall the server. Long texts are
//! refused before any matching, bodies have per-route caps, slow connections are
//! dropped, periods are capped, and `/metrics` is cheap and may require a token.

use std::time::{Duration, Instant};

use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

const MB: usize = 1024 * 1024;

/// An address of 1 MB made of ward names, the worst case for the old matcher.
fn megabyte_address() -> String {
    "Bến Thành Tân Sơn Nhất phường 4 quận Tân Bình ".repeat(MB / 50)
}

/// Reads until the server closes the connection (or `limit` passes); returns what was
/// read and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&got).into(), false),
        }
    }
}

#[tokio::test]
async fn a_megabyte_address_is_refused_at_once() {
    let t = spawn(Options::default()).await;
    // Through intake itself (every channel): refused by its length, not matched.
    let started = Instant::now();
    let r = t
        .app()
        .submit(
            phananh_app::intake::IntakeRequest {
                field: "traffic".into(),
                description: "Ổ gà lớn giữa đường".into(),
                address: Some(megabyte_address()),
                ..Default::default()
            },
            phananh_domain::model::Channel::Web,
            phananh_domain::model::Actor::citizen(),
            None,
            None,
        )
        .await;
    let took = started.elapsed();
    eprintln!("intake, 1 MB address: {took:?}");
    match r {
        Err(phananh_app::AppError::Validation(e)) => {
            assert!(
                e.iter()
                    .any(|e| e.field == "address" && e.code == "too_long"),
                "{e:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(took < Duration::from_secs(1), "{took:?}");

    // The same for a 1 MB description.
    let started = Instant::now();
    let r = t
        .app()
        .submit(
            phananh_app::intake::IntakeRequest {
                field: "traffic".into(),
                description: megabyte_address(),
                address: Some("12 Lê Lợi, phường Bến Thành".into()),
                ..Default::default()
            },
            phananh_domain::model::Channel::Web,
            phananh_domain::model::Actor::citizen(),
            None,
            None,
        )
        .await;
    assert!(matches!(r, Err(phananh_app::AppError::Validation(_))));
    eprintln!("intake, 1 MB description: {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(1));

    // The JSON API: over the body cap, 413 before anything is parsed.
    let started = Instant::now();
    let r = t
        .client
        .post(t.url("/api/v1/reports"))
        .json(&json!({"field": "traffic", "description": "Ổ gà lớn giữa đường", "address": megabyte_address()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    eprintln!(
        "POST /api/v1/reports, 1 MB address: {:?}",
        started.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(2));

    // Under the body cap but over the field's: 422 with the field's code.
    let r = t
        .client
        .post(t.url("/api/v1/reports"))
        .json(&json!({"field": "traffic", "description": "Ổ gà lớn giữa đường", "address": "Bến Thành ".repeat(20_000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v.to_string().contains("too_long"), "{v}");

    // The web form: a text part over its cap is answered at once with 413.
    let started = Instant::now();
    let form = reqwest::multipart::Form::new()
        .text("field", "traffic")
        .text("description", "Ổ gà lớn giữa đường")
        .text("address", megabyte_address());
    let r = t
        .client
        .post(t.url("/new"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    eprintln!("POST /new, 1 MB address: {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(2));
    t.stop().await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let t = spawn(Options::default()).await;
    let big = "x".repeat(MB);
    for (path, content_type) in [
        ("/api/v1/reports", "application/json"),
        ("/login", "application/x-www-form-urlencoded"),
        ("/webhooks/sms", "application/json"),
        (
            "/open311/v2/requests.json",
            "application/x-www-form-urlencoded",
        ),
    ] {
        let body = if content_type == "application/json" {
            json!({"field": "traffic", "description": big}).to_string()
        } else {
            format!("description={big}")
        };
        let r = t
            .client
            .post(t.url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
    // A photo declared over 10 MB is refused from its headers.
    let r = t
        .client
        .post(t.url("/api/v1/photos"))
        .body(vec![0u8; 11 * MB])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // One photo part over 10 MB on the form: 413, not 52 MB read.
    let form = reqwest::multipart::Form::new()
        .text("field", "traffic")
        .part(
            "photo",
            reqwest::multipart::Part::bytes(vec![0u8; 11 * MB]).file_name("a.jpg"),
        );
    let r = t
        .client
        .post(t.url("/new"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A real photo still goes through the streamed upload.
    let jpeg = phananh_photos::sample::phone_jpeg();
    let r = t
        .client
        .post(t.url("/api/v1/photos"))
        .body(jpeg)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    t.stop().await;
}

#[tokio::test]
async fn healthz_answers_while_big_requests_are_in_flight() {
    let t = spawn(Options::default()).await;
    // Two uploads that announce 10 MB and trickle, and two 1 MB addresses.
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(t.running.addr).await.unwrap();
        s.write_all(
            format!(
                "POST /api/v1/photos HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
                10 * MB
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        s.write_all(&vec![0xFF; 64 * 1024]).await.unwrap();
        slow.push(s);
    }
    let mut heavy = Vec::new();
    for _ in 0..2 {
        let app = t.app().clone();
        heavy.push(tokio::spawn(async move {
            app.submit(
                phananh_app::intake::IntakeRequest {
                    field: "traffic".into(),
                    description: "Ổ gà lớn giữa đường".into(),
                    address: Some(megabyte_address()),
                    ..Default::default()
                },
                phananh_domain::model::Channel::Web,
                phananh_domain::model::Actor::citizen(),
                None,
                None,
            )
            .await
        }));
    }
    let started = Instant::now();
    let r = t.get("/healthz").await;
    assert_eq!(r.status(), StatusCode::OK);
    eprintln!(
        "/healthz with big requests in flight: {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    for h in heavy {
        assert!(h.await.unwrap().is_err());
    }
    drop(slow);
    t.stop().await;
}

#[tokio::test]
async fn slow_connections_are_dropped() {
    let t = spawn(Options {
        configure: Some(|c| {
            c.web.header_read_timeout_secs = 1;
            c.web.body_read_timeout_secs = 1;
        }),
        ..Options::default()
    })
    .await;
    // Part of a request line, then nothing: closed after the header timeout.
    let started = Instant::now();
    let mut s = TcpStream::connect(t.running.addr).await.unwrap();
    s.write_all(b"GET /healthz HT").await.unwrap();
    let (_, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed, "a partial request line was held");
    assert!(started.elapsed() < Duration::from_secs(4));

    // Headers begun but never finished.
    let mut s = TcpStream::connect(t.running.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let (_, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed, "partial headers were held");

    // A body that stops: answered with an error or closed, not held.
    let mut s = TcpStream::connect(t.running.addr).await.unwrap();
    s.write_all(
        b"POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"field\":",
    )
    .await
    .unwrap();
    let (answer, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(
        closed || answer.starts_with("HTTP/1.1 4"),
        "a stalled body was held: {answer:?}"
    );

    // A well-behaved client on the same server is unaffected.
    assert_eq!(t.get("/healthz").await.status(), StatusCode::OK);
    t.stop().await;
}

#[tokio::test]
async fn event_streams_outlive_the_request_timeout() {
    let t = spawn(Options {
        configure: Some(|c| c.web.request_timeout_secs = 1),
        ..Options::default()
    })
    .await;
    let op = t.staff(Role::Triage, None).await;
    let mut r = t
        .client
        .get(t.url("/console/hotline/events"))
        .header("cookie", &op.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Still open after twice the request timeout.
    let waited = tokio::time::timeout(Duration::from_millis(2500), r.chunk()).await;
    match waited {
        Err(_) => {}          // nothing yet, still open
        Ok(Ok(Some(_))) => {} // a keep-alive or event: still open
        Ok(other) => panic!("the stream ended: {other:?}"),
    }
    t.stop().await;
}

#[tokio::test]
async fn periods_are_capped() {
    let t = spawn(Options::default()).await;
    let boss = t.staff(Role::Supervisor, None).await;
    let started = Instant::now();
    for path in [
        "/console/performance?from=0001-01-01&to=2026-03-01&unit=SXD",
        "/console/performance/report.xlsx?from=0001-01-01&to=2026-03-01",
        "/console/performance/report.pdf?from=2000-01-01",
    ] {
        let r = boss.page(&t, path).await;
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
        let body = r.text().await.unwrap();
        assert!(body.contains("5 năm"), "{path}: {body}");
    }
    for path in [
        "/stats?from=0001-01-01",
        "/api/v1/public/reports?from=0001-01-01",
        "/open311/v2/requests.json?start_date=0001-01-01T00:00:00Z",
        "/open311/v2/requests.json?updated_after=2000-01-01T00:00:00Z",
    ] {
        let r = t.get(path).await;
        assert!(r.status().is_client_error(), "{path}: {}", r.status());
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // A year is fine.
    let r = boss
        .page(&t, "/console/performance?from=2025-03-01&to=2026-03-01")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        t.get("/stats?from=2025-03-01").await.status(),
        StatusCode::OK
    );
    t.stop().await;
}

#[tokio::test]
async fn metrics_are_cached_and_may_require_a_token() {
    let t = spawn(Options {
        configure: Some(|c| c.web.metrics_token = "s3cret-metrics-token".into()),
        ..Options::default()
    })
    .await;
    assert_eq!(t.get("/metrics").await.status(), StatusCode::UNAUTHORIZED);
    let scrape = |token: &'static str| {
        t.client
            .get(t.url("/metrics"))
            .header("authorization", format!("Bearer {token}"))
            .send()
    };
    assert_eq!(
        scrape("s3cret-metrics-tokeN").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        scrape("s3cret").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let first = scrape("s3cret-metrics-token").await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first = first.text().await.unwrap();
    assert!(first.contains("phananh_reports_created_total 0"), "{first}");
    t.file(json!({
        "field": "traffic",
        "description": "Ổ gà lớn giữa đường",
        "lat": 10.7725, "lon": 106.6980,
    }))
    .await;
    let second = scrape("s3cret-metrics-token")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Counters are live; the database gauges are not recounted on every scrape.
    assert!(
        second.contains("phananh_reports_created_total 1"),
        "{second}"
    );
    let gauges = |s: &str| {
        s.lines()
            .filter(|l| l.starts_with("phananh_reports{"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(gauges(&first), gauges(&second));
    t.stop().await;
}

#[tokio::test]
async fn images_are_decoded_one_per_core_at_most() {
    let t = spawn(Options::default()).await;
    let slots = phananh_app::photos::decode_slots();
    assert_eq!(t.app().decoding.available_permits(), slots);
    // Every slot taken: a photo waits instead of decoding beside them.
    let held = t
        .app()
        .decoding
        .clone()
        .acquire_many_owned(slots as u32)
        .await
        .unwrap();
    let app = t.app().clone();
    let upload =
        tokio::spawn(async move { app.store_photo(phananh_photos::sample::phone_jpeg()).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!upload.is_finished(), "decoded without a free slot");
    drop(held);
    let stored = tokio::time::timeout(Duration::from_secs(10), upload)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(stored.width > 0);
    t.stop().await;
}

fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A plain-text email with `n` JPEG attachments.
fn email_with_photos(id: &str, body: &str, n: usize) -> Vec<u8> {
    let jpeg = b64(&phananh_photos::sample::phone_jpeg());
    let mut raw = format!(
        "From: Dân <dan@example.vn>\r\nTo: 1022@example.gov.vn\r\nSubject: Ổ gà\r\nMessage-ID: <{id}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    );
    for i in 0..n {
        raw.push_str(&format!(
            "--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; filename=\"{i}.jpg\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{jpeg}\r\n"
        ));
    }
    raw.push_str("--b--\r\n");
    raw.into_bytes()
}

#[tokio::test]
async fn a_megabyte_email_is_handled_at_once_and_extra_images_are_not_decoded() {
    let t = spawn(Options::default()).await;
    let store = &t.store();
    let now = t.app().clock.now();
    // The mail is authenticated (DKIM), so what is measured is the matching and decoding.
    let d = crate::support::mail::MailDomains::new(&["example.vn"]);
    let w = phananh_worker::Worker::new(
        t.app().clone(),
        phananh_worker::WorkerConfig {
            email_auth: d.auth(0),
            ..phananh_worker::WorkerConfig::default()
        },
    );
    // 1 MB of text naming fields and wards everywhere: matched on its first 4 KB only,
    // and queued for a person (too long to file) before any image is decoded.
    let body = "Ổ gà lớn giữa đường ở phường Bến Thành, gần Tân Sơn Nhất. ".repeat(MB / 70);
    let raw = d.signed(&email_with_photos("big@mail.test", &body, 7));
    store
        .email_receive("big@mail.test", "test", raw.len(), &raw, false, None, now)
        .await
        .unwrap();
    let started = Instant::now();
    drain(&w).await;
    let took = started.elapsed();
    eprintln!("email.inbound, 1 MB body and 7 images: {took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    let outcome = store.email_outcome("big@mail.test").await.unwrap().unwrap();
    assert!(outcome.starts_with("unfiled"), "{outcome}");
    assert!(outcome.contains("needs a person"), "{outcome}");
    assert_eq!(
        t.app().decoding.available_permits(),
        phananh_app::photos::decode_slots()
    );

    // A short email with seven images: five are decoded and kept, two refused unread.
    let raw = d.signed(&email_with_photos(
        "seven@mail.test",
        "Ổ gà lớn giữa đường\r\nĐịa chỉ: 12 Lê Lợi, phường Bến Thành",
        7,
    ));
    store
        .email_receive("seven@mail.test", "test", raw.len(), &raw, false, None, now)
        .await
        .unwrap();
    drain(&w).await;
    let outcome = store
        .email_outcome("seven@mail.test")
        .await
        .unwrap()
        .unwrap();
    let code = outcome.strip_prefix("report ").expect(&outcome).to_string();
    let report = store.report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(store.photo_keys(report.id).await.unwrap().len(), 5);
    assert!(
        report.description.contains("2 attachment(s) refused"),
        "{}",
        report.description
    );
    t.stop().await;
}
