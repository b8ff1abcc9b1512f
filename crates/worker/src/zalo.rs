//! Zalo OA: the access token (refreshed through the stored chain), consultation messages
//! to Zalo users (`chat.send`), ZNS template messages with their SMS fallback (`zns.send`),
//! and `phananh chat zalo-check`.
//!
//! The refresh token works once. Only the holder of the lease on the current pair (see
//! `phananh_storage::ZaloToken`) calls Zalo's OAuth; the new pair is stored and the old one
//! marked used in one transaction. A process killed during the call leaves the old pair
//! current and its lease runs out; another process waiting for the lease reads the new pair
//! instead of spending the old refresh token a second time.

use std::time::{Duration, Instant};

use phananh_app::App;
use phananh_channels::ChatConfig;
use phananh_channels::zalo::{self, Failure, RefreshError};
use phananh_domain::jobs::{ChatMessage, ZnsSend};
use phananh_storage::{ChatUser, Job, NewJob, ZaloToken};
use serde_json::Value;

use crate::{JobError, Worker, http_error, retry};

/// An access token is refreshed this long before Zalo says it expires.
const MARGIN_MINUTES: i64 = 5;

/// Why no access token could be had.
#[derive(Debug)]
pub enum TokenError {
    /// The database or Zalo was unavailable, or another process is still refreshing.
    Retry(String),
    /// No token is configured, or Zalo refused the refresh token: an operator must
    /// authorise the OA again (`phananh chat zalo-check --new-refresh-token`).
    Broken(String),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Retry(m) | TokenError::Broken(m) => f.write_str(m),
        }
    }
}

impl From<TokenError> for JobError {
    fn from(e: TokenError) -> JobError {
        match e {
            TokenError::Retry(m) => JobError::Retry(m),
            TokenError::Broken(m) => JobError::Permanent(m),
        }
    }
}

fn db(e: impl std::fmt::Display) -> TokenError {
    TokenError::Retry(format!("Zalo token store: {e}"))
}

const REAUTHORISE: &str = "authorise the OA again and pipe its refresh token to `phananh chat zalo-check --new-refresh-token`";

/// A valid access token: the stored one, or a new one from a refresh. `rejected` is a
/// token Zalo just refused: if it is still the stored one, it is refreshed even though it
/// has not expired by our clock. `holder` names this process in the refresh lease.
pub async fn access_token(
    app: &App,
    cfg: &ChatConfig,
    http: &reqwest::Client,
    holder: &str,
    rejected: Option<&str>,
) -> Result<String, TokenError> {
    let lease_secs = cfg.zalo_refresh_lease_secs.max(2);
    let lease = chrono::Duration::seconds(lease_secs);
    // Long enough for a holder that died to lose its lease, and for one more refresh.
    let patience = Duration::from_secs(lease_secs as u64 * 2 + 2);
    let started = Instant::now();
    loop {
        let Some(current) = app.zalo_token().await.map_err(db)? else {
            if cfg.zalo_refresh_token.is_empty() {
                return Err(TokenError::Broken(format!(
                    "no Zalo token: set [chat] zalo_refresh_token (PHANANH_ZALO_REFRESH_TOKEN) or {REAUTHORISE}"
                )));
            }
            if !app
                .zalo_token_seed(&cfg.zalo_refresh_token)
                .await
                .map_err(db)?
                && app.zalo_token().await.map_err(db)?.is_none()
            {
                return Err(TokenError::Broken(format!(
                    "every stored Zalo token is used: {REAUTHORISE}"
                )));
            }
            continue;
        };
        let now = app.clock.now();
        let usable = !current.access_token.is_empty()
            && current.access_expires_at - chrono::Duration::minutes(MARGIN_MINUTES) > now
            && rejected != Some(current.access_token.as_str());
        if usable {
            return Ok(current.access_token);
        }
        if app
            .zalo_token_lease(current.id, holder, lease)
            .await
            .map_err(db)?
        {
            match refresh(app, cfg, http, &current, lease_secs).await {
                Ok(token) => return Ok(token),
                Err(e) => {
                    let _ = app.zalo_token_release(current.id, holder).await;
                    // Refused, but another process may have rotated the pair meanwhile
                    // (our lease ran out while we waited for Zalo): use theirs.
                    let moved = matches!(e, TokenError::Broken(_))
                        && app
                            .zalo_token()
                            .await
                            .map_err(db)?
                            .is_some_and(|t| t.id != current.id);
                    if !moved {
                        return Err(e);
                    }
                    continue;
                }
            }
        }
        if started.elapsed() > patience {
            return Err(TokenError::Retry(
                "another process is refreshing the Zalo token".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Spends `current`'s refresh token (we hold its lease) and stores the new pair.
async fn refresh(
    app: &App,
    cfg: &ChatConfig,
    http: &reqwest::Client,
    current: &ZaloToken,
    lease_secs: i64,
) -> Result<String, TokenError> {
    let url = format!(
        "{}/v4/oa/access_token",
        cfg.zalo_oauth_url.trim_end_matches('/')
    );
    // Given up well before the lease runs out, so no other process starts a refresh of
    // the same token while this one may still get an answer.
    let timeout = Duration::from_secs((lease_secs / 2).max(1) as u64);
    let resp = http
        .post(url)
        .timeout(timeout)
        .header("secret_key", &cfg.zalo_app_secret)
        .form(&zalo::refresh_form(
            &cfg.zalo_app_id,
            &current.refresh_token,
        ))
        .send()
        .await
        .map_err(|e| TokenError::Retry(format!("Zalo OAuth: {}", http_error(e))))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| TokenError::Retry(format!("Zalo OAuth: {}", http_error(e))))?;
    let pair = match zalo::parse_token_answer(&body) {
        Ok(pair) => pair,
        Err(RefreshError::Refused(why)) => {
            tracing::error!(%why, "Zalo refused the refresh token; the OA must be authorised again");
            return Err(TokenError::Broken(format!("{why}: {REAUTHORISE}")));
        }
        Err(RefreshError::Unreadable(why)) => {
            return Err(TokenError::Retry(format!(
                "Zalo OAuth HTTP {status}: {why}"
            )));
        }
    };
    let expires_at = app.clock.now() + chrono::Duration::seconds(pair.expires_in);
    // The old refresh token is spent: this pair must be kept. A database hiccup here is
    // retried for a while rather than losing the chain.
    let mut last = String::new();
    for attempt in 0..20 {
        match app
            .zalo_token_rotate(
                current.id,
                &pair.access_token,
                &pair.refresh_token,
                expires_at,
            )
            .await
        {
            Ok(id) => {
                tracing::info!(id, "Zalo token refreshed");
                return Ok(pair.access_token);
            }
            Err(e) => {
                last = e.to_string();
                tracing::error!(attempt, error = %last, "could not store the new Zalo token pair; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
    Err(TokenError::Broken(format!(
        "the new Zalo token pair could not be stored ({last}): {REAUTHORISE}"
    )))
}

/// Calls the OpenAPI or ZNS with the access token in its header, refreshing the token once
/// when Zalo says it is no longer valid. Permanent: Zalo will not do it; retry: try later.
async fn call(w: &Worker, url: &str, body: &Value) -> Result<Value, JobError> {
    let cfg = &w.config.chat;
    let mut rejected: Option<String> = None;
    let mut last = String::new();
    for _ in 0..2 {
        let token = access_token(&w.app, cfg, &w.http, w.id(), rejected.as_deref()).await?;
        let resp = w
            .http
            .post(url)
            .header("access_token", &token)
            .json(body)
            .send()
            .await
            .map_err(|e| JobError::Retry(format!("Zalo: {}", http_error(e))))?;
        let status = resp.status();
        if status.is_server_error() || status.as_u16() == 429 || status.as_u16() == 408 {
            return Err(JobError::Retry(format!("Zalo HTTP {status}")));
        }
        let answer: Value = resp
            .json()
            .await
            .map_err(|e| JobError::Retry(format!("Zalo HTTP {status}: {}", http_error(e))))?;
        match zalo::api_result(&answer) {
            Ok(data) => return Ok(data.clone()),
            Err((Failure::Token, why)) => {
                last = why;
                rejected = Some(token);
            }
            Err((Failure::RateLimited, why)) => return Err(JobError::Retry(why)),
            Err((Failure::Refused, why)) => return Err(JobError::Permanent(why)),
        }
    }
    Err(JobError::Retry(last))
}

/// One CS message to a Zalo user, within Zalo's rules: the person follows the OA, wrote
/// within the reply window, and the reply quota since their last message is not used up.
pub(crate) async fn send_cs(
    w: &Worker,
    user: &str,
    m: &ChatMessage,
    chat_user: &ChatUser,
) -> Result<(), JobError> {
    let cfg = &w.config.chat;
    if !chat_user.subscribed {
        return Err(JobError::Permanent(
            "người dùng đã bỏ quan tâm OA Zalo / the Zalo user unfollowed the OA: not sent".into(),
        ));
    }
    let hours = cfg.zalo_reply_window_hours;
    let last = chat_user
        .last_inbound_at
        .filter(|t| w.app.clock.now() - *t <= chrono::Duration::hours(hours));
    let Some(last) = last else {
        return Err(JobError::Permanent(format!(
            "ngoài khung {hours} giờ trả lời của Zalo, chưa gửi được / outside Zalo's {hours}-hour reply window: not sent"
        )));
    };
    let quota = cfg.zalo_reply_quota;
    if quota > 0 {
        let sent = w
            .app
            .chat_outbound_since("zalo", user, last)
            .await
            .map_err(retry)?;
        if sent >= quota {
            return Err(JobError::Permanent(format!(
                "đã dùng hết {quota} tin trả lời Zalo kể từ tin nhắn gần nhất của người dân / Zalo's reply quota ({quota} messages since the citizen's last message) is used up: not sent"
            )));
        }
    }
    let url = format!(
        "{}/v3.0/oa/message/cs",
        cfg.zalo_openapi_url.trim_end_matches('/')
    );
    call(w, &url, &zalo::send_body(user, &m.text, &m.choices))
        .await
        .map(|_| ())
}

/// `zns.send`: the status notice as a ZNS template message to the citizen's phone. When
/// ZNS refuses it (no Zalo account, template or quota problem, not a Vietnamese number) or
/// keeps failing until the last attempt, the same notice is queued by SMS instead.
pub(crate) async fn zns(w: &Worker, job: &Job, p: &ZnsSend) -> Result<(), JobError> {
    let cfg = &w.config.chat;
    let outcome = match zalo::zns_phone(&p.to) {
        None => Err(JobError::Permanent(
            "not a Vietnamese phone number".to_string(),
        )),
        Some(phone) => {
            let url = format!(
                "{}/message/template",
                cfg.zalo_zns_url.trim_end_matches('/')
            );
            let body = zalo::zns_body(
                &phone,
                &p.template_id,
                &p.data,
                &format!("phananh-{}", job.id),
            );
            call(w, &url, &body).await.map(|data| {
                tracing::info!(report = %p.report.code, msg_id = %data["msg_id"], "ZNS sent");
            })
        }
    };
    match outcome {
        Ok(()) => Ok(()),
        Err(JobError::Retry(why)) if job.attempts < job.max_attempts => Err(JobError::Retry(why)),
        Err(JobError::Retry(why) | JobError::Permanent(why)) => {
            if !w.config.sms.can_send() {
                return Err(JobError::Permanent(format!(
                    "ZNS: {why}; no SMS gateway for the fallback"
                )));
            }
            tracing::info!(report = %p.report.code, %why, "ZNS refused or failed; the notice goes by SMS");
            let sms = NewJob::sms_update(
                &p.to,
                &p.sms_text,
                p.report.report_id,
                p.seq,
                w.app.clock.now(),
            );
            w.app.queue_jobs(&[sms]).await.map_err(retry)
        }
    }
}

/// `phananh chat zalo-check`: the settings are there, a token can be had (after storing
/// `new_refresh_token`, an operator's new authorisation, when given; refreshed first when
/// `force_refresh`), and the OA answers with it.
pub async fn check(
    app: &App,
    cfg: &ChatConfig,
    new_refresh_token: Option<&str>,
    force_refresh: bool,
) -> Result<String, String> {
    let mut missing = Vec::new();
    for (name, v) in [
        ("zalo_app_id", &cfg.zalo_app_id),
        ("zalo_app_secret", &cfg.zalo_app_secret),
        ("zalo_oa_secret", &cfg.zalo_oa_secret),
    ] {
        if v.is_empty() {
            missing.push(name);
        }
    }
    if !missing.is_empty() {
        return Err(format!("[chat] is missing: {}", missing.join(", ")));
    }
    if let Some(t) = new_refresh_token.map(str::trim).filter(|t| !t.is_empty()) {
        app.zalo_token_replace(t).await.map_err(|e| e.to_string())?;
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let holder = format!(
        "cli-{}-{}",
        std::process::id(),
        hex::encode(rand::random::<[u8; 4]>())
    );
    let rejected = if force_refresh {
        app.zalo_token()
            .await
            .map_err(|e| e.to_string())?
            .map(|t| t.access_token)
    } else {
        None
    };
    let token = access_token(app, cfg, &http, &holder, rejected.as_deref())
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "{}/v2.0/oa/getoa",
        cfg.zalo_openapi_url.trim_end_matches('/')
    );
    let resp = http
        .get(url)
        .header("access_token", &token)
        .send()
        .await
        .map_err(|e| format!("Zalo OpenAPI: {}", http_error(e)))?;
    let answer: Value = resp
        .json()
        .await
        .map_err(|e| format!("Zalo OpenAPI: {}", http_error(e)))?;
    let data = zalo::api_result(&answer).map_err(|(_, why)| why)?;
    let current = app
        .zalo_token()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no token stored")?;
    let zns = if cfg.zalo_zns_template_id.is_empty() && cfg.zalo_zns_unit_templates.is_empty() {
        "no ZNS template: status notices go by SMS".to_string()
    } else {
        format!(
            "ZNS template {} (city), {} unit template(s)",
            if cfg.zalo_zns_template_id.is_empty() {
                "-"
            } else {
                &cfg.zalo_zns_template_id
            },
            cfg.zalo_zns_unit_templates.len()
        )
    };
    Ok(format!(
        "Zalo: OA {} (\"{}\") reachable; access token valid until {}; webhook path /webhooks/zalo; {zns}",
        data["oa_id"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| data["oa_id"].to_string()),
        data["name"].as_str().unwrap_or(""),
        current.access_expires_at.format("%Y-%m-%d %H:%M UTC"),
    ))
}
