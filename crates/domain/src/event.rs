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
        /// The field publishes only after review: the words and photos wait for a
        /// moderator.
        #[serde(default, skip_serializing_if = "is_false")]
        review: bool,
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
        /// Metres between where the resolution photo was taken (its GPS, or the phone's
        /// position) and the report's place, when both are known (staff only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        distance_m: Option<u32>,
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
    /// A moderator published the report's words and photos (after review, or again after
    /// hiding it).
    Published,
    /// A moderator changed the text the public sees; the citizen's own stays for staff.
    PublicTextEdited {
        text: String,
    },
    /// A moderator hid one photo from the public.
    PhotoHidden {
        photo: String,
    },
    /// A moderator blurred parts of a photo: the public sees `copy` (rendered by the
    /// server from the original and `boxes`); the original stays for staff.
    PhotoRedacted {
        photo: String,
        copy: String,
        boxes: Vec<Rect>,
    },
    /// A moderator hid the report from the public; the reporter is told why.
    HiddenFromPublic {
        reason: String,
    },
    /// The report is urgent (khẩn cấp): by its field, a keyword rule or a person. From now
    /// on its deadline is counted in hours on the clock; `due_at` is the new deadline when
    /// a unit already has it.
    MarkedUrgent {
        reason: String,
        due_at: Option<DateTime<Utc>>,
    },
    /// Staff found the report is the same problem as report `of` (the original): it closes
    /// as a duplicate, its reporter follows the original and its photos are linked to it.
    MarkedDuplicate {
        of: String,
    },
    /// The merge into `of` was undone: the report goes back to `status`, the one it had
    /// before (its unit and deadline never changed), and the links to the original go.
    DuplicateUndone {
        of: String,
        status: crate::model::Status,
    },
    /// On the original: report `code` was merged into this one as a duplicate (written in
    /// the merge's transaction; it changes nothing in this report's state).
    DuplicateLinked {
        code: String,
    },
    /// On the original: the merge of report `code` into this one was undone.
    DuplicateUnlinked {
        code: String,
    },
}

/// A rectangle on a photo, in the photo's own pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

fn is_false(b: &bool) -> bool {
    !*b
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
            EventKind::Published => "published",
            EventKind::PublicTextEdited { .. } => "public_text_edited",
            EventKind::PhotoHidden { .. } => "photo_hidden",
            EventKind::PhotoRedacted { .. } => "photo_redacted",
            EventKind::HiddenFromPublic { .. } => "hidden_from_public",
            EventKind::MarkedUrgent { .. } => "marked_urgent",
            EventKind::MarkedDuplicate { .. } => "marked_duplicate",
            EventKind::DuplicateUndone { .. } => "duplicate_undone",
            EventKind::DuplicateLinked { .. } => "duplicate_linked",
            EventKind::DuplicateUnlinked { .. } => "duplicate_unlinked",
        }
    }

    /// The words staff addressed to the public with this event, if any (the resolution,
    /// the reason for a rejection or a reopening, a note marked public): Open311's
    /// `status_notes`. Reasons for assignments, transfers and returns are internal.
    pub fn public_note(&self) -> Option<&str> {
        match self.visibility() {
            Visibility::Public { text: true } => match self {
                EventKind::Resolved { note, .. } => Some(note),
                EventKind::Rejected { reason } => Some(reason),
                EventKind::Reopened { reason, .. } => Some(reason),
                EventKind::Commented { text, .. } => Some(text),
                EventKind::HiddenFromPublic { reason } => Some(reason),
                _ => None,
            },
            _ => None,
        }
    }

    /// What the public may see of this event, decided explicitly for every kind: whether
    /// it appears in the public timeline at all, and whether the words staff wrote with it
    /// were written for the public. Add a kind here and the compiler asks the question.
    pub fn visibility(&self) -> Visibility {
        use Visibility::*;
        match self {
            EventKind::Created { .. } | EventKind::Started => Public { text: false },
            // Which unit: public. The operator's or the rule's note: internal.
            EventKind::Assigned { .. } => Public { text: false },
            EventKind::StaffAssigned { .. } => Internal,
            // The question and the answer go to the reporter only.
            EventKind::InfoRequested { .. } | EventKind::InfoProvided { .. } => {
                Public { text: false }
            }
            // The resolution is written for the citizen (the form says so).
            EventKind::Resolved { .. } => Public { text: true },
            EventKind::Closed { .. } => Public { text: false },
            // The reason for a rejection or a reopening is owed to the citizen.
            EventKind::Rejected { .. } | EventKind::Reopened { .. } => Public { text: true },
            // Why a unit handed it on stays between the units.
            EventKind::ReturnedToTriage { .. } | EventKind::Transferred { .. } => {
                Public { text: false }
            }
            EventKind::Commented { public: true, .. } => Public { text: true },
            EventKind::Commented { public: false, .. } => Internal,
            // The score is public; the citizen's comment stays with staff.
            EventKind::Rated { .. } => Public { text: false },
            // Moderation is staff work: the public sees its result, not its steps (an
            // edited text would otherwise show what it replaced)...
            EventKind::Published
            | EventKind::PublicTextEdited { .. }
            | EventKind::PhotoHidden { .. }
            | EventKind::PhotoRedacted { .. } => Internal,
            // ...except that a report was hidden, and why: that is owed to the citizen.
            EventKind::HiddenFromPublic { .. } => Public { text: true },
            // That it is urgent and its new deadline: public. Why: the staff's words.
            EventKind::MarkedUrgent { .. } => Public { text: false },
            // Which report it duplicates is public (Open311's `duplicate_of`), and so is
            // that the merge was undone; there are no words with either.
            EventKind::MarkedDuplicate { .. }
            | EventKind::DuplicateUndone { .. }
            | EventKind::DuplicateLinked { .. }
            | EventKind::DuplicateUnlinked { .. } => Public { text: false },
        }
    }

    /// Whether the public timeline shows this event (staff notes stay internal).
    pub fn is_public(&self) -> bool {
        self.visibility() != Visibility::Internal
    }

    /// The event as the public may see it: `None` if internal; otherwise a copy without
    /// the words that were not written for the public.
    /// Whether this is a step by which the unit that has the report takes it up (its
    /// acknowledgement): the units' accounts and the urgent cases' escalation both ask.
    pub fn takes_up(&self) -> bool {
        matches!(
            self,
            EventKind::Started
                | EventKind::StaffAssigned { .. }
                | EventKind::InfoRequested { .. }
                | EventKind::Resolved { .. }
                | EventKind::Rejected { .. }
                | EventKind::Transferred { .. }
                | EventKind::ReturnedToTriage { .. }
                // Found to be the same case as another: someone looked at it.
                | EventKind::MarkedDuplicate { .. }
        )
    }

    pub fn public_view(&self) -> Option<EventKind> {
        match self.visibility() {
            Visibility::Internal => None,
            // How far from the place a resolution photo was taken is for staff.
            Visibility::Public { text: true } => Some(match self.clone() {
                EventKind::Resolved { note, photo, .. } => EventKind::Resolved {
                    note,
                    photo,
                    distance_m: None,
                },
                other => other,
            }),
            Visibility::Public { text: false } => Some(match self.clone() {
                EventKind::Assigned {
                    unit,
                    assignee: _,
                    due_at,
                    reason: _,
                } => EventKind::Assigned {
                    unit,
                    assignee: None,
                    due_at,
                    reason: None,
                },
                EventKind::InfoRequested { .. } => EventKind::InfoRequested {
                    question: String::new(),
                },
                EventKind::InfoProvided { due_at, .. } => EventKind::InfoProvided {
                    answer: String::new(),
                    due_at,
                },
                EventKind::Closed { .. } => EventKind::Closed { note: None },
                EventKind::Rated {
                    score,
                    fixed,
                    unit,
                    due_at,
                    ..
                } => EventKind::Rated {
                    score,
                    fixed,
                    comment: None,
                    unit,
                    due_at,
                },
                EventKind::ReturnedToTriage { unit, to, .. } => EventKind::ReturnedToTriage {
                    unit,
                    reason: String::new(),
                    to,
                },
                EventKind::Transferred {
                    from, to, due_at, ..
                } => EventKind::Transferred {
                    from,
                    to,
                    reason: String::new(),
                    due_at,
                },
                EventKind::MarkedUrgent { due_at, .. } => EventKind::MarkedUrgent {
                    reason: String::new(),
                    due_at,
                },
                other => other,
            }),
        }
    }
}

/// What the public may see of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Staff only (internal notes, who in the unit works on it).
    Internal,
    /// In the public timeline; `text`: the words written with it are for the public too.
    Public { text: bool },
}

/// One stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    pub kind: EventKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_words_never_reach_the_public_view() {
        let secret = "SECRET-NOTE";
        let internal = [
            EventKind::Assigned {
                unit: "U".into(),
                assignee: Some(3),
                due_at: None,
                reason: Some(secret.into()),
            },
            EventKind::Transferred {
                from: "A".into(),
                to: "B".into(),
                reason: secret.into(),
                due_at: None,
            },
            EventKind::ReturnedToTriage {
                unit: "A".into(),
                reason: secret.into(),
                to: "T".into(),
            },
            EventKind::InfoRequested {
                question: secret.into(),
            },
            EventKind::InfoProvided {
                answer: secret.into(),
                due_at: None,
            },
            EventKind::Closed {
                note: Some(secret.into()),
            },
            EventKind::Commented {
                text: secret.into(),
                public: false,
            },
            EventKind::PublicTextEdited {
                text: secret.into(),
            },
            EventKind::PhotoHidden {
                photo: secret.into(),
            },
            EventKind::PhotoRedacted {
                photo: secret.into(),
                copy: secret.into(),
                boxes: vec![],
            },
        ];
        for e in internal {
            let shown = serde_json::to_string(&e.public_view()).unwrap();
            assert!(!shown.contains(secret), "{shown}");
            assert_eq!(e.public_note(), None, "{e:?}");
        }
        let public = EventKind::Commented {
            text: "for everyone".into(),
            public: true,
        };
        assert_eq!(public.public_view(), Some(public.clone()));
        assert_eq!(public.public_note(), Some("for everyone"));
    }
}
