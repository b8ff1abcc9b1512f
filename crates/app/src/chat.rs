//! What the chat conversation needs from the city's catalog.

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
use phananh_channels::Provider;
use phananh_channels::conversation::Reply;
use phananh_domain::access::Principal;
use phananh_domain::procedure::Action;
use phananh_storage::NewJob;

use crate::{App, AppError};

/// A `chat.send` job: messages for one person, sent in order. `kind` is "response" (an
/// answer in the conversation), "update" (a status change) or "staff" (a person's reply),
/// which decides what the platform's messaging window allows.
pub fn send_job(
    provider: Provider,
    user: &str,
    messages: &[Reply],
    kind: &str,
    dedupe: String,
    now: DateTime<Utc>,
) -> NewJob {
    let mut job = NewJob::new(
        "chat.send",
        serde_json::json!({ "provider": provider.as_str(), "user": user, "messages": messages, "kind": kind }),
        now,
    );
    job.dedupe_key = Some(dedupe);
    job
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
            .filter(|j| j.kind == "chat.send" && j.status == "dead")
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
                "Phản ánh này không đến từ Messenger hay Viber",
                "This report did not come from Messenger or Viber",
            ));
        };
        let reply = Reply {
            text: format!("[{}] {text}", report.code),
            choices: vec![],
        };
        let mut job = send_job(
            provider,
            &user,
            &[reply],
            "staff",
            format!("chat.staff:{}:{}", report.id, crate::auth::random_token()),
            self.clock.now(),
        );
        job.report_id = Some(report.id);
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
