//! Urgent cases (khẩn cấp): a fallen tree across a road, an open manhole. What makes a
//! report urgent, and its deadline, counted in hours on the clock (nights, weekends and
//! holidays included), not in working days.

use chrono::{DateTime, Duration, Utc};

use crate::event::{Event, EventKind};
use crate::model::{ActorKind, Status};
use crate::procedure::State;
use crate::profile::Field;

/// Hours to resolve an urgent report when its field says nothing else.
pub const DEFAULT_HOURS: u32 = 4;

/// Minutes the unit has to acknowledge (start work on) an urgent report before it is
/// escalated to its managers and the city's supervisors.
pub const ACK_MINUTES: i64 = 30;

/// Why a report being filed is urgent, if it is: its field always is, its description
/// has one of the field's urgent keywords, or the staff member filing it said so.
/// Vietnamese first, English second (the reason is kept in the history).
pub fn why(field: &Field, description: &str, marked_by_staff: bool) -> Option<String> {
    if field.urgent {
        return Some(format!(
            "Lĩnh vực khẩn cấp: {} / an urgent field: {}",
            field.name_vi, field.name_en
        ));
    }
    let text = description.to_lowercase();
    if let Some(k) = field
        .urgent_keywords
        .iter()
        .map(|k| k.trim())
        .find(|k| !k.is_empty() && text.contains(&k.to_lowercase()))
    {
        return Some(format!("Có từ khóa khẩn cấp «{k}» / urgent keyword «{k}»"));
    }
    marked_by_staff.then(|| "Nhân viên đánh dấu khẩn cấp / marked urgent by staff".to_string())
}

/// The deadline of an urgent report that a unit takes at `now`.
pub fn due(now: DateTime<Utc>, hours: u32) -> DateTime<Utc> {
    now + Duration::hours(i64::from(hours.max(1)))
}

/// When an urgent report that reached a unit at `at` is escalated if nobody started it.
pub fn escalate_at(at: DateTime<Utc>) -> DateTime<Utc> {
    at + Duration::minutes(ACK_MINUTES)
}

/// Whether `event`, which left the report in `after`, puts an urgent case before a unit
/// (the triage desk included) whose duty contact must be alerted now: the case was marked
/// urgent, or an urgent case arrived, came back, or was reopened.
pub fn alerts(event: &EventKind, after: &State) -> bool {
    let arrives = matches!(
        event,
        EventKind::MarkedUrgent { .. }
            | EventKind::Created { .. }
            | EventKind::Assigned { .. }
            | EventKind::Transferred { .. }
            | EventKind::ReturnedToTriage { .. }
            | EventKind::Reopened { .. }
            | EventKind::Rated { fixed: false, .. }
    );
    after.urgent && arrives && matches!(after.status, Status::New | Status::Assigned)
        || after.urgent
            && matches!(
                event,
                EventKind::MarkedUrgent { .. } | EventKind::Reopened { .. }
            )
            && after.status == Status::InProgress
}

/// Whether the unit took up an urgent case after event `seq` (the one that brought it
/// there): any step on it, or a staff member's note. Escalation is skipped if so.
pub fn taken_up(history: &[Event], seq: i64) -> bool {
    history.iter().filter(|e| e.seq > seq).any(|e| {
        // The unit's own steps; the triage desk placing it; a close; a staff note.
        e.kind.takes_up()
            || matches!(
                e.kind,
                EventKind::Assigned { .. } | EventKind::Closed { .. }
            )
            || matches!(e.kind, EventKind::Commented { .. }) && e.actor.kind == ActorKind::Staff
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn field() -> Field {
        Field {
            code: "trees".into(),
            name_vi: "Cây xanh".into(),
            name_en: "Trees".into(),
            icon: "🌳".into(),
            ack_hours: 8,
            resolve_days: 5,
            keywords: vec![],
            attributes: vec![],
            review: false,
            urgent: false,
            urgent_hours: 4,
            urgent_keywords: vec!["cây đổ".into(), "Hở nắp".into()],
            duplicate_radius_m: 150,
        }
    }

    #[test]
    fn a_field_a_keyword_or_a_person_makes_it_urgent() {
        let f = field();
        assert!(why(&f, "Cây bị sâu", false).is_none());
        assert!(
            why(&f, "CÂY ĐỔ chắn ngang đường", false)
                .unwrap()
                .contains("cây đổ")
        );
        assert!(why(&f, "Cống hở nắp trước nhà", false).is_some());
        assert!(why(&f, "Cây bị sâu", true).unwrap().contains("staff"));
        let always = Field {
            urgent: true,
            ..field()
        };
        assert!(
            why(&always, "Cây bị sâu", false)
                .unwrap()
                .contains("urgent field")
        );
    }

    #[test]
    fn the_deadline_is_hours_on_the_clock_through_a_night_and_a_holiday() {
        // 22:00 on 1 September 2026 in Ho Chi Minh City, the eve of National Day (a
        // holiday): four hours later is 02:00 on 2 September, holiday or not.
        let filed = Utc.with_ymd_and_hms(2026, 9, 1, 15, 0, 0).unwrap();
        assert_eq!(
            due(filed, 4),
            Utc.with_ymd_and_hms(2026, 9, 1, 19, 0, 0).unwrap()
        );
        assert_eq!(
            escalate_at(filed),
            Utc.with_ymd_and_hms(2026, 9, 1, 15, 30, 0).unwrap()
        );
        // Zero hours would be due at once: at least one.
        assert_eq!(due(filed, 0), filed + Duration::hours(1));
    }

    fn state(status: Status, urgent: bool) -> State {
        State {
            status,
            unit: "Q1".into(),
            assignee: None,
            due_at: None,
            paused_at: None,
            resume_status: None,
            field: "trees".into(),
            rated: false,
            publication: Default::default(),
            public_text: None,
            urgent,
            duplicate_of: None,
            merged_from: None,
        }
    }

    #[test]
    fn an_urgent_case_arriving_or_marked_alerts_the_unit() {
        let marked = EventKind::MarkedUrgent {
            reason: "x".into(),
            due_at: None,
        };
        let transferred = EventKind::Transferred {
            from: "Q1".into(),
            to: "Q3".into(),
            reason: "x".into(),
            due_at: None,
        };
        assert!(alerts(&marked, &state(Status::Assigned, true)));
        assert!(alerts(&marked, &state(Status::InProgress, true)));
        assert!(alerts(&transferred, &state(Status::Assigned, true)));
        assert!(alerts(&marked, &state(Status::New, true)));
        // Not urgent, or already being worked on, or done: nothing to alert.
        assert!(!alerts(&transferred, &state(Status::Assigned, false)));
        assert!(!alerts(&transferred, &state(Status::InProgress, true)));
        assert!(!alerts(
            &EventKind::Started,
            &state(Status::InProgress, true)
        ));
        assert!(!alerts(&marked, &state(Status::Resolved, true)));
    }

    #[test]
    fn a_step_or_a_staff_note_after_the_arrival_takes_it_up() {
        let at = Utc.with_ymd_and_hms(2026, 9, 1, 15, 0, 0).unwrap();
        let ev = |seq, actor: crate::model::Actor, kind| Event {
            seq,
            at,
            actor,
            kind,
        };
        let note = |public| EventKind::Commented {
            text: "Đã cử đội".into(),
            public,
        };
        let system = crate::model::Actor::system;
        let staff = || crate::model::Actor::staff(3, "Lan");
        let before = vec![ev(2, staff(), EventKind::Started)];
        assert!(
            !taken_up(&before, 2),
            "only what follows the arrival counts"
        );
        assert!(!taken_up(&[ev(3, system(), note(false))], 2));
        assert!(taken_up(&[ev(3, staff(), note(false))], 2));
        assert!(taken_up(&[ev(3, staff(), EventKind::Started)], 2));
        let merged = EventKind::MarkedDuplicate {
            of: "K7QM-3XP9".into(),
        };
        assert!(taken_up(&[ev(3, staff(), merged)], 2));
    }
}
