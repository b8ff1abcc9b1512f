//! The common procedure, the same for every unit.
//!
//! ```text
//!            assign                start              resolve            close
//!  new ─────────────► assigned ──────────► in_progress ───────► resolved ───────► closed
//!   ▲                  │  ▲ │ transfer        │  │                 │ reopen ▲        │
//!   │ return to triage │  │ └──(to another unit, new due date)     ▼        │        │
//!   └──────────────────┘  └──── info provided ◄── info_requested   assigned ◄┴────────┘
//!                                (clock paused while waiting)
//! reject: from new / assigned / in_progress → rejected (reopen possible)
//! mark duplicate: from any open status → duplicate (of another report); undo → back to
//!                 the status it had, same unit and deadline
//! ```
//!
//! [`decide`] checks a command against the current [`State`] and returns the event to
//! append; it never touches storage. Illegal transitions are refused with a clear error.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;
use crate::event::{Event, EventKind};
use crate::model::{Publication, Status};

/// The current state of a report, as a fold of its history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    pub unit: String,
    pub assignee: Option<i64>,
    pub due_at: Option<DateTime<Utc>>,
    /// Set while the clock is paused (information requested from the citizen).
    pub paused_at: Option<DateTime<Utc>>,
    /// The status to go back to when the information arrives.
    pub resume_status: Option<Status>,
    pub field: String,
    /// The citizen rated the latest resolution (a new resolution may be rated again).
    #[serde(default)]
    pub rated: bool,
    /// Whether the words and photos are public yet (see `crate::moderation`).
    #[serde(default)]
    pub publication: Publication,
    /// The text the public sees, when a moderator edited it.
    #[serde(default)]
    pub public_text: Option<String>,
    /// Urgent (khẩn cấp): deadlines in hours on the clock, top of every queue.
    #[serde(default)]
    pub urgent: bool,
    /// The report this one duplicates, while it is merged into it.
    #[serde(default)]
    pub duplicate_of: Option<String>,
    /// The status it had when it was merged (what undoing the merge restores).
    #[serde(default)]
    pub merged_from: Option<Status>,
}

impl State {
    /// Folds a whole history. The first event must be `Created`.
    pub fn fold(events: &[Event]) -> Option<State> {
        let mut iter = events.iter();
        let first = iter.next()?;
        let EventKind::Created {
            field,
            unit,
            review,
            ..
        } = &first.kind
        else {
            return None;
        };
        let mut state = State {
            status: Status::New,
            unit: unit.clone(),
            assignee: None,
            due_at: None,
            paused_at: None,
            resume_status: None,
            field: field.clone(),
            rated: false,
            publication: if *review {
                Publication::Review
            } else {
                Publication::Published
            },
            public_text: None,
            urgent: false,
            duplicate_of: None,
            merged_from: None,
        };
        for e in iter {
            state.apply(&e.kind, e.at);
        }
        Some(state)
    }

    /// Applies one event. Events in a stored history were checked by [`decide`] when they
    /// were appended, so this does not check again.
    pub fn apply(&mut self, event: &EventKind, at: DateTime<Utc>) {
        match event {
            EventKind::Created {
                field,
                unit,
                review,
                ..
            } => {
                self.field = field.clone();
                self.unit = unit.clone();
                self.status = Status::New;
                if *review {
                    self.publication = Publication::Review;
                }
            }
            EventKind::Assigned {
                unit,
                assignee,
                due_at,
                ..
            } => {
                self.unit = unit.clone();
                self.assignee = *assignee;
                self.due_at = *due_at;
                self.status = Status::Assigned;
            }
            EventKind::StaffAssigned { assignee } => self.assignee = *assignee,
            EventKind::Started => self.status = Status::InProgress,
            EventKind::InfoRequested { .. } => {
                self.resume_status = Some(self.status);
                self.paused_at = Some(at);
                self.status = Status::InfoRequested;
            }
            EventKind::InfoProvided { due_at, .. } => {
                self.status = self.resume_status.take().unwrap_or(Status::Assigned);
                self.paused_at = None;
                self.due_at = *due_at;
            }
            EventKind::Resolved { .. } => {
                self.status = Status::Resolved;
                self.paused_at = None;
                self.rated = false;
            }
            EventKind::Closed { .. } => self.status = Status::Closed,
            EventKind::Rejected { .. } => {
                self.status = Status::Rejected;
                self.paused_at = None;
            }
            EventKind::ReturnedToTriage { to, .. } => {
                if !to.is_empty() {
                    self.unit = to.clone();
                }
                self.status = Status::New;
                self.assignee = None;
                self.due_at = None;
                self.paused_at = None;
            }
            EventKind::Transferred { to, due_at, .. } => {
                self.unit = to.clone();
                self.assignee = None;
                self.due_at = *due_at;
                self.paused_at = None;
                self.status = Status::Assigned;
            }
            EventKind::Reopened { due_at, .. } => {
                self.status = Status::Assigned;
                self.due_at = *due_at;
            }
            EventKind::Commented { .. }
            | EventKind::PhotoHidden { .. }
            | EventKind::PhotoRedacted { .. }
            // The original keeps its course when another report is merged into it.
            | EventKind::DuplicateLinked { .. }
            | EventKind::DuplicateUnlinked { .. } => {}
            EventKind::Published => self.publication = Publication::Published,
            EventKind::PublicTextEdited { text } => self.public_text = Some(text.clone()),
            EventKind::HiddenFromPublic { .. } => self.publication = Publication::Hidden,
            EventKind::MarkedUrgent { due_at, .. } => {
                self.urgent = true;
                if due_at.is_some() {
                    self.due_at = *due_at;
                }
            }
            EventKind::MarkedDuplicate { of } => {
                self.merged_from = Some(self.status);
                self.status = Status::Duplicate;
                self.duplicate_of = Some(of.clone());
            }
            EventKind::DuplicateUndone { status, .. } => {
                self.status = *status;
                self.duplicate_of = None;
                self.merged_from = None;
            }
            EventKind::Rated { fixed, due_at, .. } => {
                self.rated = true;
                if !fixed {
                    // Not really fixed: back to the same unit, with a new deadline.
                    self.status = Status::Assigned;
                    self.due_at = *due_at;
                }
            }
        }
    }

    /// Whether the deadline has passed at `now` (a paused clock is never overdue).
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open()
            && self.status != Status::New
            && self.paused_at.is_none()
            && self.due_at.is_some_and(|d| d < now)
    }
}

/// What staff (or the citizen, or the system) ask to do with a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Command {
    Assign {
        unit: String,
        #[serde(default)]
        assignee: Option<i64>,
        #[serde(default)]
        note: Option<String>,
    },
    AssignStaff {
        #[serde(default)]
        assignee: Option<i64>,
    },
    Start,
    RequestInfo {
        question: String,
    },
    ProvideInfo {
        answer: String,
    },
    Resolve {
        note: String,
        #[serde(default)]
        photo: Option<String>,
        /// Where the staff member's phone was when resolving (from the browser).
        #[serde(default)]
        position: Option<crate::model::Point>,
        /// Where the photo was taken (its EXIF position, read by the server before it was
        /// stripped); never from the request.
        #[serde(skip)]
        photo_position: Option<crate::model::Point>,
    },
    Close {
        #[serde(default)]
        note: Option<String>,
    },
    Reject {
        reason: String,
    },
    ReturnToTriage {
        reason: String,
    },
    Transfer {
        to: String,
        reason: String,
    },
    Reopen {
        reason: String,
    },
    Comment {
        text: String,
        #[serde(default)]
        public: bool,
    },
    /// The citizen rates the result (1–5) and says whether it is really fixed; "not fixed"
    /// reopens the report to the same unit.
    Rate {
        score: u8,
        fixed: bool,
        #[serde(default)]
        comment: Option<String>,
    },
    /// Staff mark the report urgent: deadlines in hours from now on.
    MarkUrgent {
        reason: String,
    },
    /// Staff close the report as a duplicate of report `of` (its tracking code).
    MarkDuplicate {
        of: String,
    },
    /// Staff undo the merge: the report goes back to where it was.
    UndoDuplicate,
}

/// The name of a command, for buttons, permissions and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Assign,
    AssignStaff,
    Start,
    RequestInfo,
    ProvideInfo,
    Resolve,
    Close,
    Reject,
    ReturnToTriage,
    Transfer,
    Reopen,
    Comment,
    Rate,
    MarkUrgent,
    MarkDuplicate,
    UndoDuplicate,
}

impl Action {
    pub const ALL: [Action; 16] = [
        Action::Assign,
        Action::AssignStaff,
        Action::Start,
        Action::RequestInfo,
        Action::ProvideInfo,
        Action::Resolve,
        Action::Close,
        Action::Reject,
        Action::ReturnToTriage,
        Action::Transfer,
        Action::Reopen,
        Action::Comment,
        Action::Rate,
        Action::MarkUrgent,
        Action::MarkDuplicate,
        Action::UndoDuplicate,
    ];

    /// The steps staff may take on many reports at once from a queue (each is still one
    /// event per report, decided and permitted per report).
    pub const BULK: [Action; 6] = [
        Action::Assign,
        Action::Transfer,
        Action::Start,
        Action::Comment,
        Action::MarkUrgent,
        Action::MarkDuplicate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Assign => "assign",
            Action::AssignStaff => "assign_staff",
            Action::Start => "start",
            Action::RequestInfo => "request_info",
            Action::ProvideInfo => "provide_info",
            Action::Resolve => "resolve",
            Action::Close => "close",
            Action::Reject => "reject",
            Action::ReturnToTriage => "return_to_triage",
            Action::Transfer => "transfer",
            Action::Reopen => "reopen",
            Action::Comment => "comment",
            Action::Rate => "rate",
            Action::MarkUrgent => "mark_urgent",
            Action::MarkDuplicate => "mark_duplicate",
            Action::UndoDuplicate => "undo_duplicate",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Action::Assign => "Chuyển đơn vị xử lý",
            Action::AssignStaff => "Phân công cán bộ",
            Action::Start => "Bắt đầu xử lý",
            Action::RequestInfo => "Đề nghị bổ sung thông tin",
            Action::ProvideInfo => "Ghi nhận thông tin bổ sung",
            Action::Resolve => "Báo cáo đã xử lý",
            Action::Close => "Đóng hồ sơ",
            Action::Reject => "Từ chối",
            Action::ReturnToTriage => "Trả về tổng đài (không thuộc thẩm quyền)",
            Action::Transfer => "Chuyển đơn vị khác",
            Action::Reopen => "Mở lại",
            Action::Comment => "Ghi chú",
            Action::Rate => "Đánh giá kết quả",
            Action::MarkUrgent => "Đánh dấu khẩn cấp",
            Action::MarkDuplicate => "Đóng vì trùng với hồ sơ khác",
            Action::UndoDuplicate => "Hủy gộp",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Action::Assign => "Assign to a unit",
            Action::AssignStaff => "Assign a staff member",
            Action::Start => "Start work",
            Action::RequestInfo => "Ask the citizen for information",
            Action::ProvideInfo => "Record the citizen's answer",
            Action::Resolve => "Mark resolved",
            Action::Close => "Close",
            Action::Reject => "Reject",
            Action::ReturnToTriage => "Return to triage (not ours)",
            Action::Transfer => "Transfer to another unit",
            Action::Reopen => "Reopen",
            Action::Comment => "Add a note",
            Action::Rate => "Rate the result",
            Action::MarkUrgent => "Mark urgent",
            Action::MarkDuplicate => "Close as a duplicate of another report",
            Action::UndoDuplicate => "Undo merge",
        }
    }
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Assign { .. } => Action::Assign,
            Command::AssignStaff { .. } => Action::AssignStaff,
            Command::Start => Action::Start,
            Command::RequestInfo { .. } => Action::RequestInfo,
            Command::ProvideInfo { .. } => Action::ProvideInfo,
            Command::Resolve { .. } => Action::Resolve,
            Command::Close { .. } => Action::Close,
            Command::Reject { .. } => Action::Reject,
            Command::ReturnToTriage { .. } => Action::ReturnToTriage,
            Command::Transfer { .. } => Action::Transfer,
            Command::Reopen { .. } => Action::Reopen,
            Command::Comment { .. } => Action::Comment,
            Command::Rate { .. } => Action::Rate,
            Command::MarkUrgent { .. } => Action::MarkUrgent,
            Command::MarkDuplicate { .. } => Action::MarkDuplicate,
            Command::UndoDuplicate => Action::UndoDuplicate,
        }
    }
}

/// Which actions the procedure allows in a status (before looking at who asks).
pub fn allowed_actions(status: Status) -> &'static [Action] {
    use Action::*;
    match status {
        Status::New => &[Assign, Reject, Comment, MarkUrgent, MarkDuplicate],
        Status::Assigned => &[
            MarkUrgent,
            AssignStaff,
            Start,
            RequestInfo,
            Resolve,
            Reject,
            ReturnToTriage,
            Transfer,
            Comment,
            MarkDuplicate,
        ],
        Status::InProgress => &[
            MarkUrgent,
            AssignStaff,
            RequestInfo,
            Resolve,
            Reject,
            ReturnToTriage,
            Transfer,
            Comment,
            MarkDuplicate,
        ],
        Status::InfoRequested => &[ProvideInfo, Reject, Comment, MarkUrgent, MarkDuplicate],
        Status::Resolved => &[Close, Reopen, Comment, Rate],
        Status::Closed => &[Reopen, Comment, Rate],
        Status::Rejected => &[Reopen, Comment],
        // Merged: only undoing the merge (and internal notes); the original carries on.
        Status::Duplicate => &[UndoDuplicate, Comment],
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcedureError {
    #[error(
        "không thể «{action_vi}» khi hồ sơ đang ở trạng thái «{status_vi}» / cannot {action} a report that is {status}",
        action_vi = .action.label_vi(), status_vi = .status.label_vi(),
        action = .action.as_str(), status = .status.as_str()
    )]
    NotAllowed { action: Action, status: Status },
    #[error("cần nêu lý do hoặc nội dung / a reason or text is required")]
    TextRequired,
    #[error("hồ sơ đã ở đơn vị này / the report is already with this unit")]
    SameUnit,
    #[error("không thể chuyển về bàn điều phối bằng thao tác này / use return to triage instead")]
    TriageTarget,
    #[error("kết quả này đã được đánh giá / this result was already rated")]
    AlreadyRated,
    #[error("điểm đánh giá phải từ 1 đến 5 / the score must be from 1 to 5")]
    BadScore,
    #[error("hồ sơ đã được đánh dấu khẩn cấp / the report is already urgent")]
    AlreadyUrgent,
    #[error("cần mã hồ sơ gốc / the original report's code is required")]
    OriginalRequired,
}

/// A resolution whose photo or phone was farther than this from the report's place is
/// flagged to staff (the distance is kept in the history).
pub const FAR_FROM_PLACE_M: u32 = 200;

/// What [`decide`] needs to know besides the state.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    /// The report's map point, if it has one.
    pub place: Option<crate::model::Point>,
    pub calendar: &'a Calendar,
    /// Working days the report's field allows to resolve.
    pub resolve_days: u32,
    /// The triage desk's unit code.
    pub triage_unit: &'a str,
    /// Hours on the clock the field allows to resolve an urgent report.
    pub urgent_hours: u32,
}

impl Context<'_> {
    /// A new deadline from now: working days, or hours on the clock when urgent.
    fn due(&self, state: &State) -> Option<DateTime<Utc>> {
        Some(if state.urgent {
            crate::urgent::due(self.now, self.urgent_hours)
        } else {
            self.calendar.due_date(self.now, self.resolve_days)
        })
    }
}

fn required(text: &str) -> Result<String, ProcedureError> {
    let t = text.trim();
    if t.is_empty() {
        Err(ProcedureError::TextRequired)
    } else {
        Ok(t.to_string())
    }
}

/// Checks `command` against `state` and returns the event to append.
pub fn decide(
    state: &State,
    command: &Command,
    ctx: &Context<'_>,
) -> Result<EventKind, ProcedureError> {
    let action = command.action();
    if !allowed_actions(state.status).contains(&action) {
        return Err(ProcedureError::NotAllowed {
            action,
            status: state.status,
        });
    }
    Ok(match command {
        Command::Assign {
            unit,
            assignee,
            note,
        } => {
            if unit == ctx.triage_unit {
                return Err(ProcedureError::TriageTarget);
            }
            EventKind::Assigned {
                unit: unit.clone(),
                assignee: *assignee,
                due_at: ctx.due(state),
                reason: note
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from),
            }
        }
        Command::AssignStaff { assignee } => EventKind::StaffAssigned {
            assignee: *assignee,
        },
        Command::Start => EventKind::Started,
        Command::RequestInfo { question } => EventKind::InfoRequested {
            question: required(question)?,
        },
        Command::ProvideInfo { answer } => EventKind::InfoProvided {
            answer: required(answer)?,
            due_at: match (state.due_at, state.paused_at) {
                (Some(due), Some(paused)) => Some(ctx.calendar.extend(due, paused, ctx.now)),
                (due, _) => due,
            },
        },
        Command::Resolve {
            note,
            photo,
            position,
            photo_position,
        } => EventKind::Resolved {
            note: required(note)?,
            photo: photo.clone(),
            // The photo's own position first: it is where the work was seen done.
            distance_m: photo_position
                .or(*position)
                .filter(crate::model::Point::is_valid)
                .zip(ctx.place)
                .map(|(at, place)| at.distance_m(&place).round() as u32),
        },
        Command::Close { note } => EventKind::Closed {
            note: note
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
        },
        Command::Reject { reason } => EventKind::Rejected {
            reason: required(reason)?,
        },
        Command::ReturnToTriage { reason } => EventKind::ReturnedToTriage {
            unit: state.unit.clone(),
            reason: required(reason)?,
            to: ctx.triage_unit.to_string(),
        },
        Command::Transfer { to, reason } => {
            if *to == state.unit {
                return Err(ProcedureError::SameUnit);
            }
            if to == ctx.triage_unit {
                return Err(ProcedureError::TriageTarget);
            }
            EventKind::Transferred {
                from: state.unit.clone(),
                to: to.clone(),
                reason: required(reason)?,
                due_at: ctx.due(state),
            }
        }
        Command::Reopen { reason } => {
            // A report rejected at the triage desk has no unit to go back to.
            if state.unit == ctx.triage_unit {
                return Err(ProcedureError::NotAllowed {
                    action,
                    status: state.status,
                });
            }
            EventKind::Reopened {
                reason: required(reason)?,
                due_at: ctx.due(state),
            }
        }
        Command::Comment { text, public } => EventKind::Commented {
            text: required(text)?,
            public: *public,
        },
        Command::Rate {
            score,
            fixed,
            comment,
        } => {
            if state.rated {
                return Err(ProcedureError::AlreadyRated);
            }
            if !(1..=5).contains(score) {
                return Err(ProcedureError::BadScore);
            }
            EventKind::Rated {
                score: *score,
                fixed: *fixed,
                comment: comment
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.chars().take(1000).collect()),
                unit: state.unit.clone(),
                due_at: if *fixed { None } else { ctx.due(state) },
            }
        }
        Command::MarkUrgent { reason } => {
            if state.urgent {
                return Err(ProcedureError::AlreadyUrgent);
            }
            // A unit that has it now gets the hours from now, unless its deadline is sooner.
            let due_at = match state.status {
                Status::Assigned | Status::InProgress => {
                    let hours = crate::urgent::due(ctx.now, ctx.urgent_hours);
                    Some(state.due_at.map_or(hours, |d| d.min(hours)))
                }
                _ => None,
            };
            EventKind::MarkedUrgent {
                reason: required(reason)?,
                due_at,
            }
        }
        Command::MarkDuplicate { of } => {
            let of = of.trim();
            if of.is_empty() {
                return Err(ProcedureError::OriginalRequired);
            }
            EventKind::MarkedDuplicate { of: of.to_string() }
        }
        Command::UndoDuplicate => match (&state.duplicate_of, state.merged_from) {
            (Some(of), Some(status)) => EventKind::DuplicateUndone {
                of: of.clone(),
                status,
            },
            _ => {
                return Err(ProcedureError::NotAllowed {
                    action,
                    status: state.status,
                });
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Actor, Channel};
    use chrono::TimeZone;

    const TRIAGE: &str = "TONGDAI1022";

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
    }

    fn new_state() -> State {
        State::fold(&[Event {
            seq: 1,
            at: at(2026, 3, 2, 2),
            actor: Actor::citizen(),
            kind: EventKind::Created {
                field: "traffic".into(),
                channel: Channel::Web,
                ward: Some("26743".into()),
                unit: TRIAGE.into(),
                review: false,
            },
        }])
        .unwrap()
    }

    fn run(
        state: &mut State,
        cmd: Command,
        now: DateTime<Utc>,
    ) -> Result<EventKind, ProcedureError> {
        let cal = Calendar::default();
        let ctx = Context {
            now,
            place: None,
            calendar: &cal,
            resolve_days: 5,
            triage_unit: TRIAGE,
            urgent_hours: 4,
        };
        let ev = decide(state, &cmd, &ctx)?;
        state.apply(&ev, now);
        Ok(ev)
    }

    fn assign(unit: &str) -> Command {
        Command::Assign {
            unit: unit.into(),
            assignee: None,
            note: None,
        }
    }

    #[test]
    fn an_urgent_report_counts_hours_on_the_clock_from_any_unit_that_takes_it() {
        // Friday 22:00 in Ho Chi Minh City, before a weekend.
        let friday_night = at(2026, 3, 6, 15);
        let mut s = new_state();
        let ev = run(
            &mut s,
            Command::MarkUrgent {
                reason: "Cây đổ chắn đường".into(),
            },
            friday_night,
        )
        .unwrap();
        // At the triage desk: no deadline yet; the unit that takes it gets hours.
        assert_eq!(
            ev,
            EventKind::MarkedUrgent {
                reason: "Cây đổ chắn đường".into(),
                due_at: None
            }
        );
        assert!(s.urgent);
        run(&mut s, assign("SXD"), friday_night).unwrap();
        assert_eq!(s.due_at, Some(at(2026, 3, 6, 19)), "02:00 on Saturday");
        // Transferred an hour later: the new unit has four hours from then.
        run(
            &mut s,
            Command::Transfer {
                to: "SAWACO".into(),
                reason: "Ống nước".into(),
            },
            at(2026, 3, 6, 16),
        )
        .unwrap();
        assert_eq!(s.due_at, Some(at(2026, 3, 6, 20)));
        // Marked again: refused.
        assert_eq!(
            run(
                &mut s,
                Command::MarkUrgent { reason: "x".into() },
                at(2026, 3, 6, 16)
            ),
            Err(ProcedureError::AlreadyUrgent)
        );
    }

    #[test]
    fn marking_urgent_shortens_the_deadline_of_a_unit_that_has_it_never_lengthens() {
        let mut s = new_state();
        run(&mut s, assign("SXD"), at(2026, 3, 2, 2)).unwrap();
        let working_days = s.due_at.unwrap();
        assert!(working_days > at(2026, 3, 3, 2));
        run(
            &mut s,
            Command::MarkUrgent {
                reason: "Hở nắp cống".into(),
            },
            at(2026, 3, 2, 3),
        )
        .unwrap();
        assert_eq!(s.due_at, Some(at(2026, 3, 2, 7)));
        // A reason is required.
        let mut t = new_state();
        assert_eq!(
            run(
                &mut t,
                Command::MarkUrgent { reason: " ".into() },
                at(2026, 3, 2, 3)
            ),
            Err(ProcedureError::TextRequired)
        );
    }

    #[test]
    fn the_citizen_rates_once_and_not_fixed_reopens_to_the_same_unit() {
        let mut s = new_state();
        let now = at(2026, 3, 2, 3);
        run(
            &mut s,
            Command::Assign {
                unit: "SXD".into(),
                assignee: None,
                note: None,
            },
            now,
        )
        .unwrap();
        let rate = |score, fixed| Command::Rate {
            score,
            fixed,
            comment: None,
        };
        // Not before it is resolved.
        assert!(matches!(
            run(&mut s, rate(5, true), now),
            Err(ProcedureError::NotAllowed { .. })
        ));
        run(
            &mut s,
            Command::Resolve {
                note: "xong".into(),
                photo: None,
                position: None,
                photo_position: None,
            },
            now,
        )
        .unwrap();
        assert_eq!(
            run(&mut s, rate(0, true), now),
            Err(ProcedureError::BadScore)
        );
        assert_eq!(
            run(&mut s, rate(6, true), now),
            Err(ProcedureError::BadScore)
        );
        let e = run(&mut s, rate(2, false), at(2026, 3, 3, 3)).unwrap();
        let EventKind::Rated { unit, due_at, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(unit, "SXD");
        assert!(due_at.is_some());
        assert_eq!(
            (s.status, s.unit.as_str()),
            (Status::Assigned, "SXD"),
            "reopened to the same unit"
        );
        // Resolved again: one more rating allowed, then no more.
        run(
            &mut s,
            Command::Resolve {
                note: "xong hẳn".into(),
                photo: None,
                position: None,
                photo_position: None,
            },
            now,
        )
        .unwrap();
        run(&mut s, rate(5, true), now).unwrap();
        assert_eq!(s.status, Status::Resolved);
        assert_eq!(
            run(&mut s, rate(4, true), now),
            Err(ProcedureError::AlreadyRated)
        );
    }

    #[test]
    fn happy_path_new_to_closed() {
        let mut s = new_state();
        // Monday 2 March 2026, 09:00 local.
        run(&mut s, assign("SXD"), at(2026, 3, 2, 2)).unwrap();
        assert_eq!(s.status, Status::Assigned);
        assert_eq!(s.unit, "SXD");
        // 5 working days after Monday 2 March → Monday 9 March 17:00 local = 10:00 UTC.
        assert_eq!(s.due_at, Some(at(2026, 3, 9, 10)));
        run(&mut s, Command::Start, at(2026, 3, 3, 2)).unwrap();
        assert_eq!(s.status, Status::InProgress);
        run(
            &mut s,
            Command::Resolve {
                note: "Đã vá ổ gà".into(),
                photo: None,
                position: None,
                photo_position: None,
            },
            at(2026, 3, 4, 2),
        )
        .unwrap();
        assert_eq!(s.status, Status::Resolved);
        run(&mut s, Command::Close { note: None }, at(2026, 3, 5, 2)).unwrap();
        assert_eq!(s.status, Status::Closed);
    }

    #[test]
    fn every_status_refuses_what_the_procedure_does_not_allow() {
        let cal = Calendar::default();
        let ctx = Context {
            now: at(2026, 3, 2, 2),
            place: None,
            calendar: &cal,
            resolve_days: 5,
            triage_unit: TRIAGE,
            urgent_hours: 4,
        };
        let samples = [
            assign("SXD"),
            Command::AssignStaff { assignee: Some(1) },
            Command::Start,
            Command::RequestInfo {
                question: "?".into(),
            },
            Command::ProvideInfo { answer: "a".into() },
            Command::Resolve {
                note: "n".into(),
                photo: None,
                position: None,
                photo_position: None,
            },
            Command::Close { note: None },
            Command::Reject { reason: "r".into() },
            Command::ReturnToTriage { reason: "r".into() },
            Command::Transfer {
                to: "OTHER".into(),
                reason: "r".into(),
            },
            Command::Reopen { reason: "r".into() },
            Command::Comment {
                text: "t".into(),
                public: false,
            },
            Command::MarkUrgent { reason: "u".into() },
            Command::MarkDuplicate {
                of: "K7QM-3XP9".into(),
            },
            Command::UndoDuplicate,
        ];
        for status in Status::ALL {
            let mut state = new_state();
            state.status = status;
            if status == Status::Duplicate {
                state.duplicate_of = Some("K7QM-3XP9".into());
                state.merged_from = Some(Status::InProgress);
            }
            state.unit = if status == Status::New {
                TRIAGE.into()
            } else {
                "SXD".into()
            };
            for cmd in &samples {
                let allowed = allowed_actions(status).contains(&cmd.action());
                let result = decide(&state, cmd, &ctx);
                if allowed {
                    assert!(
                        result.is_ok(),
                        "{:?} in {:?}: {:?}",
                        cmd.action(),
                        status,
                        result
                    );
                } else {
                    assert_eq!(
                        result,
                        Err(ProcedureError::NotAllowed {
                            action: cmd.action(),
                            status
                        }),
                    );
                }
            }
        }
    }

    #[test]
    fn info_request_pauses_the_clock_and_moves_the_due_date() {
        let mut s = new_state();
        run(&mut s, assign("SXD"), at(2026, 3, 2, 2)).unwrap();
        let due = s.due_at.unwrap();
        // Asked on Tuesday, answered on Thursday: two working days paused.
        run(
            &mut s,
            Command::RequestInfo {
                question: "Số nhà?".into(),
            },
            at(2026, 3, 3, 2),
        )
        .unwrap();
        assert_eq!(s.status, Status::InfoRequested);
        assert!(
            !s.is_overdue(at(2026, 4, 1, 0)),
            "a paused clock is never overdue"
        );
        run(
            &mut s,
            Command::ProvideInfo {
                answer: "Số 12".into(),
            },
            at(2026, 3, 5, 2),
        )
        .unwrap();
        assert_eq!(s.status, Status::Assigned);
        assert!(s.due_at.unwrap() > due);
        assert_eq!(s.due_at, Some(at(2026, 3, 11, 10)));
    }

    #[test]
    fn transfer_and_return_to_triage() {
        let mut s = new_state();
        run(&mut s, assign("SXD"), at(2026, 3, 2, 2)).unwrap();
        assert_eq!(
            run(
                &mut s,
                Command::Transfer {
                    to: "SXD".into(),
                    reason: "x".into()
                },
                at(2026, 3, 2, 3)
            ),
            Err(ProcedureError::SameUnit)
        );
        let ev = run(
            &mut s,
            Command::Transfer {
                to: "SAWACO".into(),
                reason: "Ống nước vỡ".into(),
            },
            at(2026, 3, 3, 2),
        )
        .unwrap();
        assert!(
            matches!(ev, EventKind::Transferred { ref from, ref to, .. } if from == "SXD" && to == "SAWACO")
        );
        assert_eq!(s.unit, "SAWACO");
        assert_eq!(
            s.due_at,
            Some(at(2026, 3, 10, 10)),
            "the new unit gets its own full deadline"
        );
        run(
            &mut s,
            Command::ReturnToTriage {
                reason: "Không thuộc thẩm quyền".into(),
            },
            at(2026, 3, 3, 3),
        )
        .unwrap();
        assert_eq!(s.status, Status::New);
        assert_eq!(s.due_at, None);
        assert_eq!(s.unit, TRIAGE, "the report is back with the triage desk");
        assert_eq!(
            run(&mut s, assign(TRIAGE), at(2026, 3, 3, 4)),
            Err(ProcedureError::TriageTarget)
        );
    }

    #[test]
    fn reasons_are_required() {
        let mut s = new_state();
        assert_eq!(
            run(
                &mut s,
                Command::Reject {
                    reason: "  ".into()
                },
                at(2026, 3, 2, 2)
            ),
            Err(ProcedureError::TextRequired)
        );
    }

    #[test]
    fn reopen_goes_back_to_the_same_unit_with_a_new_deadline() {
        let mut s = new_state();
        run(&mut s, assign("SXD"), at(2026, 3, 2, 2)).unwrap();
        run(
            &mut s,
            Command::Resolve {
                note: "ok".into(),
                photo: None,
                position: None,
                photo_position: None,
            },
            at(2026, 3, 3, 2),
        )
        .unwrap();
        run(
            &mut s,
            Command::Reopen {
                reason: "Chưa sửa xong".into(),
            },
            at(2026, 3, 4, 2),
        )
        .unwrap();
        assert_eq!(s.status, Status::Assigned);
        assert_eq!(s.unit, "SXD");
        assert_eq!(s.due_at, Some(at(2026, 3, 11, 10)));
    }

    #[test]
    fn a_duplicate_closes_and_undoing_the_merge_gives_back_status_unit_and_deadline() {
        for before in [
            Status::New,
            Status::Assigned,
            Status::InProgress,
            Status::InfoRequested,
        ] {
            let mut s = new_state();
            if before != Status::New {
                run(&mut s, assign("SXD"), at(2026, 3, 2, 2)).unwrap();
            }
            match before {
                Status::InProgress => {
                    run(&mut s, Command::Start, at(2026, 3, 2, 3)).unwrap();
                }
                Status::InfoRequested => {
                    run(
                        &mut s,
                        Command::RequestInfo {
                            question: "Số nhà?".into(),
                        },
                        at(2026, 3, 2, 3),
                    )
                    .unwrap();
                }
                _ => {}
            }
            assert_eq!(s.status, before);
            let kept = s.clone();
            let ev = run(
                &mut s,
                Command::MarkDuplicate {
                    of: " K7QM-3XP9 ".into(),
                },
                at(2026, 3, 3, 2),
            )
            .unwrap();
            assert_eq!(
                ev,
                EventKind::MarkedDuplicate {
                    of: "K7QM-3XP9".into()
                }
            );
            assert_eq!(s.status, Status::Duplicate);
            assert!(!s.status.is_open() && s.status.is_published());
            assert_eq!(s.duplicate_of.as_deref(), Some("K7QM-3XP9"));
            assert!(
                !s.is_overdue(at(2026, 5, 1, 0)),
                "a merged report is never overdue"
            );
            // Nothing but undoing it (or a note) while it is merged.
            assert!(matches!(
                run(
                    &mut s,
                    Command::Resolve {
                        note: "x".into(),
                        photo: None,
                        position: None,
                        photo_position: None,
                    },
                    at(2026, 3, 3, 3)
                ),
                Err(ProcedureError::NotAllowed { .. })
            ));
            let ev = run(&mut s, Command::UndoDuplicate, at(2026, 3, 4, 2)).unwrap();
            assert_eq!(
                ev,
                EventKind::DuplicateUndone {
                    of: "K7QM-3XP9".into(),
                    status: before
                }
            );
            assert_eq!(s, kept, "{before:?}: the state before the merge");
        }
        // The original's code is required; a closed report cannot be merged, nor a report
        // that is not merged be unmerged.
        let mut s = new_state();
        assert_eq!(
            run(
                &mut s,
                Command::MarkDuplicate { of: " ".into() },
                at(2026, 3, 2, 2)
            ),
            Err(ProcedureError::OriginalRequired)
        );
        assert!(matches!(
            run(&mut s, Command::UndoDuplicate, at(2026, 3, 2, 2)),
            Err(ProcedureError::NotAllowed { .. })
        ));
    }

    #[test]
    fn overdue_only_when_open_and_past_due() {
        let mut s = new_state();
        run(&mut s, assign("SXD"), at(2026, 3, 2, 2)).unwrap();
        assert!(!s.is_overdue(at(2026, 3, 9, 9)));
        assert!(s.is_overdue(at(2026, 3, 9, 11)));
        run(
            &mut s,
            Command::Resolve {
                note: "ok".into(),
                photo: None,
                position: None,
                photo_position: None,
            },
            at(2026, 3, 10, 2),
        )
        .unwrap();
        assert!(!s.is_overdue(at(2026, 3, 20, 0)));
    }

    #[test]
    fn a_resolution_keeps_how_far_from_the_place_the_photo_or_phone_was() {
        let cal = Calendar::default();
        let mut s = new_state();
        run(&mut s, assign("Q1"), at(2026, 3, 2, 2)).unwrap();
        let place = crate::model::Point {
            lat: 10.7725,
            lon: 106.698,
        };
        // About 330 m north, and about 55 m east.
        let north = crate::model::Point {
            lat: 10.7755,
            lon: 106.698,
        };
        let near = crate::model::Point {
            lat: 10.7725,
            lon: 106.6985,
        };
        let resolve = |position, photo_position| Command::Resolve {
            note: "Đã sửa".into(),
            photo: None,
            position,
            photo_position,
        };
        let distance = |cmd: &Command, place| {
            let ctx = Context {
                now: at(2026, 3, 3, 2),
                place,
                calendar: &cal,
                resolve_days: 5,
                triage_unit: TRIAGE,
                urgent_hours: 4,
            };
            match decide(&s, cmd, &ctx).unwrap() {
                EventKind::Resolved { distance_m, .. } => distance_m,
                other => panic!("{other:?}"),
            }
        };
        let far = distance(&resolve(None, Some(north)), Some(place)).unwrap();
        assert!((325..=340).contains(&far), "{far}");
        assert!(far > FAR_FROM_PLACE_M);
        // The photo's own position wins over the phone's.
        let d = distance(&resolve(Some(north), Some(near)), Some(place)).unwrap();
        assert!((50..=60).contains(&d), "{d}");
        assert_eq!(distance(&resolve(Some(near), None), Some(place)), Some(d));
        // Nothing to compare: nothing kept.
        assert_eq!(distance(&resolve(Some(near), None), None), None);
        assert_eq!(distance(&resolve(None, None), Some(place)), None);
        let nowhere = crate::model::Point {
            lat: f64::NAN,
            lon: 0.0,
        };
        assert_eq!(distance(&resolve(Some(nowhere), None), Some(place)), None);
    }
}
