//! SMS end to end: texts handed over by a gateway (generic or Twilio, signed), reports filed
//! from the syntax, answers without accents through a local fake gateway, and the
//! operators' queue for texts that cannot be read.

use std::sync::{Arc, Mutex};

use crate::support::*;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::routing::post;
use phananh_channels::sms::{SmsConfig, segments, twilio_signature};
use phananh_domain::access::Role;
use phananh_worker::{Worker, WorkerConfig};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// (to, text) of every SMS the fake gateway was asked to send.
type Sent = Arc<Mutex<Vec<(String, String)>>>;

async fn fake_gateway() -> (String, Sent) {
    let sent: Sent = Arc::default();
    async fn send(
        State(sent): State<Sent>,
        headers: HeaderMap,
        body: axum::Json<Value>,
    ) -> AxStatus {
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer gw-token") {
            return AxStatus::UNAUTHORIZED;
        }
        let to = body["to"].as_str().unwrap_or_default().to_string();
        let text = body["text"].as_str().unwrap_or_default().to_string();
        sent.lock().unwrap().push((to, text));
        AxStatus::OK
    }
    let app = Router::new()
        .route("/send", post(send))
        .with_state(sent.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, sent)
}

fn sms_config(gateway: &str) -> SmsConfig {
    SmsConfig {
        inbound_token: "in-token".into(),
        twilio_auth_token: "twilio-secret".into(),
        gateway_url: format!("{gateway}/send"),
        gateway_token: "gw-token".into(),
        ..SmsConfig::default()
    }
}

async fn setup() -> (TestApp, Worker, Sent) {
    let (gateway, sent) = fake_gateway().await;
    let t = spawn(Options {
        sms: sms_config(&gateway),
        ..Options::default()
    })
    .await;
    let worker = Worker::new(
        t.app().clone(),
        WorkerConfig {
            sms: sms_config(&gateway),
            public_url: "https://1022.example.vn".into(),
            ..WorkerConfig::default()
        },
    );
    (t, worker, sent)
}

async fn text_in(t: &TestApp, id: &str, from: &str, text: &str) -> reqwest::Response {
    t.client
        .post(t.url("/webhooks/sms"))
        .header("authorization", "Bearer in-token")
        .form(&[("id", id), ("from", from), ("to", "1022"), ("text", text)])
        .send()
        .await
        .unwrap()
}

fn to(sent: &Sent, number: &str) -> Vec<String> {
    sent.lock()
        .unwrap()
        .iter()
        .filter(|(n, _)| n == number)
        .map(|(_, t)| t.clone())
        .collect()
}

#[tokio::test]
async fn a_report_by_sms_and_everything_after_it() {
    let (t, worker, sent) = setup().await;
    let phone = "+84912345678";

    // No token, a wrong token: refused, nothing kept.
    let r = t
        .client
        .post(t.url("/webhooks/sms"))
        .form(&[("id", "x"), ("from", phone), ("text", "OGA x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = t
        .client
        .post(t.url("/webhooks/sms"))
        .header("authorization", "Bearer nope")
        .form(&[("id", "x"), ("from", phone), ("text", "OGA x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(
        t.store()
            .chat_pending("sms", phone)
            .await
            .unwrap()
            .is_empty()
    );

    // A report in the syntax, without accents, delivered twice by the gateway.
    let text = "OGA o ga lon giua lan xe may TAI 12 Le Loi phuong Sai Gon";
    assert_eq!(
        text_in(&t, "sms-1", phone, text).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        text_in(&t, "sms-1", phone, text).await.status(),
        StatusCode::OK
    );
    drain(&worker).await;
    drain(&worker).await;
    let mine = t
        .store()
        .reports_by_contact(Some("0912345678"), None, 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "one report for one text");
    let report = &mine[0];
    assert_eq!(report.channel.as_str(), "sms");
    assert_eq!(report.field, "traffic");
    assert_eq!(report.ward.as_deref(), Some("26740"));
    let receipts = to(&sent, "0912345678");
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    assert!(
        receipts[0].contains(&report.code) && receipts[0].is_ascii() && segments(&receipts[0]) <= 2,
        "{}",
        receipts[0]
    );

    // The status by code.
    text_in(&t, "sms-2", phone, &report.code.to_lowercase()).await;
    drain(&worker).await;
    let last = to(&sent, "+84912345678").last().unwrap().clone();
    assert!(
        last.starts_with(&format!("1022: Phan anh {}", report.code)) && last.is_ascii(),
        "{last}"
    );

    // A question from the unit reaches the phone; the next text answers it.
    let staff = t.staff(Role::UnitStaff, Some(&report.unit)).await;
    let r = staff
        .act(
            &t,
            &report.code,
            json!({"action": "request_info", "question": "Ổ gà rộng khoảng bao nhiêu?"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    drain(&worker).await;
    let question = to(&sent, "0912345678").last().unwrap().clone();
    assert!(
        question.contains("O ga rong khoang bao nhieu"),
        "without accents: {question}"
    );
    text_in(&t, "sms-3", phone, "Khoảng 1 mét, sâu 20 cm").await;
    drain(&worker).await;
    drain(&worker).await;
    let history = t.store().events(report.id).await.unwrap();
    assert!(history.iter().any(|e| matches!(&e.kind,
        phananh_domain::event::EventKind::InfoProvided { answer, .. } if answer == "Khoảng 1 mét, sâu 20 cm")));

    // Text that is not in the syntax: the syntax comes back, and the text waits for an operator.
    text_in(
        &t,
        "sms-4",
        "0987654321",
        "cho toi hoi ve viec xin giay phep",
    )
    .await;
    // Bytes that are not UTF-8 (an unknown encoding) are kept, never a crash.
    let r = t
        .client
        .post(t.url("/webhooks/sms"))
        .header("authorization", "Bearer in-token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("id=sms-5&from=0987654322&text=%FF%FE%C3%28")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    drain(&worker).await;
    drain(&worker).await;
    let help = to(&sent, "0987654321");
    assert_eq!(help.len(), 1);
    assert!(help[0].contains("TAI") && help[0].is_ascii(), "{}", help[0]);
    let queue = t.store().unfiled_list(true, 10).await.unwrap();
    assert_eq!(queue.len(), 2, "{queue:?}");
    assert!(
        queue
            .iter()
            .any(|q| q.body == "cho toi hoi ve viec xin giay phep" && q.channel == "sms")
    );
    // Malformed: no id.
    let r = t
        .client
        .post(t.url("/webhooks/sms"))
        .header("authorization", "Bearer in-token")
        .form(&[("from", phone), ("text", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    t.stop().await;
}

#[tokio::test]
async fn twilio_deliveries_are_signed() {
    let (t, worker, sent) = setup().await;
    // The server signs against its public URL.
    let url = "http://127.0.0.1:8022/webhooks/twilio/sms";
    let params: Vec<(String, String)> = [
        ("MessageSid", "SM0001"),
        ("AccountSid", "AC1"),
        ("From", "+84903000111"),
        ("To", "1022"),
        ("Body", "Ngập nước sâu tại hẻm 45 Lê Lợi, phường Sài Gòn"),
        ("NumMedia", "0"),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let post = |sig: Option<String>| {
        let mut req = t.client.post(t.url("/webhooks/twilio/sms")).form(&params);
        if let Some(s) = sig {
            req = req.header("x-twilio-signature", s);
        }
        req.send()
    };
    assert_eq!(post(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(
        post(Some(twilio_signature("wrong", url, &params)))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let ok = post(Some(twilio_signature("twilio-secret", url, &params)))
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(ok.text().await.unwrap().contains("<Response>"));
    drain(&worker).await;
    drain(&worker).await;
    let mine = t
        .store()
        .reports_by_contact(Some("0903000111"), None, 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].field, "drainage");
    assert!(to(&sent, "0903000111")[0].contains(&mine[0].code));
    t.stop().await;
}

#[tokio::test]
async fn a_web_report_with_only_a_phone_gets_its_code_by_sms() {
    let (t, worker, sent) = setup().await;
    let r = t.file(json!({"field": "lighting", "description": "Đèn đường tắt cả dãy", "ward": "26740", "phone": "0912000111"})).await;
    drain(&worker).await;
    drain(&worker).await;
    let texts = to(&sent, "0912000111");
    assert_eq!(texts.len(), 1);
    assert!(texts[0].contains(r["code"].as_str().unwrap()));
    // With an email, the email carries it instead (no SMTP here: nothing by SMS).
    t.file(json!({"field": "lighting", "description": "Đèn đường tắt", "ward": "26740", "phone": "0912000222", "email": "x@example.vn"})).await;
    drain(&worker).await;
    assert!(to(&sent, "0912000222").is_empty());
    t.stop().await;
}
