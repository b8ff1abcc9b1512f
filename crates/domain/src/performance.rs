//! Each unit's account of a report, derived from its history: when the unit got it, its
//! deadline (moved when the citizen was asked for information), how its part ended
//! (resolved on time or late, handed to another unit, rejected), whether the citizen said
//! "not fixed", and their score. Everything on the supervisors' dashboard is folded from
//! these, so any past period can be recomputed from the histories.

use chrono::{DateTime, Utc};

use crate::event::{Event, EventKind};

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Open,
    Resolved {
        at: DateTime<Utc>,
        on_time: bool,
    },
    /// Transferred or returned to the triage desk: the unit's part ends there.
    HandedOver {
        at: DateTime<Utc>,
    },
    Rejected {
        at: DateTime<Utc>,
    },
    /// Closed as a duplicate of another report: the problem is handled (and counted) on
    /// the original, so this is neither resolved nor overdue on the unit's account.
    /// Undoing the merge opens the account again.
    Merged {
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub unit: String,
    pub started: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub outcome: Outcome,
    /// Times the citizen (or a supervisor) reopened what this unit resolved.
    pub reopened: u32,
    pub score: Option<u8>,
    /// By when the unit had to acknowledge it (first step: start, ask, resolve, pass on).
    pub ack_due: Option<DateTime<Utc>>,
    pub acked_at: Option<DateTime<Utc>>,
}

impl Account {
    fn new(unit: &str, at: DateTime<Utc>, due_at: Option<DateTime<Utc>>) -> Account {
        Account {
            unit: unit.to_string(),
            started: at,
            due_at,
            outcome: Outcome::Open,
            reopened: 0,
            score: None,
            ack_due: None,
            acked_at: None,
        }
    }

    /// Acknowledged in time (None while not due and not acknowledged).
    pub fn acked_on_time(&self) -> Option<bool> {
        match (self.acked_at, self.ack_due) {
            (Some(a), Some(d)) => Some(a <= d),
            (Some(_), None) => Some(true),
            (None, _) => None,
        }
    }

    /// Still open and past its deadline at `now`.
    pub fn overdue_at(&self, now: DateTime<Utc>) -> bool {
        self.outcome == Outcome::Open && self.due_at.is_some_and(|d| d < now)
    }
}

/// The units' accounts of one report, in order.
pub fn accounts(history: &[Event]) -> Vec<Account> {
    accounts_with(history, |_, _| None)
}

/// [`accounts`], with each account's acknowledgement deadline: `ack_due(field, received)`.
pub fn accounts_with(
    history: &[Event],
    ack_due: impl Fn(&str, DateTime<Utc>) -> Option<DateTime<Utc>>,
) -> Vec<Account> {
    let field = match history.first().map(|e| &e.kind) {
        Some(EventKind::Created { field, .. }) => field.clone(),
        _ => String::new(),
    };
    let mut out = accounts_inner(history);
    for a in &mut out {
        a.ack_due = ack_due(&field, a.started);
    }
    out
}

fn accounts_inner(history: &[Event]) -> Vec<Account> {
    let mut out: Vec<Account> = Vec::new();
    // Index of the account the report currently sits in (None at the triage desk).
    let mut current: Option<usize> = None;
    let mut paused_since: Option<DateTime<Utc>> = None;
    for e in history {
        let at = e.at;
        // The unit's first step acknowledges it.
        let acts = e.kind.takes_up();
        if acts
            && let Some(i) = current
            && out[i].acked_at.is_none()
        {
            out[i].acked_at = Some(at);
        }
        match &e.kind {
            EventKind::Assigned { unit, due_at, .. } => {
                if let Some(i) = current
                    && out[i].outcome == Outcome::Open
                {
                    out[i].outcome = Outcome::HandedOver { at };
                }
                out.push(Account::new(unit, at, *due_at));
                current = Some(out.len() - 1);
            }
            EventKind::Transferred { to, due_at, .. } => {
                if let Some(i) = current {
                    out[i].outcome = Outcome::HandedOver { at };
                }
                out.push(Account::new(to, at, *due_at));
                current = Some(out.len() - 1);
            }
            EventKind::ReturnedToTriage { .. } => {
                if let Some(i) = current {
                    out[i].outcome = Outcome::HandedOver { at };
                }
                current = None;
            }
            EventKind::InfoRequested { .. } => paused_since = Some(at),
            EventKind::InfoProvided { due_at, .. } => {
                paused_since = None;
                if let Some(i) = current {
                    out[i].due_at = *due_at;
                }
            }
            EventKind::Resolved { .. } => {
                if let Some(i) = current {
                    let on_time = out[i].due_at.is_none_or(|d| at <= d);
                    out[i].outcome = Outcome::Resolved { at, on_time };
                }
                paused_since = None;
            }
            EventKind::Rejected { .. } => {
                if let Some(i) = current {
                    out[i].outcome = Outcome::Rejected { at };
                }
            }
            EventKind::MarkedDuplicate { .. } => {
                if let Some(i) = current
                    && out[i].outcome == Outcome::Open
                {
                    out[i].outcome = Outcome::Merged { at };
                }
            }
            EventKind::DuplicateUndone { .. } => {
                if let Some(i) = current
                    && matches!(out[i].outcome, Outcome::Merged { .. })
                {
                    out[i].outcome = Outcome::Open;
                }
            }
            // An urgent mark shortens the current unit's deadline.
            EventKind::MarkedUrgent {
                due_at: Some(due), ..
            } => {
                if let Some(i) = current {
                    out[i].due_at = Some(*due);
                }
            }
            EventKind::Reopened { due_at, .. } => {
                if let Some(i) = current {
                    out[i].reopened += 1;
                    let unit = out[i].unit.clone();
                    out.push(Account::new(&unit, at, *due_at));
                    current = Some(out.len() - 1);
                }
            }
            EventKind::Rated {
                score,
                fixed,
                unit,
                due_at,
                ..
            } => {
                // The score belongs to the unit that resolved it.
                if let Some(i) = out.iter().rposition(|a| &a.unit == unit) {
                    out[i].score = Some(*score);
                    if !fixed {
                        out[i].reopened += 1;
                        out.push(Account::new(unit, at, *due_at));
                        current = Some(out.len() - 1);
                    }
                }
            }
            EventKind::Created { .. }
            | EventKind::StaffAssigned { .. }
            | EventKind::Started
            | EventKind::Closed { .. }
            | EventKind::Commented { .. }
            | EventKind::MarkedUrgent { due_at: None, .. }
            // Moderation changes what the public sees, not the unit's account.
            | EventKind::Published
            | EventKind::PublicTextEdited { .. }
            | EventKind::PhotoHidden { .. }
            | EventKind::PhotoRedacted { .. }
            | EventKind::HiddenFromPublic { .. }
            // Another report merged into this one (or no longer): this one's account goes on.
            | EventKind::DuplicateLinked { .. }
            | EventKind::DuplicateUnlinked { .. } => {}
        }
    }
    // A clock paused at the end: the account is not overdue while it waits.
    if paused_since.is_some()
        && let Some(i) = current
    {
        out[i].due_at = None;
    }
    out
}

/// One unit's figures over a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UnitFigures {
    pub unit: String,
    /// Accounts opened in the period (reports received, transfers in, reopenings).
    pub received: u32,
    pub resolved: u32,
    pub resolved_on_time: u32,
    /// Open and past their deadline now.
    pub overdue: u32,
    /// Median hours from receiving to resolving.
    pub median_hours: Option<f64>,
    pub reopened: u32,
    pub ratings: u32,
    pub score_sum: u32,
    /// Accounts whose acknowledgement was due or done, and those acknowledged in time.
    pub ack_counted: u32,
    pub acked_on_time: u32,
}

impl UnitFigures {
    pub fn on_time_share(&self) -> Option<f64> {
        (self.resolved > 0).then(|| self.resolved_on_time as f64 / self.resolved as f64)
    }
    pub fn reopen_rate(&self) -> Option<f64> {
        (self.resolved > 0).then(|| self.reopened as f64 / self.resolved as f64)
    }
    pub fn ack_share(&self) -> Option<f64> {
        (self.ack_counted > 0).then(|| self.acked_on_time as f64 / self.ack_counted as f64)
    }
    pub fn average_score(&self) -> Option<f64> {
        (self.ratings > 0).then(|| self.score_sum as f64 / self.ratings as f64)
    }
}

/// Folds accounts opened in `[from, to)` into per-unit figures, as of `now`.
pub fn figures(
    accounts: impl IntoIterator<Item = Account>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<UnitFigures> {
    let mut by_unit: std::collections::BTreeMap<String, (UnitFigures, Vec<f64>)> =
        Default::default();
    for a in accounts {
        if a.started < from || a.started >= to {
            continue;
        }
        let (f, hours) = by_unit.entry(a.unit.clone()).or_insert_with(|| {
            (
                UnitFigures {
                    unit: a.unit.clone(),
                    ..Default::default()
                },
                vec![],
            )
        });
        f.received += 1;
        if let Outcome::Resolved { at, on_time } = a.outcome {
            f.resolved += 1;
            f.resolved_on_time += on_time as u32;
            hours.push((at - a.started).num_minutes() as f64 / 60.0);
        }
        if a.overdue_at(now) {
            f.overdue += 1;
        }
        f.reopened += a.reopened;
        match a.acked_on_time() {
            Some(ok) => {
                f.ack_counted += 1;
                f.acked_on_time += ok as u32;
            }
            // Not acknowledged and already late.
            None if a.ack_due.is_some_and(|d| d < now) => f.ack_counted += 1,
            None => {}
        }
        if let Some(s) = a.score {
            f.ratings += 1;
            f.score_sum += s as u32;
        }
    }
    by_unit
        .into_values()
        .map(|(mut f, mut hours)| {
            hours.sort_by(f64::total_cmp);
            f.median_hours = (!hours.is_empty()).then(|| {
                let n = hours.len();
                if n % 2 == 1 {
                    hours[n / 2]
                } else {
                    (hours[n / 2 - 1] + hours[n / 2]) / 2.0
                }
            });
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Actor, Channel};
    use chrono::{Duration, TimeZone};

    fn t(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0).unwrap()
    }

    fn ev(seq: i64, at: DateTime<Utc>, kind: EventKind) -> Event {
        Event {
            seq,
            at,
            actor: Actor::system(),
            kind,
        }
    }

    #[test]
    fn a_transfer_keeps_each_units_delay_on_its_own_account() {
        let h = vec![
            ev(
                1,
                t(2, 2),
                EventKind::Created {
                    field: "water".into(),
                    channel: Channel::Web,
                    ward: None,
                    unit: "TRIAGE".into(),
                    review: false,
                },
            ),
            ev(
                2,
                t(2, 3),
                EventKind::Assigned {
                    unit: "ROADS".into(),
                    assignee: None,
                    due_at: Some(t(4, 10)),
                    reason: None,
                },
            ),
            // ROADS held it past its own deadline before passing it on.
            ev(
                3,
                t(5, 3),
                EventKind::Transferred {
                    from: "ROADS".into(),
                    to: "WATER".into(),
                    reason: "nước".into(),
                    due_at: Some(t(10, 10)),
                },
            ),
            ev(
                4,
                t(9, 3),
                EventKind::Resolved {
                    note: "xong".into(),
                    photo: None,
                    distance_m: None,
                },
            ),
            ev(
                5,
                t(9, 5),
                EventKind::Rated {
                    score: 2,
                    fixed: false,
                    comment: None,
                    unit: "WATER".into(),
                    due_at: Some(t(12, 10)),
                },
            ),
            ev(
                6,
                t(11, 3),
                EventKind::Resolved {
                    note: "xong hẳn".into(),
                    photo: None,
                    distance_m: None,
                },
            ),
            ev(
                7,
                t(11, 5),
                EventKind::Rated {
                    score: 5,
                    fixed: true,
                    comment: None,
                    unit: "WATER".into(),
                    due_at: None,
                },
            ),
        ];
        let a = accounts(&h);
        assert_eq!(a.len(), 3, "{a:?}");
        assert_eq!(a[0].unit, "ROADS");
        assert_eq!(a[0].outcome, Outcome::HandedOver { at: t(5, 3) });
        assert_eq!(a[1].unit, "WATER");
        assert_eq!(
            a[1].outcome,
            Outcome::Resolved {
                at: t(9, 3),
                on_time: true
            }
        );
        assert_eq!(
            (a[1].reopened, a[1].score),
            (1, Some(2)),
            "the reopen counts against WATER"
        );
        assert_eq!(
            a[2].outcome,
            Outcome::Resolved {
                at: t(11, 3),
                on_time: true
            }
        );
        assert_eq!(a[2].score, Some(5));
        let f = figures(a, t(1, 0), t(30, 0), t(30, 0));
        let water = f.iter().find(|u| u.unit == "WATER").unwrap();
        assert_eq!(
            (
                water.received,
                water.resolved,
                water.reopened,
                water.ratings
            ),
            (2, 2, 1, 2)
        );
        assert_eq!(water.average_score(), Some(3.5));
        let roads = f.iter().find(|u| u.unit == "ROADS").unwrap();
        assert_eq!((roads.received, roads.resolved, roads.overdue), (1, 0, 0));
    }

    #[test]
    fn a_merged_duplicate_is_neither_resolved_nor_overdue_and_undoing_reopens_the_account() {
        let mut h = vec![
            ev(
                1,
                t(2, 3),
                EventKind::Created {
                    field: "roads".into(),
                    channel: Channel::Web,
                    ward: None,
                    unit: "ROADS".into(),
                    review: false,
                },
            ),
            ev(
                2,
                t(2, 3),
                EventKind::Assigned {
                    unit: "ROADS".into(),
                    assignee: None,
                    due_at: Some(t(4, 10)),
                    reason: None,
                },
            ),
            ev(
                3,
                t(3, 3),
                EventKind::MarkedDuplicate {
                    of: "K7QM-3XP9".into(),
                },
            ),
        ];
        let a = accounts(&h);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].outcome, Outcome::Merged { at: t(3, 3) });
        assert_eq!(
            a[0].acked_at,
            Some(t(3, 3)),
            "merging is a step by the unit"
        );
        let f = figures(a, t(1, 0), t(20, 0), t(20, 0));
        assert_eq!(
            (f[0].received, f[0].resolved, f[0].overdue),
            (1, 0, 0),
            "long past its deadline, yet not overdue"
        );
        h.push(ev(
            4,
            t(5, 3),
            EventKind::DuplicateUndone {
                of: "K7QM-3XP9".into(),
                status: crate::model::Status::Assigned,
            },
        ));
        let a = accounts(&h);
        assert_eq!(a[0].outcome, Outcome::Open);
        let f = figures(a, t(1, 0), t(20, 0), t(20, 0));
        assert_eq!(
            (f[0].received, f[0].resolved, f[0].overdue),
            (1, 0, 1),
            "back on the unit's account"
        );
    }

    #[test]
    fn late_paused_and_overdue() {
        let h = vec![
            ev(
                1,
                t(2, 3),
                EventKind::Assigned {
                    unit: "ROADS".into(),
                    assignee: None,
                    due_at: Some(t(4, 10)),
                    reason: None,
                },
            ),
            ev(
                2,
                t(3, 3),
                EventKind::InfoRequested {
                    question: "?".into(),
                },
            ),
            // The answer moved the deadline (the clock was paused).
            ev(
                3,
                t(6, 3),
                EventKind::InfoProvided {
                    answer: "!".into(),
                    due_at: Some(t(7, 10)),
                },
            ),
            ev(
                4,
                t(7, 3),
                EventKind::Resolved {
                    note: "xong".into(),
                    photo: None,
                    distance_m: None,
                },
            ),
        ];
        let a = accounts(&h);
        assert_eq!(
            a[0].outcome,
            Outcome::Resolved {
                at: t(7, 3),
                on_time: true
            },
            "on time after the pause"
        );
        let late = vec![
            ev(
                1,
                t(2, 3),
                EventKind::Assigned {
                    unit: "ROADS".into(),
                    assignee: None,
                    due_at: Some(t(4, 10)),
                    reason: None,
                },
            ),
            ev(
                2,
                t(8, 3),
                EventKind::Resolved {
                    note: "xong".into(),
                    photo: None,
                    distance_m: None,
                },
            ),
        ];
        assert_eq!(
            accounts(&late)[0].outcome,
            Outcome::Resolved {
                at: t(8, 3),
                on_time: false
            }
        );
        let open = vec![ev(
            1,
            t(2, 3),
            EventKind::Assigned {
                unit: "ROADS".into(),
                assignee: None,
                due_at: Some(t(4, 10)),
                reason: None,
            },
        )];
        let f = figures(accounts(&open), t(1, 0), t(30, 0), t(5, 0));
        assert_eq!(f[0].overdue, 1);
        let waiting = vec![
            ev(
                1,
                t(2, 3),
                EventKind::Assigned {
                    unit: "ROADS".into(),
                    assignee: None,
                    due_at: Some(t(4, 10)),
                    reason: None,
                },
            ),
            ev(
                2,
                t(3, 3),
                EventKind::InfoRequested {
                    question: "?".into(),
                },
            ),
        ];
        let f = figures(accounts(&waiting), t(1, 0), t(30, 0), t(9, 0));
        assert_eq!(f[0].overdue, 0, "a paused clock is never overdue");
        let _ = Duration::zero();
    }

    #[test]
    fn acknowledgement_within_the_fields_hours() {
        let h = vec![
            ev(
                1,
                t(2, 2),
                EventKind::Created {
                    field: "traffic".into(),
                    channel: Channel::Web,
                    ward: None,
                    unit: "T".into(),
                    review: false,
                },
            ),
            ev(
                2,
                t(2, 3),
                EventKind::Assigned {
                    unit: "ROADS".into(),
                    assignee: None,
                    due_at: Some(t(9, 10)),
                    reason: None,
                },
            ),
            ev(3, t(2, 9), EventKind::Started),
            ev(
                4,
                t(3, 3),
                EventKind::Transferred {
                    from: "ROADS".into(),
                    to: "WATER".into(),
                    reason: "x".into(),
                    due_at: Some(t(9, 10)),
                },
            ),
        ];
        // Eight hours to acknowledge traffic reports.
        let a = accounts_with(&h, |f, at| {
            (f == "traffic").then(|| at + Duration::hours(8))
        });
        assert_eq!(a[0].acked_on_time(), Some(true));
        assert_eq!(a[1].acked_on_time(), None, "WATER has not acted yet");
        let f = figures(a, t(1, 0), t(30, 0), t(4, 0));
        let water = f.iter().find(|u| u.unit == "WATER").unwrap();
        assert_eq!(
            (water.ack_counted, water.acked_on_time),
            (1, 0),
            "late and still silent"
        );
        let roads = f.iter().find(|u| u.unit == "ROADS").unwrap();
        assert_eq!(roads.ack_share(), Some(1.0));
    }
}
