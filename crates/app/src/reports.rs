//! Reports as staff see and change them: every read and every action checks the unit
//! scope first, and answers "not found" for a report outside it.

use phananh_domain::access::Principal;
use phananh_domain::event::{Event, EventKind};
use phananh_domain::model::{Actor, Report, Reporter};
use phananh_domain::procedure::{Action, Command, Context, State, allowed_actions, decide};
use phananh_storage::{NewJob, Page, ReportFilter};

use crate::query::ReportQuery;

use crate::intake::unit_jobs;
use crate::{App, AppError};

/// A report with its history, as a staff member may see it.
pub struct ReportView {
    pub report: Report,
    pub events: Vec<Event>,
    /// Personal data: only for roles that work the report (not for the public).
    pub reporter: Option<Reporter>,
    /// What this person may do now (procedure ∩ role).
    pub actions: Vec<Action>,
    pub overdue: bool,
    /// Keys of the photos filed with the report, then those linked from its duplicates.
    pub photos: Vec<String>,
}

impl App {
    /// A report by tracking code, if this person may see it.
    pub async fn staff_report(&self, who: &Principal, code: &str) -> Result<ReportView, AppError> {
        let report = self.find(code).await?;
        if !who.can_view(&report.unit) {
            return Err(AppError::NotFound);
        }
        let events = self.store.events(report.id).await?;
        let reporter = if who.sees_personal_data() {
            self.store.reporter(report.id).await?
        } else {
            None
        };
        let state = self.checked_state(&report, &events)?;
        let actions = allowed_actions(state.status)
            .iter()
            .copied()
            .filter(|a| who.can_act(*a, &report.unit))
            .collect();
        let mut photos = self.store.photo_keys(report.id).await?;
        // Then those of the duplicates merged into it.
        photos.extend(self.store.linked_photo_keys(report.id).await?);
        Ok(ReportView {
            photos,
            overdue: state.is_overdue(self.clock.now()),
            report,
            events,
            reporter,
            actions,
        })
    }

    /// A report by tracking code as people type it (lower case, spaces, no dash).
    pub(crate) async fn find(&self, code: &str) -> Result<Report, AppError> {
        let code = code
            .parse::<phananh_domain::code::TrackingCode>()
            .map_err(|_| AppError::NotFound)?;
        self.store
            .report_by_code(code.as_str())
            .await?
            .ok_or(AppError::NotFound)
    }

    /// Reports this person may see, with `filter` narrowed to their unit if they have one.
    pub async fn staff_list(
        &self,
        who: &Principal,
        query: ReportQuery,
    ) -> Result<Page<Report>, AppError> {
        let mut filter = ReportFilter::from(query);
        // Every staff queue puts urgent cases first.
        filter.urgent_first = true;
        if let Some(unit) = who.scope() {
            filter.unit = Some(unit.to_string());
        }
        Ok(self.store.list_reports(&filter).await?)
    }

    /// The stored state must be the fold of the history; if not, the history wins.
    pub(crate) fn checked_state(
        &self,
        report: &Report,
        events: &[Event],
    ) -> Result<State, AppError> {
        let state = State::fold(events).ok_or_else(|| {
            AppError::Internal(format!("report {} has no creation event", report.code))
        })?;
        if state.status != report.status
            || state.unit != report.unit
            || state.due_at != report.due_at
        {
            tracing::error!(code = %report.code, "stored state differs from its history; using the history");
        }
        Ok(state)
    }

    /// Takes an action on a report for a staff member.
    pub async fn act(
        &self,
        who: &Principal,
        code: &str,
        command: Command,
    ) -> Result<Report, AppError> {
        let report = self.find(code).await?;
        if !who.can_view(&report.unit) {
            return Err(AppError::NotFound);
        }
        if !who.can_act(command.action(), &report.unit) {
            return Err(AppError::Forbidden);
        }
        let mut command = command;
        if let Command::Resolve {
            photo: Some(key),
            photo_position,
            ..
        } = &mut command
        {
            self.check_photo_keys(std::slice::from_ref(key)).await?;
            *photo_position = self.photo_position(key).await?;
        }
        let command = match command {
            Command::MarkDuplicate { of } => Command::MarkDuplicate {
                of: self.check_original(who, &report, &of).await?,
            },
            other => other,
        };
        let actor = Actor::staff(who.user_id, &who.name);
        self.apply(report, actor, command).await
    }

    /// Applies a command for any actor (staff after their checks, the citizen, the system),
    /// then adds the field's automatic public response to that step, if it has one
    /// ([`App::auto_response`]).
    ///
    /// The response is its own event, appended right after the step, not in the step's
    /// transaction: the step stands even if the response cannot be added (it is logged,
    /// and the caller still gets the step's result), and a crash between the two commits
    /// loses only the response.
    pub async fn apply(
        &self,
        report: Report,
        actor: Actor,
        command: Command,
    ) -> Result<Report, AppError> {
        let action = command.action();
        let done = self.apply_step(report, actor, command).await?;
        match self.auto_response(done.clone(), action).await {
            Ok(after) => Ok(after),
            Err(e) => {
                tracing::error!(code = %done.code, action = action.as_str(), error = %e, "automatic response not added");
                Ok(done)
            }
        }
    }

    /// Applies one command, nothing more. Retries if someone else changed the report
    /// meanwhile.
    pub(crate) async fn apply_step(
        &self,
        mut report: Report,
        actor: Actor,
        command: Command,
    ) -> Result<Report, AppError> {
        let catalog = self.catalog().await;
        for attempt in 0..3 {
            let events = self.store.events(report.id).await?;
            let state = self.checked_state(&report, &events)?;
            if let Command::Assign { unit, .. } | Command::Transfer { to: unit, .. } = &command
                && catalog.unit(unit).is_none()
            {
                return Err(AppError::invalid(
                    "unit",
                    "unknown_unit",
                    "Đơn vị không có trong danh sách",
                    "Unknown unit",
                ));
            }
            // A staff member must belong to the unit that will handle the report.
            let staff_check = match &command {
                Command::AssignStaff { assignee: Some(id) } => Some((*id, state.unit.as_str())),
                Command::Assign {
                    assignee: Some(id),
                    unit,
                    ..
                } => Some((*id, unit.as_str())),
                _ => None,
            };
            if let Some((id, unit)) = staff_check {
                let user = self.store.user(id).await?;
                if user.as_ref().and_then(|u| u.unit.as_deref()) != Some(unit) {
                    return Err(AppError::invalid(
                        "assignee",
                        "not_in_unit",
                        "Cán bộ không thuộc đơn vị đang xử lý",
                        "That person is not in the unit handling the report",
                    ));
                }
            }
            let now = self.clock.now();
            let field = catalog.field(&state.field);
            let ctx = Context {
                now,
                place: report
                    .lat
                    .zip(report.lon)
                    .map(|(lat, lon)| phananh_domain::model::Point { lat, lon }),
                calendar: &catalog.calendar,
                resolve_days: field.map(|f| f.resolve_days).unwrap_or(5),
                triage_unit: &catalog.triage_unit,
                urgent_hours: field
                    .map(|f| f.urgent_hours)
                    .unwrap_or(phananh_domain::urgent::DEFAULT_HOURS),
            };
            let event = decide(&state, &command, &ctx)?;
            match self
                .append(&report, &actor, event, state, now, &catalog)
                .await?
            {
                Some(done) => return Ok(done),
                None if attempt < 2 => {
                    report = self
                        .store
                        .report(report.id)
                        .await?
                        .ok_or(AppError::NotFound)?;
                }
                None => break,
            }
        }
        Err(AppError::Conflict("too many concurrent changes".into()))
    }

    /// Appends `event` (already decided against `state`, the fold of `report`'s history)
    /// with the jobs it calls for: the units' notices and the citizen's. `None` when
    /// someone else changed the report meanwhile (the caller decides again and retries).
    pub(crate) async fn append(
        &self,
        report: &Report,
        actor: &Actor,
        event: EventKind,
        mut state: State,
        now: chrono::DateTime<chrono::Utc>,
        catalog: &crate::Catalog,
    ) -> Result<Option<Report>, AppError> {
        state.apply(&event, now);
        let seq = report.last_seq + 1;
        let mut jobs: Vec<NewJob> = Vec::new();
        let target = match &event {
            EventKind::Assigned { unit, .. } | EventKind::Transferred { to: unit, .. } => {
                Some(unit.clone())
            }
            _ => None,
        };
        for unit in target.iter().chain(std::iter::once(&report.unit)) {
            for job in unit_jobs(catalog, unit, &event, seq, now) {
                let job = job.for_report(report.id, &report.code);
                if !jobs.iter().any(|j| j.dedupe_key == job.dedupe_key) {
                    jobs.push(job);
                }
            }
        }
        if let Some(job) = crate::follow::citizen_job(&event, seq, now) {
            jobs.push(job.for_report(report.id, &report.code));
        }
        for job in crate::intake::urgent_jobs(&event, &state, seq, now) {
            jobs.push(job.for_report(report.id, &report.code));
        }
        match self
            .store
            .append_event(
                report.id,
                report.last_seq,
                now,
                actor,
                &event,
                &state,
                &jobs,
            )
            .await
        {
            Ok(_) => {
                self.metrics
                    .transitions
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if !jobs.is_empty() {
                    self.jobs_queued.notify_one();
                }
                Ok(Some(
                    self.store
                        .report(report.id)
                        .await?
                        .ok_or(AppError::NotFound)?,
                ))
            }
            Err(phananh_storage::StoreError::Conflict(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}
