//! Chats: runs the conversation step (`App::chat_inbound`, in the app) over a person's
//! stored events, and sends the answers.
//!
//! `chat.send` respects each platform's rules: Messenger's 24-hour window (7 days for a
//! person's reply, with the HUMAN_AGENT tag), Viber only to subscribed users, Telegram
//! not to people who blocked the bot, Zalo within its reply window and quota to followers
//! (`crate::zalo`).

use chrono::Duration;
use phananh_app::AppError;
use phananh_app::chat::{PhotoFetcher, PhotoRefused};
use phananh_channels::{ChatConfig, Provider, messenger, telegram, viber};
use phananh_domain::jobs::{ChatMessage, ChatSend, ChatSendKind, InboxPending};
use phananh_storage::ChatUser;

use crate::guard::MediaPolicy;
use crate::{JobError, Worker, http_error, retry};

/// Photos sent in chats, fetched through the outbound guard from the platform's media
/// hosts, with the configured size and time limits.
struct GuardedPhotos<'a>(&'a Worker);

impl PhotoFetcher for GuardedPhotos<'_> {
    async fn fetch(&self, provider: Provider, url: &str) -> Result<Vec<u8>, PhotoRefused> {
        let cfg = &self.0.config;
        if provider == Provider::Telegram {
            return telegram_download(self.0, url, cfg.chat.max_photo_bytes, cfg.http_timeout)
                .await;
        }
        MediaPolicy::for_provider(&cfg.chat, provider)
            .fetch(url, cfg.chat.max_photo_bytes, cfg.http_timeout)
            .await
            .map_err(|why| PhotoRefused {
                by_policy: why.is_policy(),
                why: why.to_string(),
            })
    }

    async fn fetch_media(&self, provider: Provider, url: &str) -> Result<Vec<u8>, PhotoRefused> {
        let cfg = &self.0.config;
        let max = usize::try_from(self.0.app.media_limits.max_bytes).unwrap_or(usize::MAX);
        // A recording is up to 50 MB: more time than a photo.
        let timeout = cfg.http_timeout.max(std::time::Duration::from_secs(120));
        if provider == Provider::Telegram {
            return telegram_download(self.0, url, max, timeout).await;
        }
        MediaPolicy::for_provider(&cfg.chat, provider)
            .fetch(url, max, timeout)
            .await
            .map_err(|why| PhotoRefused {
                by_policy: why.is_policy(),
                why: why.to_string(),
            })
    }
}

/// [`telegram_file`] with the bot token taken out of any error: the token is in the
/// download's path, and no message may carry it.
async fn telegram_download(
    w: &Worker,
    reference: &str,
    max: usize,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, PhotoRefused> {
    telegram_file(w, reference, max, timeout)
        .await
        .map_err(|e| PhotoRefused {
            why: crate::redact(
                &e.why,
                std::slice::from_ref(&w.config.chat.telegram_bot_token),
            ),
            ..e
        })
}

/// A Telegram photo or recording (`telegram-file:<file_id>`): `getFile` gives its path and
/// size, and the file is downloaded through the same guard as the other platforms' files,
/// up to `max` bytes.
async fn telegram_file(
    w: &Worker,
    reference: &str,
    max: usize,
    timeout: std::time::Duration,
) -> Result<Vec<u8>, PhotoRefused> {
    let cfg = &w.config.chat;
    let refused = |by_policy: bool, why: String| PhotoRefused { by_policy, why };
    let file_id = reference
        .strip_prefix(telegram::FILE_PREFIX)
        .ok_or_else(|| refused(true, "not a Telegram file reference".into()))?;
    let resp = w
        .http
        .post(crate::setup::telegram_method(cfg, "getFile"))
        .json(&telegram::get_file_body(file_id))
        .send()
        .await
        .map_err(|e| refused(false, format!("Telegram getFile: {}", http_error(e))))?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .map_err(|e| refused(false, format!("Telegram getFile: {}", http_error(e))))?;
    let file = telegram::api_result(status, &body)
        .map_err(|e| refused(false, format!("getFile: {}", e.message)))?;
    if file["file_size"].as_u64().is_some_and(|n| n > max as u64) {
        return Err(refused(false, "larger than the limit".into()));
    }
    let path = telegram::file_path(&file)
        .ok_or_else(|| refused(true, "getFile gave no usable file_path".into()))?;
    let url = telegram_file_url(cfg, path);
    MediaPolicy::for_provider(cfg, Provider::Telegram)
        .fetch(&url, max, timeout)
        .await
        .map_err(|why| refused(why.is_policy(), why.to_string()))
}

/// Where the Bot API serves a file. It holds the bot token: never log or show it.
fn telegram_file_url(cfg: &ChatConfig, path: &str) -> String {
    format!(
        "{}/file/bot{}/{path}",
        cfg.telegram_api_url.trim_end_matches('/'),
        cfg.telegram_bot_token
    )
}

/// `chat.inbound`: the conversation step, in the app, over the person's stored messages.
pub(crate) async fn inbound(w: &Worker, job: &InboxPending) -> Result<(), JobError> {
    let provider = Provider::parse(&job.provider)
        .ok_or_else(|| JobError::Permanent("unknown provider".into()))?;
    match w
        .app
        .chat_inbound(provider, &job.user, &w.config.public_url, &GuardedPhotos(w))
        .await
    {
        Ok(()) => Ok(()),
        Err(AppError::Conflict(m)) => Err(JobError::Retry(m)),
        Err(e) => Err(retry(e)),
    }
}

pub(crate) async fn send(w: &Worker, job: &ChatSend) -> Result<(), JobError> {
    let provider = Provider::parse(&job.provider)
        .ok_or_else(|| JobError::Permanent("unknown provider".into()))?;
    let user = job.user.as_str();
    let kind = job.kind;
    let messages = &job.messages;
    let chat_user = w
        .app
        .chat_user(provider.as_str(), user)
        .await
        .map_err(retry)?
        .unwrap_or_default();
    for m in messages {
        match provider {
            Provider::Messenger => send_messenger(w, user, m, kind, &chat_user).await?,
            Provider::Viber => send_viber(w, user, m, &chat_user).await?,
            Provider::Telegram => send_telegram(w, user, m, &chat_user).await?,
            Provider::Zalo => crate::zalo::send_cs(w, user, m, &chat_user).await?,
        }
        let _ = w
            .app
            .chat_log_outbound(provider.as_str(), user, &m.text)
            .await;
    }
    Ok(())
}

async fn send_messenger(
    w: &Worker,
    psid: &str,
    m: &ChatMessage,
    kind: ChatSendKind,
    chat_user: &ChatUser,
) -> Result<(), JobError> {
    let cfg = &w.config.chat;
    let since = chat_user
        .last_inbound_at
        .map(|t| w.app.clock.now() - t)
        .unwrap_or(Duration::days(365));
    // Within 24 hours of the citizen's last message anything may be sent; a person's
    // reply may follow up to 7 days with the HUMAN_AGENT tag; nothing after that.
    let tag = if since <= Duration::hours(24) {
        None
    } else if kind == ChatSendKind::Staff && since <= Duration::days(7) {
        Some("HUMAN_AGENT")
    } else {
        return Err(JobError::Permanent(
            "ngoài khung 24 giờ của Messenger, chưa gửi được / outside Messenger's 24-hour window: not sent".into(),
        ));
    };
    // The token goes in the Authorization header and its proof in the body: neither is
    // ever part of a URL, which ends up in error messages and proxies' logs.
    let url = format!("{}/me/messages", cfg.graph_url.trim_end_matches('/'));
    let mut body = messenger::send_body(psid, &m.text, &m.choices, tag);
    body["appsecret_proof"] =
        messenger::appsecret_proof(&cfg.messenger_app_secret, &cfg.messenger_page_token).into();
    let resp = w
        .http
        .post(&url)
        .bearer_auth(&cfg.messenger_page_token)
        .json(&body)
        .send()
        .await
        .map_err(|e| JobError::Retry(format!("Messenger: {}", http_error(e))))?;
    let status = resp.status();
    if status.is_success() {
        return Ok(());
    }
    let err: serde_json::Value = resp.json().await.unwrap_or_default();
    let code = err["error"]["code"].as_i64().unwrap_or(0);
    let message = err["error"]["message"].as_str().unwrap_or("").to_string();
    // 2: temporary; 4, 613: rate limits; server errors: try again later.
    if status.is_server_error() || matches!(code, 2 | 4 | 613) {
        Err(JobError::Retry(format!(
            "Messenger {status} ({code}): {message}"
        )))
    } else {
        Err(JobError::Permanent(format!(
            "Messenger {status} ({code}): {message}"
        )))
    }
}

async fn send_viber(
    w: &Worker,
    receiver: &str,
    m: &ChatMessage,
    chat_user: &ChatUser,
) -> Result<(), JobError> {
    if !chat_user.subscribed {
        return Err(JobError::Permanent(
            "người dùng đã hủy đăng ký Viber / the Viber user unsubscribed: not sent".into(),
        ));
    }
    let cfg = &w.config.chat;
    let body = viber::send_body(receiver, &cfg.viber_sender_name, &m.text, &m.choices);
    let resp = w
        .http
        .post(format!(
            "{}/send_message",
            cfg.viber_api_url.trim_end_matches('/')
        ))
        .header("X-Viber-Auth-Token", &cfg.viber_auth_token)
        .json(&body)
        .send()
        .await
        .map_err(|e| JobError::Retry(format!("Viber: {}", http_error(e))))?;
    if !resp.status().is_success() {
        return Err(JobError::Retry(format!("Viber HTTP {}", resp.status())));
    }
    let answer: serde_json::Value = resp.json().await.unwrap_or_default();
    match answer["status"].as_i64() {
        Some(0) => Ok(()),
        // tooManyRequests, messageRateExceeded: back off and try again.
        Some(12) | Some(18) => Err(JobError::Retry(format!("Viber: {answer}"))),
        _ => Err(JobError::Permanent(format!("Viber: {answer}"))),
    }
}

async fn send_telegram(
    w: &Worker,
    chat: &str,
    m: &ChatMessage,
    chat_user: &ChatUser,
) -> Result<(), JobError> {
    if !chat_user.subscribed {
        return Err(JobError::Permanent(
            "người dùng đã chặn bot Telegram / the Telegram user blocked the bot: not sent".into(),
        ));
    }
    let cfg = &w.config.chat;
    // The token is in the URL's path (the Bot API's wire format): errors are reported
    // without the URL, and the job's error text is scrubbed of secrets besides.
    let resp = w
        .http
        .post(crate::setup::telegram_method(cfg, "sendMessage"))
        .json(&telegram::send_body(chat, &m.text, &m.choices))
        .send()
        .await
        .map_err(|e| JobError::Retry(format!("Telegram: {}", http_error(e))))?;
    let status = resp.status().as_u16();
    let body = resp
        .bytes()
        .await
        .map_err(|e| JobError::Retry(format!("Telegram: {}", http_error(e))))?;
    match telegram::api_result(status, &body) {
        Ok(_) => Ok(()),
        Err(e) if e.retry => Err(JobError::Retry(e.message)),
        Err(e) => Err(JobError::Permanent(e.message)),
    }
}
