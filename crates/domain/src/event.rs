//! The append-only history of a report. Every change is one event (who, when, what, why);
//! the report's current state is [`crate::procedure::State::fold`] of its events.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Actor, Channel};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// The report was filed. `unit` is where it landed first (the triage desk, or the
    /// routed unit when an `Assigned` event follows at once).
    Created {
        field: String,
        channel: Channel,
        ward: Option<String>,
        unit: String,
    },
    /// A unit took charge (by a routing rule or by the triage desk); its clock starts.
    Assigned {
        unit: String,
        assignee: Option<i64>,
        due_at: Option<DateTime<Utc>>,
        /// Why this unit: the routing rule, or the operator's note.
        reason: Option<String>,
    },
    /// A unit manager gave the report to a staff member of the unit (or took it back).
    StaffAssigned {
        assignee: Option<i64>,
    },
    Started,
    /// The unit asked the citizen for information; the deadline clock pauses.
    InfoRequested {
        question: String,
    },
    /// The citizen (or an operator for them) answered; the clock resumes, the due date moves.
    InfoProvided {
        answer: String,
        due_at: Option<DateTime<Utc>>,
    },
    Resolved {
        note: String,
        photo: Option<String>,
    },
    Closed {
        note: Option<String>,
    },
    Rejected {
        reason: String,
    },
    /// "Not ours": back to the triage desk (`to`). The unit's account for this report ends
    /// here, and it no longer sees the report.
    ReturnedToTriage {
        unit: String,
        reason: String,
        #[serde(default)]
        to: String,
    },
    /// Passed from one unit to another; each keeps its own delay account.
    Transferred {
        from: String,
        to: String,
        reason: String,
        due_at: Option<DateTime<Utc>>,
    },
    /// Opened again (citizen says not fixed, or a supervisor), back to the same unit.
    Reopened {
        reason: String,
        due_at: Option<DateTime<Utc>>,
    },
    /// A note; `public` notes appear in the public timeline.
    Commented {
        text: String,
        public: bool,
    },
}

impl EventKind {
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::Created { .. } => "created",
            EventKind::Assigned { .. } => "assigned",
            EventKind::StaffAssigned { .. } => "staff_assigned",
            EventKind::Started => "started",
            EventKind::InfoRequested { .. } => "info_requested",
            EventKind::InfoProvided { .. } => "info_provided",
            EventKind::Resolved { .. } => "resolved",
            EventKind::Closed { .. } => "closed",
            EventKind::Rejected { .. } => "rejected",
            EventKind::ReturnedToTriage { .. } => "returned_to_triage",
            EventKind::Transferred { .. } => "transferred",
            EventKind::Reopened { .. } => "reopened",
            EventKind::Commented { .. } => "commented",
        }
    }

    /// A line for people, Vietnamese first.
    pub fn summary_vi(&self) -> String {
        match self {
            EventKind::Created { unit, .. } => format!("Tiếp nhận phản ánh (tại {unit})"),
            EventKind::Assigned { unit, reason, .. } => match reason {
                Some(r) => format!("Chuyển đến {unit}: {r}"),
                None => format!("Chuyển đến {unit}"),
            },
            EventKind::StaffAssigned { assignee: Some(_) } => "Phân công cán bộ xử lý".into(),
            EventKind::StaffAssigned { assignee: None } => "Bỏ phân công cán bộ".into(),
            EventKind::Started => "Bắt đầu xử lý".into(),
            EventKind::InfoRequested { question } => {
                format!("Đề nghị bổ sung thông tin: {question}")
            }
            EventKind::InfoProvided { answer, .. } => format!("Người phản ánh bổ sung: {answer}"),
            EventKind::Resolved { note, .. } => format!("Đã xử lý: {note}"),
            EventKind::Closed { .. } => "Đóng hồ sơ".into(),
            EventKind::Rejected { reason } => format!("Từ chối: {reason}"),
            EventKind::ReturnedToTriage { unit, reason, .. } => {
                format!("{unit} trả về bàn điều phối: {reason}")
            }
            EventKind::Transferred {
                from, to, reason, ..
            } => {
                format!("{from} chuyển sang {to}: {reason}")
            }
            EventKind::Reopened { reason, .. } => format!("Mở lại: {reason}"),
            EventKind::Commented { text, .. } => text.clone(),
        }
    }

    /// The line the public timeline shows: free text that may hold personal data (the
    /// question to the citizen and their answer) stays internal.
    pub fn public_summary_vi(&self) -> String {
        match self {
            EventKind::InfoRequested { .. } => "Đề nghị người phản ánh bổ sung thông tin".into(),
            EventKind::InfoProvided { .. } => "Người phản ánh đã bổ sung thông tin".into(),
            other => other.summary_vi(),
        }
    }

    /// The words staff addressed to the public with this event, if any (the resolution,
    /// the reason for a rejection, a public note): Open311's `status_notes`.
    pub fn public_note(&self) -> Option<&str> {
        match self {
            EventKind::Resolved { note, .. } => Some(note),
            EventKind::Rejected { reason } => Some(reason),
            EventKind::Reopened { reason, .. } => Some(reason),
            EventKind::Commented { text, public: true } => Some(text),
            _ => None,
        }
    }

    /// Whether the public timeline shows this event (staff notes stay internal).
    pub fn is_public(&self) -> bool {
        !matches!(
            self,
            EventKind::Commented { public: false, .. } | EventKind::StaffAssigned { .. }
        )
    }
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub kind: EventKind,
}
