//! The worker: runs the jobs of the outbox in-process.
//!
//! Each `phananh` process runs one worker with its own id. It claims due jobs with a lease
//! (see `phananh_storage::Store::claim_jobs`), runs each, and marks it done, or schedules a
//! retry with exponential back-off, or dead-letters it when its attempts are used up or the
//! failure is permanent. Dead jobs are listed for admins, who can retry them.

use std::time::Duration;

use chrono::Utc;
use phananh_app::App;
use phananh_domain::jobs::{JobKind, ReportRef, UnitWebhook};
use phananh_storage::Job;
use tokio::sync::watch;

pub mod ami;
mod chat;
mod citizen;
mod deadlines;
mod email;
pub mod email_auth;
mod email_in;
pub use email_in::{MailDecision, MailReading, read_mail};
mod forward;
pub mod guard;
pub mod mailbox;
pub mod setup;
pub mod smpp;
mod sms;
mod urgent;
pub mod zalo;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Signs webhooks to units (`X-Phananh-Signature: sha256=<hex>`).
    pub webhook_secret: String,
    pub poll_interval: Duration,
    pub lease: chrono::Duration,
    pub http_timeout: Duration,
    /// First retry delay; doubles with every attempt, capped at `max_backoff`.
    pub base_backoff: chrono::Duration,
    pub max_backoff: chrono::Duration,
    /// How often units' own Open311 systems are asked what changed.
    pub forward_poll_interval: Duration,
    /// `smtp://host:port` (or `smtps://`, `?tls=required`; user:password@ for AUTH).
    pub smtp_url: Option<String>,
    /// The sender of emails to units.
    pub smtp_from: String,
    /// Where staff open the console, for links in emails.
    pub public_url: String,
    /// Messenger, Viber, Telegram and Zalo: tokens and API base URLs.
    pub chat: phananh_channels::ChatConfig,
    /// The SMS gateway for answers and notices.
    pub sms: phananh_channels::sms::SmsConfig,
    /// Who receives the scheduled report to the City People's Committee.
    pub committee_emails: Vec<String>,
    /// The 1022 mailbox's address: Reply-To of emails to citizens; mail from it is a loop.
    pub email_address: Option<String>,
    /// Who may act by email: SPF/DKIM/DMARC, trusted relays, per-sender limits.
    pub email_auth: email_auth::EmailAuthConfig,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            webhook_secret: String::new(),
            poll_interval: Duration::from_secs(2),
            lease: chrono::Duration::seconds(120),
            http_timeout: Duration::from_secs(10),
            base_backoff: chrono::Duration::seconds(10),
            max_backoff: chrono::Duration::hours(1),
            forward_poll_interval: Duration::from_secs(60),
            smtp_url: None,
            smtp_from: "Tổng đài 1022 <noreply@phananh.invalid>".into(),
            public_url: "http://127.0.0.1:8022".into(),
            chat: phananh_channels::ChatConfig::default(),
            sms: phananh_channels::sms::SmsConfig::default(),
            committee_emails: Vec::new(),
            email_address: None,
            email_auth: email_auth::EmailAuthConfig::default(),
        }
    }
}

/// Jobs claimed at once. With the HTTP timeout below, the lease covers the whole batch
/// (4 × 10 s < 120 s), so no other worker takes a job this one is still running.
const CLAIM_BATCH: i64 = 4;

/// A failure worth another try (the store or a server was unavailable).
pub(crate) fn retry(e: impl std::fmt::Display) -> JobError {
    JobError::Retry(e.to_string())
}

/// The text of an HTTP client error as it may be logged, stored or shown: without the
/// URL (which can carry tokens), with its causes ("connection refused"). Every error of
/// an outbound call goes through here.
pub fn http_error(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
        source = cause.source();
    }
    text
}

/// Replaces every secret in `text` (as it is, and URL-encoded) with `[redacted]`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s.as_str(), "[redacted]");
        let encoded: String = url::form_urlencoded::byte_serialize(s.as_bytes()).collect();
        if encoded != *s {
            out = out.replace(&encoded, "[redacted]");
        }
    }
    out
}

/// The password in a `scheme://user:password@host` URL, as written and decoded.
pub fn url_password(url: &str) -> Vec<String> {
    let Ok(u) = url::Url::parse(url) else {
        return Vec::new();
    };
    let Some(p) = u.password() else {
        return Vec::new();
    };
    let decoded = url::form_urlencoded::parse(format!("p={p}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    vec![p.to_string(), decoded]
}

/// Why a job failed: worth another try, or never going to work.
#[derive(Debug)]
pub enum JobError {
    Retry(String),
    Permanent(String),
}

pub struct Worker {
    pub(crate) app: App,
    id: String,
    pub(crate) config: WorkerConfig,
    pub(crate) http: reqwest::Client,
    /// The SMSC bind, when SMS go over SMPP.
    pub(crate) smpp: Option<std::sync::Arc<smpp::SmppLink>>,
    /// Every configured secret: never in a log line or a stored error.
    secrets: Vec<String>,
}

/// HMAC-SHA256 of a body, as `sha256=<hex>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        phananh_channels::mac::hmac_sha256_hex(secret.as_bytes(), body)
    )
}

/// The `X-Phananh-Signature` of a webhook sent at `timestamp` (Unix seconds, the
/// `X-Phananh-Timestamp` header): HMAC-SHA256 over `"<timestamp>.<body>"`, so an old
/// delivery cannot be replayed with a new time.
pub fn sign_webhook(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    sign(secret, &signed)
}

/// What a unit's system checks (see README, "A unit with its own system"): the signature
/// is right (compared in constant time) and the timestamp within `tolerance_secs` of `now`.
pub fn verify_webhook(
    secret: &str,
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> bool {
    let Ok(ts) = timestamp.trim().parse::<i64>() else {
        return false;
    };
    let Some(Ok(sig)) = signature.trim().strip_prefix("sha256=").map(hex::decode) else {
        return false;
    };
    if secret.is_empty() || (now - ts).abs() > tolerance_secs {
        return false;
    }
    phananh_channels::mac::verify_hmac_sha256(
        secret.as_bytes(),
        &[format!("{ts}.").as_bytes(), body],
        &sig,
    )
}

impl Worker {
    pub fn new(app: App, config: WorkerConfig) -> Worker {
        // Redirects are not followed: a unit's system or a platform that answers 3xx gets
        // an error, not a request to wherever it points.
        let http = reqwest::Client::builder()
            .timeout(config.http_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("phananh/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        let id = format!(
            "{}-{}",
            std::process::id(),
            hex::encode(rand::random::<[u8; 4]>())
        );
        // Binding to the SMSC needs the runtime: Worker::new is called from within it.
        let smpp = (config.sms.gateway_kind == "smpp" && config.sms.can_send())
            .then(|| smpp::SmppLink::start(app.clone(), &config.sms));
        let c = &config;
        let mut secrets = vec![
            c.webhook_secret.clone(),
            c.chat.messenger_app_secret.clone(),
            c.chat.messenger_page_token.clone(),
            c.chat.messenger_verify_token.clone(),
            c.chat.viber_auth_token.clone(),
            c.chat.telegram_bot_token.clone(),
            c.chat.telegram_secret_token.clone(),
            c.chat.zalo_app_secret.clone(),
            c.chat.zalo_oa_secret.clone(),
            c.chat.zalo_refresh_token.clone(),
            c.sms.gateway_token.clone(),
            c.sms.twilio_auth_token.clone(),
            c.sms.inbound_token.clone(),
            c.sms.smpp_password.clone(),
        ];
        secrets.extend(c.smtp_url.as_deref().map(url_password).unwrap_or_default());
        secrets.retain(|s| !s.is_empty());
        Worker {
            app,
            id,
            config,
            http,
            smpp,
            secrets,
        }
    }

    /// `text` without any configured secret, including the units' Open311 keys.
    pub(crate) async fn scrub(&self, text: &str) -> String {
        let mut secrets = self.secrets.clone();
        let catalog = self.app.catalog().await;
        secrets.extend(
            catalog
                .units
                .iter()
                .filter_map(|u| u.forward_open311.as_ref())
                .map(|f| f.api_key.clone()),
        );
        redact(text, &secrets)
    }

    /// Whether the SMPP bind is up (false when SMS do not go over SMPP).
    pub async fn smpp_bound(&self) -> bool {
        match &self.smpp {
            Some(link) => link.is_bound().await,
            None => false,
        }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Runs until `shutdown` turns true, taking jobs as they come.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut last_poll = std::time::Instant::now();
        loop {
            if last_poll.elapsed() >= self.config.forward_poll_interval {
                last_poll = std::time::Instant::now();
                self.poll_forwards().await;
            }
            let worked = self.run_once().await;
            if worked > 0 {
                continue;
            }
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = self.app.jobs_queued.notified() => {}
                _ = tokio::time::sleep(self.config.poll_interval) => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }

    /// Claims and runs the jobs due now; returns how many it ran.
    pub async fn run_once(&self) -> usize {
        let jobs = match self
            .app
            .claim_jobs(&self.id, self.config.lease, CLAIM_BATCH)
            .await
        {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(error = %e, "claiming jobs failed");
                return 0;
            }
        };
        let n = jobs.len();
        for job in jobs {
            self.finish(&job, self.handle(&job).await).await;
        }
        n
    }

    async fn finish(&self, job: &Job, result: Result<(), JobError>) {
        use std::sync::atomic::Ordering::Relaxed;
        let m = &self.app.metrics;
        let store = &self.app;
        // What is logged and stored (and so shown on the outbox and report pages) never
        // carries a secret, whatever the failing call put in its message.
        let result = match result {
            Err(JobError::Retry(e)) => Err(JobError::Retry(self.scrub(&e).await)),
            Err(JobError::Permanent(e)) => Err(JobError::Permanent(self.scrub(&e).await)),
            ok => ok,
        };
        let outcome = match result {
            Ok(()) => {
                m.jobs_done.fetch_add(1, Relaxed);
                match store.complete_job(job.id, &self.id).await {
                    Ok(false) => {
                        tracing::warn!(
                            job = job.id,
                            "lease lost before the job finished; it may run twice"
                        );
                        Ok(())
                    }
                    other => other.map(|_| ()),
                }
            }
            Err(JobError::Retry(e)) if job.attempts < job.max_attempts => {
                m.jobs_failed.fetch_add(1, Relaxed);
                let exp = (job.attempts - 1).clamp(0, 20) as i32;
                let delay =
                    (self.config.base_backoff * 2i32.pow(exp as u32)).min(self.config.max_backoff);
                // Up to 10% jitter so retries from many jobs do not arrive together.
                let jitter = chrono::Duration::milliseconds(
                    (delay.num_milliseconds() as f64 * rand::random::<f64>() * 0.1) as i64,
                );
                tracing::warn!(job = job.id, kind = %job.kind, attempt = job.attempts, error = %e, "job failed, will retry");
                store
                    .fail_job(
                        job.id,
                        &self.id,
                        &e,
                        Some(self.app.clock.now() + delay + jitter),
                    )
                    .await
            }
            Err(JobError::Retry(e)) | Err(JobError::Permanent(e)) => {
                m.jobs_dead.fetch_add(1, Relaxed);
                tracing::error!(job = job.id, kind = %job.kind, error = %e, "job dead-lettered");
                store.fail_job(job.id, &self.id, &e, None).await
            }
        };
        if let Err(e) = outcome {
            tracing::error!(job = job.id, error = %e, "could not record the job's outcome");
        }
    }

    /// The report a job is about.
    pub(crate) async fn job_report(
        &self,
        report: &ReportRef,
    ) -> Result<phananh_domain::model::Report, JobError> {
        let code = &report.code;
        self.app
            .report_by_code(code)
            .await
            .map_err(|e| JobError::Retry(e.to_string()))?
            .ok_or_else(|| JobError::Permanent(format!("report {code} not found")))
    }

    async fn handle(&self, job: &Job) -> Result<(), JobError> {
        let kind = job
            .typed()
            .map_err(|e| JobError::Permanent(e.to_string()))?;
        match kind {
            JobKind::UnitWebhook(p) => self.unit_webhook(job, &p).await,
            JobKind::UnitOpen311Forward(p) => forward::file(self, &p).await,
            JobKind::UnitEmailForward(p) => email::send(self, job, &p).await,
            JobKind::CitizenNotify(p) => citizen::notify(self, &p).await,
            JobKind::DeadlineRemind(p) => deadlines::remind(self, &p).await,
            JobKind::DeadlineEscalate(p) => deadlines::escalate(self, &p).await,
            JobKind::CommitteeReport(p) => deadlines::committee_report(self, &p).await,
            JobKind::ChatInbound(p) => chat::inbound(self, &p).await,
            JobKind::ChatSend(p) => chat::send(self, &p).await,
            JobKind::SmsInbound(p) => sms::inbound(self, &p).await,
            JobKind::SmsSend(p) => sms::send(self, job, &p).await,
            JobKind::CitizenEmail(p) => citizen::email(self, job, &p).await,
            JobKind::FollowConfirm(p) => citizen::confirm_follow(self, &p).await,
            JobKind::EmailInbound(p) => email_in::inbound(self, job, &p).await,
            JobKind::ZnsSend(p) => zalo::zns(self, job, &p).await,
            JobKind::UrgentAlert(p) => urgent::alert(self, &p).await,
            JobKind::UrgentEscalate(p) => urgent::escalate(self, &p).await,
        }
    }

    /// Sends a unit the public record and history of its report, signed.
    async fn unit_webhook(&self, job: &Job, p: &UnitWebhook) -> Result<(), JobError> {
        let unit_code = p.unit.as_str();
        let catalog = self.app.catalog().await;
        let Some(url) = catalog.unit(unit_code).and_then(|u| u.webhook_url.clone()) else {
            return Err(JobError::Permanent(format!(
                "unit {unit_code} has no webhook"
            )));
        };
        if self.config.webhook_secret.is_empty() {
            // Unsigned (or signed with an empty key, which anyone can compute) is not sent.
            return Err(JobError::Permanent(
                "no webhook secret configured ([webhooks] secret / PHANANH_WEBHOOK_SECRET)".into(),
            ));
        }
        let code = p.report.code.as_str();
        let (report, events) = self
            .app
            .public_report(code)
            .await
            .map_err(|e| JobError::Permanent(format!("report {code}: {e}")))?;
        let body = serde_json::json!({
            "delivery": format!("{}:{}", job.id, p.seq),
            "event": p.event,
            "unit": unit_code,
            "report": report,
            "history": events,
            "sent_at": Utc::now(),
        });
        let body = serde_json::to_vec(&body).map_err(|e| JobError::Permanent(e.to_string()))?;
        let timestamp = self.app.clock.now().timestamp();
        // Set by an admin, so trusted (not put through the guard), and logged.
        tracing::info!(unit = unit_code, url = %guard::admin_url(&url), "webhook to a unit's system");
        let response = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("x-phananh-event", p.event.as_str())
            .header("x-phananh-delivery", job.id.to_string())
            .header("x-phananh-timestamp", timestamp.to_string())
            .header(
                "x-phananh-signature",
                sign_webhook(&self.config.webhook_secret, timestamp, &body),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| JobError::Retry(format!("webhook: {}", http_error(e))))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else if status.is_client_error() && status.as_u16() != 408 && status.as_u16() != 429 {
            Err(JobError::Permanent(format!("webhook: HTTP {status}")))
        } else {
            Err(JobError::Retry(format!("webhook: HTTP {status}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2.
        let sig = sign("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sig,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn webhook_signatures_cover_the_timestamp() {
        let body = br#"{"event":"assigned"}"#;
        let sig = sign_webhook("k", 1_700_000_000, body);
        assert_eq!(sig, sign("k", br#"1700000000.{"event":"assigned"}"#));
        assert!(verify_webhook(
            "k",
            "1700000000",
            &sig,
            body,
            1_700_000_100,
            300
        ));
        // Replayed later: refused. Another time with the old signature: refused.
        assert!(!verify_webhook(
            "k",
            "1700000000",
            &sig,
            body,
            1_700_001_000,
            300
        ));
        assert!(!verify_webhook(
            "k",
            "1700000900",
            &sig,
            body,
            1_700_001_000,
            300
        ));
        assert!(!verify_webhook(
            "x",
            "1700000000",
            &sig,
            body,
            1_700_000_000,
            300
        ));
        assert!(!verify_webhook(
            "",
            "1700000000",
            &sig,
            body,
            1_700_000_000,
            300
        ));
        // The old, body-only signature no longer verifies.
        assert!(!verify_webhook(
            "k",
            "1700000000",
            &sign("k", body),
            body,
            1_700_000_000,
            300
        ));
    }

    #[test]
    fn secrets_are_redacted_as_written_and_url_encoded() {
        let secrets = vec!["p@ss/w0rd".to_string(), "abc".to_string()];
        assert_eq!(
            redact("smtp://u:p%40ss%2Fw0rd@h and p@ss/w0rd; abc", &secrets),
            "smtp://u:[redacted]@h and [redacted]; abc"
        );
        assert_eq!(
            url_password("smtps://user:p%40ss@mail.example:465"),
            vec!["p%40ss".to_string(), "p@ss".to_string()]
        );
    }
}
