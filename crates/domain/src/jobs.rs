//! The outbox's jobs, typed. Every kind of job is a variant of [`JobKind`] with its own
//! payload struct (serde); the stored row keeps the kind's name and the payload as JSON,
//! exactly as they always were, so rows queued by an older version still run.
//!
//! Every job is built here, by one constructor per way of queuing it (with its dedupe key
//! and attempts), and read back with [`JobKind::from_stored`]. No other crate writes a
//! job kind or a payload field by hand.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A job to queue: a row of the outbox before it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: String,
    pub payload: Value,
    /// Two jobs with one key are one job (`{report}` is replaced by the report id, see
    /// [`NewJob::for_report`]).
    pub dedupe_key: Option<String>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i64,
    pub report_id: Option<i64>,
}

/// The report a job is about, by id and tracking code. Jobs queued with a report that is
/// not stored yet (intake) carry none until [`NewJob::for_report`] fills it in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRef {
    pub report_id: i64,
    pub code: String,
}

impl ReportRef {
    pub fn new(report_id: i64, code: &str) -> ReportRef {
        ReportRef {
            report_id,
            code: code.to_string(),
        }
    }
}

/// `unit.webhook`: the public record and history of a report, signed, to a unit's system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitWebhook {
    pub unit: String,
    /// The event's type name (`EventKind::type_name`).
    pub event: String,
    pub seq: i64,
    #[serde(flatten)]
    pub report: ReportRef,
}

/// `unit.open311.forward` and `unit.email.forward`: a report that came to a unit, to the
/// unit's own Open311 system or mailbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitForward {
    pub unit: String,
    #[serde(flatten)]
    pub report: ReportRef,
}

/// `citizen.notify`: tell whoever follows a report about its event `seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CitizenNotify {
    pub seq: i64,
    #[serde(flatten)]
    pub report: ReportRef,
}

/// `citizen.email`: the email about event `seq` to one person, named, not addressed:
/// "reporter" or "follower:ID" (the outbox holds no personal data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CitizenEmail {
    #[serde(flatten)]
    pub report: ReportRef,
    pub seq: i64,
    pub to: String,
}

/// `follow.confirm`: the link a new follower must open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowConfirm {
    #[serde(flatten)]
    pub report: ReportRef,
    pub follower_id: i64,
}

/// `deadline.remind` and `deadline.escalate`: the report's deadline `due_at` with `unit`
/// is near, or has passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deadline {
    #[serde(flatten)]
    pub report: ReportRef,
    pub unit: String,
    pub due_at: DateTime<Utc>,
}

/// `urgent.alert` and `urgent.escalate`: an urgent case that came to `unit` at event `seq`;
/// its duty contact is alerted at once, and its managers and the city's supervisors if it
/// is not taken up within [`crate::urgent::ACK_MINUTES`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Urgent {
    #[serde(flatten)]
    pub report: ReportRef,
    pub unit: String,
    pub seq: i64,
}

/// `committee.report`: the units' workbook for a period, to the City People's Committee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitteeReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub label: String,
}

/// `chat.inbound` and `sms.inbound`: one person's pending deliveries in the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxPending {
    /// "messenger", "viber" or "sms".
    pub provider: String,
    pub user: String,
}

/// What a chat message is, which decides what the platform's messaging window allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatSendKind {
    /// An answer in the conversation.
    #[default]
    Response,
    /// A status change of the person's report.
    Update,
    /// A staff member's reply.
    Staff,
}

/// One message of a chat: its text and quick-reply choices (payload, label).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub text: String,
    #[serde(default)]
    pub choices: Vec<(String, String)>,
}

/// `chat.send`: messages for one person, sent in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatSend {
    pub provider: String,
    pub user: String,
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub kind: ChatSendKind,
}

/// `sms.send`: one text to one number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmsSend {
    pub to: String,
    pub text: String,
}

/// `zns.send`: the news of event `seq` of a report, as a Zalo Notification Service template
/// message to the phone number the citizen reported with; `sms_text` is what goes by SMS
/// instead when ZNS refuses or fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZnsSend {
    #[serde(flatten)]
    pub report: ReportRef,
    pub seq: i64,
    pub to: String,
    pub template_id: String,
    pub data: serde_json::Map<String, Value>,
    pub sms_text: String,
}

/// `email.inbound`: one kept email (its row in the email inbox).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailInbound {
    pub id: i64,
}

/// Why a stored job cannot be read as a [`JobKind`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JobKindError {
    #[error("no handler for job kind {0}")]
    Unknown(String),
    #[error("job {kind} with an unreadable payload: {error}")]
    Payload { kind: String, error: String },
}

/// Declares the kinds once: each variant, its payload and its stored name.
macro_rules! job_kinds {
    ($( $(#[$doc:meta])* $variant:ident($payload:ty) = $name:literal, )*) => {
        /// Every kind of job, with its payload.
        #[derive(Debug, Clone, PartialEq)]
        pub enum JobKind {
            $( $(#[$doc])* $variant($payload), )*
        }

        impl JobKind {
            /// The names of all kinds, as stored.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The kind's name, as stored in `jobs.kind`.
            pub fn name(&self) -> &'static str {
                match self {
                    $( JobKind::$variant(_) => $name, )*
                }
            }

            /// The payload as stored in `jobs.payload`.
            pub fn payload(&self) -> Value {
                let v = match self {
                    $( JobKind::$variant(p) => serde_json::to_value(p), )*
                };
                // Plain structs of strings and numbers: serialising cannot fail.
                v.unwrap_or(Value::Null)
            }

            /// Reads a stored job back.
            pub fn from_stored(kind: &str, payload: &Value) -> Result<JobKind, JobKindError> {
                let bad = |e: serde_json::Error| JobKindError::Payload {
                    kind: kind.to_string(),
                    error: e.to_string(),
                };
                match kind {
                    $( $name => <$payload>::deserialize(payload).map(JobKind::$variant).map_err(bad), )*
                    other => Err(JobKindError::Unknown(other.to_string())),
                }
            }
        }
    };
}

job_kinds! {
    UnitWebhook(UnitWebhook) = "unit.webhook",
    UnitOpen311Forward(UnitForward) = "unit.open311.forward",
    UnitEmailForward(UnitForward) = "unit.email.forward",
    CitizenNotify(CitizenNotify) = "citizen.notify",
    CitizenEmail(CitizenEmail) = "citizen.email",
    FollowConfirm(FollowConfirm) = "follow.confirm",
    DeadlineRemind(Deadline) = "deadline.remind",
    DeadlineEscalate(Deadline) = "deadline.escalate",
    CommitteeReport(CommitteeReport) = "committee.report",
    ChatInbound(InboxPending) = "chat.inbound",
    ChatSend(ChatSend) = "chat.send",
    SmsInbound(InboxPending) = "sms.inbound",
    SmsSend(SmsSend) = "sms.send",
    EmailInbound(EmailInbound) = "email.inbound",
    ZnsSend(ZnsSend) = "zns.send",
    UrgentAlert(Urgent) = "urgent.alert",
    UrgentEscalate(Urgent) = "urgent.escalate",
}

impl JobKind {
    /// The report the job is about, if it is about one.
    pub fn report(&self) -> Option<&ReportRef> {
        match self {
            JobKind::UnitWebhook(p) => Some(&p.report),
            JobKind::UnitOpen311Forward(p) | JobKind::UnitEmailForward(p) => Some(&p.report),
            JobKind::CitizenNotify(p) => Some(&p.report),
            JobKind::CitizenEmail(p) => Some(&p.report),
            JobKind::FollowConfirm(p) => Some(&p.report),
            JobKind::DeadlineRemind(p) | JobKind::DeadlineEscalate(p) => Some(&p.report),
            JobKind::ZnsSend(p) => Some(&p.report),
            JobKind::UrgentAlert(p) | JobKind::UrgentEscalate(p) => Some(&p.report),
            JobKind::CommitteeReport(_)
            | JobKind::ChatInbound(_)
            | JobKind::ChatSend(_)
            | JobKind::SmsInbound(_)
            | JobKind::SmsSend(_)
            | JobKind::EmailInbound(_) => None,
        }
    }
}

/// The placeholder for the report's id in the dedupe keys of jobs queued before the
/// report is stored.
const REPORT: &str = "{report}";

impl NewJob {
    /// A job of any kind, untyped (tests and tools; the application queues [`JobKind`]s
    /// through the constructors below).
    pub fn new(kind: &str, payload: Value, run_at: DateTime<Utc>) -> NewJob {
        NewJob {
            kind: kind.into(),
            payload,
            dedupe_key: None,
            run_at,
            max_attempts: 8,
            report_id: None,
        }
    }

    /// A typed job, due at `run_at`, with no dedupe key.
    pub fn of(job: JobKind, run_at: DateTime<Utc>) -> NewJob {
        NewJob::new(job.name(), job.payload(), run_at)
    }

    /// The same news to follower `follower_id` instead of the reporter: its own dedupe
    /// key, so both are sent (a duplicate's reporter following the original).
    pub fn for_follower(mut self, follower_id: i64) -> NewJob {
        if let Some(k) = self.dedupe_key.take() {
            self.dedupe_key = Some(format!("{k}:follower:{follower_id}"));
        }
        self
    }

    fn key(mut self, key: String) -> NewJob {
        self.dedupe_key = Some(key);
        self
    }

    fn about(mut self, report_id: i64) -> NewJob {
        self.report_id = Some(report_id);
        self
    }

    fn attempts(mut self, n: i64) -> NewJob {
        self.max_attempts = n;
        self
    }

    /// The job as part of report `id` (`code`): its `report_id`, the report in its payload,
    /// and the id in place of `{report}` in its dedupe key. The one place this is filled in.
    pub fn for_report(mut self, id: i64, code: &str) -> NewJob {
        self.report_id = Some(id);
        if let Some(p) = self.payload.as_object_mut() {
            p.insert("report_id".into(), id.into());
            p.insert("code".into(), code.into());
        }
        if let Some(k) = &mut self.dedupe_key {
            *k = k.replace(REPORT, &id.to_string());
        }
        self
    }

    /// The payload of a job whose report is filled in later by [`NewJob::for_report`].
    fn pending_report(job: JobKind, run_at: DateTime<Utc>) -> NewJob {
        let mut j = NewJob::of(job, run_at);
        if let Some(p) = j.payload.as_object_mut() {
            p.remove("report_id");
            p.remove("code");
        }
        j
    }

    /// `unit.webhook` about event `seq` (of type `event`) of the report being saved.
    pub fn unit_webhook(unit: &str, event: &str, seq: i64, now: DateTime<Utc>) -> NewJob {
        let job = JobKind::UnitWebhook(UnitWebhook {
            unit: unit.into(),
            event: event.into(),
            seq,
            report: ReportRef::default(),
        });
        let name = job.name();
        NewJob::pending_report(job, now).key(format!("{name}:{REPORT}:{seq}:{unit}"))
    }

    /// `unit.open311.forward` of the report being saved to `unit`'s Open311 system.
    pub fn unit_open311_forward(unit: &str, now: DateTime<Utc>) -> NewJob {
        let job = JobKind::UnitOpen311Forward(UnitForward {
            unit: unit.into(),
            report: ReportRef::default(),
        });
        let name = job.name();
        NewJob::pending_report(job, now).key(format!("{name}:{REPORT}:{unit}"))
    }

    /// `unit.email.forward` of the report being saved (at event `seq`) to `unit`'s mailbox.
    pub fn unit_email_forward(unit: &str, seq: i64, now: DateTime<Utc>) -> NewJob {
        let job = JobKind::UnitEmailForward(UnitForward {
            unit: unit.into(),
            report: ReportRef::default(),
        });
        let name = job.name();
        NewJob::pending_report(job, now).key(format!("{name}:{REPORT}:{unit}:{seq}"))
    }

    /// `urgent.alert` to `unit`'s duty contact about the urgent case being saved (event
    /// `seq` brought it there or marked it), at once.
    pub fn urgent_alert(unit: &str, seq: i64, now: DateTime<Utc>) -> NewJob {
        let job = JobKind::UrgentAlert(Urgent {
            report: ReportRef::default(),
            unit: unit.into(),
            seq,
        });
        let name = job.name();
        NewJob::pending_report(job, now).key(format!("{name}:{REPORT}:{unit}:{seq}"))
    }

    /// `urgent.escalate`: `unit`'s managers and the supervisors are told if the urgent case
    /// is still not taken up [`crate::urgent::ACK_MINUTES`] after `now`.
    pub fn urgent_escalate(unit: &str, seq: i64, now: DateTime<Utc>) -> NewJob {
        let job = JobKind::UrgentEscalate(Urgent {
            report: ReportRef::default(),
            unit: unit.into(),
            seq,
        });
        let name = job.name();
        NewJob::pending_report(job, crate::urgent::escalate_at(now))
            .key(format!("{name}:{REPORT}:{unit}:{seq}"))
    }

    /// `citizen.notify` about event `seq` of the report being saved.
    pub fn citizen_notify(seq: i64, now: DateTime<Utc>) -> NewJob {
        let job = JobKind::CitizenNotify(CitizenNotify {
            seq,
            report: ReportRef::default(),
        });
        let name = job.name();
        NewJob::pending_report(job, now).key(format!("{name}:{REPORT}:{seq}"))
    }

    /// `citizen.email` about event `seq` to `to` ("reporter" or "follower:ID").
    pub fn citizen_email(report: &ReportRef, seq: i64, to: &str, now: DateTime<Utc>) -> NewJob {
        let job = JobKind::CitizenEmail(CitizenEmail {
            report: report.clone(),
            seq,
            to: to.into(),
        });
        let name = job.name();
        NewJob::of(job, now)
            .key(format!("{name}:{}:{seq}:{to}", report.report_id))
            .about(report.report_id)
    }

    /// `follow.confirm` to follower `follower_id`, who asked at `at`.
    pub fn follow_confirm(report: &ReportRef, follower_id: i64, at: DateTime<Utc>) -> NewJob {
        let job = JobKind::FollowConfirm(FollowConfirm {
            report: report.clone(),
            follower_id,
        });
        let name = job.name();
        NewJob::of(job, at)
            .key(format!("{name}:{follower_id}:{}", at.timestamp_millis()))
            .about(report.report_id)
    }

    /// `deadline.escalate` (passed) or `deadline.remind` (near) for the report's deadline
    /// `due_at` with `unit`: one per report, unit and deadline.
    pub fn deadline(
        report: &ReportRef,
        unit: &str,
        due_at: DateTime<Utc>,
        passed: bool,
        now: DateTime<Utc>,
    ) -> NewJob {
        let payload = Deadline {
            report: report.clone(),
            unit: unit.into(),
            due_at,
        };
        let job = if passed {
            JobKind::DeadlineEscalate(payload)
        } else {
            JobKind::DeadlineRemind(payload)
        };
        let name = job.name();
        NewJob::of(job, now)
            .key(format!(
                "{name}:{}:{unit}:{}",
                report.report_id,
                due_at.timestamp()
            ))
            .about(report.report_id)
    }

    /// `committee.report` for the period from `from` to `to` (once per period).
    pub fn committee_report(
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        label: &str,
        now: DateTime<Utc>,
    ) -> NewJob {
        let job = JobKind::CommitteeReport(CommitteeReport {
            from,
            to,
            label: label.into(),
        });
        let name = job.name();
        NewJob::of(job, now).key(format!("{name}:{}:{}", from.timestamp(), to.timestamp()))
    }

    /// `sms.inbound` (provider "sms") or `chat.inbound` (a chat platform) for the inbox's
    /// new delivery `inbox_id` from `user`.
    pub fn inbox(provider: &str, user: &str, inbox_id: i64, now: DateTime<Utc>) -> NewJob {
        let pending = InboxPending {
            provider: provider.into(),
            user: user.into(),
        };
        let job = if provider == SMS {
            JobKind::SmsInbound(pending)
        } else {
            JobKind::ChatInbound(pending)
        };
        let name = job.name();
        NewJob::of(job, now).key(format!("{name}:{inbox_id}"))
    }

    /// `email.inbound` for the kept email `id`.
    pub fn email_inbound(id: i64, now: DateTime<Utc>) -> NewJob {
        let job = JobKind::EmailInbound(EmailInbound { id });
        let name = job.name();
        NewJob::of(job, now).key(format!("{name}:{id}"))
    }

    /// `chat.send`: the answers to a person's messages, the first of which was inbox
    /// delivery `first_id`.
    pub fn chat_response(
        provider: &str,
        user: &str,
        messages: Vec<ChatMessage>,
        first_id: i64,
        now: DateTime<Utc>,
    ) -> NewJob {
        let job = NewJob::chat_send(provider, user, messages, ChatSendKind::Response, now);
        let name = job.kind.clone();
        job.key(format!("{name}:{provider}:{first_id}")).attempts(6)
    }

    /// `chat.send`: the news of event `seq` of the report to the person who filed it.
    pub fn chat_update(
        provider: &str,
        user: &str,
        messages: Vec<ChatMessage>,
        report_id: i64,
        seq: i64,
        now: DateTime<Utc>,
    ) -> NewJob {
        NewJob::chat_send(provider, user, messages, ChatSendKind::Update, now)
            .key(format!("citizen.chat:{report_id}:{seq}"))
            .about(report_id)
    }

    /// `chat.send`: a staff member's reply about the report (`token` makes it unique).
    pub fn chat_staff(
        provider: &str,
        user: &str,
        messages: Vec<ChatMessage>,
        report_id: i64,
        token: &str,
        now: DateTime<Utc>,
    ) -> NewJob {
        NewJob::chat_send(provider, user, messages, ChatSendKind::Staff, now)
            .key(format!("chat.staff:{report_id}:{token}"))
            .about(report_id)
    }

    fn chat_send(
        provider: &str,
        user: &str,
        messages: Vec<ChatMessage>,
        kind: ChatSendKind,
        now: DateTime<Utc>,
    ) -> NewJob {
        NewJob::of(
            JobKind::ChatSend(ChatSend {
                provider: provider.into(),
                user: user.into(),
                messages,
                kind,
            }),
            now,
        )
    }

    /// `sms.send`: the answer to inbox delivery `inbox_id`.
    pub fn sms_reply(to: &str, text: &str, inbox_id: i64, now: DateTime<Utc>) -> NewJob {
        NewJob::sms_send(to, text, now).key(format!("sms.reply:{inbox_id}"))
    }

    /// `sms.send`: the news of event `seq` of the report to the person who filed it.
    pub fn sms_update(
        to: &str,
        text: &str,
        report_id: i64,
        seq: i64,
        now: DateTime<Utc>,
    ) -> NewJob {
        NewJob::sms_send(to, text, now)
            .key(format!("citizen.sms:{report_id}:{seq}"))
            .about(report_id)
    }

    /// `sms.send` of the alert about urgent report `report_id` (event `seq`) to `unit`'s
    /// duty phone `to`.
    pub fn sms_urgent(
        to: &str,
        text: &str,
        report_id: i64,
        unit: &str,
        seq: i64,
        now: DateTime<Utc>,
    ) -> NewJob {
        NewJob::sms_send(to, text, now)
            .key(format!("urgent.sms:{report_id}:{unit}:{seq}"))
            .about(report_id)
    }

    /// `zns.send`: the news of event `seq` of report `report` to the phone number `to`
    /// through ZNS template `template_id`, with its SMS fallback `sms_text` (queued under
    /// the key [`NewJob::sms_update`] uses, so the citizen never gets both by SMS).
    pub fn zns_update(
        to: &str,
        template_id: &str,
        data: serde_json::Map<String, Value>,
        sms_text: &str,
        report: &ReportRef,
        seq: i64,
        now: DateTime<Utc>,
    ) -> NewJob {
        let job = JobKind::ZnsSend(ZnsSend {
            report: report.clone(),
            seq,
            to: to.into(),
            template_id: template_id.into(),
            data,
            sms_text: sms_text.into(),
        });
        NewJob::of(job, now)
            .key(format!("citizen.zns:{}:{seq}", report.report_id))
            .about(report.report_id)
            .attempts(4)
    }

    fn sms_send(to: &str, text: &str, now: DateTime<Utc>) -> NewJob {
        let job = JobKind::SmsSend(SmsSend {
            to: to.into(),
            text: text.into(),
        });
        NewJob::of(job, now).attempts(6)
    }
}

/// The inbox's provider name for texts.
const SMS: &str = "sms";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap()
    }

    /// The payloads as earlier versions stored them: each must still be read, and written
    /// back the same.
    #[test]
    fn todays_payloads_are_read_and_written_back_unchanged() {
        let rows = [
            (
                "unit.webhook",
                r#"{"code":"ABCD-2345","event":"assigned","report_id":7,"seq":2,"unit":"Q1"}"#,
            ),
            (
                "unit.open311.forward",
                r#"{"code":"ABCD-2345","report_id":7,"unit":"Q1"}"#,
            ),
            (
                "unit.email.forward",
                r#"{"code":"ABCD-2345","report_id":7,"unit":"Q1"}"#,
            ),
            (
                "citizen.notify",
                r#"{"code":"ABCD-2345","report_id":7,"seq":1}"#,
            ),
            (
                "citizen.email",
                r#"{"code":"ABCD-2345","report_id":7,"seq":3,"to":"follower:4"}"#,
            ),
            (
                "follow.confirm",
                r#"{"code":"ABCD-2345","follower_id":4,"report_id":7}"#,
            ),
            (
                "deadline.remind",
                r#"{"code":"ABCD-2345","due_at":"2026-03-04T10:00:00Z","report_id":7,"unit":"Q1"}"#,
            ),
            (
                "deadline.escalate",
                r#"{"code":"ABCD-2345","due_at":"2026-03-04T10:00:00Z","report_id":7,"unit":"Q1"}"#,
            ),
            (
                "committee.report",
                r#"{"from":"2026-02-22T17:00:00Z","label":"Tuần 23/02/2026 – 01/03/2026","to":"2026-03-01T17:00:00Z"}"#,
            ),
            ("chat.inbound", r#"{"provider":"viber","user":"U1"}"#),
            ("sms.inbound", r#"{"provider":"sms","user":"0912345678"}"#),
            (
                "chat.send",
                r#"{"kind":"response","messages":[{"choices":[["ROADS","Giao thông"]],"text":"Chọn lĩnh vực"}],"provider":"messenger","user":"PSID"}"#,
            ),
            ("sms.send", r#"{"text":"1022: ok","to":"0912345678"}"#),
            ("email.inbound", r#"{"id":12}"#),
            (
                "zns.send",
                r#"{"code":"ABCD-2345","data":{"code":"ABCD-2345","status":"Đã xử lý"},"report_id":7,"seq":3,"sms_text":"1022: Phan anh ABCD-2345 da xu ly xong","template_id":"355330","to":"0912345678"}"#,
            ),
            (
                "urgent.alert",
                r#"{"code":"ABCD-2345","report_id":7,"seq":3,"unit":"CT-CAYXANH"}"#,
            ),
            (
                "urgent.escalate",
                r#"{"code":"ABCD-2345","report_id":7,"seq":3,"unit":"CT-CAYXANH"}"#,
            ),
        ];
        let mut seen: Vec<&str> = Vec::new();
        for (kind, json) in rows {
            let stored: Value = serde_json::from_str(json).unwrap();
            let job = JobKind::from_stored(kind, &stored).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(job.name(), kind);
            assert_eq!(job.payload(), stored, "{kind}");
            assert_eq!(job.payload().to_string(), json, "{kind}");
            seen.push(kind);
        }
        seen.sort();
        let mut all = JobKind::NAMES.to_vec();
        all.sort();
        assert_eq!(seen, all, "every kind has a stored example");
    }

    #[test]
    fn unknown_kinds_and_bad_payloads_are_errors() {
        assert_eq!(
            JobKind::from_stored("matrix.noop", &Value::Null),
            Err(JobKindError::Unknown("matrix.noop".into()))
        );
        assert_eq!(
            JobKindError::Unknown("x".into()).to_string(),
            "no handler for job kind x"
        );
        assert!(matches!(
            JobKind::from_stored("sms.send", &serde_json::json!({ "to": 1 })),
            Err(JobKindError::Payload { .. })
        ));
        // An old chat.send without a kind was an answer.
        let j = JobKind::from_stored(
            "chat.send",
            &serde_json::json!({ "provider": "viber", "user": "u", "messages": [{ "text": "a" }] }),
        )
        .unwrap();
        let JobKind::ChatSend(c) = j else { panic!() };
        assert_eq!(c.kind, ChatSendKind::Response);
        assert!(c.messages[0].choices.is_empty());
    }

    #[test]
    fn jobs_of_a_report_being_saved_get_its_id_and_code_in_one_place() {
        let j = NewJob::unit_webhook("Q1", "assigned", 2, now());
        assert_eq!(j.kind, "unit.webhook");
        assert_eq!(j.dedupe_key.as_deref(), Some("unit.webhook:{report}:2:Q1"));
        assert_eq!(
            j.payload,
            serde_json::json!({ "unit": "Q1", "event": "assigned", "seq": 2 })
        );
        let j = j.for_report(7, "ABCD-2345");
        assert_eq!(j.report_id, Some(7));
        assert_eq!(j.dedupe_key.as_deref(), Some("unit.webhook:7:2:Q1"));
        let JobKind::UnitWebhook(p) = JobKind::from_stored(&j.kind, &j.payload).unwrap() else {
            panic!()
        };
        assert_eq!(p.report, ReportRef::new(7, "ABCD-2345"));
        let keys: Vec<Option<String>> = [
            NewJob::unit_open311_forward("Q1", now()),
            NewJob::unit_email_forward("Q1", 3, now()),
            NewJob::citizen_notify(4, now()),
        ]
        .into_iter()
        .map(|j| j.for_report(7, "ABCD-2345").dedupe_key)
        .collect();
        assert_eq!(
            keys,
            [
                Some("unit.open311.forward:7:Q1".to_string()),
                Some("unit.email.forward:7:Q1:3".to_string()),
                Some("citizen.notify:7:4".to_string()),
            ]
        );
    }

    #[test]
    fn constructors_keep_the_keys_and_attempts_of_before() {
        let r = ReportRef::new(7, "ABCD-2345");
        let at = now();
        let cases = [
            (
                NewJob::citizen_email(&r, 3, "reporter", at),
                "citizen.email",
                "citizen.email:7:3:reporter",
                8,
            ),
            (
                NewJob::follow_confirm(&r, 4, at),
                "follow.confirm",
                "follow.confirm:4:1772416800000",
                8,
            ),
            (
                NewJob::deadline(&r, "Q1", at, false, at),
                "deadline.remind",
                "deadline.remind:7:Q1:1772416800",
                8,
            ),
            (
                NewJob::deadline(&r, "Q1", at, true, at),
                "deadline.escalate",
                "deadline.escalate:7:Q1:1772416800",
                8,
            ),
            (
                NewJob::committee_report(at, at, "x", at),
                "committee.report",
                "committee.report:1772416800:1772416800",
                8,
            ),
            (
                NewJob::inbox("viber", "U1", 5, at),
                "chat.inbound",
                "chat.inbound:5",
                8,
            ),
            (
                NewJob::inbox("sms", "0912", 5, at),
                "sms.inbound",
                "sms.inbound:5",
                8,
            ),
            (
                NewJob::email_inbound(12, at),
                "email.inbound",
                "email.inbound:12",
                8,
            ),
            (
                NewJob::chat_response("viber", "U1", vec![], 5, at),
                "chat.send",
                "chat.send:viber:5",
                6,
            ),
            (
                NewJob::chat_update("viber", "U1", vec![], 7, 3, at),
                "chat.send",
                "citizen.chat:7:3",
                8,
            ),
            (
                NewJob::chat_staff("viber", "U1", vec![], 7, "t", at),
                "chat.send",
                "chat.staff:7:t",
                8,
            ),
            (
                NewJob::sms_reply("0912", "a", 5, at),
                "sms.send",
                "sms.reply:5",
                6,
            ),
            (
                NewJob::sms_update("0912", "a", 7, 3, at),
                "sms.send",
                "citizen.sms:7:3",
                6,
            ),
            (
                NewJob::zns_update("0912", "T", Default::default(), "a", &r, 3, at),
                "zns.send",
                "citizen.zns:7:3",
                4,
            ),
        ];
        for (job, kind, key, attempts) in cases {
            assert_eq!(job.kind, kind);
            assert_eq!(job.dedupe_key.as_deref(), Some(key));
            assert_eq!(job.max_attempts, attempts, "{key}");
            JobKind::from_stored(&job.kind, &job.payload).unwrap();
        }
    }
}
