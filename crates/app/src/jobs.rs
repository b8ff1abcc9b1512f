//! What the worker needs from the store: claiming and settling jobs, queuing the jobs a
//! job leads to, and the records its handlers read and write (reports, people to tell,
//! kept emails, the units' systems). The worker reaches storage only through these and
//! the use cases; the jobs themselves are built in `phananh_domain::jobs`.

use chrono::{DateTime, Utc};
use phananh_domain::event::Event;
use phananh_domain::model::{Report, Reporter};
use phananh_storage::{
    ChatUser, EmailAuthRecord, Follower, InboundEmail, Job, NewJob, NewUnfiled, User,
};

use crate::{App, AppError};

impl App {
    /// Claims up to `limit` due jobs for `worker`, leased until now + `lease`.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        lease: chrono::Duration,
        limit: i64,
    ) -> Result<Vec<Job>, AppError> {
        Ok(self
            .store
            .claim_jobs(worker, self.clock.now(), lease, limit)
            .await?)
    }

    /// Marks a claimed job done; false if `worker` lost its lease meanwhile.
    pub async fn complete_job(&self, id: i64, worker: &str) -> Result<bool, AppError> {
        Ok(self.store.complete_job(id, worker).await?)
    }

    /// Records a failure: retried at `retry_at`, or dead (`None`).
    pub async fn fail_job(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), AppError> {
        Ok(self.store.fail_job(id, worker, error, retry_at).await?)
    }

    /// Queues jobs (outside any other change) and wakes the worker.
    pub async fn queue_jobs(&self, jobs: &[NewJob]) -> Result<(), AppError> {
        if jobs.is_empty() {
            return Ok(());
        }
        self.store.enqueue(jobs).await?;
        self.jobs_queued.notify_one();
        Ok(())
    }

    pub async fn report_by_code(&self, code: &str) -> Result<Option<Report>, AppError> {
        Ok(self.store.report_by_code(code).await?)
    }

    pub async fn report_by_id(&self, id: i64) -> Result<Option<Report>, AppError> {
        Ok(self.store.report(id).await?)
    }

    /// A report's whole history (staff and public events).
    pub async fn report_events(&self, report_id: i64) -> Result<Vec<Event>, AppError> {
        Ok(self.store.events(report_id).await?)
    }

    /// Who filed a report and how they can be reached (personal data).
    pub async fn reporter_of(&self, report_id: i64) -> Result<Option<Reporter>, AppError> {
        Ok(self.store.reporter(report_id).await?)
    }

    pub async fn followers_of(&self, report_id: i64) -> Result<Vec<Follower>, AppError> {
        Ok(self.store.followers(report_id).await?)
    }

    /// A subscription waiting for its confirmation: (report, email, confirmation token).
    pub async fn follower_to_confirm(
        &self,
        id: i64,
    ) -> Result<Option<(i64, String, String)>, AppError> {
        Ok(self.store.follower_to_confirm(id).await?)
    }

    /// Every staff account (who is told of deadlines).
    pub async fn staff_accounts(&self) -> Result<Vec<User>, AppError> {
        Ok(self.store.users().await?)
    }

    /// A person's chat: whether they subscribed and when they last wrote.
    pub async fn chat_user(
        &self,
        provider: &str,
        user: &str,
    ) -> Result<Option<ChatUser>, AppError> {
        Ok(self.store.chat_user(provider, user).await?)
    }

    /// Adds a message sent to a person to their chat's log.
    pub async fn chat_log_outbound(
        &self,
        provider: &str,
        user: &str,
        text: &str,
    ) -> Result<(), AppError> {
        Ok(self
            .store
            .chat_log_outbound(provider, user, text, self.clock.now())
            .await?)
    }

    /// A kept email.
    pub async fn email(&self, id: i64) -> Result<Option<InboundEmail>, AppError> {
        Ok(self.store.email_get(id).await?)
    }

    /// Keeps the authentication verdict of an email on its row.
    pub async fn email_auth_record(&self, id: i64, a: &EmailAuthRecord) -> Result<(), AppError> {
        Ok(self.store.email_auth_record(id, a).await?)
    }

    /// Authenticated emails from `sender` and from `domain` since `since`, before `before_id`.
    pub async fn email_sender_counts(
        &self,
        sender: &str,
        domain: &str,
        since: DateTime<Utc>,
        before_id: i64,
    ) -> Result<(i64, i64), AppError> {
        Ok(self
            .store
            .email_sender_counts(sender, domain, since, before_id)
            .await?)
    }

    /// Records what became of an email.
    pub async fn email_done(&self, id: i64, outcome: &str) -> Result<(), AppError> {
        Ok(self.store.email_done(id, outcome, self.clock.now()).await?)
    }

    /// Puts a message in the operators' unfiled queue; returns its id.
    pub async fn unfiled_add(&self, item: &NewUnfiled) -> Result<i64, AppError> {
        Ok(self.store.unfiled_add(item, self.clock.now()).await?)
    }

    /// Remembers the id a unit's own system gave a report.
    pub async fn record_forward(
        &self,
        report_id: i64,
        unit: &str,
        external_id: &str,
    ) -> Result<(), AppError> {
        Ok(self
            .store
            .record_forward(report_id, unit, external_id)
            .await?)
    }

    /// The report a unit's own system knows as `external_id`.
    pub async fn forwarded_report(
        &self,
        unit: &str,
        external_id: &str,
    ) -> Result<Option<i64>, AppError> {
        Ok(self.store.forwarded_report(unit, external_id).await?)
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>, AppError> {
        Ok(self.store.setting(key).await?)
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), AppError> {
        Ok(self.store.set_setting(key, value).await?)
    }
}
