//! Zalo OA, end to end: the real server takes signed Zalo events, the worker runs the
//! conversation and answers through a local fake of Zalo's OpenAPI, OAuth and ZNS that
//! speaks their wire format (`access_token` header, single-use refresh tokens with reuse
//! detection, `{"error": 0, "data": …}` answers). The token chain is also exercised by the
//! real binary killed with SIGKILL in the middle of a refresh.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::support::*;
use axum::Router;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use chrono::Duration;
use phananh_app::Clock;
use phananh_channels::{ChatConfig, zalo};
use phananh_domain::access::Role;
use phananh_worker::{Worker, WorkerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const APP_ID: &str = "2553928453557884079";
const APP_SECRET: &str = "zalo-app-secret";
const OA_SECRET: &str = "OA_SECRET_KEY_TEST";
const OA_ID: &str = "3662729599332560487";

/// What the fake Zalo knows and saw.
#[derive(Default)]
struct Fake {
    /// Refresh token → still usable?
    refresh: HashMap<String, bool>,
    /// Access tokens Zalo accepts.
    access: HashSet<String>,
    issued: usize,
    refreshes: usize,
    /// A used refresh token came back: Zalo revoked the whole chain.
    reuse_detected: bool,
    /// Hold refresh requests unanswered (before spending the token) / answer them late.
    stall: bool,
    stalled: usize,
    slow_ms: u64,
    /// (user, text) of CS messages; ZNS bodies; (to, text) of SMS.
    cs: Vec<(String, String)>,
    zns: Vec<Value>,
    sms: Vec<(String, String)>,
    /// Phone numbers (84…) without a Zalo account.
    no_zalo: HashSet<String>,
}

type Shared = Arc<Mutex<Fake>>;

fn invalid_token() -> axum::Json<Value> {
    axum::Json(json!({"error": -216, "message": "Access token is invalid"}))
}

fn token_ok(fake: &Shared, headers: &HeaderMap) -> bool {
    headers
        .get("access_token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| fake.lock().unwrap().access.contains(t))
}

async fn oauth(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> axum::Json<Value> {
    let app_ok = headers.get("secret_key").and_then(|v| v.to_str().ok()) == Some(APP_SECRET)
        && form.get("app_id").map(String::as_str) == Some(APP_ID)
        && form.get("grant_type").map(String::as_str) == Some("refresh_token");
    if !app_ok {
        return axum::Json(
            json!({"error": -14002, "error_name": "Invalid app", "error_description": "app_id or secret_key is wrong"}),
        );
    }
    let (stall, slow) = {
        let mut f = fake.lock().unwrap();
        if f.stall {
            f.stalled += 1;
        }
        (f.stall, f.slow_ms)
    };
    if stall {
        // The request was never answered: the token is not spent.
        std::future::pending::<()>().await;
    }
    let given = form.get("refresh_token").cloned().unwrap_or_default();
    let (answer, spent) = {
        let mut f = fake.lock().unwrap();
        match f.refresh.get(&given).copied() {
            Some(true) => {
                f.refresh.insert(given, false);
                f.issued += 1;
                f.refreshes += 1;
                let (at, rt) = (format!("AT{}", f.issued), format!("RT{}", f.issued));
                f.refresh.insert(rt.clone(), true);
                f.access.insert(at.clone());
                (
                    json!({"access_token": at, "refresh_token": rt, "expires_in": "90000"}),
                    true,
                )
            }
            Some(false) => {
                // Reuse of a spent refresh token: the whole chain is revoked.
                f.reuse_detected = true;
                for v in f.refresh.values_mut() {
                    *v = false;
                }
                f.access.clear();
                (
                    json!({"error": -14014, "error_name": "Invalid refresh token", "error_description": "refresh token was used"}),
                    false,
                )
            }
            None => (
                json!({"error": -14014, "error_name": "Invalid refresh token", "error_description": "unknown"}),
                false,
            ),
        }
    };
    if spent && slow > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(slow)).await;
    }
    axum::Json(answer)
}

async fn cs(
    State(fake): State<Shared>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> axum::Json<Value> {
    if !token_ok(&fake, &headers) {
        return invalid_token();
    }
    let user = body["recipient"]["user_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let text = body["message"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    fake.lock().unwrap().cs.push((user.clone(), text));
    axum::Json(
        json!({"data": {"message_id": "c1f3", "user_id": user}, "error": 0, "message": "Success"}),
    )
}

async fn getoa(State(fake): State<Shared>, headers: HeaderMap) -> axum::Json<Value> {
    if !token_ok(&fake, &headers) {
        return invalid_token();
    }
    axum::Json(
        json!({"data": {"oa_id": OA_ID, "name": "Tổng đài 1022", "is_verified": true}, "error": 0, "message": "Success"}),
    )
}

async fn zns(
    State(fake): State<Shared>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> axum::Json<Value> {
    if !token_ok(&fake, &headers) {
        return invalid_token();
    }
    let mut f = fake.lock().unwrap();
    let phone = body["phone"].as_str().unwrap_or_default();
    if f.no_zalo.contains(phone) {
        return axum::Json(json!({"error": -118, "message": "Zalo account not existed"}));
    }
    f.zns.push(body.0.clone());
    axum::Json(
        json!({"error": 0, "message": "Success", "data": {"msg_id": "a1b2", "sent_time": "1772416800000", "quota": {"dailyQuota": "500", "remainingQuota": "499"}}}),
    )
}

async fn sms(
    State(fake): State<Shared>,
    headers: HeaderMap,
    body: axum::Json<Value>,
) -> axum::http::StatusCode {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer gw-token") {
        return axum::http::StatusCode::UNAUTHORIZED;
    }
    let to = body["to"].as_str().unwrap_or_default().to_string();
    let text = body["text"].as_str().unwrap_or_default().to_string();
    fake.lock().unwrap().sms.push((to, text));
    axum::http::StatusCode::OK
}

/// One local server playing openapi.zalo.me, oauth.zaloapp.com, business.openapi.zalo.me,
/// Zalo's photo host and an SMS gateway. The first refresh token is "RT0".
async fn fake_zalo() -> (String, Shared) {
    let fake: Shared = Arc::default();
    fake.lock().unwrap().refresh.insert("RT0".into(), true);
    let app = Router::new()
        .route("/v4/oa/access_token", post(oauth))
        .route("/v3.0/oa/message/cs", post(cs))
        .route("/v2.0/oa/getoa", get(getoa))
        .route("/message/template", post(zns))
        .route("/sms", post(sms))
        .route(
            "/cdn/photo.jpg",
            get(|| async { phananh_photos::sample::phone_jpeg() }),
        )
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, fake)
}

fn chat_config(base: &str) -> ChatConfig {
    ChatConfig {
        zalo_app_id: APP_ID.into(),
        zalo_app_secret: APP_SECRET.into(),
        zalo_oa_secret: OA_SECRET.into(),
        zalo_refresh_token: "RT0".into(),
        zalo_openapi_url: base.into(),
        zalo_oauth_url: base.into(),
        zalo_zns_url: base.into(),
        zalo_media_hosts: vec!["127.0.0.1".into()],
        media_allow_loopback: true,
        ..ChatConfig::default()
    }
}

fn sms_config(base: &str) -> phananh_channels::sms::SmsConfig {
    phananh_channels::sms::SmsConfig {
        inbound_token: "in-token".into(),
        gateway_url: format!("{base}/sms"),
        gateway_token: "gw-token".into(),
        ..Default::default()
    }
}

async fn setup(chat: impl Fn(&mut ChatConfig)) -> (TestApp, Worker, String, Shared) {
    let (base, fake) = fake_zalo().await;
    let mut cfg = chat_config(&base);
    chat(&mut cfg);
    let t = spawn(Options {
        chat: cfg.clone(),
        sms: sms_config(&base),
        ..Options::default()
    })
    .await;
    let worker = Worker::new(
        t.app().clone(),
        WorkerConfig {
            chat: cfg,
            sms: sms_config(&base),
            public_url: "https://1022.example.vn".into(),
            ..WorkerConfig::default()
        },
    );
    (t, worker, base, fake)
}

/// A Zalo event as Zalo writes it (ids and the timestamp as strings).
fn event(name: &str, user: &str, at: i64, message: Value) -> String {
    json!({"app_id": APP_ID, "user_id_by_app": "979122185046046317", "event_name": name,
        "timestamp": at.to_string(), "sender": {"id": user}, "recipient": {"id": OA_ID},
        "message": message})
    .to_string()
}

fn text(user: &str, at: i64, id: &str, text: &str) -> String {
    event(
        "user_send_text",
        user,
        at,
        json!({"text": text, "msg_id": id}),
    )
}

fn attachment(name: &str, user: &str, at: i64, id: &str, kind: &str, payload: Value) -> String {
    event(
        name,
        user,
        at,
        json!({"msg_id": id, "attachments": [{"type": kind, "payload": payload}]}),
    )
}

/// Posts `body` signed as Zalo signs it (`mac=` prefix optional), or with `signature`.
async fn post_zalo(t: &TestApp, body: &str, signature: Option<String>) -> reqwest::Response {
    let mut req = t
        .client
        .post(t.url("/webhooks/zalo"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(s) = signature {
        req = req.header("x-zevent-signature", s);
    }
    req.send().await.unwrap()
}

fn sign(body: &str) -> Option<String> {
    let ts = zalo::signed_timestamp(body.as_bytes(), None).unwrap();
    Some(format!(
        "mac={}",
        zalo::signature(APP_ID, OA_SECRET, body.as_bytes(), &ts)
    ))
}

async fn say(t: &TestApp, body: &str) {
    let r = post_zalo(t, body, sign(body)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

fn to(fake: &Shared, user: &str) -> Vec<String> {
    fake.lock()
        .unwrap()
        .cs
        .iter()
        .filter(|(u, _)| u == user)
        .map(|(_, t)| t.clone())
        .collect()
}

fn last_to(fake: &Shared, user: &str) -> String {
    to(fake, user).last().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_whole_report_through_zalo_in_vietnamese() {
    let (t, worker, base, fake) = setup(|_| {}).await;
    let now = t.clock.now().timestamp_millis();
    let user = "6142494823000000001";

    // Signatures: missing, wrong, an HMAC instead of the plain hash, another app: 403 and
    // nothing kept.
    let hello = text(user, now, "m-intruder", "Xin chào");
    assert_eq!(
        post_zalo(&t, &hello, None).await.status(),
        StatusCode::FORBIDDEN
    );
    let ts = now.to_string();
    for forged in [
        zalo::signature(APP_ID, "other", hello.as_bytes(), &ts),
        zalo::signature("1", OA_SECRET, hello.as_bytes(), &ts),
        phananh_channels::hmac_sha256_hex(OA_SECRET.as_bytes(), hello.as_bytes()),
        "not hex".into(),
    ] {
        assert_eq!(
            post_zalo(&t, &hello, Some(forged)).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    // A genuine but stale event (two hours old), or one from the future: 403.
    let stale = text(user, now - 2 * 3600 * 1000, "m-stale", "Xin chào");
    let r = post_zalo(&t, &stale, sign(&stale)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "stale");
    let future = text(user, now + 2 * 3600 * 1000, "m-future", "Xin chào");
    assert_eq!(
        post_zalo(&t, &future, sign(&future)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert!(
        t.store()
            .chat_pending("zalo", user)
            .await
            .unwrap()
            .is_empty()
    );
    // Signed garbage: 400; receipts of our own messages: 200 and nothing kept.
    let garbage = format!("{{\"timestamp\":\"{now}\",\"event_name\":7}}");
    assert_eq!(
        post_zalo(&t, &garbage, sign(&garbage)).await.status(),
        StatusCode::BAD_REQUEST
    );
    // Not JSON at all: no timestamp to check the signature with, so 403.
    let cut = format!("{{\"timestamp\":\"{now}\",\"event_name\":");
    let sig = zalo::signature(APP_ID, OA_SECRET, cut.as_bytes(), &now.to_string());
    assert_eq!(
        post_zalo(&t, &cut, Some(sig)).await.status(),
        StatusCode::FORBIDDEN
    );
    let seen =
        json!({"event_name": "user_seen_message", "timestamp": now.to_string(), "app_id": APP_ID,
        "sender": {"id": user}, "recipient": {"id": OA_ID}, "message": {"msg_ids": ["x"]}})
        .to_string();
    say(&t, &seen).await;
    assert!(
        t.store()
            .chat_pending("zalo", user)
            .await
            .unwrap()
            .is_empty()
    );

    // Follow, then hello: the fields come back as a numbered list (the first call refreshes
    // the configured token and sends with the new access token).
    let follow = json!({"app_id": APP_ID, "event_name": "follow", "timestamp": now.to_string(),
        "oa_id": OA_ID, "follower": {"id": user}, "source": "oa_profile", "user_id_by_app": "979"})
    .to_string();
    say(&t, &follow).await;
    say(&t, &text(user, now + 100, "m1", "Xin chào")).await;
    drain(&worker).await;
    let first = last_to(&fake, user);
    assert!(
        first.starts_with("Bạn muốn phản ánh về lĩnh vực nào?\n1. "),
        "{first}"
    );
    assert_eq!(fake.lock().unwrap().refreshes, 1);
    let stored = t.app().zalo_token().await.unwrap().unwrap();
    assert_eq!(
        (stored.access_token.as_str(), stored.refresh_token.as_str()),
        ("AT1", "RT1")
    );

    // Delivered out of order (the description before the field), and one delivered twice:
    // processed once, in Zalo's order.
    let description = text(
        user,
        now + 2000,
        "m3",
        "Ổ gà lớn giữa làn xe máy trước chợ Bến Thành",
    );
    say(&t, &description).await;
    say(&t, &text(user, now + 1000, "m2", "1")).await;
    say(&t, &description).await;
    drain(&worker).await;
    let after = to(&fake, user);
    assert_eq!(after.len(), 3, "the replay is not answered: {after:?}");
    assert!(after[1].contains("mô tả"), "the field first: {after:?}");
    assert!(
        after[2].contains("Gửi ảnh"),
        "then the description: {after:?}"
    );

    // A photo from Zalo's host, then a video and a file: their links stay in the chat's
    // log and the citizen is told what can be used.
    say(
        &t,
        &attachment(
            "user_send_image",
            user,
            now + 3000,
            "m4",
            "image",
            json!({"url": format!("{base}/cdn/photo.jpg"), "thumbnail": "x"}),
        ),
    )
    .await;
    say(
        &t,
        &attachment(
            "user_send_video",
            user,
            now + 3100,
            "m5",
            "video",
            json!({"url": "https://video.zdn.vn/v/clip.mp4", "thumbnail": "x"}),
        ),
    )
    .await;
    say(
        &t,
        &attachment(
            "user_send_audio",
            user,
            now + 3150,
            "m5a",
            "audio",
            json!({"url": "https://voice.zdn.vn/a.aac"}),
        ),
    )
    .await;
    say(&t, &text(user, now + 3200, "m6", "Xong")).await;
    drain(&worker).await;
    let all = to(&fake, user);
    assert!(all.iter().any(|m| m.contains("Đã nhận ảnh 1/5")), "{all:?}");
    // The video and the voice note are evidence too (fetched when the report is filed).
    assert_eq!(
        all.iter()
            .filter(|m| m.contains("Đã nhận video/ghi âm"))
            .count(),
        2,
        "the video and the recording are taken: {all:?}"
    );
    assert!(last_to(&fake, user).contains("Vấn đề ở đâu?"));
    let log = t.store().chat_log("zalo", user, 50).await.unwrap();
    assert!(
        log.iter().any(|(inbound, l, _)| *inbound && l == "[video]"),
        "{log:?}"
    );

    // The place as Zalo sends it (coordinates as strings), then «Gửi».
    say(
        &t,
        &attachment(
            "user_send_location",
            user,
            now + 4000,
            "m7",
            "location",
            json!({"coordinates": {"latitude": "10.7721", "longitude": "106.6983"}}),
        ),
    )
    .await;
    drain(&worker).await;
    // The field's optional question, its answers listed (Zalo has no quick replies here);
    // answered by number.
    let question = last_to(&fake, user);
    assert!(
        question.contains("Số làn xe bị chắn (không bắt buộc)") && question.contains("«Bỏ qua»"),
        "{question}"
    );
    say(&t, &text(user, now + 4500, "m7b", "2")).await;
    drain(&worker).await;
    let summary = last_to(&fake, user);
    assert!(
        summary.contains("Kiểm tra lại")
            && summary.contains("Số làn xe bị chắn: Một làn")
            && summary.ends_with("→ «Gửi» / «Hủy»"),
        "{summary}"
    );
    say(&t, &text(user, now + 5000, "m8", "Gửi")).await;
    drain(&worker).await;
    let receipt = last_to(&fake, user);
    assert!(receipt.contains("Mã hồ sơ của bạn"), "{receipt}");
    let code = receipt.split("Mã hồ sơ của bạn: ").nth(1).unwrap()[..9].to_string();
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(report.channel.as_str(), "zalo");
    assert_eq!(report.field, "traffic");
    assert_eq!(report.extra.attributes["lanes_blocked"], ["one"]);
    assert!(report.lat.is_some());
    assert_eq!(t.store().photo_keys(report.id).await.unwrap().len(), 1);
    let reporter = t.store().reporter(report.id).await.unwrap().unwrap();
    assert_eq!(
        reporter.channel_identity.as_deref(),
        Some(&*format!("zalo:{user}"))
    );

    // The unit asks a question: it arrives in Zalo, and the answer there goes to the report.
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
    assert!(last_to(&fake, user).contains("Ổ gà nằm ở làn nào?"));
    say(
        &t,
        &text(user, now + 8000, "m9", "Làn xe máy bên phải, sát lề"),
    )
    .await;
    drain(&worker).await;
    assert!(
        to(&fake, user)
            .iter()
            .any(|m| m.contains("Đã chuyển thông tin bổ sung")),
        "{:?}",
        to(&fake, user)
    );
    let history = t.store().events(report.id).await.unwrap();
    assert!(history.iter().any(|e| matches!(&e.kind,
        phananh_domain::event::EventKind::InfoProvided { answer, .. } if answer == "Làn xe máy bên phải, sát lề")));

    // A day and more later the access token has expired: the next message refreshes it
    // (the refresh token is spent once) and goes with the new one.
    t.clock.advance(Duration::hours(26));
    // (A new session: the morning's has expired.)
    let staff = t.staff(Role::UnitStaff, Some(&report.unit)).await;
    let r = staff
        .act(
            &t,
            &code,
            json!({"action": "resolve", "note": "Đã vá ổ gà"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    drain(&worker).await;
    assert!(last_to(&fake, user).contains("Đã vá ổ gà"));
    assert_eq!(fake.lock().unwrap().refreshes, 2);
    let stored = t.app().zalo_token().await.unwrap().unwrap();
    assert_eq!(stored.refresh_token, "RT2");
    // Zalo revokes the access token before it expires: -216, one refresh, sent.
    fake.lock().unwrap().access.clear();
    let r = staff
        .form(
            &t,
            &format!("/console/reports/{code}/chat"),
            &[("text", "Cảm ơn anh/chị đã phản ánh.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    drain(&worker).await;
    assert!(last_to(&fake, user).contains("Cảm ơn anh/chị đã phản ánh."));
    assert_eq!(fake.lock().unwrap().refreshes, 3);
    assert!(!fake.lock().unwrap().reuse_detected);

    // Eight days after the citizen's last message the reply window is closed: nothing is
    // sent, and staff see why on the report.
    t.clock.advance(Duration::days(8));
    let before = to(&fake, user).len();
    let triage = t.staff(Role::Triage, None).await;
    let r = triage.act(&t, &code, json!({"action": "close"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    drain(&worker).await;
    assert_eq!(
        to(&fake, user).len(),
        before,
        "no message outside the window"
    );
    let jobs = t.store().jobs_for_report(report.id).await.unwrap();
    let dead: Vec<_> = jobs
        .iter()
        .filter(|j| j.kind == "chat.send" && j.status == "dead")
        .collect();
    assert_eq!(dead.len(), 1, "{jobs:?}");
    assert!(
        dead[0].last_error.as_deref().unwrap().contains("168"),
        "{:?}",
        dead[0].last_error
    );
    let staff = t.staff(Role::UnitStaff, Some(&report.unit)).await;
    let page = staff
        .page(&t, &format!("/console/reports/{code}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Không gửi được tin nhắn") && page.contains("(Zalo)"),
        "the failure is shown on the report"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_report_in_english_the_reply_quota_and_an_unfollow() {
    let (t, worker, _base, fake) = setup(|c| c.zalo_reply_quota = 2).await;
    let now = t.clock.now().timestamp_millis();
    let user = "7000000000000000042";
    let steps = [
        text(user, now, "e1", "Hello, there is a broken street light"),
        text(user, now + 1000, "e2", "1"),
        text(user, now + 2000, "e3", "skip"),
        attachment(
            "user_send_location",
            user,
            now + 3000,
            "e4",
            "location",
            json!({"coordinates": {"latitude": 10.7769, "longitude": 106.7009}}),
        ),
        text(user, now + 3500, "e4b", "skip"),
    ];
    let expected = [
        "What is your report about?\n1. ",
        "Send photos",
        "Where is it?",
        "(optional)",
        "Please check your report",
    ];
    for (step, answer) in steps.iter().zip(expected) {
        say(&t, step).await;
        drain(&worker).await;
        let last = last_to(&fake, user);
        assert!(last.contains(answer), "{answer}: {last}");
    }
    assert!(last_to(&fake, user).ends_with("→ «Send» / «Cancel»"));
    say(&t, &text(user, now + 4000, "e5", "yes")).await;
    // The answers go out a minute after the citizen's last message.
    t.clock.advance(Duration::minutes(1));
    drain(&worker).await;
    let receipt = last_to(&fake, user);
    assert!(receipt.contains("Tracking code:"), "{receipt}");
    let code = receipt.split("Tracking code: ").nth(1).unwrap()[..9].to_string();
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(report.channel.as_str(), "zalo");

    // Quota 2 since the last message: the receipt was one, the resolution is the second,
    // the closing would be a third and is not sent.
    let staff = t.staff(Role::UnitStaff, Some(&report.unit)).await;
    let r = staff
        .act(&t, &code, json!({"action": "resolve", "note": "Fixed"}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    drain(&worker).await;
    let sent = to(&fake, user).len();
    let triage = t.staff(Role::Triage, None).await;
    let r = triage.act(&t, &code, json!({"action": "close"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    drain(&worker).await;
    assert_eq!(to(&fake, user).len(), sent);
    let jobs = t.store().jobs_for_report(report.id).await.unwrap();
    assert!(
        jobs.iter().any(|j| j.kind == "chat.send"
            && j.status == "dead"
            && j.last_error.as_deref().unwrap_or("").contains("quota")),
        "{jobs:?}"
    );

    // Writing again opens a new allowance; after an unfollow nothing is sent.
    let later = t.clock.now().timestamp_millis() + 1000;
    say(&t, &text(user, later, "e6", &code)).await;
    drain(&worker).await;
    assert!(last_to(&fake, user).starts_with(&format!("Phản ánh {code}")));
    let unfollow =
        json!({"app_id": APP_ID, "event_name": "unfollow", "timestamp": (later + 500).to_string(),
        "oa_id": OA_ID, "follower": {"id": user}})
        .to_string();
    say(&t, &unfollow).await;
    drain(&worker).await;
    let before = to(&fake, user).len();
    let r = staff
        .form(
            &t,
            &format!("/console/reports/{code}/chat"),
            &[("text", "One more thing")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    drain(&worker).await;
    assert_eq!(to(&fake, user).len(), before);
    let jobs = t.store().jobs_for_report(report.id).await.unwrap();
    assert!(
        jobs.iter().any(|j| j.kind == "chat.send"
            && j.status == "dead"
            && j.last_error.as_deref().unwrap_or("").contains("unfollowed")),
        "{jobs:?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn status_notices_by_zns_and_by_sms_when_zns_refuses() {
    let (base, fake) = fake_zalo().await;
    fake.lock()
        .unwrap()
        .no_zalo
        .insert("84987654321".to_string());
    let mut cfg = chat_config(&base);
    cfg.zalo_zns_template_id = "T-CITY".into();
    let t = spawn(Options {
        chat: cfg.clone(),
        sms: sms_config(&base),
        ..Options::default()
    })
    .await;
    // Every unit has its own template.
    for u in &t.app().catalog().await.units {
        cfg.zalo_zns_unit_templates
            .insert(u.code.clone(), format!("T-{}", u.code));
    }
    let worker = Worker::new(
        t.app().clone(),
        WorkerConfig {
            chat: cfg,
            sms: sms_config(&base),
            public_url: "https://1022.example.vn".into(),
            ..WorkerConfig::default()
        },
    );
    let text_in = |id: &'static str, from: &'static str| {
        let client = t.client.clone();
        let url = t.url("/webhooks/sms");
        async move {
            let r = client
                .post(url)
                .header("authorization", "Bearer in-token")
                .form(&[
                    ("id", id),
                    ("from", from),
                    ("to", "1022"),
                    (
                        "text",
                        "OGA o ga lon giua lan xe may TAI 12 Le Loi phuong Sai Gon",
                    ),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
        }
    };
    // One citizen has Zalo, the other has not.
    text_in("s-1", "0912345678").await;
    text_in("s-2", "0987654321").await;
    for _ in 0..3 {
        drain(&worker).await;
    }
    let zns = fake.lock().unwrap().zns.clone();
    let sms = fake.lock().unwrap().sms.clone();
    assert_eq!(zns.len(), 1, "{zns:?}");
    let with_zalo = t
        .store()
        .reports_by_contact(Some("0912345678"), None, 10)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(zns[0]["phone"], "84912345678");
    assert_eq!(zns[0]["template_id"], format!("T-{}", with_zalo.unit));
    assert_eq!(zns[0]["template_data"]["code"], with_zalo.code.as_str());
    assert!(
        zns[0]["tracking_id"]
            .as_str()
            .unwrap()
            .starts_with("phananh-")
    );
    assert!(
        !sms.iter().any(|(to, _)| to == "0912345678"),
        "ZNS delivered: no SMS {sms:?}"
    );
    // ZNS refused (no Zalo account): the same receipt by SMS, once.
    let without = t
        .store()
        .reports_by_contact(Some("0987654321"), None, 10)
        .await
        .unwrap()
        .remove(0);
    let fallback: Vec<&(String, String)> =
        sms.iter().filter(|(to, _)| to == "0987654321").collect();
    assert_eq!(fallback.len(), 1, "{sms:?}");
    assert!(
        fallback[0].1.contains(&without.code) && fallback[0].1.starts_with("1022: Da tiep nhan"),
        "{}",
        fallback[0].1
    );

    // A step of the report: ZNS again for the one, SMS for the other.
    for r in [&with_zalo, &without] {
        let staff = t.staff(Role::UnitStaff, Some(&r.unit)).await;
        let a = staff
            .act(
                &t,
                &r.code,
                json!({"action": "resolve", "note": "Đã vá ổ gà"}),
            )
            .await;
        assert_eq!(a.status(), StatusCode::OK);
    }
    for _ in 0..3 {
        drain(&worker).await;
    }
    let zns = fake.lock().unwrap().zns.clone();
    assert_eq!(zns.len(), 2);
    assert_eq!(zns[1]["template_data"]["code"], with_zalo.code.as_str());
    assert!(
        zns[1]["template_data"]["detail"]
            .as_str()
            .unwrap()
            .contains("Đã vá ổ gà")
    );
    let sms = fake.lock().unwrap().sms.clone();
    assert_eq!(
        sms.iter().filter(|(to, _)| to == "0987654321").count(),
        2,
        "{sms:?}"
    );
    assert!(!sms.iter().any(|(to, _)| to == "0912345678"));
    t.stop().await;
}

/// `phananh chat zalo-check` as a child process, on `db`, against the fake at `base`.
fn zalo_check(db: &str, photos: &str, base: &str, extra: &[&str]) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_phananh"));
    c.args(["chat", "zalo-check", "--database-url", db])
        .args(extra)
        .env("RUST_LOG", "error")
        .env("PHANANH_PHOTOS_DIR", photos)
        .env("PHANANH_ZALO_APP_ID", APP_ID)
        .env("PHANANH_ZALO_APP_SECRET", APP_SECRET)
        .env("PHANANH_ZALO_OA_SECRET", OA_SECRET)
        .env("PHANANH_ZALO_REFRESH_TOKEN", "RT0")
        .env("PHANANH_ZALO_OAUTH_URL", base)
        .env("PHANANH_ZALO_OPENAPI_URL", base)
        .env("PHANANH_ZALO_REFRESH_LEASE_SECS", "4")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    c
}

#[tokio::test]
async fn the_token_chain_survives_a_kill_during_a_refresh_and_two_racing_processes() {
    use std::os::unix::process::ExitStatusExt;
    let (base, fake) = fake_zalo().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("zalo.db").to_string_lossy().into_owned();
    let photos = dir.path().join("photos").to_string_lossy().into_owned();

    // Missing settings are named.
    let out = zalo_check(&db, &photos, &base, &[])
        .env_remove("PHANANH_ZALO_OA_SECRET")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("zalo_oa_secret"));

    // A refresh that Zalo never answers: the process is killed (SIGKILL) while it waits,
    // holding the refresh lease.
    fake.lock().unwrap().stall = true;
    let mut child = zalo_check(&db, &photos, &base, &[]).spawn().unwrap();
    for _ in 0..500 {
        if fake.lock().unwrap().stalled > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(fake.lock().unwrap().stalled, 1, "the refresh reached Zalo");
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(9), "killed by SIGKILL: {status:?}");
    {
        let store = phananh_storage::Store::open(&db).await.unwrap();
        let held = store.zalo_token().await.unwrap().unwrap();
        assert_eq!(held.refresh_token, "RT0", "the old pair is still current");
        assert!(
            held.refreshing_by.is_some(),
            "the dead process held the lease"
        );
    }

    // A restart waits out the dead process's lease and completes the chain.
    fake.lock().unwrap().stall = false;
    let out = zalo_check(&db, &photos, &base, &[]).output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(OA_ID) && said.contains("Tổng đài 1022"),
        "{said}"
    );
    {
        let store = phananh_storage::Store::open(&db).await.unwrap();
        let current = store.zalo_token().await.unwrap().unwrap();
        assert_eq!(
            (
                current.access_token.as_str(),
                current.refresh_token.as_str()
            ),
            ("AT1", "RT1")
        );
        assert!(current.refreshing_by.is_none());
    }
    assert_eq!(fake.lock().unwrap().refreshes, 1);

    // Two processes forced to refresh at the same moment, with Zalo slow to answer: one
    // refreshes, the other waits and takes the new pair. A refresh token is never spent
    // twice (the fake would revoke the whole chain), and the stored pair is Zalo's newest.
    fake.lock().unwrap().slow_ms = 1000;
    let a = zalo_check(&db, &photos, &base, &["--refresh"]).output();
    let b = zalo_check(&db, &photos, &base, &["--refresh"]).output();
    let (a, b) = tokio::join!(a, b);
    for out in [a.unwrap(), b.unwrap()] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let newest = {
        let f = fake.lock().unwrap();
        assert!(!f.reuse_detected, "a refresh token was spent twice");
        assert!((2..=3).contains(&f.refreshes), "{}", f.refreshes);
        let newest = format!("RT{}", f.issued);
        assert_eq!(f.refresh.get(&newest), Some(&true));
        newest
    };
    let store = phananh_storage::Store::open(&db).await.unwrap();
    assert_eq!(
        store.zalo_token().await.unwrap().unwrap().refresh_token,
        newest,
        "the database holds Zalo's newest pair"
    );

    // An operator's new authorisation (read from standard input) replaces the chain.
    fake.lock().unwrap().refresh.insert("RT-NEW".into(), true);
    let mut child = zalo_check(&db, &photos, &base, &["--new-refresh-token"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"RT-NEW\n").await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fake.lock().unwrap().refresh.get("RT-NEW"), Some(&false));
}

#[tokio::test]
async fn any_order_on_zalo() {
    let (t, worker, base, fake) = setup(|_| {}).await;
    let tr: &TestApp = &t;
    let user = "6142494823000000009";
    let mut id = 0;
    crate::chat::files_what_came_before_the_field(
        &t,
        &worker,
        "zalo",
        move |act, at| {
            id += 1;
            let mid = format!("any-{id}");
            let body = match act {
                crate::chat::Act::Photo => attachment(
                    "user_send_image",
                    user,
                    at,
                    &mid,
                    "image",
                    json!({"url": format!("{base}/cdn/photo.jpg")}),
                ),
                crate::chat::Act::Location(lat, lon) => attachment(
                    "user_send_location",
                    user,
                    at,
                    &mid,
                    "location",
                    json!({"coordinates": {"latitude": lat.to_string(), "longitude": lon.to_string()}}),
                ),
                crate::chat::Act::Text(s) => text(user, at, &mid, s),
                // Zalo has no buttons: the field is typed by its name.
                crate::chat::Act::Field(_, title) => text(user, at, &mid, title),
                crate::chat::Act::Confirm => text(user, at, &mid, "Gửi"),
            };
            async move { say(tr, &body).await }
        },
        || to(&fake, user),
    )
    .await;
    t.stop().await;
}
