//! "A delivery arrived", on any channel: the one use case every inbound channel calls once
//! it has verified what it received. Chats, texts and emails are kept whole, deduplicated
//! on the sender's own id, with the job that processes them, in one transaction, before
//! the sender gets its answer: a crash loses nothing the sender believes delivered, and a
//! retry or a replay is a no-op. A call event from the exchange is recorded and pops the
//! caller up. What a delivery leads to (a conversation, a report, an answer to a question,
//! the operators' queue) is decided later by the job, in this crate (see [`crate::chat`]),
//! run by the worker.

use std::collections::HashMap;

use phananh_channels::Inbound;
use phananh_storage::{EmailEnvelope, NewChatEvent};

use crate::hotline::{CallEvent, CallPopup};
use crate::{App, AppError};

/// What a channel received, verified and parsed.
pub enum Delivery<'a> {
    /// The events of one chat platform delivery (Messenger, Viber, Telegram) and its raw body.
    Chat {
        events: &'a [Inbound],
        raw: &'a [u8],
    },
    /// One text message, from an SMS gateway or the SMSC. `id` is the gateway's message id
    /// (the dedupe key); `raw` is kept for the record.
    Sms {
        id: &'a str,
        from: &'a str,
        to: &'a str,
        text: &'a str,
        raw: String,
    },
    /// One email read from the mailbox (IMAP) or received over SMTP: its Message-ID, where
    /// it came from, its full size, the message (or only its headers when `truncated`).
    Email {
        message_id: &'a str,
        source: &'a str,
        size: usize,
        raw: &'a [u8],
        truncated: bool,
        envelope: Option<&'a EmailEnvelope>,
    },
    /// A call rang, was answered or ended (the exchange's HTTP call or the AMI listener);
    /// `extensions` maps the exchange's extensions to operators' emails.
    Call {
        event: &'a CallEvent,
        extensions: &'a HashMap<String, String>,
    },
}

/// What became of a delivery.
#[derive(Debug, Default)]
pub struct Received {
    /// How many of its items were new (0: all kept before, a retry or a replay).
    pub new: usize,
    /// For an answered call: who sees the caller pop up.
    pub popup: Option<CallPopup>,
}

/// Keeps a delivery and queues its processing (or, for a call, records it and pops the
/// caller up). An error means nothing was kept: the channel answers so that the sender
/// tries again.
pub async fn receive(app: &App, delivery: Delivery<'_>) -> Result<Received, AppError> {
    let now = app.clock.now();
    let new = match delivery {
        Delivery::Chat { events, raw } => {
            let raw = String::from_utf8_lossy(raw).into_owned();
            let rows: Vec<NewChatEvent> = events
                .iter()
                .map(|e| NewChatEvent {
                    provider: e.provider.as_str().into(),
                    message_id: e.message_id.clone(),
                    user_id: e.user.clone(),
                    at: e.at_ms,
                    event: serde_json::to_string(e).unwrap_or_default(),
                    raw: raw.clone(),
                })
                .collect();
            if rows.is_empty() {
                return Ok(Received::default());
            }
            app.store.inbox_receive(&rows, now).await?
        }
        Delivery::Sms {
            id,
            from,
            to,
            text,
            raw,
        } => {
            let event = serde_json::json!({ "from": from, "to": to, "text": text });
            let row = NewChatEvent {
                provider: SMS.into(),
                message_id: id.to_string(),
                user_id: from.trim().to_string(),
                at: now.timestamp_millis(),
                event: event.to_string(),
                raw,
            };
            app.store.inbox_receive(&[row], now).await?
        }
        Delivery::Email {
            message_id,
            source,
            size,
            raw,
            truncated,
            envelope,
        } => app
            .store
            .email_receive(message_id, source, size, raw, truncated, envelope, now)
            .await?
            .map_or(0, |_| 1),
        Delivery::Call { event, extensions } => {
            let popup = app.call_event(event, extensions).await?;
            return Ok(Received { new: 1, popup });
        }
    };
    if new > 0 {
        app.jobs_queued.notify_one();
    }
    Ok(Received { new, popup: None })
}

/// The inbox's provider name for texts (their job is `sms.inbound`).
const SMS: &str = "sms";
