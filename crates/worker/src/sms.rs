//! SMS: the worker runs the texts step (`App::sms_inbound`, in the app) over the texts
//! the gateways handed over, and sends the answers.
//!
//! `sms.send` talks to the configured gateway (generic JSON or Twilio's Messages API).

use phananh_domain::jobs::{InboxPending, SmsSend};
use phananh_storage::Job;
use serde_json::json;

use crate::{JobError, Worker, retry};

/// `sms.inbound`: the texts step, in the app, over the number's stored texts.
pub(crate) async fn inbound(w: &Worker, job: &InboxPending) -> Result<(), JobError> {
    w.app
        .sms_inbound(&job.user, &w.config.public_url, w.config.sms.max_segments)
        .await
        .map_err(retry)
}

pub(crate) async fn send(w: &Worker, job: &Job, p: &SmsSend) -> Result<(), JobError> {
    let cfg = &w.config.sms;
    if !cfg.can_send() {
        return Err(JobError::Permanent(
            "chưa cấu hình cổng SMS / no SMS gateway configured ([sms] gateway_url)".into(),
        ));
    }
    let (to, text) = (p.to.as_str(), p.text.as_str());
    if let Some(link) = &w.smpp {
        return match link.send(to, text).await {
            Ok(id) => {
                tracing::debug!(%to, message_id = %id, "SMS submitted over SMPP");
                Ok(())
            }
            Err(e) => Err(JobError::Retry(e)),
        };
    }
    let request = if cfg.gateway_kind == "twilio" {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            cfg.gateway_url.trim_end_matches('/'),
            cfg.twilio_account_sid
        );
        w.http
            .post(url)
            .basic_auth(&cfg.twilio_account_sid, Some(&cfg.gateway_token))
            .form(&[("To", to), ("From", cfg.sender.as_str()), ("Body", text)])
    } else {
        w.http
            .post(&cfg.gateway_url)
            .bearer_auth(&cfg.gateway_token)
            .json(&json!({ "to": to, "from": cfg.sender, "text": text, "client_id": format!("phananh-{}", job.id) }))
    };
    let resp = request
        .send()
        .await
        .map_err(|e| JobError::Retry(format!("SMS gateway: {}", crate::http_error(e))))?;
    let status = resp.status();
    if status.is_success() {
        Ok(())
    } else if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
        Err(JobError::Retry(format!("SMS gateway: {status}")))
    } else {
        let body = resp.text().await.unwrap_or_default();
        Err(JobError::Permanent(format!("SMS gateway: {status} {body}")))
    }
}
