//! Chats: runs the conversation over a person's stored events and sends the answers.
//!
//! `chat.inbound` takes every unprocessed event of one person in the platform's order,
//! steps the conversation, files the report when the citizen confirms (the confirming
//! message's id is the idempotency key, so a retried job never files twice), and commits
//! the new state, the processed marks and one `chat.send` with the answers together.
//! `chat.send` respects each platform's rules: Messenger's 24-hour window (7 days for a
//! person's reply, with the HUMAN_AGENT tag), Viber only to subscribed users.

use chrono::Duration;
use phananh_app::intake::IntakeRequest;
use phananh_channels::conversation::{Context, Conversation, Draft, Effect, Reply, Step};
use phananh_channels::{Content, Inbound, Provider, messenger, viber};
use phananh_domain::model::{Actor, Channel};
use phananh_storage::{ChatUser, Job, StoreError};

use crate::guard::MediaPolicy;
use crate::{JobError, Worker, http_error, retry};

fn channel_of(p: Provider) -> Channel {
    match p {
        Provider::Messenger => Channel::Messenger,
        Provider::Viber => Channel::Viber,
    }
}

/// How an inbound event reads in the log staff see.
fn log_text(c: &Content) -> String {
    match c {
        Content::Text { text } => text.clone(),
        Content::Choice { text, payload } if !text.is_empty() => format!("{text} [{payload}]"),
        Content::Choice { payload, .. } => format!("[{payload}]"),
        Content::Image { .. } => "[ảnh / photo]".into(),
        Content::Location { lat, lon } => format!("[vị trí / location {lat:.5}, {lon:.5}]"),
        Content::Started { .. } => "[mở cuộc trò chuyện / opened the chat]".into(),
        Content::Subscribed => "[đăng ký / subscribed]".into(),
        Content::Unsubscribed => "[hủy đăng ký / unsubscribed]".into(),
        Content::Unsupported { what } => format!("[{what}]"),
    }
}

pub(crate) use phananh_app::chat::send_job;

pub(crate) async fn inbound(w: &Worker, job: &Job) -> Result<(), JobError> {
    let provider = job.payload["provider"]
        .as_str()
        .and_then(Provider::parse)
        .ok_or_else(|| JobError::Permanent("unknown provider".into()))?;
    let user = job.payload["user"].as_str().unwrap_or_default().to_string();
    let store = &w.app.store;
    let pending = store
        .chat_pending(provider.as_str(), &user)
        .await
        .map_err(retry)?;
    if pending.is_empty() {
        return Ok(()); // an earlier job took these events already
    }
    let mut chat_user = store
        .chat_user(provider.as_str(), &user)
        .await
        .map_err(retry)?
        .unwrap_or(ChatUser {
            // Viber counts a person as subscribed once they write; Messenger has no such step.
            subscribed: provider == Provider::Messenger,
            ..ChatUser::default()
        });
    let mut conversation: Conversation = serde_json::from_str(&chat_user.state).unwrap_or_default();
    let catalog = w.app.catalog().await;
    let fields = phananh_app::chat::field_choices(&catalog);
    let find_ward = |a: &str| phananh_app::chat::ward_in_address(&catalog, a);
    let base = w.config.public_url.trim_end_matches('/').to_string();
    let form_url = format!("{base}/new");
    let mut outgoing: Vec<Reply> = Vec::new();
    let mut log = Vec::new();
    let mut processed = Vec::new();
    for event in &pending {
        processed.push(event.id);
        let Ok(inbound) = serde_json::from_str::<Inbound>(&event.event) else {
            tracing::warn!(
                id = event.id,
                "chat event that cannot be read back; skipped"
            );
            continue;
        };
        log.push((true, log_text(&inbound.content), event.at));
        let at = chrono::DateTime::from_timestamp_millis(event.at).unwrap_or(w.app.clock.now());
        match inbound.content {
            Content::Unsubscribed => {
                chat_user.subscribed = false;
                continue;
            }
            Content::Subscribed => {
                chat_user.subscribed = true;
                continue;
            }
            // The welcome went back in the webhook's response already.
            Content::Started { subscribed } => {
                chat_user.subscribed |= subscribed;
                continue;
            }
            _ => {
                // A message opens the window (Messenger) and subscribes (Viber).
                chat_user.subscribed = true;
                if chat_user.last_inbound_at.is_none_or(|t| t < at) {
                    chat_user.last_inbound_at = Some(at);
                }
            }
        }
        // A unit asked this citizen for information: their next message, outside a
        // report being drafted, is the answer.
        if conversation.step == Step::Idle
            && let Content::Text { text } = &inbound.content
            && phananh_channels::conversation::tracking_code_in(text).is_none()
            && let Some(reply) = answer_info(w, provider, &user, text).await?
        {
            outgoing.push(reply);
            continue;
        }
        let ctx = Context {
            fields: &fields,
            find_ward: &find_ward,
            form_url: &form_url,
        };
        let (replies, effect) = conversation.handle(&inbound.content, &ctx);
        outgoing.extend(replies);
        match effect {
            Some(Effect::File(draft)) => {
                let reply = file(w, provider, &user, &draft, &event.message_id, &base).await?;
                outgoing.push(reply);
            }
            Some(Effect::LookUp(code)) => outgoing.push(look_up(w, &code, &base).await),
            None => {}
        }
    }
    chat_user.state = serde_json::to_string(&conversation).unwrap_or_default();
    let mut jobs = Vec::new();
    if !outgoing.is_empty() {
        let mut j = send_job(
            provider,
            &user,
            &outgoing,
            "response",
            format!("chat.send:{}:{}", provider.as_str(), processed[0]),
            w.app.clock.now(),
        );
        j.max_attempts = 6;
        jobs.push(j);
    }
    match store
        .chat_commit(
            provider.as_str(),
            &user,
            &chat_user,
            &processed,
            &log,
            &jobs,
            w.app.clock.now(),
        )
        .await
    {
        Ok(()) => {
            if !jobs.is_empty() {
                w.app.jobs_queued.notify_one();
            }
            Ok(())
        }
        Err(StoreError::Conflict(m)) => Err(JobError::Retry(m)),
        Err(e) => Err(retry(e)),
    }
}

/// Files the confirmed draft: photos downloaded with size and time limits and put through
/// the photo pipeline; a photo that fails is left out and the citizen told.
async fn file(
    w: &Worker,
    provider: Provider,
    user: &str,
    draft: &Draft,
    message_id: &str,
    base: &str,
) -> Result<Reply, JobError> {
    let mut photos = Vec::new();
    let mut failed = 0;
    let mut refused = 0;
    let policy = MediaPolicy::for_provider(&w.config.chat, provider);
    for url in &draft.photos {
        // Logged by host only: the platforms' media URLs carry signed access parameters.
        let host = reqwest::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        match policy
            .fetch(url, w.config.chat.max_photo_bytes, w.config.http_timeout)
            .await
        {
            Ok(bytes) => match w.app.store_photo(bytes).await {
                Ok(p) => photos.push(p.key),
                Err(e) => {
                    tracing::warn!(%host, error = %e, "chat photo refused");
                    failed += 1;
                }
            },
            Err(why) if why.is_policy() => {
                tracing::warn!(%host, %why, provider = provider.as_str(), "chat photo URL refused by the outbound guard; not fetched");
                refused += 1;
            }
            Err(why) => {
                tracing::warn!(%host, %why, "chat photo could not be downloaded");
                failed += 1;
            }
        }
    }
    let request = IntakeRequest {
        field: draft.field.clone().unwrap_or_default(),
        description: draft.description.clone(),
        lat: draft.lat,
        lon: draft.lon,
        address: draft.address.clone(),
        ward: draft.ward.clone(),
        consent: true,
        photos,
        ..IntakeRequest::default()
    };
    let identity = format!("{}:{user}", provider.as_str());
    let key = format!("{}:{message_id}", provider.as_str());
    match w
        .app
        .submit(
            request,
            channel_of(provider),
            Actor::citizen(),
            Some(identity),
            Some(key),
        )
        .await
    {
        Ok(receipt) => {
            let mut text = format!(
                "Đã tiếp nhận phản ánh. Mã hồ sơ của bạn: {code}\nĐơn vị xử lý: {unit}\nTheo dõi: {base}/r/{code}\n(Report received. Tracking code: {code})",
                code = receipt.code,
                unit = w.app.catalog().await.unit_name(&receipt.unit),
            );
            if failed > 0 {
                text.push_str(&format!(
                    "\n{failed} ảnh không tải được hoặc không hợp lệ nên chưa được đính kèm. / {failed} photo(s) could not be attached."
                ));
            }
            if refused > 0 {
                text.push_str(&format!(
                    "\n{refused} liên kết ảnh không thuộc máy chủ của nền tảng nên không được tải về. / {refused} photo link(s) did not point to the platform's servers and were not fetched."
                ));
            }
            Ok(Reply {
                text,
                choices: vec![],
            })
        }
        Err(phananh_app::AppError::Validation(errors)) => {
            let why: Vec<String> = errors.iter().map(|e| e.message_vi.clone()).collect();
            Ok(Reply {
                text: format!(
                    "Chưa gửi được phản ánh: {}. Nhắn «bắt đầu lại» để làm lại, hoặc dùng biểu mẫu: {base}/new",
                    why.join("; ")
                ),
                choices: vec![],
            })
        }
        Err(e) => Err(retry(e)),
    }
}

/// Attaches a chat message to the report that waits for this person's information.
async fn answer_info(
    w: &Worker,
    provider: Provider,
    user: &str,
    text: &str,
) -> Result<Option<Reply>, JobError> {
    let identity = format!("{}:{user}", provider.as_str());
    let waiting = w
        .app
        .store
        .reports_awaiting_info(&identity)
        .await
        .map_err(retry)?;
    let Some(report) = waiting.into_iter().next() else {
        return Ok(None);
    };
    let code = report.code.clone();
    let command = phananh_domain::procedure::Command::ProvideInfo {
        answer: text.trim().to_string(),
    };
    match w.app.apply(report, Actor::citizen(), command).await {
        Ok(_) => Ok(Some(Reply {
            text: format!(
                "Đã chuyển thông tin bổ sung của bạn cho đơn vị xử lý phản ánh {code}. Cảm ơn bạn! / Your answer was added to report {code}."
            ),
            choices: vec![],
        })),
        // Someone answered meanwhile (an operator, a second message): treat as a new chat.
        Err(phananh_app::AppError::Procedure(_)) => Ok(None),
        Err(e) => Err(retry(e)),
    }
}

async fn look_up(w: &Worker, code: &str, base: &str) -> Reply {
    let text = match w.app.public_report(code).await {
        Ok((report, events)) => {
            let catalog = w.app.catalog().await;
            let last = events
                .last()
                .map(|e| catalog.describe(&e.kind, false, true))
                .unwrap_or_default();
            format!(
                "Phản ánh {code}: {status}.\nĐơn vị xử lý: {unit}\nCập nhật gần nhất: {last}\nChi tiết: {base}/r/{code}",
                status = report.status.label_vi(),
                unit = catalog.unit_name(&report.unit),
            )
        }
        Err(_) => format!(
            "Không tìm thấy phản ánh có mã {code}. Mã gồm 8 ký tự, ví dụ ABCD-2345. / No report has that code."
        ),
    };
    Reply {
        text,
        choices: vec![],
    }
}

pub(crate) async fn send(w: &Worker, job: &Job) -> Result<(), JobError> {
    let provider = job.payload["provider"]
        .as_str()
        .and_then(Provider::parse)
        .ok_or_else(|| JobError::Permanent("unknown provider".into()))?;
    let user = job.payload["user"].as_str().unwrap_or_default();
    let kind = job.payload["kind"].as_str().unwrap_or("response");
    let messages: Vec<Reply> = serde_json::from_value(job.payload["messages"].clone())
        .map_err(|e| JobError::Permanent(format!("bad messages: {e}")))?;
    let chat_user = w
        .app
        .store
        .chat_user(provider.as_str(), user)
        .await
        .map_err(retry)?
        .unwrap_or_default();
    for m in &messages {
        match provider {
            Provider::Messenger => send_messenger(w, user, m, kind, &chat_user).await?,
            Provider::Viber => send_viber(w, user, m, &chat_user).await?,
        }
        let _ = w
            .app
            .store
            .chat_log_outbound(provider.as_str(), user, &m.text, w.app.clock.now())
            .await;
    }
    Ok(())
}

async fn send_messenger(
    w: &Worker,
    psid: &str,
    m: &Reply,
    kind: &str,
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
    } else if kind == "staff" && since <= Duration::days(7) {
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
    m: &Reply,
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
