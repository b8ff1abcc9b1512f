//! Telegram, end to end: the real server takes Bot API updates (with the webhook's secret
//! token), the worker runs the conversation and answers through a local fake of the Bot
//! API speaking its wire format (the token in the URL path, `{"ok":…}` answers, `getFile`
//! and `/file/bot<token>/<path>` downloads).

use std::sync::{Arc, Mutex};

use crate::chat::{Act, files_what_came_before_the_field};
use crate::support::*;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::routing::{get, post};
use phananh_app::Clock;
use phananh_channels::ChatConfig;
use phananh_domain::access::Role;
use phananh_worker::{Worker, WorkerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

const BOT_TOKEN: &str = "7001234567:AAH-test_TOKEN-phananh1022xyz";
const SECRET: &str = "phananh-test_secret-token-1022";

/// What the fake Bot API received: (method, body as JSON).
type Sent = Arc<Mutex<Vec<(String, Value)>>>;

fn ok(result: Value) -> (AxStatus, axum::Json<Value>) {
    (
        AxStatus::OK,
        axum::Json(json!({"ok": true, "result": result})),
    )
}

fn fail(status: AxStatus, description: &str) -> (AxStatus, axum::Json<Value>) {
    (
        status,
        axum::Json(json!({"ok": false, "error_code": status.as_u16(), "description": description})),
    )
}

/// A local api.telegram.org: methods at `/bot<token>/<method>` (JSON or form bodies, as
/// the SDKs send them), files at `/file/bot<token>/<path>`.
async fn fake_bot_api() -> (String, Sent) {
    let sent: Sent = Arc::default();
    async fn method(
        State(sent): State<Sent>,
        Path((bot, method)): Path<(String, String)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> (AxStatus, axum::Json<Value>) {
        if bot != format!("bot{BOT_TOKEN}") {
            return fail(AxStatus::UNAUTHORIZED, "Unauthorized");
        }
        let json = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/json"));
        let body: Value = if json {
            serde_json::from_slice(&body).unwrap_or_default()
        } else {
            // Form bodies, as python-telegram-bot sends them.
            let form = format!("http://form/?{}", String::from_utf8_lossy(&body));
            reqwest::Url::parse(&form)
                .map(|u| {
                    u.query_pairs()
                        .map(|(k, v)| (k.into_owned(), Value::from(v.into_owned())))
                        .collect::<serde_json::Map<_, _>>()
                        .into()
                })
                .unwrap_or_default()
        };
        match method.as_str() {
            "sendMessage" => {
                let text = body["text"].as_str().unwrap_or_default();
                if body["chat_id"].is_null() || text.is_empty() {
                    return fail(AxStatus::BAD_REQUEST, "Bad Request: message text is empty");
                }
                if body["chat_id"] == 4040404 {
                    return fail(
                        AxStatus::FORBIDDEN,
                        "Forbidden: bot was blocked by the user",
                    );
                }
                sent.lock()
                    .unwrap()
                    .push(("sendMessage".into(), body.clone()));
                ok(
                    json!({"message_id": 1, "date": 1, "chat": {"id": body["chat_id"], "type": "private"}, "text": text}),
                )
            }
            "getFile" => {
                let id = body["file_id"].as_str().unwrap_or_default();
                sent.lock().unwrap().push(("getFile".into(), body.clone()));
                match id {
                    "AgAD-photo" => ok(
                        json!({"file_id": id, "file_unique_id": "u1", "file_size": 2048, "file_path": "photos/file_1.jpg"}),
                    ),
                    "AwAD-video" => ok(
                        json!({"file_id": id, "file_unique_id": "u3", "file_size": 40_000, "file_path": "videos/file_3.mp4"}),
                    ),
                    "AgAD-huge" => ok(
                        json!({"file_id": id, "file_unique_id": "u2", "file_size": 19 * 1024 * 1024, "file_path": "photos/file_2.jpg"}),
                    ),
                    _ => fail(AxStatus::BAD_REQUEST, "Bad Request: invalid file_id"),
                }
            }
            "setWebhook" => {
                sent.lock()
                    .unwrap()
                    .push(("setWebhook".into(), body.clone()));
                ok(json!(true))
            }
            _ => fail(AxStatus::NOT_FOUND, "Not Found"),
        }
    }
    async fn file(Path((bot, path)): Path<(String, String)>) -> Result<Vec<u8>, AxStatus> {
        match (bot == format!("bot{BOT_TOKEN}"), path.as_str()) {
            (true, "photos/file_1.jpg") => Ok(phananh_photos::sample::phone_jpeg()),
            (true, "videos/file_3.mp4") => Ok(phananh_photos::sample::media::mp4_with_location()),
            (true, _) => Err(AxStatus::NOT_FOUND),
            _ => Err(AxStatus::UNAUTHORIZED),
        }
    }
    let app = Router::new()
        .route("/{bot}/{method}", post(method))
        .route("/file/{bot}/{*path}", get(file))
        .with_state(sent.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, sent)
}

fn chat_config(base: &str) -> ChatConfig {
    ChatConfig {
        telegram_bot_token: BOT_TOKEN.into(),
        telegram_secret_token: SECRET.into(),
        telegram_api_url: base.into(),
        // The fake serves files from this loopback host.
        telegram_media_hosts: vec!["127.0.0.1".into()],
        media_allow_loopback: true,
        ..ChatConfig::default()
    }
}

pub(crate) async fn setup() -> (TestApp, Worker, Sent) {
    let (base, sent) = fake_bot_api().await;
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
    (t, worker, sent)
}

/// An update with a private-chat message from `user` (`date` in unix seconds).
pub(crate) fn update(update_id: i64, user: i64, date: i64, fields: Value) -> Value {
    let mut message = json!({
        "message_id": update_id + 500,
        "from": {"id": user, "is_bot": false, "first_name": "Lan", "language_code": "vi"},
        "chat": {"id": user, "first_name": "Lan", "type": "private"},
        "date": date,
    });
    for (k, v) in fields.as_object().unwrap() {
        message[k] = v.clone();
    }
    json!({"update_id": update_id, "message": message})
}

async fn post_update(t: &TestApp, body: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = t
        .client
        .post(t.url("/webhooks/telegram"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(token) = token {
        req = req.header("x-telegram-bot-api-secret-token", token);
    }
    req.send().await.unwrap()
}

pub(crate) async fn send(t: &TestApp, u: Value) {
    let r = post_update(t, &u.to_string(), Some(SECRET)).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// The `sendMessage` bodies the fake got for `chat`.
fn messages(sent: &Sent, chat: i64) -> Vec<Value> {
    sent.lock()
        .unwrap()
        .iter()
        .filter(|(m, b)| m == "sendMessage" && b["chat_id"] == chat)
        .map(|(_, b)| b.clone())
        .collect()
}

pub(crate) fn texts(sent: &Sent, chat: i64) -> Vec<String> {
    messages(sent, chat)
        .iter()
        .map(|b| b["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

pub(crate) fn last_text(sent: &Sent, chat: i64) -> String {
    texts(sent, chat).last().cloned().unwrap_or_default()
}

#[tokio::test]
async fn the_secret_token_is_checked_before_anything_is_read() {
    let (t, worker, sent) = setup().await;
    let now = t.clock.now().timestamp();
    let body = update(1, 2222, now, json!({"text": "Xin chào"})).to_string();
    for token in [None, Some("wrong"), Some(""), Some(&SECRET[1..])] {
        let r = post_update(&t, &body, token).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{token:?}");
    }
    assert!(
        t.store()
            .chat_pending("telegram", "2222")
            .await
            .unwrap()
            .is_empty(),
        "nothing kept"
    );
    // Not even read: garbage with a wrong token is a 403, with the right one a 400.
    assert_eq!(
        post_update(&t, "{\"update_id\":", Some("wrong"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_update(&t, "{\"update_id\":", Some(SECRET))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    let huge = "x".repeat(300 * 1024);
    assert_eq!(
        post_update(&t, &huge, Some(SECRET)).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // Updates phananh does not use (an edit, a group message) are answered and not kept.
    let edit = json!({"update_id": 2, "edited_message": {"message_id": 1, "date": now,
        "chat": {"id": 2222, "type": "private"}, "text": "x"}});
    send(&t, edit).await;
    let group = json!({"update_id": 3, "message": {"message_id": 2, "date": now,
        "from": {"id": 2222, "is_bot": false}, "chat": {"id": -1001, "type": "supergroup"}, "text": "x"}});
    send(&t, group).await;
    // The right token: kept and answered, with the fields as a reply keyboard.
    let r = post_update(&t, &body, Some(SECRET)).await;
    assert_eq!(r.status(), StatusCode::OK);
    drain(&worker).await;
    let m = messages(&sent, 2222);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(
        m[0]["reply_markup"]["keyboard"][0][0]["text"],
        "Hạ tầng giao thông"
    );
    t.stop().await;
}

#[tokio::test]
async fn replayed_and_reordered_updates() {
    let (t, worker, sent) = setup().await;
    let now = t.clock.now().timestamp();
    let user = 3333;
    send(&t, update(100, user, now, json!({"text": "/start"}))).await;
    drain(&worker).await;
    assert!(last_text(&sent, user).starts_with("Xin chào"));

    // Telegram retries an update it thinks was not taken: the same update_id three times
    // at once, and once more later, is one message.
    let choice = update(101, user, now + 1, json!({"text": "Cây xanh"}));
    let raw = choice.to_string();
    let (a, b, c) = tokio::join!(
        post_update(&t, &raw, Some(SECRET)),
        post_update(&t, &raw, Some(SECRET)),
        post_update(&t, &raw, Some(SECRET))
    );
    assert!([a, b, c].iter().all(|r| r.status() == StatusCode::OK));
    drain(&worker).await;
    send(&t, choice).await;
    drain(&worker).await;
    let all = texts(&sent, user);
    assert_eq!(all.len(), 2, "one answer to the replayed update: {all:?}");
    assert!(all[1].contains("mô tả"), "{all:?}");

    // Delivered out of order (the description, then the «skip photos» sent before it):
    // taken in the order the citizen sent them.
    let skip = update(103, user, now + 3, json!({"text": "Bỏ qua"}));
    let describe = update(
        102,
        user,
        now + 2,
        json!({"text": "Cành cây gãy treo lơ lửng trên vỉa hè"}),
    );
    send(&t, skip).await;
    send(&t, describe).await;
    drain(&worker).await;
    let c = t
        .app()
        .chat_user("telegram", "3333")
        .await
        .unwrap()
        .unwrap();
    let state: Value = serde_json::from_str(&c.state).unwrap();
    assert_eq!(state["step"], "location", "{state}");
    assert!(
        last_text(&sent, user).starts_with("Vấn đề ở đâu?"),
        "{:?}",
        texts(&sent, user)
    );
    t.stop().await;
}

#[tokio::test]
async fn a_whole_conversation_in_vietnamese_and_the_units_follow_up() {
    let (t, worker, sent) = setup().await;
    let now = t.clock.now().timestamp();
    let user = 1111111;
    send(&t, update(200, user, now, json!({"text": "/start"}))).await;
    drain(&worker).await;
    let welcome = messages(&sent, user).remove(0);
    assert!(welcome["text"].as_str().unwrap().starts_with("Xin chào"));
    let keyboard = welcome["reply_markup"]["keyboard"].to_string();
    assert!(
        keyboard.contains("Cây xanh") && welcome["reply_markup"]["one_time_keyboard"] == true,
        "{welcome}"
    );

    // The button's title comes back as text.
    send(&t, update(201, user, now + 1, json!({"text": "Cây xanh"}))).await;
    send(
        &t,
        update(
            202,
            user,
            now + 2,
            json!({"text": "Cây đổ chắn ngang đường sau cơn mưa lớn"}),
        ),
    )
    .await;
    drain(&worker).await;
    assert!(
        last_text(&sent, user).contains("Gửi ảnh"),
        "{:?}",
        texts(&sent, user)
    );
    // Three photos: one good, one larger than the limit (getFile says so: not
    // downloaded), one whose file_id Telegram does not know. The first has a caption.
    let sizes = |id: &str| {
        json!([{"file_id": format!("{id}-small"), "file_unique_id": "s", "width": 90, "height": 90},
               {"file_id": id, "file_unique_id": "l", "width": 1280, "height": 960}])
    };
    send(
        &t,
        update(
            203,
            user,
            now + 3,
            json!({"photo": sizes("AgAD-photo"), "caption": "Cây chắn cả hai làn xe"}),
        ),
    )
    .await;
    send(
        &t,
        update(204, user, now + 4, json!({"photo": sizes("AgAD-huge")})),
    )
    .await;
    send(
        &t,
        update(205, user, now + 5, json!({"photo": sizes("AgAD-gone")})),
    )
    .await;
    send(&t, update(206, user, now + 6, json!({"text": "Xong"}))).await;
    // A sticker gets a helpful answer; a shared contact is kept.
    send(
        &t,
        update(207, user, now + 7, json!({"sticker": {"file_id": "CAAD"}})),
    )
    .await;
    send(
        &t,
        update(
            208,
            user,
            now + 8,
            json!({"contact": {"phone_number": "84912345678", "first_name": "Lan", "last_name": "Nguyễn", "user_id": user}}),
        ),
    )
    .await;
    send(
        &t,
        update(
            209,
            user,
            now + 9,
            json!({"text": "so 12 Le Loi, phuong Sai Gon"}),
        ),
    )
    .await;
    drain(&worker).await;
    // The field's optional question, its answers and «Bỏ qua» as keyboard buttons; the
    // button's title comes back as text.
    let question = messages(&sent, user).last().unwrap().clone();
    assert!(
        question["text"]
            .as_str()
            .unwrap()
            .contains("Tình trạng cây (không bắt buộc)"),
        "{question}"
    );
    assert!(question["reply_markup"].to_string().contains("Bỏ qua"));
    send(
        &t,
        update(
            210,
            user,
            now + 10,
            json!({"text": "Cây đã ngã, đổ / Fallen"}),
        ),
    )
    .await;
    drain(&worker).await;
    let all = texts(&sent, user);
    assert!(
        all.iter()
            .any(|m| m.contains("chưa dùng được loại tin này")),
        "{all:?}"
    );
    let summary = all.last().unwrap();
    assert!(
        summary.contains("Kiểm tra lại")
            && summary.contains("Le Loi")
            && summary.contains("Ảnh: 3")
            && summary.contains("Cây chắn cả hai làn xe")
            && summary.contains("Liên hệ: Lan Nguyễn, 0912345678"),
        "{summary}"
    );
    let confirm = messages(&sent, user).last().unwrap().clone();
    assert_eq!(confirm["reply_markup"]["keyboard"][0][0]["text"], "Gửi");
    send(&t, update(211, user, now + 11, json!({"text": "Gửi"}))).await;
    drain(&worker).await;
    let receipt = last_text(&sent, user);
    assert!(
        receipt.contains("2 ảnh, video hoặc ghi âm không tải được"),
        "the photos that could not be fetched are said: {receipt}"
    );
    let code = receipt.split("Mã hồ sơ của bạn: ").nth(1).unwrap()[..9].to_string();
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(report.channel.as_str(), "telegram");
    assert_eq!(report.field, "trees");
    assert_eq!(report.extra.attributes["tree_state"], ["fallen"]);
    assert_eq!(report.ward.as_deref(), Some("26740"));
    assert_eq!(t.store().photo_keys(report.id).await.unwrap().len(), 1);
    let reporter = t.store().reporter(report.id).await.unwrap().unwrap();
    assert_eq!(
        reporter.channel_identity.as_deref(),
        Some("telegram:1111111")
    );
    assert_eq!(reporter.phone.as_deref(), Some("0912345678"));
    assert_eq!(reporter.name.as_deref(), Some("Lan Nguyễn"));
    // The huge photo was never downloaded: getFile said its size.
    let get_files = sent
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, _)| m == "getFile")
        .count();
    assert_eq!(get_files, 3);

    // The unit asks for information: the question arrives on Telegram, and the citizen's
    // answer there is added to the report.
    let staff = t.staff(Role::UnitStaff, Some(&report.unit)).await;
    let r = staff
        .act(
            &t,
            &code,
            json!({"action": "request_info", "question": "Cây đổ trước số nhà nào?"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    drain(&worker).await;
    assert!(last_text(&sent, user).contains("Cây đổ trước số nhà nào?"));
    send(
        &t,
        update(
            212,
            user,
            now + 100,
            json!({"text": "Trước số 14, gần ngã tư"}),
        ),
    )
    .await;
    drain(&worker).await;
    assert!(
        texts(&sent, user)
            .iter()
            .any(|m| m.contains("Đã chuyển thông tin bổ sung")),
        "{:?}",
        texts(&sent, user)
    );
    let history = t.store().events(report.id).await.unwrap();
    assert!(
        history.iter().any(|e| matches!(&e.kind,
            phananh_domain::event::EventKind::InfoProvided { answer, .. } if answer == "Trước số 14, gần ngã tư")),
        "{history:?}"
    );
    let r = staff
        .act(
            &t,
            &code,
            json!({"action": "resolve", "note": "Đã cưa và dọn cây"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    drain(&worker).await;
    let last = last_text(&sent, user);
    assert!(
        last.contains(&code) && last.contains("Đã cưa và dọn cây"),
        "{last}"
    );
    // A staff answer from the console goes to the same chat.
    let r = staff
        .form(
            &t,
            &format!("/console/reports/{code}/chat"),
            &[("text", "Cảm ơn bạn đã báo tin.")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    drain(&worker).await;
    assert!(last_text(&sent, user).contains("Cảm ơn bạn đã báo tin."));

    // The citizen blocks the bot: nothing more is sent, and staff see why.
    let blocked = json!({"update_id": 213, "my_chat_member": {"chat": {"id": user, "type": "private"},
        "from": {"id": user, "is_bot": false}, "date": now + 200,
        "old_chat_member": {"status": "member", "user": {"id": 7001234567i64, "is_bot": true}},
        "new_chat_member": {"status": "kicked", "user": {"id": 7001234567i64, "is_bot": true}, "until_date": 0}}});
    send(&t, blocked).await;
    drain(&worker).await;
    let before = texts(&sent, user).len();
    let triage = t.staff(Role::Triage, None).await;
    let r = triage.act(&t, &code, json!({"action": "close"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    drain(&worker).await;
    assert_eq!(texts(&sent, user).len(), before, "nothing to a blocked bot");
    let jobs = t.store().jobs_for_report(report.id).await.unwrap();
    assert!(
        jobs.iter().any(|j| j.kind == "chat.send"
            && j.status == "dead"
            && j.last_error.as_deref().unwrap_or("").contains("blocked")),
        "{jobs:?}"
    );
    t.stop().await;
}

#[tokio::test]
async fn a_whole_conversation_in_english() {
    let (t, worker, sent) = setup().await;
    let now = t.clock.now().timestamp();
    let user = 5555;
    send(
        &t,
        update(
            300,
            user,
            now,
            json!({"text": "Hello, there is a broken street light on Le Loi street"}),
        ),
    )
    .await;
    drain(&worker).await;
    let first = messages(&sent, user).remove(0);
    assert!(
        first["text"]
            .as_str()
            .unwrap()
            .contains("What is your report about?"),
        "{first}"
    );
    assert!(
        first["reply_markup"]["keyboard"]
            .to_string()
            .contains("Street lighting"),
        "the fields in English: {first}"
    );
    send(
        &t,
        update(301, user, now + 1, json!({"text": "Street lighting"})),
    )
    .await;
    drain(&worker).await;
    assert!(
        last_text(&sent, user).contains("Send photos"),
        "{:?}",
        texts(&sent, user)
    );
    send(&t, update(302, user, now + 2, json!({"text": "Skip"}))).await;
    send(
        &t,
        update(
            303,
            user,
            now + 3,
            json!({"location": {"latitude": 10.7731, "longitude": 106.7030}}),
        ),
    )
    .await;
    drain(&worker).await;
    assert!(
        last_text(&sent, user).starts_with("Location received.\nThe number printed on the pole"),
        "{:?}",
        texts(&sent, user)
    );
    send(&t, update(304, user, now + 4, json!({"text": "HL-0042"}))).await;
    drain(&worker).await;
    let summary = last_text(&sent, user);
    assert!(
        summary.starts_with("Please check your report:")
            && summary.contains("broken street light")
            && summary.contains("HL-0042"),
        "{summary}"
    );
    send(&t, update(305, user, now + 5, json!({"text": "Send"}))).await;
    drain(&worker).await;
    let receipt = last_text(&sent, user);
    assert!(receipt.contains("Tracking code:"), "{receipt}");
    let code = receipt.split("Tracking code: ").nth(1).unwrap()[..9].to_string();
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(report.field, "lighting");
    assert_eq!(report.lat, Some(10.7731));
    assert_eq!(report.extra.attributes["pole_number"], ["HL-0042"]);
    // Looking the report up by its code, in the same chat.
    send(
        &t,
        update(306, user, now + 6, json!({"text": code.to_lowercase()})),
    )
    .await;
    drain(&worker).await;
    assert!(last_text(&sent, user).starts_with(&format!("Phản ánh {code}")));
    t.stop().await;
}

#[tokio::test]
async fn any_order_on_telegram() {
    let (t, worker, sent) = setup().await;
    let tr: &TestApp = &t;
    let user = 6666;
    let mut id = 400;
    files_what_came_before_the_field(
        &t,
        &worker,
        "telegram",
        move |act, at| {
            id += 1;
            let fields = match act {
                Act::Photo => json!({"photo": [{"file_id": "AgAD-photo", "file_unique_id": "l", "width": 1280, "height": 960}]}),
                Act::Location(latitude, longitude) => {
                    json!({"location": {"latitude": latitude, "longitude": longitude}})
                }
                Act::Text(text) => json!({ "text": text }),
                // A reply keyboard sends the button's title.
                Act::Field(_, title) => json!({ "text": title }),
                Act::Confirm => json!({"text": "Gửi"}),
            };
            let u = update(id, user, at / 1000, fields);
            async move { send(tr, u).await }
        },
        || texts(&sent, user),
    )
    .await;
    t.stop().await;
}

#[tokio::test]
async fn operators_register_the_webhook_without_showing_the_token() {
    let (base, sent) = fake_bot_api().await;
    let run = move |token: &'static str, secret: &'static str| {
        let base = base.clone();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_phananh"))
                .args([
                    "chat",
                    "telegram-webhook",
                    "https://1022.example.vn/webhooks/telegram",
                ])
                .env("RUST_LOG", "debug")
                .env("PHANANH_TELEGRAM_BOT_TOKEN", token)
                .env("PHANANH_TELEGRAM_SECRET_TOKEN", secret)
                .env("PHANANH_TELEGRAM_API_URL", &base)
                .output()
                .unwrap()
        })
    };
    let out = run(BOT_TOKEN, SECRET).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (method, body) = sent.lock().unwrap().last().unwrap().clone();
    assert_eq!(method, "setWebhook");
    assert_eq!(body["url"], "https://1022.example.vn/webhooks/telegram");
    assert_eq!(body["secret_token"], SECRET);
    assert!(
        body["allowed_updates"].to_string().contains("message"),
        "{body}"
    );
    // A token Telegram refuses, and a secret it would refuse: errors without the token.
    let wrong = "7001234567:AAH-WRONG_token-never-shown";
    let out = run(wrong, SECRET).await.unwrap();
    assert!(!out.status.success());
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(printed.contains("Unauthorized"), "{printed}");
    assert!(!printed.contains("AAH-WRONG"), "the token shown: {printed}");
    let out = run(BOT_TOKEN, "not a valid secret!").await.unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1–256 characters"));
}

#[tokio::test]
async fn photos_come_only_from_the_bot_api_host() {
    // The Bot API answers getFile, but its files are not on an allowed host (the default,
    // api.telegram.org, while the fake is on 127.0.0.1): the guard refuses the download,
    // the report is filed without it and the citizen is told.
    let (base, sent) = fake_bot_api().await;
    let chat = ChatConfig {
        telegram_media_hosts: ChatConfig::default().telegram_media_hosts,
        ..chat_config(&base)
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
    let now = t.clock.now().timestamp();
    let user = 7777;
    let photo = json!({"photo": [{"file_id": "AgAD-photo", "file_unique_id": "l", "width": 1280, "height": 960}],
        "caption": "Ổ gà sâu giữa làn xe máy"});
    send(&t, update(500, user, now, photo)).await;
    for (i, text) in ["Hạ tầng giao thông", "12 Le Loi, phuong Sai Gon", "Gửi"]
        .into_iter()
        .enumerate()
    {
        send(
            &t,
            update(
                501 + i as i64,
                user,
                now + 1 + i as i64,
                json!({ "text": text }),
            ),
        )
        .await;
    }
    drain(&worker).await;
    let receipt = last_text(&sent, user);
    assert!(
        receipt.contains("Mã hồ sơ của bạn") && receipt.contains("không thuộc máy chủ"),
        "{:?}",
        texts(&sent, user)
    );
    let code = receipt.split("Mã hồ sơ của bạn: ").nth(1).unwrap()[..9].to_string();
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    assert!(t.store().photo_keys(report.id).await.unwrap().is_empty());
    t.stop().await;
}

#[tokio::test]
async fn a_video_sent_to_the_bot_is_kept_as_evidence() {
    if !phananh_photos::sample::media::available() {
        return;
    }
    let (t, worker, sent) = setup().await;
    let now = t.clock.now().timestamp();
    let user = 8888;
    let video = json!({"video": {"file_id": "AwAD-video", "file_unique_id": "v", "duration": 2,
        "width": 64, "height": 48}, "caption": "Nước ngập tới yên xe"});
    send(&t, update(600, user, now, video)).await;
    for (i, text) in ["Hạ tầng giao thông", "12 Le Loi, phuong Sai Gon", "Gửi"]
        .into_iter()
        .enumerate()
    {
        send(
            &t,
            update(
                601 + i as i64,
                user,
                now + 1 + i as i64,
                json!({ "text": text }),
            ),
        )
        .await;
    }
    drain(&worker).await;
    let receipt = last_text(&sent, user);
    assert!(
        receipt.contains("Mã hồ sơ của bạn") && !receipt.contains("không tải được"),
        "{:?}",
        texts(&sent, user)
    );
    let code = receipt.split("Mã hồ sơ của bạn: ").nth(1).unwrap()[..9].to_string();
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    let media = t.store().report_media(report.id).await.unwrap();
    assert_eq!(media.len(), 1, "the video is the report's");
    assert!(
        report.description.contains("Nước ngập tới yên xe"),
        "the caption"
    );
    // The recording was fetched with getFile, through the guard.
    assert!(
        sent.lock()
            .unwrap()
            .iter()
            .any(|(m, b)| m == "getFile" && b["file_id"] == "AwAD-video")
    );
    t.stop().await;
}

#[tokio::test]
async fn a_required_question_is_asked_in_the_chat_with_its_answers_as_buttons() {
    let (t, worker, sent) = setup().await;
    let admin = t.staff(phananh_domain::access::Role::Admin, None).await;
    let r = admin
        .form(
            &t,
            "/console/admin/fields/questions",
            &[
                ("code", "noise"),
                (
                    "questions",
                    "source | singlevaluelist | required | Nguồn gây ồn | Source | karaoke=Karaoke; works=Công trình",
                ),
            ],
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let now = t.clock.now().timestamp();
    let user = 9191;
    let mut id = 700;
    let mut say = |text: &str, at: i64| {
        id += 1;
        update(id, user, now + at, json!({ "text": text }))
    };
    for (i, text) in ["Hát karaoke ồn ào tới 2 giờ sáng mỗi đêm", "Tiếng ồn"]
        .into_iter()
        .enumerate()
    {
        send(&t, say(text, i as i64)).await;
    }
    drain(&worker).await;
    let question = messages(&sent, user).last().unwrap().clone();
    assert!(
        question["text"]
            .as_str()
            .unwrap()
            .starts_with("Nguồn gây ồn"),
        "{question}"
    );
    assert_eq!(
        question["reply_markup"]["keyboard"][0][0]["text"],
        "Karaoke"
    );
    for (i, text) in ["Karaoke", "12 Le Loi, phuong Sai Gon"]
        .into_iter()
        .enumerate()
    {
        send(&t, say(text, 10 + i as i64)).await;
    }
    drain(&worker).await;
    let summary = last_text(&sent, user);
    assert!(summary.contains("• Nguồn gây ồn: Karaoke"), "{summary}");
    send(&t, say("Gửi", 20)).await;
    drain(&worker).await;
    let receipt = last_text(&sent, user);
    let code = receipt.split("Mã hồ sơ của bạn: ").nth(1).unwrap()[..9].to_string();
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(report.extra.attributes["source"], vec!["karaoke"]);
    t.stop().await;
}
