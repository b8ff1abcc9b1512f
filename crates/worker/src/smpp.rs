//! SMPP 3.4 to a telco's SMSC: the second SMS transport. One transceiver bind carries both
//! directions: short messages from citizens (`deliver_sm`) go into the same inbox as the
//! HTTP gateways' (acknowledged only once stored, so the SMSC retries otherwise), and
//! answers go out as `submit_sm`. The bind is re-established when it drops.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use phananh_app::App;
use phananh_app::inbox::{self, Delivery};
use phananh_channels::sms::{SmsConfig, decode_short_message};
use sha2::{Digest, Sha256};
use smpp34::client::{BIND_TYPE, SMSC, SmppClient, SmppClientListener};
use smpp34::{SmppConnectionInformation, SmppError, TlvTag, deliver_sm, deliver_sm_resp};
use tokio::sync::Mutex;

/// The bound session, shared by the listener (which sets it) and the sender.
pub struct SmppLink {
    smsc: Arc<Mutex<Option<Arc<SMSC>>>>,
    sender: String,
}

struct Listener {
    smsc: Arc<Mutex<Option<Arc<SMSC>>>>,
    app: App,
    lost: tokio::sync::Notify,
}

#[async_trait]
impl SmppClientListener for Listener {
    async fn on_smsc_bound(&self, smsc: SMSC, _session: &String) {
        tracing::info!(system = %smsc.system_id, "SMPP bound");
        *self.smsc.lock().await = Some(Arc::new(smsc));
    }

    async fn on_smsc_unbound(&self, _session: &String) {
        tracing::warn!("SMPP bind lost");
        *self.smsc.lock().await = None;
        self.lost.notify_one();
    }

    async fn on_connection_failed(&self, error: &str) {
        tracing::warn!(%error, "SMPP connection failed");
        self.lost.notify_one();
    }

    async fn on_deliver_sm(
        &self,
        req: deliver_sm,
        _c: &SmppConnectionInformation,
        _s: &String,
    ) -> deliver_sm_resp {
        // Delivery receipts (esm_class bits 2-5 = 0001) are not citizens' messages.
        if req.esm_class & 0x3c == 0x04 {
            return req.accept();
        }
        let bytes = req
            .tlvs
            .iter()
            .find(|t| t.tag == TlvTag::MessagePayload as u16)
            .map(|t| t.value.clone())
            .unwrap_or_else(|| req.short_message.clone());
        let text = decode_short_message(req.data_coding, &bytes);
        // deliver_sm carries no message id: the sender, the text and the minute make one,
        // so a redelivery after a lost response is recognised.
        let now = self.app.clock.now();
        let mut h = Sha256::new();
        h.update(req.source_addr.as_bytes());
        h.update(&bytes);
        h.update((now.timestamp() / 60).to_be_bytes());
        let id = format!("smpp:{}", hex::encode(&h.finalize()[..12]));
        let sms = Delivery::Sms {
            id: &id,
            from: &req.source_addr,
            to: &req.destination_addr,
            text: &text,
            raw: hex::encode(&bytes),
        };
        match inbox::receive(&self.app, sms).await {
            Ok(_) => req.accept(),
            Err(e) => {
                tracing::error!(error = %e, "could not keep an SMS from the SMSC; it will retry");
                req.reject(SmppError::ESME_RX_T_APPN)
            }
        }
    }
}

impl SmppLink {
    /// Binds as a transceiver to `[sms] smpp_address` and keeps the bind up.
    pub fn start(app: App, cfg: &SmsConfig) -> Arc<SmppLink> {
        let smsc = Arc::new(Mutex::new(None));
        let link = Arc::new(SmppLink {
            smsc: smsc.clone(),
            sender: cfg.sender.clone(),
        });
        let (host, port) = match cfg.smpp_address.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), p.parse().unwrap_or(2775)),
            None => (cfg.smpp_address.clone(), 2775),
        };
        let (system_id, password) = (cfg.smpp_system_id.clone(), cfg.smpp_password.clone());
        let listener = Arc::new(Listener {
            smsc,
            app,
            lost: tokio::sync::Notify::new(),
        });
        tokio::spawn(async move {
            loop {
                let mut client = SmppClient::new(
                    host.clone(),
                    port,
                    false,
                    BIND_TYPE::TRX,
                    system_id.clone(),
                    password.clone(),
                    String::new(),
                    0,
                    0,
                    String::new(),
                    listener.clone(),
                    10,
                );
                client.start().await;
                // Until the bind drops; a bind that never came up (refused, no answer) is
                // tried again every half minute.
                loop {
                    tokio::select! {
                        _ = listener.lost.notified() => break,
                        _ = tokio::time::sleep(Duration::from_secs(30)) => {
                            if listener.smsc.lock().await.is_none() {
                                break;
                            }
                        }
                    }
                }
                client.stop().await;
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        link
    }

    pub async fn is_bound(&self) -> bool {
        self.smsc.lock().await.is_some()
    }

    /// Submits one text (ASCII, already folded) to `to`; long texts travel whole in the
    /// message_payload parameter. Returns the SMSC's message id.
    pub async fn send(&self, to: &str, text: &str) -> Result<String, String> {
        let Some(smsc) = self.smsc.lock().await.clone() else {
            return Err("SMPP: not bound to the SMSC".into());
        };
        let builder = smsc
            .submit_sm()
            .source_addr(self.sender.clone())
            .destination_addr(to.to_string())
            .data_coding(0)
            .registered_delivery(1);
        let builder = if text.len() <= 160 {
            builder.short_message(text.as_bytes().to_vec())
        } else {
            builder
                .short_message(Vec::new())
                .tlv(TlvTag::MessagePayload, text.as_bytes().to_vec())
        };
        match builder.send().await {
            Ok(resp) => Ok(resp.message_id.unwrap_or_default()),
            Err(e) => Err(format!("SMPP: {e:?}")),
        }
    }
}
