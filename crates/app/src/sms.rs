//! Texts: the step that reads a number's stored texts (`sms.inbound`), which the worker
//! runs. The SMS syntax is parsed by the pure `phananh_channels::sms`.

use phananh_channels::sms::{SmsRequest, fit, help_text, parse};
use phananh_domain::model::{Actor, Channel};
use phananh_storage::{NewJob, NewUnfiled};

use crate::intake::{IntakeRequest, normalise_phone};
use crate::{App, AppError};

impl App {
    /// Texts arrived (`sms.inbound`): takes a number's unprocessed texts in order. A
    /// tracking code gets the report's status; an answer to a unit's question is attached
    /// to the report; a text in the syntax files a report (its receipt goes out through
    /// `citizen.notify`); anything else gets the syntax back and goes to the operators'
    /// queue with its original, so nothing is lost. Answers are cut to `segments` parts;
    /// links point to `public_url`.
    pub async fn sms_inbound(
        &self,
        from: &str,
        public_url: &str,
        segments: usize,
    ) -> Result<(), AppError> {
        let from = from.to_string();
        let store = &self.store;
        let pending = store.chat_pending("sms", &from).await?;
        if pending.is_empty() {
            return Ok(());
        }
        let catalog = self.catalog().await;
        let fields = crate::chat::field_choices(&catalog);
        let base = public_url.trim_end_matches('/').to_string();
        let phone = normalise_phone(&from);
        let identity = format!("sms:{}", phone.clone().unwrap_or_else(|| from.clone()));
        let mut jobs = Vec::new();
        let mut processed = Vec::new();
        for event in &pending {
            processed.push(event.id);
            let v: serde_json::Value = serde_json::from_str(&event.event).unwrap_or_default();
            let text = v["text"].as_str().unwrap_or_default().to_string();
            let mut reply = |text: String| {
                jobs.push(NewJob::sms_reply(
                    &from,
                    &fit(&text, segments),
                    event.id,
                    self.clock.now(),
                ));
            };
            let request = parse(&text, &fields);
            // A unit's question waits for this number: any text that is not a code answers it.
            if !matches!(request, SmsRequest::LookUp(_)) {
                let waiting = store.reports_awaiting_info(&identity).await?;
                if let Some(report) = waiting.into_iter().next() {
                    let code = report.code.clone();
                    let command = phananh_domain::procedure::Command::ProvideInfo {
                        answer: text.trim().to_string(),
                    };
                    match self.apply(report, Actor::citizen(), command).await {
                        Ok(_) => {
                            reply(format!(
                                "1022: Da chuyen thong tin bo sung cho don vi xu ly phan anh {code}. Cam on ban!"
                            ));
                            continue;
                        }
                        Err(AppError::Procedure(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            match request {
                SmsRequest::LookUp(code) => {
                    let answer = match self.public_report(&code).await {
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
                    match self
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
                        Err(AppError::Validation(errors)) => {
                            let why: Vec<String> =
                                errors.iter().map(|e| e.message_vi.clone()).collect();
                            self.sms_set_aside(&from, &text, &event.event, &why.join("; "))
                                .await?;
                            reply(format!(
                                "1022: Chua tiep nhan duoc phan anh: {}. Tong dai vien se lien he lai. {}",
                                why.join("; "),
                                help_text(&fields)
                            ));
                        }
                        Err(e) => return Err(e),
                    }
                }
                SmsRequest::TooLong => {
                    self.sms_set_aside(
                        &from,
                        &text,
                        &event.event,
                        "tin nhắn quá dài / the message is too long",
                    )
                    .await?;
                    reply(help_text(&fields));
                }
                SmsRequest::Help => {
                    self.sms_set_aside(
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
            .inbox_done(&processed, &jobs, self.clock.now())
            .await?
            && !jobs.is_empty()
        {
            self.jobs_queued.notify_one();
        }
        Ok(())
    }

    /// Puts a text an operator must look at in their queue.
    async fn sms_set_aside(
        &self,
        from: &str,
        text: &str,
        raw: &str,
        reason: &str,
    ) -> Result<(), AppError> {
        self.store
            .unfiled_add(
                &NewUnfiled {
                    channel: "sms".into(),
                    sender: from.to_string(),
                    subject: None,
                    body: text.to_string(),
                    raw: raw.to_string(),
                    reason: reason.to_string(),
                },
                self.clock.now(),
            )
            .await?;
        Ok(())
    }
}
