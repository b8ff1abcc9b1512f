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
    /// The citizen rated the result. `unit` is the unit that resolved it (the score and a
    /// "not fixed" count on its account); "not fixed" reopens it there with `due_at`.
    Rated {
        score: u8,
        fixed: bool,
        #[serde(default)]
        comment: Option<String>,
        unit: String,
        #[serde(default)]
        due_at: Option<DateTime<Utc>>,
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
            EventKind::Rated { .. } => "rated",
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
