//! Chats: what the conversation needs from the city's catalog, the step that runs it over
//! a person's stored messages (`chat.inbound`), and staff's view of and replies to the
//! chat a report came from.

use phananh_channels::conversation::FieldChoice;

use crate::Catalog;

/// The fields a citizen can choose in a chat, with their folded keywords.
pub fn field_choices(catalog: &Catalog) -> Vec<FieldChoice> {
    catalog
        .fields
        .iter()
        .map(|f| FieldChoice {
            code: f.code.clone(),
            name_vi: f.name_vi.clone(),
            name_en: f.name_en.clone(),
            keywords: f.keywords.clone(),
            questions: {
                // Every question, in its order: an optional one comes with «Bỏ qua / Skip»
                // (a quick reply), and is never asked again once skipped.
                let mut asked: Vec<&phananh_domain::profile::Attribute> =
                    f.attributes.iter().collect();
                asked.sort_by_key(|a| a.order);
                asked
                    .into_iter()
                    .map(|a| phananh_channels::conversation::Question {
                        code: a.code.clone(),
                        text_vi: a.description_vi.clone(),
                        text_en: a.description_en.clone(),
                        required: a.required,
                        // A chat takes one answer, even to a multiple-choice question.
                        choices: a
                            .values
                            .iter()
                            .map(|v| (v.key.clone(), v.name.clone()))
                            .collect(),
                    })
                    .collect()
            },
        })
        .collect()
}

/// A typed address → (ward code, ward name), when it names a ward of the city.
pub fn ward_in_address(catalog: &Catalog, address: &str) -> Option<(String, String)> {
    let code = catalog.ward_names.find_in_address(address)?;
    let name = catalog.ward_name(&code);
    Some((code, name))
}

use chrono::{DateTime, Utc};
use phananh_channels::conversation::{Context, Conversation, Draft, Effect, Reply, Step};
use phananh_channels::{Content, Inbound, Provider};
use phananh_domain::access::Principal;
use phananh_domain::model::{Actor, Channel};
use phananh_domain::procedure::{Action, Command};
use phananh_storage::ChatUser;

use crate::intake::IntakeRequest;
use phananh_domain::jobs::{ChatMessage, JobKind};
use phananh_storage::NewJob;

use crate::{App, AppError};

/// The conversation's answers as the messages of a `chat.send` job.
pub fn messages(replies: &[Reply]) -> Vec<ChatMessage> {
    replies
        .iter()
        .map(|r| ChatMessage {
            text: r.text.clone(),
            choices: r.choices.clone(),
        })
        .collect()
}

/// The chat a report came from, as staff see it.
pub struct ChatThread {
    pub provider: Provider,
    /// (from the citizen?, text, when)
    pub lines: Vec<(bool, String, DateTime<Utc>)>,
    /// Why messages to the citizen could not be sent (window closed, unsubscribed...).
    pub failures: Vec<String>,
    /// Whether this person may answer in the chat.
    pub can_reply: bool,
}

impl App {
    /// The report's chat, if it came from one and this person may see personal data.
    pub async fn chat_thread(
        &self,
        who: &Principal,
        code: &str,
    ) -> Result<Option<ChatThread>, AppError> {
        let report = self.find(code).await?;
        if !who.can_view(&report.unit) {
            return Err(AppError::NotFound);
        }
        if !who.sees_personal_data() {
            return Ok(None);
        }
        let Some((provider, user)) = self.chat_identity(report.id).await? else {
            return Ok(None);
        };
        let lines = self.store.chat_log(provider.as_str(), &user, 200).await?;
        let failures = self
            .store
            .jobs_for_report(report.id)
            .await?
            .into_iter()
            .filter(|j| j.status == "dead" && matches!(j.typed(), Ok(JobKind::ChatSend(_))))
            .filter_map(|j| j.last_error)
            .collect();
        Ok(Some(ChatThread {
            provider,
            lines,
            failures,
            can_reply: who.can_act(Action::Comment, &report.unit),
        }))
    }

    /// A staff member answers the citizen in the chat the report came from.
    pub async fn chat_reply(
        &self,
        who: &Principal,
        code: &str,
        text: &str,
    ) -> Result<(), AppError> {
        let report = self.find(code).await?;
        if !who.can_view(&report.unit) {
            return Err(AppError::NotFound);
        }
        if !who.can_act(Action::Comment, &report.unit) {
            return Err(AppError::Forbidden);
        }
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 1900 {
            return Err(AppError::invalid(
                "text",
                "invalid_text",
                "Tin nhắn không được trống và tối đa 1900 ký tự",
                "The message must be 1 to 1900 characters",
            ));
        }
        let Some((provider, user)) = self.chat_identity(report.id).await? else {
            return Err(AppError::invalid(
                "text",
                "not_a_chat",
                "Phản ánh này không đến từ một kênh trò chuyện (Messenger, Viber, Telegram, Zalo...)",
                "This report did not come from a chat (Messenger, Viber, Telegram, Zalo...)",
            ));
        };
        let reply = Reply {
            text: format!("[{}] {text}", report.code),
            choices: vec![],
        };
        let job = NewJob::chat_staff(
            provider.as_str(),
            &user,
            messages(&[reply]),
            report.id,
            &crate::auth::random_token(),
            self.clock.now(),
        );
        self.store.enqueue(&[job]).await?;
        self.jobs_queued.notify_one();
        Ok(())
    }

    async fn chat_identity(&self, report_id: i64) -> Result<Option<(Provider, String)>, AppError> {
        Ok(self
            .store
            .reporter(report_id)
            .await?
            .and_then(|r| r.channel_identity)
            .and_then(|id| {
                let (p, user) = id.split_once(':')?;
                Some((Provider::parse(p)?, user.to_string()))
            }))
    }
}

/// Why a chat photo was not fetched.
pub struct PhotoRefused {
    /// The outbound guard refused the URL (not the platform's media host, a private
    /// address...): it was never fetched.
    pub by_policy: bool,
    pub why: String,
}

/// Downloads the photos citizens send in chats (the worker's guarded HTTP client, with
/// size and time limits).
pub trait PhotoFetcher: Sync {
    fn fetch(
        &self,
        provider: Provider,
        url: &str,
    ) -> impl std::future::Future<Output = Result<Vec<u8>, PhotoRefused>> + Send;

    /// A video or voice note: the same guard, the recording's size limit
    /// (`App::media_limits`) and a longer time.
    fn fetch_media(
        &self,
        provider: Provider,
        url: &str,
    ) -> impl std::future::Future<Output = Result<Vec<u8>, PhotoRefused>> + Send;
}

fn channel_of(p: Provider) -> Channel {
    match p {
        Provider::Messenger => Channel::Messenger,
        Provider::Viber => Channel::Viber,
        Provider::Telegram => Channel::Telegram,
        Provider::Zalo => Channel::Zalo,
    }
}

/// How an inbound event reads in the log staff see.
fn log_text(c: &Content) -> String {
    match c {
        Content::Text { text } => text.clone(),
        Content::Choice { text, payload } if !text.is_empty() => format!("{text} [{payload}]"),
        Content::Choice { payload, .. } => format!("[{payload}]"),
        Content::Image { .. } => "[ảnh / photo]".into(),
        Content::Media { kind, .. } if kind == "video" => "[video]".into(),
        Content::Media { .. } => "[ghi âm, tệp / voice note, file]".into(),
        Content::Location { lat, lon } => format!("[vị trí / location {lat:.5}, {lon:.5}]"),
        Content::Contact { phone, name } => format!(
            "[liên hệ / contact {}{phone}]",
            name.as_deref()
                .map(|n| format!("{n}, "))
                .unwrap_or_default()
        ),
        Content::Started { .. } => "[mở cuộc trò chuyện / opened the chat]".into(),
        Content::Subscribed => "[đăng ký / subscribed]".into(),
        Content::Unsubscribed => "[hủy đăng ký / unsubscribed]".into(),
        Content::Unsupported { what } => format!("[{what}]"),
    }
}

impl App {
    /// A chat message arrived (`chat.inbound`): takes every unprocessed event of one person
    /// in the platform's order, steps the conversation, files the report when the citizen
    /// confirms (the confirming message's id is the idempotency key, so a re-run never
    /// files twice), and commits the new state, the processed marks, the log and one
    /// `chat.send` with the answers together, guarded by the conversation's version (a
    /// `Conflict` when another worker got there first). `public_url` is where citizens
    /// open the form and their report.
    pub async fn chat_inbound(
        &self,
        provider: Provider,
        user: &str,
        public_url: &str,
        photos: &impl PhotoFetcher,
    ) -> Result<(), AppError> {
        let store = &self.store;
        let pending = store.chat_pending(provider.as_str(), user).await?;
        if pending.is_empty() {
            return Ok(()); // an earlier job took these events already
        }
        let mut chat_user = store
            .chat_user(provider.as_str(), user)
            .await?
            .unwrap_or(ChatUser {
                // Viber counts a person as subscribed once they write; Messenger has no such step.
                subscribed: provider == Provider::Messenger,
                ..ChatUser::default()
            });
        let mut conversation: Conversation =
            serde_json::from_str(&chat_user.state).unwrap_or_default();
        let catalog = self.catalog().await;
        let fields = field_choices(&catalog);
        let find_ward = |a: &str| ward_in_address(&catalog, a);
        let base = public_url.trim_end_matches('/').to_string();
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
            let at = DateTime::from_timestamp_millis(event.at).unwrap_or(self.clock.now());
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
                && let Some(reply) = self.chat_answer_info(provider, user, text).await?
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
                    let reply = self
                        .chat_file(provider, user, &draft, &event.message_id, &base, photos)
                        .await?;
                    outgoing.push(reply);
                }
                Some(Effect::LookUp(code)) => outgoing.push(self.chat_look_up(&code, &base).await),
                None => {}
            }
        }
        chat_user.state = serde_json::to_string(&conversation).unwrap_or_default();
        let mut jobs = Vec::new();
        if !outgoing.is_empty() {
            jobs.push(NewJob::chat_response(
                provider.as_str(),
                user,
                messages(&outgoing),
                processed[0],
                self.clock.now(),
            ));
        }
        store
            .chat_commit(
                provider.as_str(),
                user,
                &chat_user,
                &processed,
                &log,
                &jobs,
                self.clock.now(),
            )
            .await?;
        if !jobs.is_empty() {
            self.jobs_queued.notify_one();
        }
        Ok(())
    }

    /// Files the confirmed draft: photos downloaded with size and time limits and put
    /// through the photo pipeline; a photo that fails is left out and the citizen told.
    async fn chat_file(
        &self,
        provider: Provider,
        user: &str,
        draft: &Draft,
        message_id: &str,
        base: &str,
        fetcher: &impl PhotoFetcher,
    ) -> Result<Reply, AppError> {
        let mut photos = Vec::new();
        let mut failed = 0;
        let mut refused = 0;
        for url in &draft.photos {
            // Logged by host only: the platforms' media URLs carry signed access parameters.
            let host = url
                .split_once("://")
                .map(|(_, rest)| rest)
                .and_then(|rest| rest.split(['/', '?', '#']).next())
                .map(|h| h.rsplit_once('@').map_or(h, |(_, h)| h))
                .unwrap_or_default()
                .to_string();
            match fetcher.fetch(provider, url).await {
                Ok(bytes) => match self.store_photo(bytes).await {
                    Ok(p) => photos.push(p.key),
                    Err(e) => {
                        tracing::warn!(%host, error = %e, "chat photo refused");
                        failed += 1;
                    }
                },
                Err(PhotoRefused {
                    by_policy: true,
                    why,
                }) => {
                    tracing::warn!(%host, %why, provider = provider.as_str(), "chat photo URL refused by the outbound guard; not fetched");
                    refused += 1;
                }
                Err(PhotoRefused { why, .. }) => {
                    tracing::warn!(%host, %why, "chat photo could not be downloaded");
                    failed += 1;
                }
            }
        }
        let mut media = Vec::new();
        for url in &draft.media {
            match fetcher.fetch_media(provider, url).await {
                Ok(bytes) => match self.store_media(bytes).await {
                    Ok(m) => media.push(m.key),
                    Err(AppError::Validation(e)) => {
                        let why = e.first().map(|e| e.message_en.clone()).unwrap_or_default();
                        tracing::warn!(%why, "chat recording refused");
                        failed += 1;
                    }
                    Err(e) => return Err(e),
                },
                Err(PhotoRefused {
                    by_policy: true,
                    why,
                }) => {
                    tracing::warn!(%why, provider = provider.as_str(), "chat recording URL refused by the outbound guard; not fetched");
                    refused += 1;
                }
                Err(PhotoRefused { why, .. }) => {
                    tracing::warn!(%why, "chat recording could not be downloaded");
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
            name: draft.name.clone(),
            phone: draft.phone.clone(),
            consent: true,
            photos,
            media,
            attributes: draft.answers.clone(),
            ..IntakeRequest::default()
        };
        let identity = format!("{}:{user}", provider.as_str());
        let key = format!("{}:{message_id}", provider.as_str());
        match self
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
                    unit = self.catalog().await.unit_name(&receipt.unit),
                );
                if failed > 0 {
                    text.push_str(&format!(
                        "\n{failed} ảnh, video hoặc ghi âm không tải được hoặc không hợp lệ nên chưa được đính kèm. / {failed} photo(s) or recording(s) could not be attached."
                    ));
                }
                if refused > 0 {
                    text.push_str(&format!(
                        "\n{refused} liên kết tệp không thuộc máy chủ của nền tảng nên không được tải về. / {refused} attachment link(s) did not point to the platform's servers and were not fetched."
                    ));
                }
                Ok(Reply {
                    text,
                    choices: vec![],
                })
            }
            Err(AppError::Validation(errors)) => {
                let why: Vec<String> = errors.iter().map(|e| e.message_vi.clone()).collect();
                Ok(Reply {
                    text: format!(
                        "Chưa gửi được phản ánh: {}. Nhắn «bắt đầu lại» để làm lại, hoặc dùng biểu mẫu: {base}/new",
                        why.join("; ")
                    ),
                    choices: vec![],
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Attaches a chat message to the report that waits for this person's information.
    async fn chat_answer_info(
        &self,
        provider: Provider,
        user: &str,
        text: &str,
    ) -> Result<Option<Reply>, AppError> {
        let identity = format!("{}:{user}", provider.as_str());
        let waiting = self.store.reports_awaiting_info(&identity).await?;
        let Some(report) = waiting.into_iter().next() else {
            return Ok(None);
        };
        let code = report.code.clone();
        let command = Command::ProvideInfo {
            answer: text.trim().to_string(),
        };
        match self.apply(report, Actor::citizen(), command).await {
            Ok(_) => Ok(Some(Reply {
                text: format!(
                    "Đã chuyển thông tin bổ sung của bạn cho đơn vị xử lý phản ánh {code}. Cảm ơn bạn! / Your answer was added to report {code}."
                ),
                choices: vec![],
            })),
            // Someone answered meanwhile (an operator, a second message): treat as a new chat.
            Err(AppError::Procedure(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn chat_look_up(&self, code: &str, base: &str) -> Reply {
        let text = match self.public_report(code).await {
            Ok((report, events)) => {
                let catalog = self.catalog().await;
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
}
