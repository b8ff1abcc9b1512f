//! SMS over SMPP 3.4: phananh binds to a local SMSC simulator (smpp34's server) as a
//! transceiver; citizens' texts arrive as deliver_sm and answers leave as submit_sm.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use crate::support::*;
use async_trait::async_trait;
use phananh_channels::sms::SmsConfig;
use phananh_worker::{Worker, WorkerConfig};
use smpp34::server::ESME;
use smpp34::{
    SmppConnectionInformation, SmppError, SmppServer, SmppServerListener, bind_transceiver,
    bind_transceiver_resp, submit_sm, submit_sm_resp,
};
use tokio::sync::Mutex;

/// The SMSC: accepts one ESME, keeps what it submits, and can push texts to it.
#[derive(Default)]
struct Smsc {
    esmes: Mutex<HashMap<String, Arc<ESME>>>,
    submitted: Mutex<Vec<(String, String)>>,
}

#[async_trait]
impl SmppServerListener for Smsc {
    async fn on_bind_transceiver(
        &self,
        req: bind_transceiver,
        _c: &SmppConnectionInformation,
        _s: &String,
    ) -> bind_transceiver_resp {
        if req.system_id == "phananh" && req.password == "s3cret" {
            req.accept("SIMSMSC".to_string(), Some(0x34))
        } else {
            req.reject(SmppError::ESME_RINVPASWD)
        }
    }
    async fn on_esme_bound(&self, esme: ESME, session: &String) {
        self.esmes
            .lock()
            .await
            .insert(session.clone(), Arc::new(esme));
    }
    async fn on_submit_sm(
        &self,
        req: submit_sm,
        _c: &SmppConnectionInformation,
        _s: &String,
    ) -> submit_sm_resp {
        let body = if req.short_message.is_empty() {
            req.tlvs
                .iter()
                .find(|t| t.tag == smpp34::TlvTag::MessagePayload as u16)
                .map(|t| t.value.clone())
                .unwrap_or_default()
        } else {
            req.short_message.clone()
        };
        self.submitted.lock().await.push((
            req.destination_addr.clone(),
            String::from_utf8_lossy(&body).into_owned(),
        ));
        req.accept(format!("sim-{}", self.submitted.lock().await.len()))
    }
    async fn on_esme_unbound(&self, session: &String) {
        self.esmes.lock().await.remove(session);
    }
}

impl Smsc {
    /// A citizen's text, as the telco hands it over (UCS-2 for Vietnamese with accents).
    async fn mo(&self, from: &str, text: &str) {
        let esme = self
            .esmes
            .lock()
            .await
            .values()
            .next()
            .cloned()
            .expect("an ESME is bound");
        let ucs2: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        esme.deliver_sm()
            .source_addr(from.to_string())
            .destination_addr("1022".to_string())
            .data_coding(8)
            .short_message(ucs2)
            .send()
            .await
            .expect("deliver_sm answered");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn texts_in_and_answers_out_over_smpp() {
    let port = free_port();
    let smsc = Arc::new(Smsc::default());
    let mut server = SmppServer::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port, smsc.clone());
    server.start().await;
    let sms = SmsConfig {
        gateway_kind: "smpp".into(),
        smpp_address: format!("127.0.0.1:{port}"),
        smpp_system_id: "phananh".into(),
        smpp_password: "s3cret".into(),
        ..SmsConfig::default()
    };
    let t = spawn(Options {
        sms: sms.clone(),
        ..Options::default()
    })
    .await;
    let worker = Worker::new(
        t.app().clone(),
        WorkerConfig {
            sms: sms.clone(),
            public_url: "https://1022.example.vn".into(),
            ..WorkerConfig::default()
        },
    );
    for _ in 0..100 {
        if worker.smpp_bound().await {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(worker.smpp_bound().await, "bound to the SMSC");

    // A text with accents (UCS-2), delivered twice by the SMSC (a lost response).
    let text = "Ngập nước sâu tại hẻm 45 Lê Lợi, phường Sài Gòn";
    smsc.mo("84903111222", text).await;
    smsc.mo("84903111222", text).await;
    for _ in 0..5 {
        worker.run_once().await;
    }
    let mine = t
        .store()
        .reports_by_contact(Some("0903111222"), None, 10)
        .await
        .unwrap();
    assert_eq!(mine.len(), 1, "one report");
    assert_eq!(mine[0].channel.as_str(), "sms");
    assert_eq!(mine[0].field, "drainage");
    assert_eq!(mine[0].ward.as_deref(), Some("26740"));
    let out = smsc.submitted.lock().await.clone();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].0, "0903111222");
    assert!(
        out[0].1.contains(&mine[0].code) && out[0].1.is_ascii(),
        "{}",
        out[0].1
    );

    // A long answer (two parts) travels whole; a lookup by code.
    smsc.mo("84903111222", &mine[0].code).await;
    for _ in 0..5 {
        worker.run_once().await;
    }
    let out = smsc.submitted.lock().await.clone();
    assert_eq!(out.len(), 2);
    assert!(
        out[1]
            .1
            .starts_with(&format!("1022: Phan anh {}", mine[0].code)),
        "{}",
        out[1].1
    );
    t.stop().await;
    server.stop().await;
}

#[tokio::test]
async fn a_refused_bind_sends_nothing_and_retries_later() {
    let port = free_port();
    let smsc = Arc::new(Smsc::default());
    let mut server = SmppServer::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port, smsc.clone());
    server.start().await;
    let sms = SmsConfig {
        gateway_kind: "smpp".into(),
        smpp_address: format!("127.0.0.1:{port}"),
        smpp_system_id: "phananh".into(),
        smpp_password: "wrong".into(),
        ..SmsConfig::default()
    };
    let t = spawn(Options {
        sms: sms.clone(),
        ..Options::default()
    })
    .await;
    let worker = Worker::new(
        t.app().clone(),
        WorkerConfig {
            sms,
            ..WorkerConfig::default()
        },
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!worker.smpp_bound().await);
    // A web report with only a phone: its receipt waits in the outbox (retried), not lost.
    t.file(serde_json::json!({"field": "lighting", "description": "Đèn tắt", "ward": "26740", "phone": "0912000333"})).await;
    worker.run_once().await;
    worker.run_once().await;
    let pending = t
        .store()
        .jobs(Some(phananh_storage::JobStatus::Pending), 10)
        .await
        .unwrap();
    assert!(
        pending
            .iter()
            .any(|j| j.kind == "sms.send"
                && j.last_error.as_deref().unwrap_or("").contains("not bound")),
        "{pending:?}"
    );
    assert!(smsc.submitted.lock().await.is_empty());
    t.stop().await;
    server.stop().await;
}
