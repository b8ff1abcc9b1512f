//! Messenger and Viber, end to end: the real server takes signed webhooks, the worker runs
//! the conversation and answers through local fakes of the Graph and Viber APIs that
//! speak their wire format.

use std::sync::{Arc, Mutex};

use crate::support::*;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::routing::{get, post};
use chrono::Duration;
use phananh_app::Clock;
use phananh_channels::{ChatConfig, hmac_sha256_hex};
use phananh_domain::access::Role;
use phananh_worker::{Worker, WorkerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const APP_SECRET: &str = "test_app_secret";
const PAGE_TOKEN: &str = "EAAB_TEST";
const VIBER_TOKEN: &str = "445da6az1s345z78-dazcczb2542zv51a-e0vc5fva17480im9";

/// What the fake platforms received: (path with query, headers of interest, JSON body).
type Seen = Arc<Mutex<Vec<(String, String, Value)>>>;

/// One local server playing graph.facebook.com, chatapi.viber.com and the platforms'
/// photo hosts.
async fn fake_platforms() -> (String, Seen) {
    let seen: Seen = Arc::default();
    /// The token must come in `Authorization: Bearer`, the proof in the body; a token in
    /// the URL (where logs and error texts pick it up) is refused.
    fn bearer_ok(headers: &HeaderMap) -> bool {
        headers.get("authorization").and_then(|v| v.to_str().ok())
            == Some(&format!("Bearer {PAGE_TOKEN}")[..])
    }
    async fn graph(
        State(seen): State<Seen>,
        Query(q): Query<std::collections::HashMap<String, String>>,
        headers: HeaderMap,
        body: axum::Json<Value>,
    ) -> (AxStatus, axum::Json<Value>) {
        let proof_ok = body["appsecret_proof"].as_str()
            == Some(&phananh_channels::messenger::appsecret_proof(APP_SECRET, PAGE_TOKEN)[..]);
        let token_ok = bearer_ok(&headers) && !q.contains_key("access_token");
        if !proof_ok || !token_ok {
            return (
                AxStatus::BAD_REQUEST,
                axum::Json(
                    json!({"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}),
                ),
            );
        }
        let psid = body["recipient"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        seen.lock()
            .unwrap()
            .push(("graph".into(), psid.clone(), body.0.clone()));
        (
            AxStatus::OK,
            axum::Json(json!({"recipient_id": psid, "message_id": "m_fake"})),
        )
    }
    async fn viber(
        State(seen): State<Seen>,
        headers: HeaderMap,
        body: axum::Json<Value>,
    ) -> axum::Json<Value> {
        if headers
            .get("x-viber-auth-token")
            .and_then(|v| v.to_str().ok())
            != Some(VIBER_TOKEN)
        {
            return axum::Json(json!({"status": 2, "status_message": "invalidAuthToken"}));
        }
        let receiver = body["receiver"].as_str().unwrap_or_default().to_string();
        seen.lock()
            .unwrap()
            .push(("viber".into(), receiver, body.0.clone()));
        axum::Json(
            json!({"status": 0, "status_message": "ok", "message_token": 5741311803571721087u64}),
        )
    }
    async fn set_webhook(
        State(seen): State<Seen>,
        headers: HeaderMap,
        body: axum::Json<Value>,
    ) -> axum::Json<Value> {
        if headers
            .get("x-viber-auth-token")
            .and_then(|v| v.to_str().ok())
            != Some(VIBER_TOKEN)
        {
            return axum::Json(json!({"status": 2, "status_message": "invalidAuthToken"}));
        }
        seen.lock()
            .unwrap()
            .push(("viber".into(), "set_webhook".into(), body.0.clone()));
        axum::Json(json!({"status": 0, "status_message": "ok", "event_types": body["event_types"]}))
    }
    async fn me(
        Query(q): Query<std::collections::HashMap<String, String>>,
        headers: HeaderMap,
    ) -> (AxStatus, axum::Json<Value>) {
        if bearer_ok(&headers) && !q.contains_key("access_token") {
            (
                AxStatus::OK,
                axum::Json(json!({"id": "PAGE_ID", "name": "Tổng đài 1022"})),
            )
        } else {
            (
                AxStatus::BAD_REQUEST,
                axum::Json(
                    json!({"error": {"message": "Invalid OAuth access token.", "code": 190}}),
                ),
            )
        }
    }
    // Made only where ffmpeg is (the test that sends it checks; see `media::available`).
    let video = if phananh_photos::sample::media::present() {
        phananh_photos::sample::media::mp4_with_location()
    } else {
        Vec::new()
    };
    let app = Router::new()
        .route("/v25.0/me/messages", post(graph))
        .route("/v25.0/me", get(me))
        .route("/pa/set_webhook", post(set_webhook))
        .route("/pa/send_message", post(viber))
        .route(
            "/cdn/photo.jpg",
            get(|| async { phananh_photos::sample::phone_jpeg() }),
        )
        .route(
            "/cdn/huge.jpg",
            get(|| async { vec![0u8; 11 * 1024 * 1024] }),
        )
        .route("/cdn/gone.jpg", get(|| async { AxStatus::NOT_FOUND }))
        .route(
            "/cdn/video.mp4",
            get(move || {
                let v = video.clone();
                async move { v }
            }),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

fn chat_config(base: &str) -> ChatConfig {
    ChatConfig {
        messenger_verify_token: "verify-me".into(),
        messenger_app_secret: APP_SECRET.into(),
        messenger_page_token: PAGE_TOKEN.into(),
        messenger_page_id: "PAGE_ID".into(),
        graph_url: format!("{base}/v25.0"),
        viber_auth_token: VIBER_TOKEN.into(),
        viber_api_url: format!("{base}/pa"),
        // The fakes serve the platforms' photos from this loopback host.
        messenger_media_hosts: vec!["127.0.0.1".into()],
        viber_media_hosts: vec!["127.0.0.1".into()],
        media_allow_loopback: true,
        ..ChatConfig::default()
    }
}

async fn setup() -> (TestApp, Worker, String, Seen) {
    let (base, seen) = fake_platforms().await;
    let t = spawn(Options {
        chat: chat_config(&base),
        ..Options::default()
    })
    .await;
    let worker = Worker::new(
        t.app().clone(),
        WorkerConfig {
            chat: chat_config(&base),
            public_url: "https://1022.example.vn".into(),
            ..WorkerConfig::default()
        },
    );
    (t, worker, base, seen)
}

/// A Messenger delivery of `events` for one person, signed like Meta signs it.
fn messenger_body(events: Vec<Value>) -> String {
    json!({"object": "page", "entry": [{"id": "PAGE_ID", "time": 1, "messaging": events}]})
        .to_string()
}

fn msg(psid: &str, at: i64, mid: &str, message: Value) -> Value {
    let mut m = message;
    m["mid"] = mid.into();
    json!({"sender": {"id": psid}, "recipient": {"id": "PAGE_ID"}, "timestamp": at, "message": m})
}

async fn post_messenger(t: &TestApp, body: &str, signature: Option<String>) -> reqwest::Response {
    let mut req = t
        .client
        .post(t.url("/webhooks/messenger"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(s) = signature {
        req = req.header("x-hub-signature-256", s);
    }
    req.send().await.unwrap()
}

fn sign_meta(body: &str) -> Option<String> {
    Some(format!(
        "sha256={}",
        hmac_sha256_hex(APP_SECRET.as_bytes(), body.as_bytes())
    ))
}

async fn say(t: &TestApp, events: Vec<Value>) {
    let body = messenger_body(events);
    let r = post_messenger(t, &body, sign_meta(&body)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// The texts the fake Graph API got for `psid`, from `from` on.
fn texts(seen: &Seen, to: &str) -> Vec<String> {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|(_, who, _)| who == to)
        .map(|(_, _, b)| {
            b["message"]["text"]
                .as_str()
                .or(b["text"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn a_whole_report_through_messenger() {
    let (t, worker, base, seen) = setup().await;
    let now = t.clock.now().timestamp_millis();

    // The subscription handshake.
    let ok = t
        .get("/webhooks/messenger?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=4242")
        .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.text().await.unwrap(), "4242");
    let wrong = t
        .get("/webhooks/messenger?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);

    // Unsigned and wrongly signed deliveries are refused and nothing is kept.
    let body = messenger_body(vec![msg(
        "INTRUDER",
        now,
        "m-x",
        json!({"text": "Xin chào"}),
    )]);
    assert_eq!(
        post_messenger(&t, &body, None).await.status(),
        StatusCode::FORBIDDEN
    );
    let forged = format!("sha256={}", hmac_sha256_hex(b"other", body.as_bytes()));
    assert_eq!(
        post_messenger(&t, &body, Some(forged)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert!(
        t.store()
            .chat_pending("messenger", "INTRUDER")
            .await
            .unwrap()
            .is_empty()
    );
    // Signed garbage: 400, logged, nothing kept.
    let garbage = "{\"object\":\"page\",\"entry\":";
    assert_eq!(
        post_messenger(&t, garbage, sign_meta(garbage))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let huge = "x".repeat(300 * 1024);
    assert_eq!(
        post_messenger(&t, &huge, sign_meta(&huge)).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // Hello → the fields as quick replies.
    say(
        &t,
        vec![msg("PSID_1", now, "m1", json!({"text": "Xin chào"}))],
    )
    .await;
    drain(&worker).await;
    let sent = seen.lock().unwrap().clone();
    let first = &sent.last().unwrap().2;
    assert_eq!(first["recipient"]["id"], "PSID_1");
    assert_eq!(first["messaging_type"], "RESPONSE");
    assert_eq!(
        first["message"]["quick_replies"][0]["payload"], "FIELD:traffic",
        "{first}"
    );

    // Two events out of order in one batch: the field (earlier) and the description.
    say(
        &t,
        vec![
            msg(
                "PSID_1",
                now + 2000,
                "m3",
                json!({"text": "Ổ gà lớn giữa làn xe máy trước chợ Bến Thành"}),
            ),
            msg(
                "PSID_1",
                now + 1000,
                "m2",
                json!({"text": "Hạ tầng giao thông", "quick_reply": {"payload": "FIELD:traffic"}}),
            ),
        ],
    )
    .await;
    drain(&worker).await;
    assert!(
        texts(&seen, "PSID_1").last().unwrap().contains("Gửi ảnh"),
        "{:?}",
        texts(&seen, "PSID_1")
    );

    // Photos: one good, one too large, one that fails to download.
    for (i, path) in ["photo.jpg", "huge.jpg", "gone.jpg"].iter().enumerate() {
        let url = format!("{base}/cdn/{path}");
        say(
            &t,
            vec![msg(
                "PSID_1",
                now + 3000 + i as i64,
                &format!("m-photo-{i}"),
                json!({"attachments": [{"type": "image", "payload": {"url": url}}]}),
            )],
        )
        .await;
    }
    // A video (a phone's, with the place in it), kept as evidence (where ffmpeg is).
    let media_ok = phananh_photos::sample::media::available();
    if media_ok {
        say(
            &t,
            vec![msg(
                "PSID_1",
                now + 3500,
                "m-video",
                json!({"attachments": [{"type": "video", "payload": {"url": format!("{base}/cdn/video.mp4")}}]}),
            )],
        )
        .await;
    }
    say(
        &t,
        vec![msg(
            "PSID_1",
            now + 4000,
            "m4",
            json!({"text": "Xong", "quick_reply": {"payload": "PHOTOS_DONE"}}),
        )],
    )
    .await;
    // A sticker-like attachment gets a helpful prompt, never silence.
    say(
        &t,
        vec![msg(
            "PSID_1",
            now + 4500,
            "m4b",
            json!({"attachments": [{"type": "fallback", "payload": {"url": "x"}}]}),
        )],
    )
    .await;
    // The address, typed without accents, is matched to its ward.
    say(
        &t,
        vec![msg(
            "PSID_1",
            now + 5000,
            "m5",
            json!({"text": "so 12 Le Loi, phuong Sai Gon"}),
        )],
    )
    .await;
    drain(&worker).await;
    // The field's optional question, with its answers as quick replies and «Bỏ qua».
    let question = seen
        .lock()
        .unwrap()
        .iter()
        .rfind(|(_, who, _)| who == "PSID_1")
        .map(|(_, _, b)| b.clone())
        .unwrap();
    assert!(
        question["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Số làn xe bị chắn (không bắt buộc)"),
        "{question}"
    );
    assert_eq!(
        question["message"]["quick_replies"][1]["payload"],
        "ANSWER:one"
    );
    say(
        &t,
        vec![msg(
            "PSID_1",
            now + 5500,
            "m5b",
            json!({"text": "Một làn / One lane", "quick_reply": {"payload": "ANSWER:one"}}),
        )],
    )
    .await;
    drain(&worker).await;
    let all = texts(&seen, "PSID_1");
    assert!(
        all.iter()
            .any(|m| m.contains("chưa dùng được loại tin này")),
        "{all:?}"
    );
    let summary = all.last().unwrap();
    assert!(
        summary.contains("Kiểm tra lại") && summary.contains("Le Loi"),
        "{summary}"
    );

    // The same confirmation delivered three times at once files one report.
    let confirm = messenger_body(vec![msg(
        "PSID_1",
        now + 6000,
        "m6",
        json!({"text": "Gửi", "quick_reply": {"payload": "CONFIRM"}}),
    )]);
    let sig = sign_meta(&confirm);
    let (a, b, c) = tokio::join!(
        post_messenger(&t, &confirm, sig.clone()),
        post_messenger(&t, &confirm, sig.clone()),
        post_messenger(&t, &confirm, sig.clone())
    );
    assert!(
        [a.status(), b.status(), c.status()]
            .iter()
            .all(|s| *s == StatusCode::OK)
    );
    drain(&worker).await;
    let all = texts(&seen, "PSID_1");
    let receipts: Vec<&String> = all
        .iter()
        .filter(|m| m.contains("Mã hồ sơ của bạn"))
        .collect();
    assert_eq!(receipts.len(), 1, "one report, one answer: {all:?}");
    assert!(
        receipts[0].contains("2 ảnh, video hoặc ghi âm không tải được"),
        "{}",
        receipts[0]
    );
    let code = receipts[0].split("Mã hồ sơ của bạn: ").nth(1).unwrap()[..9].to_string();
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(report.channel.as_str(), "messenger");
    assert_eq!(report.ward.as_deref(), Some("26740"));
    assert_eq!(report.field, "traffic");
    assert_eq!(report.extra.attributes["lanes_blocked"], ["one"]);
    assert_eq!(t.store().photo_keys(report.id).await.unwrap().len(), 1);
    if media_ok {
        let media = t.store().report_media(report.id).await.unwrap();
        assert_eq!(media.len(), 1);
        assert_eq!(media[0].content_type, "video/mp4");
        let kept = t.app().photos.get(&media[0].key).unwrap();
        assert!(!phananh_photos::sample::media::contains(&kept, b"10.7769"));
    }
    let reporter = t.store().reporter(report.id).await.unwrap().unwrap();
    assert_eq!(
        reporter.channel_identity.as_deref(),
        Some("messenger:PSID_1")
    );

    // The citizen looks the report up by its code.
    say(
        &t,
        vec![msg(
            "PSID_1",
            now + 7000,
            "m7",
            json!({"text": code.to_lowercase()}),
        )],
    )
    .await;
    drain(&worker).await;
    assert!(
        texts(&seen, "PSID_1")
            .last()
            .unwrap()
            .starts_with(&format!("Phản ánh {code}"))
    );

    // The unit asks for information; the question arrives in the chat and the citizen's
    // next message is attached to the report as the answer.
    let staff = t.staff(Role::UnitStaff, Some(&report.unit)).await;
    let r = staff
        .act(
            &t,
            &code,
            json!({"action": "request_info", "question": "Ổ gà nằm ở làn nào?"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    drain(&worker).await;
    assert!(
        texts(&seen, "PSID_1")
            .last()
            .unwrap()
            .contains("Ổ gà nằm ở làn nào?")
    );
    say(
        &t,
        vec![msg(
            "PSID_1",
            now + 8000,
            "m8",
            json!({"text": "Làn xe máy bên phải, sát lề"}),
        )],
    )
    .await;
    drain(&worker).await;
    assert!(
        texts(&seen, "PSID_1")
            .iter()
            .any(|m| m.contains("Đã chuyển thông tin bổ sung"))
    );
    let history = t.store().events(report.id).await.unwrap();
    assert!(
        history.iter().any(|e| matches!(&e.kind,
            phananh_domain::event::EventKind::InfoProvided { answer, .. } if answer == "Làn xe máy bên phải, sát lề")),
        "{history:?}"
    );

    // The unit resolves it: the citizen hears of it in Messenger, within the window.
    let r = staff
        .act(
            &t,
            &code,
            json!({"action": "resolve", "note": "Đã vá ổ gà"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    drain(&worker).await;
    let last = texts(&seen, "PSID_1").last().unwrap().clone();
    assert!(
        last.contains(&code) && last.contains("Đã vá ổ gà"),
        "{last}"
    );

    // Two days later the 24-hour window is closed. A person may still answer (with the
    // HUMAN_AGENT tag, up to 7 days) from the console, where the chat is shown.
    t.clock.advance(Duration::days(2));
    // (A new session: the morning's has expired.)
    let staff = t.staff(Role::UnitStaff, Some(&report.unit)).await;
    let page = staff
        .page(&t, &format!("/console/reports/{code}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Trò chuyện với người dân") && page.contains("Xin chào"),
        "the chat on the report: {page}"
    );
    let r = staff
        .form(
            &t,
            &format!("/console/reports/{code}/chat"),
            &[("text", "Chúng tôi đã kiểm tra lại, mặt đường đã phẳng.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    drain(&worker).await;
    let sent = seen.lock().unwrap().clone();
    let (_, _, staff_msg) = sent.last().unwrap();
    assert_eq!(staff_msg["tag"], "HUMAN_AGENT", "{staff_msg}");
    assert!(
        staff_msg["message"]["text"]
            .as_str()
            .unwrap()
            .contains("mặt đường đã phẳng")
    );
    // An oversight reader sees no chat box and cannot answer.
    let oversight = t.staff(Role::Oversight, None).await;
    let r = oversight
        .form(
            &t,
            &format!("/console/reports/{code}/chat"),
            &[("text", "x")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // A status change is no person's reply: outside the window it is not sent, and staff see why.
    let before = texts(&seen, "PSID_1").len();
    let triage = t.staff(Role::Triage, None).await;
    let r = triage.act(&t, &code, json!({"action": "close"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    drain(&worker).await;
    assert_eq!(
        texts(&seen, "PSID_1").len(),
        before,
        "no message outside the window"
    );
    let jobs = t.store().jobs_for_report(report.id).await.unwrap();
    let dead: Vec<_> = jobs
        .iter()
        .filter(|j| j.kind == "chat.send" && j.status == "dead")
        .collect();
    assert_eq!(dead.len(), 1, "{jobs:?}");
    assert!(dead[0].last_error.as_deref().unwrap().contains("24"));
    let page = staff
        .page(&t, &format!("/console/reports/{code}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Không gửi được tin nhắn"),
        "the failure is shown on the report"
    );
    t.stop().await;
}

fn sign_viber(body: &str) -> String {
    hmac_sha256_hex(VIBER_TOKEN.as_bytes(), body.as_bytes())
}

async fn post_viber(t: &TestApp, body: &Value, how: &str) -> reqwest::Response {
    let raw = body.to_string();
    let sig = sign_viber(&raw);
    let req = match how {
        // Some SDKs read the signature from the query string.
        "query" => t.client.post(t.url(&format!("/webhooks/viber?sig={sig}"))),
        "header" => t
            .client
            .post(t.url("/webhooks/viber"))
            .header("x-viber-content-signature", sig),
        _ => t.client.post(t.url("/webhooks/viber")),
    };
    req.header("content-type", "application/json")
        .body(raw)
        .send()
        .await
        .unwrap()
}

fn viber_msg(user: &str, at: i64, token: u64, message: Value) -> Value {
    json!({"event": "message", "timestamp": at, "message_token": token, "chat_hostname": "SN-376_",
        "sender": {"id": user, "name": "Lan", "language": "vi", "country": "VN", "api_version": 10},
        "message": message, "silent": false})
}

#[tokio::test]
async fn a_whole_report_through_viber_and_an_unsubscribe() {
    let (t, worker, _base, seen) = setup().await;
    let now = t.clock.now().timestamp_millis();
    let user = "01234567890A=";

    // Opening the chat: the welcome comes back in the response body, with the fields.
    let started = json!({"event": "conversation_started", "timestamp": now, "message_token": 4912661846655238145u64,
        "type": "open", "user": {"id": user, "name": "Lan", "language": "vi"}, "subscribed": false});
    let r = post_viber(&t, &started, "header").await;
    assert_eq!(r.status(), StatusCode::OK);
    let welcome: Value = r.json().await.unwrap();
    assert!(
        welcome["text"].as_str().unwrap().starts_with("Xin chào"),
        "{welcome}"
    );
    assert!(welcome.get("receiver").is_none());
    assert_eq!(
        welcome["keyboard"]["Buttons"][0]["ActionBody"],
        "#FIELD:traffic"
    );
    // No signature: 403; a bad one: 403; delivery receipts: 200 and nothing kept.
    assert_eq!(
        post_viber(&t, &started, "none").await.status(),
        StatusCode::FORBIDDEN
    );
    let delivered =
        json!({"event": "delivered", "timestamp": now, "message_token": 1, "user_id": user});
    assert_eq!(
        post_viber(&t, &delivered, "header").await.status(),
        StatusCode::OK
    );

    // A keyboard button, a description, a location (the SDK's ?sig= form), confirm.
    let steps = [
        json!({"type": "text", "text": "#FIELD:trees"}),
        json!({"type": "text", "text": "Cây đổ chắn ngang đường sau mưa lớn"}),
        json!({"type": "location", "location": {"lat": 10.7769, "lon": 106.7009}}),
        json!({"type": "text", "text": "#CONFIRM"}),
    ];
    for (i, m) in steps.into_iter().enumerate() {
        let how = if i == 2 { "query" } else { "header" };
        let r = post_viber(
            &t,
            &viber_msg(user, now + 1000 * (i as i64 + 1), 100 + i as u64, m),
            how,
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
        drain(&worker).await;
    }
    let sent = seen.lock().unwrap().clone();
    let to_user: Vec<&Value> = sent
        .iter()
        .filter(|(p, who, _)| p == "viber" && who == user)
        .map(|(_, _, b)| b)
        .collect();
    assert!(
        to_user
            .iter()
            .all(|b| b["sender"]["name"] == "Tổng đài 1022")
    );
    let receipt = to_user.last().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(receipt.contains("Mã hồ sơ của bạn"), "{to_user:?}");
    let code = receipt.split("Mã hồ sơ của bạn: ").nth(1).unwrap()[..9].to_string();
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(report.channel.as_str(), "viber");
    assert_eq!(report.field, "trees");
    assert!(report.lat.is_some());

    // The citizen unsubscribes; a later status change is not sent to them.
    let unsub = json!({"event": "unsubscribed", "timestamp": now + 9000, "user_id": user, "message_token": 999});
    assert_eq!(
        post_viber(&t, &unsub, "header").await.status(),
        StatusCode::OK
    );
    drain(&worker).await;
    let before = seen.lock().unwrap().len();
    let staff = t.staff(Role::UnitStaff, Some(&report.unit)).await;
    let r = staff
        .act(
            &t,
            &code,
            json!({"action": "resolve", "note": "Đã dọn cây"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    drain(&worker).await;
    assert_eq!(
        seen.lock().unwrap().len(),
        before,
        "nothing to an unsubscribed user"
    );
    let jobs = t.store().jobs_for_report(report.id).await.unwrap();
    assert!(
        jobs.iter().any(|j| j.kind == "chat.send"
            && j.status == "dead"
            && j.last_error
                .as_deref()
                .unwrap_or("")
                .contains("unsubscribed")),
        "{jobs:?}"
    );
    // Malformed JSON with a good signature: 400, never a crash.
    let raw = "{\"event\":";
    let r = t
        .client
        .post(t.url("/webhooks/viber"))
        .header("x-viber-content-signature", sign_viber(raw))
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    t.stop().await;
}

#[tokio::test]
async fn operators_connect_the_platforms_from_the_command_line() {
    let (base, seen) = fake_platforms().await;
    let run = move |args: &'static [&'static str], token: &'static str| {
        let base = base.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_phananh"))
                .args(args)
                .env("RUST_LOG", "error")
                .env("PHANANH_VIBER_AUTH_TOKEN", VIBER_TOKEN)
                .env("PHANANH_VIBER_API_URL", format!("{base}/pa"))
                .env("PHANANH_GRAPH_URL", format!("{base}/v25.0"))
                .env("PHANANH_MESSENGER_VERIFY_TOKEN", "verify-me")
                .env("PHANANH_MESSENGER_APP_SECRET", APP_SECRET)
                .env("PHANANH_MESSENGER_PAGE_TOKEN", token)
                .output()
                .unwrap()
        })
    };
    let hook = &[
        "chat",
        "viber-webhook",
        "https://1022.example.vn/webhooks/viber",
    ];
    let out = run(hook, PAGE_TOKEN).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let registered = seen.lock().unwrap().last().unwrap().2.clone();
    assert_eq!(registered["url"], "https://1022.example.vn/webhooks/viber");
    assert!(
        registered["event_types"]
            .to_string()
            .contains("conversation_started")
    );
    let ok = run(&["chat", "messenger-check"], PAGE_TOKEN).await.unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("PAGE_ID"));
    let bad = run(&["chat", "messenger-check"], "WRONG").await.unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("Invalid OAuth access token"));
}

/// One thing a citizen does in a chat, for [`files_what_came_before_the_field`]; each
/// platform's test turns it into that platform's delivery.
pub(crate) enum Act {
    /// A photo the platform's fake serves (and the worker can download).
    Photo,
    Location(f64, f64),
    Text(&'static str),
    /// The field's button: (code, title as the keyboard shows it).
    Field(&'static str, &'static str),
    /// The summary's «Gửi» button.
    Confirm,
}

/// Issue 13.3, the same on every platform: a photo, a location and a description sent
/// before the field is chosen are all kept, the field and its own (optional) question are
/// the only things asked, and all of it is on the report filed. `say` delivers one act (with the platform's signature,
/// its timestamp `at` in unix ms) and checks the webhook answered 200; `replies` returns
/// the texts the platform's fake received for this person so far. Returns the report.
///
/// A new platform adds one test that calls this with its own `say` and `replies`
/// (see `any_order_on_messenger`, `any_order_on_viber`, `telegram::any_order_on_telegram`).
pub(crate) async fn files_what_came_before_the_field<S, F>(
    t: &TestApp,
    worker: &Worker,
    channel: &str,
    mut say: S,
    replies: impl Fn() -> Vec<String>,
) -> phananh_domain::model::Report
where
    S: FnMut(Act, i64) -> F,
    F: std::future::Future<Output = ()>,
{
    let now = t.clock.now().timestamp_millis();
    let description = "Có vật cản lớn nằm chắn giữa lối đi từ chiều hôm qua";
    let last = || replies().last().cloned().unwrap_or_default();
    say(Act::Photo, now + 1000).await;
    drain(worker).await;
    assert!(last().contains("Đã nhận ảnh 1/5"), "{:?}", replies());
    say(Act::Location(10.7769, 106.7009), now + 2000).await;
    drain(worker).await;
    assert!(last().contains("Đã nhận vị trí"), "{:?}", replies());
    say(Act::Text(description), now + 3000).await;
    drain(worker).await;
    assert!(
        last().contains("lĩnh vực"),
        "the field is still asked: {:?}",
        replies()
    );
    say(Act::Field("trees", "Cây xanh"), now + 4000).await;
    drain(worker).await;
    // The field's optional question, now that the place is known; answered by its number.
    assert!(
        last().contains("Tình trạng cây (không bắt buộc)"),
        "then the field's question: {:?}",
        replies()
    );
    say(Act::Text("2"), now + 4500).await;
    drain(worker).await;
    let summary = last();
    assert!(
        summary.contains("Kiểm tra lại phản ánh")
            && summary.contains(description)
            && summary.contains("Ảnh: 1")
            && summary.contains("10.77690, 106.70090")
            && summary.contains("Tình trạng cây: Cây nghiêng"),
        "then the summary of all of it: {summary}"
    );
    say(Act::Confirm, now + 5000).await;
    drain(worker).await;
    let receipt = last();
    let code = receipt
        .split("Mã hồ sơ của bạn: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no receipt: {:?}", replies()))[..9]
        .to_string();
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(report.channel.as_str(), channel);
    assert_eq!(report.field, "trees");
    assert_eq!(report.description, description);
    assert_eq!(report.extra.attributes["tree_state"], ["leaning"]);
    assert_eq!(
        (report.lat, report.lon),
        (Some(10.7769), Some(106.7009)),
        "the location sent first"
    );
    assert_eq!(
        t.store().photo_keys(report.id).await.unwrap().len(),
        1,
        "the photo sent first"
    );
    report
}

#[tokio::test]
async fn any_order_on_messenger() {
    let (t, worker, base, seen) = setup().await;
    let tr: &TestApp = &t;
    let photo = format!("{base}/cdn/photo.jpg");
    let mut n = 0;
    files_what_came_before_the_field(
        &t,
        &worker,
        "messenger",
        move |act, at| {
            n += 1;
            let message = match act {
                Act::Photo => {
                    json!({"attachments": [{"type": "image", "payload": {"url": photo.clone()}}]})
                }
                Act::Location(lat, long) => {
                    json!({"attachments": [{"type": "location", "payload": {"coordinates": {"lat": lat, "long": long}}}]})
                }
                Act::Text(text) => json!({ "text": text }),
                Act::Field(code, title) => {
                    json!({"text": title, "quick_reply": {"payload": format!("FIELD:{code}")}})
                }
                Act::Confirm => json!({"text": "Gửi", "quick_reply": {"payload": "CONFIRM"}}),
            };
            let event = msg("PSID_ORDER", at, &format!("m-order-{n}"), message);
            async move { say(tr, vec![event]).await }
        },
        || texts(&seen, "PSID_ORDER"),
    )
    .await;
    t.stop().await;
}

#[tokio::test]
async fn any_order_on_viber() {
    let (t, worker, base, seen) = setup().await;
    let tr: &TestApp = &t;
    let user = "ORDER0123456=";
    let photo = format!("{base}/cdn/photo.jpg");
    let mut n = 0u64;
    files_what_came_before_the_field(
        &t,
        &worker,
        "viber",
        move |act, at| {
            n += 1;
            let message = match act {
                Act::Photo => json!({"type": "picture", "text": "", "media": photo.clone()}),
                Act::Location(lat, lon) => {
                    json!({"type": "location", "location": {"lat": lat, "lon": lon}})
                }
                Act::Text(text) => json!({"type": "text", "text": text}),
                Act::Field(code, _) => json!({"type": "text", "text": format!("#FIELD:{code}")}),
                Act::Confirm => json!({"type": "text", "text": "#CONFIRM"}),
            };
            let body = viber_msg(user, at, 7000 + n, message);
            async move {
                let r = post_viber(tr, &body, "header").await;
                assert_eq!(r.status(), StatusCode::OK);
            }
        },
        || texts(&seen, user),
    )
    .await;
    t.stop().await;
}
