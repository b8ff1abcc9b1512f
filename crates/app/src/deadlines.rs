//! Reminders before a deadline and escalation after it. A periodic scan queues one job per
//! report and deadline (the deadline is in the dedupe key), so each is sent once, and a
//! moved deadline (information provided, reopened, transferred) gets its own.

use phananh_domain::jobs::ReportRef;
use phananh_storage::NewJob;

use crate::{App, AppError};

/// Working hours before the deadline when the unit is reminded.
pub const REMIND_WORKING_HOURS: u32 = 8;

impl App {
    /// Queues reminders for deadlines within the next working day and escalations for
    /// those that have passed. Returns how many jobs were queued (duplicates ignored).
    pub async fn scan_deadlines(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let catalog = self.catalog().await;
        let horizon = catalog
            .calendar
            .add_working_hours(now, REMIND_WORKING_HOURS);
        let due = self.store.reports_due_before(horizon, 5_000).await?;
        let mut jobs = Vec::new();
        for r in &due {
            let Some(at) = r.due_at else { continue };
            let job = NewJob::deadline(&ReportRef::new(r.id, &r.code), &r.unit, at, at <= now, now);
            jobs.push(job);
        }
        if !jobs.is_empty() {
            self.store.enqueue(&jobs).await?;
            self.jobs_queued.notify_one();
        }
        Ok(jobs.len())
    }
}
