//! SMS: the worker reads the texts the gateways handed over and sends the answers.
//!
//! `sms.inbound` takes a number's unprocessed texts in order: a tracking code gets the
//! report's status; an answer to a unit's question is attached to the report; a text in the
//! syntax files a report (its receipt goes out through `citizen.notify`); anything else gets
//! the syntax back and goes to the operators' queue with its original, so nothing is lost.
//! `sms.send` talks to the configured gateway (generic JSON or Twilio's Messages API).

use phananh_app::intake::{IntakeRequest, normalise_phone};
use phananh_channels::sms::{SmsRequest, fit, help_text, parse};
use phananh_domain::model::{Actor, Channel};
use phananh_storage::{Job, NewJob, NewUnfiled};
use serde_json::json;

use crate::{JobError, Worker, retry};

/// An `sms.send` job to one number.
pub(crate) fn send_job(
    to: &str,
    text: &str,
    dedupe: String,
    now: chrono::DateTime<chrono::Utc>,
) -> NewJob {
    let mut job = NewJob::new("sms.send", json!({ "to": to, "text": text }), now);
    job.dedupe_key = Some(dedupe);
    job.max_attempts = 6;
    job
}

pub(crate) async fn inbound(w: &Worker, job: &Job) -> Result<(), JobError> {
    let from = job.payload["user"].as_str().unwrap_or_default().to_string();
    let store = &w.app.store;
    let pending = store.chat_pending("sms", &from).await.map_err(retry)?;
    if pending.is_empty() {
        return Ok(());
    }
    let catalog = w.app.catalog().await;
    let fields = phananh_app::chat::field_choices(&catalog);
    let base = w.config.public_url.trim_end_matches('/').to_string();
    let segments = w.config.sms.max_segments;
    let phone = normalise_phone(&from);
    let identity = format!("sms:{}", phone.clone().unwrap_or_else(|| from.clone()));
    let mut jobs = Vec::new();
    let mut processed = Vec::new();
    for event in &pending {
        processed.push(event.id);
        let v: serde_json::Value = serde_json::from_str(&event.event).unwrap_or_default();
        let text = v["text"].as_str().unwrap_or_default().to_string();
        let reply_key = format!("sms.reply:{}", event.id);
        let mut reply = |text: String| {
            jobs.push(send_job(
                &from,
                &fit(&text, segments),
                reply_key.clone(),
                w.app.clock.now(),
            ));
        };
        let request = parse(&text, &fields);
        // A unit's question waits for this number: any text that is not a code answers it.
        if !matches!(request, SmsRequest::LookUp(_)) {
            let waiting = store
                .reports_awaiting_info(&identity)
                .await
                .map_err(retry)?;
            if let Some(report) = waiting.into_iter().next() {
                let code = report.code.clone();
                let command = phananh_domain::procedure::Command::ProvideInfo {
                    answer: text.trim().to_string(),
                };
                match w.app.apply(report, Actor::citizen(), command).await {
                    Ok(_) => {
                        reply(format!(
                            "1022: Da chuyen thong tin bo sung cho don vi xu ly phan anh {code}. Cam on ban!"
                        ));
                        continue;
                    }
                    Err(phananh_app::AppError::Procedure(_)) => {}
                    Err(e) => return Err(retry(e)),
                }
            }
        }
        match request {
            SmsRequest::LookUp(code) => {
                let answer = match w.app.public_report(&code).await {
                    Ok((report, events)) => {
                        let last = events
                            .last()
                            .map(|e| catalog.describe(&e.kind, false, true))
                            .unwrap_or_default();
                        format!(
                            "1022: Phan anh {code}: {}. {last}. Chi tiet: {base}/r/{code}",
                            report.status.label_vi()
                        )
                    }
                    Err(_) => format!(
                        "1022: Khong tim thay ma ho so {code}. Ma gom 8 ky tu, vi du ABCD-2345."
                    ),
                };
                reply(answer);
            }
            SmsRequest::Report {
                field,
                description,
                address,
            } => {
                let ward = address
                    .as_deref()
                    .or(Some(text.as_str()))
                    .and_then(|a| catalog.ward_names.find_in_address(a));
                let request = IntakeRequest {
                    field,
                    description,
                    address: address.clone(),
                    ward,
                    phone: phone.clone(),
                    consent: true,
                    ..IntakeRequest::default()
                };
                let key = format!("sms:{}", event.message_id);
                match w
                    .app
                    .submit(
                        request,
                        Channel::Sms,
                        Actor::citizen(),
                        Some(identity.clone()),
                        Some(key),
                    )
                    .await
                {
                    // The receipt with the code goes out through citizen.notify.
                    Ok(_) => {}
                    Err(phananh_app::AppError::Validation(errors)) => {
                        let why: Vec<String> =
                            errors.iter().map(|e| e.message_vi.clone()).collect();
                        set_aside(w, &from, &text, &event.event, &why.join("; ")).await?;
                        reply(format!(
                            "1022: Chua tiep nhan duoc phan anh: {}. Tong dai vien se lien he lai. {}",
                            why.join("; "),
                            help_text(&fields)
                        ));
                    }
                    Err(e) => return Err(retry(e)),
                }
            }
            SmsRequest::TooLong => {
                set_aside(
                    w,
                    &from,
                    &text,
                    &event.event,
                    "tin nhắn quá dài / the message is too long",
                )
                .await?;
                reply(help_text(&fields));
            }
            SmsRequest::Help => {
                set_aside(
                    w,
                    &from,
                    &text,
                    &event.event,
                    "không đúng cú pháp / not in the syntax",
                )
                .await?;
                reply(help_text(&fields));
            }
        }
    }
    if store
        .inbox_done(&processed, &jobs, w.app.clock.now())
        .await
        .map_err(retry)?
        && !jobs.is_empty()
    {
        w.app.jobs_queued.notify_one();
    }
    Ok(())
}

/// Puts a text an operator must look at in their queue.
async fn set_aside(
    w: &Worker,
    from: &str,
    text: &str,
    raw: &str,
    reason: &str,
) -> Result<(), JobError> {
    w.app
        .store
        .unfiled_add(
            &NewUnfiled {
                channel: "sms".into(),
                sender: from.to_string(),
                subject: None,
                body: text.to_string(),
                raw: raw.to_string(),
                reason: reason.to_string(),
            },
            w.app.clock.now(),
        )
        .await
        .map(|_| ())
        .map_err(retry)
}

pub(crate) async fn send(w: &Worker, job: &Job) -> Result<(), JobError> {
    let cfg = &w.config.sms;
    if !cfg.can_send() {
        return Err(JobError::Permanent(
            "chưa cấu hình cổng SMS / no SMS gateway configured ([sms] gateway_url)".into(),
        ));
    }
    let to = job.payload["to"].as_str().unwrap_or_default();
    let text = job.payload["text"].as_str().unwrap_or_default();
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
