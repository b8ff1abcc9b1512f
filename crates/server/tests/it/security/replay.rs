//! Issue 11, standing suite: a replay storm. Deliveries across Messenger, Viber, SMS (the
//! generic gateway webhook) and email (the inbound SMTP listener), 30 % of them sent again
//! with the same provider message id / Message-ID and the same body, shuffled and
//! concurrent. Afterwards the worker runs until the outbox is empty, and no duplicate
//! delivery may have filed a second report or drawn a second answer.
//!
//! `PHANANH_REPLAY_N` sets the number of deliveries (400 by default; the full storm is
//! `PHANANH_REPLAY_N=10000 cargo test --release -p phananh --test it security::replay -- --nocapture`),
//! `PHANANH_REPLAY_SEED` the shuffle.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::routing::post;
use phananh_app::Clock;
use phananh_channels::sms::SmsConfig;
use phananh_channels::{ChatConfig, hmac_sha256_hex};
use phananh_storage::ReportFilter;
use phananh_worker::{Worker, WorkerConfig};
use serde_json::{Value, json};

use crate::support::mail::{MailDomains, send_to, sink};
use crate::support::{Options, TestApp, spawn};

const APP_SECRET: &str = "replay_app_secret";
const PAGE_TOKEN: &str = "EAAB_REPLAY";
const VIBER_TOKEN: &str = "replay-viber-token";
const SMS_IN: &str = "replay-in-token";
const SMS_GW: &str = "replay-gw-token";
const ADDRESS: &str = "1022@phananh.test";
const MAIL_DOMAIN: &str = "example.vn";

/// Every answer the fakes were asked to send: (channel, recipient, text).
type Sent = Arc<Mutex<Vec<(&'static str, String, String)>>>;

/// One local server playing the Graph API, the Viber API and the SMS gateway.
async fn fakes() -> (String, Sent) {
    let sent: Sent = Arc::default();
    async fn graph(
        State(sent): State<Sent>,
        headers: HeaderMap,
        body: axum::Json<Value>,
    ) -> (AxStatus, axum::Json<Value>) {
        if headers.get("authorization").and_then(|v| v.to_str().ok())
            != Some(&format!("Bearer {PAGE_TOKEN}")[..])
        {
            return (
                AxStatus::BAD_REQUEST,
                axum::Json(json!({"error": {"code": 190}})),
            );
        }
        let psid = body["recipient"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let text = body["message"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        sent.lock().unwrap().push(("messenger", psid.clone(), text));
        (
            AxStatus::OK,
            axum::Json(json!({"recipient_id": psid, "message_id": "m_fake"})),
        )
    }
    async fn viber(
        State(sent): State<Sent>,
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
        let text = body["text"].as_str().unwrap_or_default().to_string();
        sent.lock().unwrap().push(("viber", receiver, text));
        axum::Json(json!({"status": 0, "status_message": "ok", "message_token": 1}))
    }
    async fn sms(
        State(sent): State<Sent>,
        headers: HeaderMap,
        body: axum::Json<Value>,
    ) -> AxStatus {
        if headers.get("authorization").and_then(|v| v.to_str().ok())
            != Some(&format!("Bearer {SMS_GW}")[..])
        {
            return AxStatus::UNAUTHORIZED;
        }
        let to = body["to"].as_str().unwrap_or_default().to_string();
        let text = body["text"].as_str().unwrap_or_default().to_string();
        sent.lock().unwrap().push(("sms", to, text));
        AxStatus::OK
    }
    let app = Router::new()
        .route("/v25.0/me/messages", post(graph))
        .route("/pa/send_message", post(viber))
        .route("/sms/send", post(sms))
        .with_state(sent.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, sent)
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
        ..ChatConfig::default()
    }
}

fn sms_config(base: &str) -> SmsConfig {
    SmsConfig {
        inbound_token: SMS_IN.into(),
        gateway_url: format!("{base}/sms/send"),
        gateway_token: SMS_GW.into(),
        ..SmsConfig::default()
    }
}

/// One delivery as a provider would make it; a duplicate is the same value sent again.
#[derive(Clone)]
enum Delivery {
    /// A signed Messenger webhook body.
    Messenger(String),
    /// A signed Viber callback body.
    Viber(String),
    /// The generic SMS webhook: (id, from, text).
    Sms(String, String, String),
    /// An SMTP transaction: (envelope sender, DKIM-signed message).
    Email(String, Vec<u8>),
}

/// A small deterministic generator (xorshift64*), so a failing shuffle can be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const MESSENGER_STEPS: usize = 6;
const VIBER_STEPS: usize = 4;

fn messenger_conversation(c: usize, now: i64) -> Vec<Delivery> {
    let psid = format!("RPSID{c}");
    let steps = [
        json!({"text": "Xin chào"}),
        json!({"text": "Hạ tầng giao thông", "quick_reply": {"payload": "FIELD:traffic"}}),
        json!({"text": format!("Ổ gà lớn giữa làn xe máy số {c}")}),
        json!({"text": "Xong", "quick_reply": {"payload": "PHOTOS_DONE"}}),
        json!({"text": "so 12 Le Loi, phuong Sai Gon"}),
        json!({"text": "Gửi", "quick_reply": {"payload": "CONFIRM"}}),
    ];
    steps
        .into_iter()
        .enumerate()
        .map(|(i, mut m)| {
            m["mid"] = format!("m-replay-{c}-{i}").into();
            let event = json!({"sender": {"id": psid}, "recipient": {"id": "PAGE_ID"},
                "timestamp": now + 1000 * i as i64, "message": m});
            Delivery::Messenger(
                json!({"object": "page", "entry": [{"id": "PAGE_ID", "time": 1, "messaging": [event]}]})
                    .to_string(),
            )
        })
        .collect()
}

fn viber_conversation(c: usize, now: i64) -> Vec<Delivery> {
    let user = format!("RV{c:07}=");
    let steps = [
        json!({"type": "text", "text": "#FIELD:trees"}),
        json!({"type": "text", "text": format!("Cây đổ chắn ngang đường số {c}")}),
        json!({"type": "location", "location": {"lat": 10.7769, "lon": 106.7009}}),
        json!({"type": "text", "text": "#CONFIRM"}),
    ];
    steps
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            Delivery::Viber(
                json!({"event": "message", "timestamp": now + 1000 * i as i64,
                    "message_token": 7_000_000_000u64 + (c * 10 + i) as u64,
                    "sender": {"id": user, "name": "Lan", "language": "vi", "api_version": 10},
                    "message": m, "silent": false})
                .to_string(),
            )
        })
        .collect()
}

fn sms_phone(i: usize) -> String {
    format!("09{:08}", 10_000_000 + i)
}

fn citizen(i: usize) -> String {
    format!("citizen{i}@{MAIL_DOMAIN}")
}

fn report_email(d: &MailDomains, i: usize) -> Delivery {
    let from = citizen(i);
    let raw = format!(
        "From: {from}\r\nTo: {ADDRESS}\r\nSubject: Den duong hong {i}\r\n\
         Message-ID: <replay-{i}@{MAIL_DOMAIN}>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Đèn đường trước nhà số {i} tắt cả tuần nay.\r\nĐịa chỉ: 12 Lê Lợi, Phường Bến Thành\r\n"
    );
    Delivery::Email(from, d.signed(raw.as_bytes()))
}

async fn deliver(client: &reqwest::Client, base: &str, smtp: std::net::SocketAddr, d: Delivery) {
    let r = match d {
        Delivery::Messenger(body) => {
            let sig = format!(
                "sha256={}",
                hmac_sha256_hex(APP_SECRET.as_bytes(), body.as_bytes())
            );
            client
                .post(format!("{base}/webhooks/messenger"))
                .header("content-type", "application/json")
                .header("x-hub-signature-256", sig)
                .body(body)
                .send()
                .await
        }
        Delivery::Viber(body) => {
            let sig = hmac_sha256_hex(VIBER_TOKEN.as_bytes(), body.as_bytes());
            client
                .post(format!("{base}/webhooks/viber"))
                .header("content-type", "application/json")
                .header("x-viber-content-signature", sig)
                .body(body)
                .send()
                .await
        }
        Delivery::Sms(id, from, text) => {
            client
                .post(format!("{base}/webhooks/sms"))
                .header("authorization", format!("Bearer {SMS_IN}"))
                .form(&[
                    ("id", id),
                    ("from", from),
                    ("to", "1022".into()),
                    ("text", text),
                ])
                .send()
                .await
        }
        Delivery::Email(from, raw) => {
            let code = send_to(smtp, &from, ADDRESS, &raw).await;
            assert_eq!(code, 250, "SMTP delivery from {from}");
            return;
        }
    };
    let r = r.expect("the server answers");
    let status = r.status();
    assert!(
        status.is_success(),
        "{status}: {}",
        r.text().await.unwrap_or_default()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay_storm_files_and_answers_once() {
    let n: usize = std::env::var("PHANANH_REPLAY_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let seed: u64 = std::env::var("PHANANH_REPLAY_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let (base, sent) = fakes().await;
    let (smtp_port, mails) = sink().await;
    let domains = MailDomains::new(&[MAIL_DOMAIN]);
    let t: TestApp = spawn(Options {
        chat: chat_config(&base),
        sms: sms_config(&base),
        email: phananh::EmailSection {
            address: ADDRESS.into(),
            smtp_listen: "127.0.0.1:0".into(),
            smtp_max_connections: 256,
            smtp_max_per_ip: 256,
            ..phananh::EmailSection::default()
        },
        ..Options::default()
    })
    .await;
    let worker = Worker::new(
        t.app().clone(),
        WorkerConfig {
            chat: chat_config(&base),
            sms: sms_config(&base),
            smtp_url: Some(format!("smtp://127.0.0.1:{smtp_port}")),
            email_address: Some(ADDRESS.into()),
            email_auth: domains.auth(0),
            public_url: "https://1022.example.vn".into(),
            ..WorkerConfig::default()
        },
    );

    // 70 % distinct messages, a quarter of them per channel; the rest are duplicates.
    let distinct_budget = n - n * 3 / 10;
    let quarter = distinct_budget / 4;
    let messenger_convs = (quarter / MESSENGER_STEPS).max(1);
    let viber_convs = (quarter / VIBER_STEPS).max(1);
    let sms_count = quarter.max(1);
    let email_count = (distinct_budget
        .saturating_sub(messenger_convs * MESSENGER_STEPS + viber_convs * VIBER_STEPS + sms_count))
    .max(1);
    let now = t.clock.now().timestamp_millis();
    let mut distinct: Vec<Delivery> = Vec::new();
    for c in 0..messenger_convs {
        distinct.extend(messenger_conversation(c, now));
    }
    for c in 0..viber_convs {
        distinct.extend(viber_conversation(c, now));
    }
    for i in 0..sms_count {
        distinct.push(Delivery::Sms(
            format!("replay-sms-{i}"),
            sms_phone(i),
            format!("OGA o ga lon so {i} TAI 12 Le Loi phuong Sai Gon"),
        ));
    }
    for i in 0..email_count {
        distinct.push(report_email(&domains, i));
    }
    let mut rng = Rng(seed | 1);
    let mut all = distinct.clone();
    let duplicates = n.saturating_sub(distinct.len());
    for _ in 0..duplicates {
        all.push(distinct[rng.below(distinct.len())].clone());
    }
    for i in (1..all.len()).rev() {
        all.swap(i, rng.below(i + 1));
    }
    let total = all.len();

    // Everything is delivered concurrently (16 at a time), then the worker runs.
    let started = Instant::now();
    let queue = Arc::new(Mutex::new(VecDeque::from(all)));
    let smtp = t.running.email_listen.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let queue = queue.clone();
        let client = t.client.clone();
        let base = t.url("");
        tasks.spawn(async move {
            loop {
                let Some(d) = queue.lock().unwrap().pop_front() else {
                    return;
                };
                deliver(&client, &base, smtp, d).await;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap();
    }
    let delivered_in = started.elapsed();
    let mut rounds = 0;
    while worker.run_once().await > 0 {
        rounds += 1;
        assert!(rounds < 1_000_000, "the outbox does not empty");
    }
    let elapsed = started.elapsed();

    // Reports: exactly one per SMS, per email, per conversation.
    let store = &t.store();
    let mut reports = Vec::new();
    let mut offset = 0;
    loop {
        let page = store
            .list_reports(&ReportFilter {
                limit: 500,
                offset,
                ..ReportFilter::default()
            })
            .await
            .unwrap();
        offset += page.items.len() as i64;
        reports.extend(page.items);
        if !page.has_more {
            break;
        }
    }
    let mut per_reporter: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &reports {
        let who = store.reporter(r.id).await.unwrap().unwrap_or_default();
        let key = who
            .channel_identity
            .or(who.email)
            .or(who.phone)
            .unwrap_or_else(|| format!("anonymous report {}", r.code));
        *per_reporter
            .entry((r.channel.as_str().to_string(), key))
            .or_default() += 1;
    }
    let duplicate_reports: Vec<_> = per_reporter.iter().filter(|(_, n)| **n > 1).collect();
    let by_channel = |c: &str| per_reporter.keys().filter(|(ch, _)| ch == c).count();

    // Answers: at most what each distinct message gets once.
    let sent = sent.lock().unwrap().clone();
    let mails = mails.lock().unwrap().clone();
    let mut answers: HashMap<(&str, String), Vec<String>> = HashMap::new();
    for (ch, to, text) in &sent {
        // The gateway may get the number in either form; group by its last nine digits.
        let to = if *ch == "sms" {
            to[to.len().saturating_sub(9)..].to_string()
        } else {
            to.clone()
        };
        answers.entry((ch, to)).or_default().push(text.clone());
    }
    for m in &mails {
        let to = m
            .lines()
            .find_map(|l| l.strip_prefix("To:"))
            .unwrap_or_default()
            .trim()
            .trim_start_matches('<')
            .trim_end_matches('>')
            .to_string();
        answers.entry(("email", to)).or_default().push(m.clone());
    }
    let mut duplicate_answers = Vec::new();
    for i in 0..sms_count {
        let to = sms_phone(i)[1..].to_string();
        let got = answers.get(&("sms", to.clone())).map_or(0, Vec::len);
        if got > 1 {
            duplicate_answers.push(format!("sms {to}: {got} answers to one text"));
        }
    }
    for i in 0..email_count {
        let got = answers.get(&("email", citizen(i))).map_or(0, Vec::len);
        if got > 1 {
            duplicate_answers.push(format!("email {}: {got} answers to one email", citizen(i)));
        }
    }
    // A conversation answers each message at most once, gets one receipt, and (all
    // conversations of a channel being alike) as many answers as any other.
    let mut conversation_answers = |ch: &'static str, who: Vec<String>, steps: usize| {
        let counts: Vec<usize> = who
            .iter()
            .map(|w| answers.get(&(ch, w.clone())).map_or(0, Vec::len))
            .collect();
        for (w, got) in who.iter().zip(&counts) {
            let texts = answers.get(&(ch, w.clone())).cloned().unwrap_or_default();
            let receipts = texts
                .iter()
                .filter(|t| t.contains("Mã hồ sơ của bạn"))
                .count();
            if *got > steps || receipts > 1 {
                duplicate_answers.push(format!(
                    "{ch} {w}: {got} answers to {steps} messages, {receipts} receipts: {texts:?}"
                ));
            }
        }
        let mut distinct_counts = counts.clone();
        distinct_counts.sort_unstable();
        distinct_counts.dedup();
        if distinct_counts.len() > 1 {
            duplicate_answers.push(format!(
                "{ch}: conversations got different numbers of answers {distinct_counts:?}"
            ));
        }
        counts.iter().sum::<usize>()
    };
    let messenger_answers = conversation_answers(
        "messenger",
        (0..messenger_convs).map(|c| format!("RPSID{c}")).collect(),
        MESSENGER_STEPS,
    );
    let viber_answers = conversation_answers(
        "viber",
        (0..viber_convs).map(|c| format!("RV{c:07}=")).collect(),
        VIBER_STEPS,
    );
    let answers_total = sent.len() + mails.len();

    println!(
        "replay storm: {total} deliveries ({} distinct, {duplicates} duplicates; messenger {} \
         conversations, viber {}, sms {sms_count}, email {email_count}), {} reports \
         (messenger {}, viber {}, sms {}, email {}), {} duplicate reports, {answers_total} answers \
         (messenger {messenger_answers}, viber {viber_answers}, sms {}, email {}), {} duplicate \
         answers, delivered in {:.1?}, drained in {:.1?} (total {:.1?}), seed {seed}",
        distinct.len(),
        messenger_convs,
        viber_convs,
        reports.len(),
        by_channel("messenger"),
        by_channel("viber"),
        by_channel("sms"),
        by_channel("email"),
        duplicate_reports.len(),
        sent.iter().filter(|(c, _, _)| *c == "sms").count(),
        mails.len(),
        duplicate_answers.len(),
        delivered_in,
        elapsed - delivered_in,
        elapsed,
    );
    assert!(
        duplicate_reports.is_empty(),
        "duplicate reports: {duplicate_reports:?}"
    );
    assert!(
        duplicate_answers.is_empty(),
        "duplicate answers: {duplicate_answers:#?}"
    );
    // Every distinct delivery that files a report filed one.
    assert_eq!(
        by_channel("messenger"),
        messenger_convs,
        "a report per Messenger conversation"
    );
    assert_eq!(
        by_channel("viber"),
        viber_convs,
        "a report per Viber conversation"
    );
    assert_eq!(by_channel("sms"), sms_count, "a report per SMS");
    assert_eq!(by_channel("email"), email_count, "a report per email");
    assert_eq!(
        reports.len(),
        messenger_convs + viber_convs + sms_count + email_count
    );
    // And each got its receipt (the storm may not silence anyone either).
    assert_eq!(
        sent.iter().filter(|(c, _, _)| *c == "sms").count(),
        sms_count,
        "{sent:?}"
    );
    // The Viber conversations report fallen trees, urgent cases: the tree company's duty
    // mailbox is alerted once per case, however often the deliveries were replayed.
    let (alerts, receipts): (Vec<&String>, Vec<&String>) = mails
        .iter()
        .partition(|m| m.contains("To: ct-cayxanh@example.invalid"));
    assert_eq!(
        alerts.len(),
        viber_convs,
        "one urgent alert per fallen tree"
    );
    assert_eq!(receipts.len(), email_count);
    t.stop().await;
}
