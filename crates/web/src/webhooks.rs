//! Webhooks of the chat platforms and SMS gateways. Each route verifies the raw body
//! before anything is parsed (a missing or wrong signature is a 403 and nothing is kept),
//! parses it with the channel's pure parser in `phananh_channels`, hands the delivery to
//! `app::inbox::receive` (kept, deduplicated on the sender's message id, with its
//! processing queued, in one transaction) and only then answers. The worker runs the
//! conversation or filing step in the app afterwards.

use crate::routes::{Routes, get};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use phananh_app::inbox::{self, Delivery};
use phananh_channels::conversation::Conversation;
use phananh_channels::{Inbound, WebhookError, messenger, telegram, viber, zalo};
use serde::Deserialize;

use crate::AppState;

/// Deliveries are small (Viber caps requests at 30 kB); anything far larger is refused.
const MAX_BODY: usize = 256 * 1024;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/webhooks/messenger",
            get(messenger_handshake).post(messenger_post),
        )
        .route("/webhooks/viber", crate::routes::post(viber_post))
        .route("/webhooks/telegram", crate::routes::post(telegram_post))
        .route("/webhooks/zalo", crate::routes::post(zalo_post))
        .route("/webhooks/sms", crate::routes::post(sms_post))
        .route("/webhooks/twilio/sms", crate::routes::post(twilio_post))
        .layer(DefaultBodyLimit::max(MAX_BODY))
}

/// What a webhook answers: `{"status": "ok"}` or the reason it refused.
#[derive(serde::Serialize)]
struct Answer<'a> {
    status: &'a str,
}

fn answer(status: StatusCode, code: &str) -> Response {
    (status, axum::Json(Answer { status: code })).into_response()
}

#[derive(Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

async fn messenger_handshake(
    State(state): State<AppState>,
    Query(q): Query<Handshake>,
) -> Response {
    match messenger::verify_subscription(
        q.mode.as_deref(),
        q.token.as_deref(),
        q.challenge.as_deref(),
        &state.config.chat.messenger_verify_token,
    ) {
        Some(challenge) => (StatusCode::OK, challenge).into_response(),
        None => StatusCode::FORBIDDEN.into_response(),
    }
}

async fn messenger_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let sig = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !messenger::verify_signature(&state.config.chat.messenger_app_secret, &body, sig) {
        tracing::warn!("messenger webhook: missing or wrong signature");
        return answer(StatusCode::FORBIDDEN, "bad_signature");
    }
    match messenger::parse(&body) {
        Ok(events) => keep(&state, events, &body).await,
        Err(WebhookError::Malformed(why)) => {
            tracing::warn!(%why, "messenger webhook: malformed delivery");
            answer(StatusCode::BAD_REQUEST, "malformed")
        }
        Err(WebhookError::BadSignature) => answer(StatusCode::FORBIDDEN, "bad_signature"),
    }
}

#[derive(Deserialize)]
struct ViberQuery {
    sig: Option<String>,
}

async fn viber_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ViberQuery>,
    body: Bytes,
) -> Response {
    let sig = headers
        .get("x-viber-content-signature")
        .and_then(|v| v.to_str().ok())
        .or(q.sig.as_deref());
    let chat = &state.config.chat;
    if !viber::verify_signature(&chat.viber_auth_token, &body, sig) {
        tracing::warn!("viber webhook: missing or wrong signature");
        return answer(StatusCode::FORBIDDEN, "bad_signature");
    }
    match viber::parse(&body) {
        Ok(viber::Callback::Inbound(event)) => {
            let started = matches!(event.content, phananh_channels::Content::Started { .. });
            let stored = keep(&state, vec![event.clone()], &body).await;
            if started && stored.status() == StatusCode::OK {
                // The welcome goes back in the response body: Viber allows one message
                // to someone who opened the chat without subscribing.
                let catalog = state.app.catalog().await;
                let fields = phananh_app::chat::field_choices(&catalog);
                let find_ward = |_: &str| None;
                let form_url = format!("{}/new", state.config.public_url.trim_end_matches('/'));
                let ctx = phananh_channels::conversation::Context {
                    fields: &fields,
                    find_ward: &find_ward,
                    form_url: &form_url,
                };
                let (replies, _) = Conversation::default().handle(&event.content, &ctx);
                if let Some(r) = replies.first() {
                    let body = viber::welcome_body(&chat.viber_sender_name, &r.text, &r.choices);
                    return (StatusCode::OK, axum::Json(body)).into_response();
                }
            }
            stored
        }
        Ok(viber::Callback::Ignored(what)) => {
            tracing::debug!(%what, "viber callback without anything to keep");
            answer(StatusCode::OK, "ok")
        }
        Err(WebhookError::Malformed(why)) => {
            tracing::warn!(%why, "viber webhook: malformed callback");
            answer(StatusCode::BAD_REQUEST, "malformed")
        }
        Err(WebhookError::BadSignature) => answer(StatusCode::FORBIDDEN, "bad_signature"),
    }
}

/// `POST /webhooks/telegram`: Bot API updates, with the `secret_token` given to
/// `setWebhook` in `X-Telegram-Bot-Api-Secret-Token` (checked before anything is read).
async fn telegram_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let token = headers
        .get(telegram::SECRET_HEADER)
        .and_then(|v| v.to_str().ok());
    if !telegram::verify_secret_token(&state.config.chat.telegram_secret_token, token) {
        tracing::warn!("telegram webhook: missing or wrong secret token");
        return answer(StatusCode::FORBIDDEN, "bad_token");
    }
    match telegram::parse(&body) {
        Ok(events) => keep(&state, events, &body).await,
        Err(WebhookError::Malformed(why)) => {
            tracing::warn!(%why, "telegram webhook: malformed update");
            answer(StatusCode::BAD_REQUEST, "malformed")
        }
        Err(WebhookError::BadSignature) => answer(StatusCode::FORBIDDEN, "bad_token"),
    }
}

/// `POST /webhooks/zalo`: Zalo OA events. `X-ZEvent-Signature` is checked over the raw body
/// first (the only thing read before is the timestamp it covers), then the timestamp must
/// be within `[chat] zalo_timestamp_window_secs` of now: a 403 and nothing kept otherwise.
async fn zalo_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let chat = &state.config.chat;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let timestamp = zalo::signed_timestamp(&body, header("x-zevent-timestamp"));
    let signed = timestamp.as_deref().is_some_and(|ts| {
        zalo::verify_signature(
            &chat.zalo_app_id,
            &chat.zalo_oa_secret,
            &body,
            ts,
            header("x-zevent-signature"),
        )
    });
    let Some(timestamp) = timestamp.filter(|_| signed) else {
        tracing::warn!("zalo webhook: missing or wrong signature");
        return answer(StatusCode::FORBIDDEN, "bad_signature");
    };
    let now = state.app.clock.now().timestamp_millis();
    if !zalo::is_fresh(&timestamp, now, chat.zalo_timestamp_window_secs) {
        tracing::warn!(%timestamp, "zalo webhook: stale or future timestamp");
        return answer(StatusCode::FORBIDDEN, "stale");
    }
    match zalo::parse(&body) {
        Ok(zalo::Callback::Inbound(event)) => keep(&state, vec![event], &body).await,
        Ok(zalo::Callback::Ignored(what)) => {
            tracing::debug!(%what, "zalo event without anything to keep");
            answer(StatusCode::OK, "ok")
        }
        Err(WebhookError::Malformed(why)) => {
            tracing::warn!(%why, "zalo webhook: malformed event");
            answer(StatusCode::BAD_REQUEST, "malformed")
        }
        Err(WebhookError::BadSignature) => answer(StatusCode::FORBIDDEN, "bad_signature"),
    }
}

/// Keeps the events (`app::inbox::receive`); a 500 (the platform retries) if they could
/// not be kept.
async fn keep(state: &AppState, events: Vec<Inbound>, raw: &[u8]) -> Response {
    match inbox::receive(
        &state.app,
        Delivery::Chat {
            events: &events,
            raw,
        },
    )
    .await
    {
        Ok(_) => answer(StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "could not keep a chat delivery; the platform will retry");
            answer(StatusCode::INTERNAL_SERVER_ERROR, "unavailable")
        }
    }
}

/// One text message as a gateway hands it over.
#[derive(Deserialize)]
struct GatewaySms {
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    text: String,
    /// The gateway's message id: the dedupe key.
    id: String,
}

/// `POST /webhooks/sms`: a generic gateway (JSON or form: from, to, text, id) with
/// `Authorization: Bearer <[sms] inbound_token>`.
async fn sms_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if !crate::session::bearer_ok(&headers, &state.config.sms.inbound_token) {
        tracing::warn!("sms webhook: missing or wrong token");
        return answer(StatusCode::FORBIDDEN, "bad_token");
    }
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    let parsed: Result<GatewaySms, String> = if json {
        serde_json::from_slice(&body).map_err(|e| e.to_string())
    } else {
        serde_urlencoded_like(&body)
    };
    match parsed {
        Ok(m) => keep_sms(&state, &m.id, &m.from, &m.to, &m.text, &body).await,
        Err(why) => {
            tracing::warn!(%why, "sms webhook: malformed message");
            answer(StatusCode::BAD_REQUEST, "malformed")
        }
    }
}

/// Reads a form body into a [`GatewaySms`], tolerating text that is not UTF-8 (kept lossily;
/// the original bytes are stored too).
fn serde_urlencoded_like(body: &[u8]) -> Result<GatewaySms, String> {
    let mut m = GatewaySms {
        from: String::new(),
        to: String::new(),
        text: String::new(),
        id: String::new(),
    };
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "from" => m.from = v.into_owned(),
            "to" => m.to = v.into_owned(),
            "text" => m.text = v.into_owned(),
            "id" => m.id = v.into_owned(),
            _ => {}
        }
    }
    if m.from.is_empty() || m.id.is_empty() {
        return Err("from and id are required".into());
    }
    Ok(m)
}

/// `POST /webhooks/twilio/sms`: Twilio's form, signed with `X-Twilio-Signature` over the
/// public URL and every parameter. Answers empty TwiML (replies go through the outbox).
async fn twilio_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    body: Bytes,
) -> Response {
    let params: Vec<(String, String)> = form_urlencoded::parse(&body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let url = format!(
        "{}{}",
        state.config.public_url.trim_end_matches('/'),
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("")
    );
    let sig = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok());
    if !phananh_channels::sms::verify_twilio(
        &state.config.sms.twilio_auth_token,
        &url,
        &params,
        sig,
    ) {
        tracing::warn!("twilio webhook: missing or wrong signature");
        return answer(StatusCode::FORBIDDEN, "bad_signature");
    }
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (sid, from) = (get("MessageSid"), get("From"));
    if sid.is_empty() || from.is_empty() {
        return answer(StatusCode::BAD_REQUEST, "malformed");
    }
    let stored = keep_sms(&state, &sid, &from, &get("To"), &get("Body"), &body).await;
    if stored.status() != StatusCode::OK {
        return stored;
    }
    (
        [(axum::http::header::CONTENT_TYPE, "text/xml")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
    )
        .into_response()
}

async fn keep_sms(
    state: &AppState,
    id: &str,
    from: &str,
    to: &str,
    text: &str,
    raw: &[u8],
) -> Response {
    let sms = Delivery::Sms {
        id,
        from,
        to,
        text,
        raw: String::from_utf8_lossy(raw).into_owned(),
    };
    match inbox::receive(&state.app, sms).await {
        Ok(_) => answer(StatusCode::OK, "ok"),
        Err(e) => {
            tracing::error!(error = %e, "could not keep an SMS; the gateway will retry");
            answer(StatusCode::INTERNAL_SERVER_ERROR, "unavailable")
        }
    }
}
