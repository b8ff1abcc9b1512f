//! Issue 11, findings 2 and 3: no secret in any log line, job row or page when outbound
//! calls fail; no fetch of a URL a platform hands us unless the guard allows it.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use chrono::Duration;
use phananh_app::Clock;
use phananh_app::intake::IntakeRequest;
use phananh_channels::conversation::Reply;
use phananh_channels::{ChatConfig, Provider, hmac_sha256_hex};
use phananh_domain::access::Role;
use phananh_domain::model::{Actor, Channel};
use phananh_storage::NewJob;
use phananh_worker::{Worker, WorkerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

/// Every secret carries this; it must show up nowhere.
const MARK: &str = "S3CRET-MARKER";

fn secret(name: &str) -> String {
    format!("{MARK}-{name}-x9")
}

/// A log writer the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A port nothing listens on.
async fn closed_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

/// A careless upstream: every call fails, and the answer echoes the credentials it got.
async fn echoing_upstream() -> String {
    async fn echo(uri: axum::http::Uri, headers: HeaderMap, body: String) -> (AxStatus, String) {
        if uri.path().contains("/bot") {
            // The Bot API: the token is in the path, and this one echoes it back.
            return (
                AxStatus::BAD_REQUEST,
                json!({"ok": false, "error_code": 400, "description": format!("Bad Request: {uri} {body}")})
                    .to_string(),
            );
        }
        let h = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let auth = format!(
            "{} {} {}",
            h("authorization"),
            h("x-viber-auth-token"),
            body
        );
        if h("x-viber-auth-token").is_empty() {
            // SMS gateway, Open311 system: 400 with the credentials in the text.
            (
                AxStatus::BAD_REQUEST,
                format!("invalid credentials: {auth}"),
            )
        } else {
            // Viber answers 200 with a failure status.
            (
                AxStatus::OK,
                json!({"status": 2, "status_message": format!("invalidAuthToken {auth}")})
                    .to_string(),
            )
        }
    }
    let app = Router::new().fallback(echo);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test]
async fn no_secret_reaches_a_log_a_job_row_or_a_page() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // The test runs on one thread (current-thread runtime): the server's tasks log here.
    let _guard = tracing::subscriber::set_default(subscriber);

    let closed = closed_port().await;
    let echo = echoing_upstream().await;
    let chat = ChatConfig {
        messenger_verify_token: secret("verify"),
        messenger_app_secret: secret("appsecret"),
        messenger_page_token: secret("page"),
        messenger_page_id: "PAGE_ID".into(),
        graph_url: format!("http://127.0.0.1:{closed}/v25.0"),
        viber_auth_token: secret("viber"),
        viber_api_url: format!("{echo}/pa"),
        telegram_bot_token: secret("telegram"),
        telegram_secret_token: secret("tgsecret"),
        telegram_api_url: echo.clone(),
        ..ChatConfig::default()
    };
    let sms = phananh_channels::sms::SmsConfig {
        inbound_token: secret("sms-inbound"),
        twilio_auth_token: secret("twilio-inbound"),
        gateway_kind: "generic".into(),
        gateway_url: format!("{echo}/sms"),
        gateway_token: secret("sms-gateway"),
        sender: "1022".into(),
        ..Default::default()
    };
    let hotline = phananh_app::hotline::HotlineConfig {
        pbx_token: secret("pbx"),
        ami_address: format!("127.0.0.1:{closed}"),
        ami_username: "phananh".into(),
        ami_secret: secret("ami"),
        ..Default::default()
    };
    let email = phananh::EmailSection {
        address: "1022@example.vn".into(),
        imap_url: format!("imap://box:{}@127.0.0.1:{closed}/INBOX", secret("imap")),
        poll_seconds: 1,
        ..Default::default()
    };
    let t = spawn(Options {
        chat: chat.clone(),
        sms: sms.clone(),
        hotline,
        email,
        ..Options::default()
    })
    .await;
    let store = &t.store();

    // A unit with a webhook, its own Open311 system (with a key) and a forwarding address.
    let mut unit = t.app().catalog().await.unit("UBND-26740").unwrap().clone();
    unit.webhook_url = Some(format!("http://127.0.0.1:{closed}/hook"));
    unit.forward_open311 = Some(phananh_domain::profile::Open311Forward {
        url: format!("{echo}/open311/v2"),
        api_key: secret("open311"),
        jurisdiction_id: None,
        service_codes: Default::default(),
    });
    unit.forward_email = Some("unit@example.vn".into());
    store.save_unit(&unit).await.unwrap();
    t.app().refresh_catalog().await.unwrap();

    // A Messenger user and a Viber user write in (the worker answers them: it fails).
    let now = t.clock.now().timestamp_millis();
    let m = json!({"object": "page", "entry": [{"id": "PAGE_ID", "time": 1, "messaging": [
        {"sender": {"id": "PSID_S"}, "recipient": {"id": "PAGE_ID"}, "timestamp": now,
         "message": {"mid": "m-s1", "text": "Xin chào"}}]}]})
    .to_string();
    let r = t
        .client
        .post(t.url("/webhooks/messenger"))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            format!(
                "sha256={}",
                hmac_sha256_hex(secret("appsecret").as_bytes(), m.as_bytes())
            ),
        )
        .body(m)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v = json!({"event": "message", "timestamp": now, "message_token": 4912661846655238145u64,
        "sender": {"id": "VIBER_S", "name": "A"}, "message": {"type": "text", "text": "Xin chào"}})
    .to_string();
    let r = t
        .client
        .post(t.url("/webhooks/viber"))
        .header("content-type", "application/json")
        .header(
            "x-viber-content-signature",
            hmac_sha256_hex(secret("viber").as_bytes(), v.as_bytes()),
        )
        .body(v)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // And a Telegram user: the Bot API answers with the URL, token and all.
    let tg = json!({"update_id": 9001, "message": {"message_id": 1, "date": now / 1000,
        "from": {"id": 9001, "is_bot": false}, "chat": {"id": 9001, "type": "private"},
        "text": "Xin chào"}})
    .to_string();
    let r = t
        .client
        .post(t.url("/webhooks/telegram"))
        .header("content-type", "application/json")
        .header("x-telegram-bot-api-secret-token", secret("tgsecret"))
        .body(tg)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // A report from that Messenger user, with an email: webhook, Open311, email to the
    // unit, receipt by email.
    let receipt = t
        .app()
        .submit(
            IntakeRequest {
                field: "sidewalk".into(),
                description: "Lấn chiếm vỉa hè".into(),
                ward: Some("26740".into()),
                email: Some("citizen@example.vn".into()),
                consent: true,
                ..IntakeRequest::default()
            },
            Channel::Messenger,
            Actor::citizen(),
            Some("messenger:PSID_S".into()),
            Some("outbound-test".into()),
        )
        .await
        .unwrap();
    let report = store.report_by_code(&receipt.code).await.unwrap().unwrap();
    // A staff answer in the chat about the report, and an SMS.
    let mut chat_job = NewJob::chat_staff(
        Provider::Messenger.as_str(),
        "PSID_S",
        phananh_app::chat::messages(&[Reply {
            text: "Cảm ơn bạn".into(),
            choices: vec![],
        }]),
        report.id,
        "outbound-test-chat",
        t.clock.now(),
    );
    chat_job.max_attempts = 1;
    let mut sms_job = NewJob::new(
        "sms.send",
        json!({"to": "+84912345678", "text": "1022: test"}),
        t.clock.now(),
    );
    sms_job.max_attempts = 1;
    store.enqueue(&[chat_job, sms_job]).await.unwrap();

    let worker_config = WorkerConfig {
        webhook_secret: secret("webhook"),
        smtp_url: Some(format!(
            "smtp://phananh:{}@127.0.0.1:{closed}",
            secret("smtp")
        )),
        chat: chat.clone(),
        sms: sms.clone(),
        http_timeout: std::time::Duration::from_secs(2),
        ..WorkerConfig::default()
    };
    let worker = Worker::new(t.app().clone(), worker_config.clone());
    for _ in 0..10 {
        drain(&worker).await;
        worker.poll_forwards().await;
        t.clock.advance(Duration::hours(2));
    }
    // Twilio's API, unreachable: its token goes in Basic auth, never in the URL.
    let twilio = Worker::new(
        t.app().clone(),
        WorkerConfig {
            sms: phananh_channels::sms::SmsConfig {
                gateway_kind: "twilio".into(),
                gateway_url: format!("http://127.0.0.1:{closed}"),
                twilio_account_sid: "AC0123".into(),
                gateway_token: secret("twilio"),
                sender: "+15005550006".into(),
                ..Default::default()
            },
            ..worker_config
        },
    );
    let mut twilio_job = NewJob::new(
        "sms.send",
        json!({"to": "+84912345678", "text": "1022: test"}),
        t.clock.now(),
    );
    twilio_job.max_attempts = 1;
    store.enqueue(&[twilio_job]).await.unwrap();
    drain(&twilio).await;
    // The mailbox poller and the exchange link had time to fail too.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    // Every kind of call was made and failed.
    let jobs = store.jobs(None, 1000).await.unwrap();
    for kind in [
        "unit.webhook",
        "unit.open311.forward",
        "unit.email.forward",
        "citizen.email",
        "chat.send",
        "sms.send",
    ] {
        assert!(
            jobs.iter()
                .any(|j| j.kind == kind && j.status == "dead" && j.last_error.is_some()),
            "{kind} did not fail: {:?}",
            jobs.iter()
                .map(|j| (&j.kind, &j.status, &j.last_error))
                .collect::<Vec<_>>()
        );
    }
    // The Bot API's answer echoed the token: kept, but scrubbed.
    assert!(
        jobs.iter().any(|j| j.kind == "chat.send"
            && format!("{}", j.payload).contains("telegram")
            && j.status == "dead"
            && j.last_error
                .as_deref()
                .is_some_and(|e| e.contains("Telegram 400") && e.contains("[redacted]"))),
        "the Telegram answer: {:?}",
        jobs.iter()
            .map(|j| (&j.kind, &j.last_error))
            .collect::<Vec<_>>()
    );
    let log = logs.text();
    for expected in [
        "IMAP poll failed",
        "AMI link failed",
        "job dead-lettered",
        "polling the unit's Open311 system failed",
    ] {
        assert!(log.contains(expected), "no «{expected}» in the log");
    }

    // No secret in a job row …
    for j in &jobs {
        let row = format!("{} {} {:?}", j.kind, j.payload, j.last_error);
        assert!(!row.contains(MARK), "a secret in a job row: {row}");
    }
    // … on the admin's outbox page or the report's page (chat failures) …
    let admin = t.staff(Role::Admin, None).await;
    let outbox = admin
        .page(&t, "/console/admin/jobs")
        .await
        .text()
        .await
        .unwrap();
    assert!(outbox.contains("chat.send"), "the outbox lists the jobs");
    assert!(!outbox.contains(MARK), "a secret on the outbox page");
    let page = admin
        .page(&t, &format!("/console/reports/{}", receipt.code))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Không gửi được tin nhắn"),
        "the chat failure is shown"
    );
    assert!(!page.contains(MARK), "a secret on the report page");
    // … nor in any log line.
    let log = logs.text();
    let leaked: Vec<&str> = log.lines().filter(|l| l.contains(MARK)).collect();
    assert!(leaked.is_empty(), "secrets in the log: {leaked:#?}");
    drop(_guard);
    t.stop().await;
}

/// The photo hosts the fake platform serves, and an internal target nobody may reach.
struct Hosts {
    /// The allow-listed fake CDN (`127.0.0.1`).
    cdn: String,
    /// Requests that reached the internal target (`localhost`, not allow-listed).
    internal_hits: Arc<AtomicUsize>,
    internal_port: u16,
}

async fn hosts() -> Hosts {
    let internal_hits = Arc::new(AtomicUsize::new(0));
    let hits = internal_hits.clone();
    let internal = Router::new().fallback(move || {
        let hits = hits.clone();
        async move {
            hits.fetch_add(1, Ordering::SeqCst);
            phananh_photos::sample::phone_jpeg()
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let internal_port = l.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(l, internal).await.unwrap() });

    let target = format!("http://localhost:{internal_port}/secret.jpg");
    let cdn = Router::new()
        .route(
            "/cdn/photo.jpg",
            axum::routing::get(|| async { phananh_photos::sample::phone_jpeg() }),
        )
        // Same host: followed, and vetted again.
        .route(
            "/cdn/moved.jpg",
            axum::routing::get(|| async {
                (AxStatus::FOUND, [("location", "/cdn/photo.jpg")], "")
            }),
        )
        // Another host: never followed.
        .route(
            "/cdn/away.jpg",
            axum::routing::get(move || {
                let target = target.clone();
                async move { (AxStatus::FOUND, [("location", target)], "") }
            }),
        );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cdn_base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, cdn).await.unwrap() });
    Hosts {
        cdn: cdn_base,
        internal_hits,
        internal_port,
    }
}

/// A Graph API fake that takes every answer (token in the header).
async fn graph(seen: Arc<Mutex<Vec<String>>>) -> String {
    let app = Router::new().route(
        "/v25.0/me/messages",
        axum::routing::post(move |body: axum::Json<Value>| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(
                    body["message"]["text"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                );
                axum::Json(json!({"recipient_id": "x", "message_id": "m"}))
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    base
}

/// One signed Messenger message from PSID_X, then the worker runs.
async fn say(t: &TestApp, worker: &Worker, now: i64, n: &mut i64, message: Value) {
    *n += 1;
    let mut message = message;
    message["mid"] = format!("ssrf-{n}").into();
    let body = json!({"object": "page", "entry": [{"id": "PAGE_ID", "time": 1, "messaging": [
        {"sender": {"id": "PSID_X"}, "recipient": {"id": "PAGE_ID"}, "timestamp": now + *n * 1000,
         "message": message}]}]})
    .to_string();
    let r = t
        .client
        .post(t.url("/webhooks/messenger"))
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            format!("sha256={}", hmac_sha256_hex(b"app-secret", body.as_bytes())),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    drain(worker).await;
}

#[tokio::test]
async fn chat_photos_from_elsewhere_are_not_fetched_and_the_report_is_still_filed() {
    let h = hosts().await;
    let texts = Arc::new(Mutex::new(Vec::new()));
    let graph = graph(texts.clone()).await;
    let chat = ChatConfig {
        messenger_verify_token: "verify".into(),
        messenger_app_secret: "app-secret".into(),
        messenger_page_token: "page-token".into(),
        graph_url: format!("{graph}/v25.0"),
        // The fake CDN is allow-listed by configuration; `localhost` is not.
        messenger_media_hosts: vec!["127.0.0.1".into()],
        media_allow_loopback: true,
        ..ChatConfig::default()
    };
    let t = spawn(Options {
        chat: chat.clone(),
        ..Options::default()
    })
    .await;
    let worker = Worker::new(
        t.app().clone(),
        WorkerConfig {
            chat,
            ..WorkerConfig::default()
        },
    );
    let now = t.clock.now().timestamp_millis();
    let mut n = 0;
    say(&t, &worker, now, &mut n, json!({"text": "Xin chào"})).await;
    say(
        &t,
        &worker,
        now,
        &mut n,
        json!({"text": "Hạ tầng giao thông", "quick_reply": {"payload": "FIELD:traffic"}}),
    )
    .await;
    say(
        &t,
        &worker,
        now,
        &mut n,
        json!({"text": "Ổ gà lớn giữa làn xe máy trước chợ Bến Thành"}),
    )
    .await;
    let photo = |url: String| json!({"attachments": [{"type": "image", "payload": {"url": url}}]});
    let port = h.internal_port;
    for url in [
        // Not on the allow-list: a loopback address under another name.
        format!("http://localhost:{port}/direct.jpg"),
        // The metadata service.
        "http://169.254.169.254/latest/meta-data/".to_string(),
        // Allow-listed, but redirects to another host.
        format!("{}/cdn/away.jpg", h.cdn),
        // Allow-listed, redirects on the same host: fetched.
        format!("{}/cdn/moved.jpg", h.cdn),
    ] {
        say(&t, &worker, now, &mut n, photo(url)).await;
    }
    say(
        &t,
        &worker,
        now,
        &mut n,
        json!({"text": "Xong", "quick_reply": {"payload": "PHOTOS_DONE"}}),
    )
    .await;
    say(
        &t,
        &worker,
        now,
        &mut n,
        json!({"text": "so 12 Le Loi, phuong Sai Gon"}),
    )
    .await;
    say(
        &t,
        &worker,
        now,
        &mut n,
        json!({"text": "Gửi", "quick_reply": {"payload": "CONFIRM"}}),
    )
    .await;

    assert_eq!(
        h.internal_hits.load(Ordering::SeqCst),
        0,
        "the internal target was reached"
    );
    let all = texts.lock().unwrap().clone();
    let receipt = all
        .iter()
        .find(|m| m.contains("Mã hồ sơ của bạn"))
        .unwrap_or_else(|| panic!("no report filed: {all:?}"));
    assert!(
        receipt.contains("3 liên kết tệp không thuộc máy chủ của nền tảng"),
        "{receipt}"
    );
    let code = receipt.split("Mã hồ sơ của bạn: ").nth(1).unwrap()[..9].to_string();
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(
        t.store().photo_keys(report.id).await.unwrap().len(),
        1,
        "the photo on the allowed host came through its same-host redirect"
    );
    t.stop().await;
}

#[tokio::test]
async fn the_messenger_verify_token_is_checked() {
    let t = spawn(Options {
        chat: ChatConfig {
            messenger_verify_token: "verify-me".into(),
            messenger_app_secret: "s".into(),
            ..ChatConfig::default()
        },
        ..Options::default()
    })
    .await;
    for (token, expected) in [
        ("verify-me", StatusCode::OK),
        ("verify-mf", StatusCode::FORBIDDEN),
        ("verify-m", StatusCode::FORBIDDEN),
        ("verify-me-", StatusCode::FORBIDDEN),
        ("", StatusCode::FORBIDDEN),
    ] {
        let r = t
            .get(&format!(
                "/webhooks/messenger?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=77"
            ))
            .await;
        assert_eq!(r.status(), expected, "{token}");
    }
    t.stop().await;
}
