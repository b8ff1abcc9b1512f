//! The outbox. Jobs are written in the same transaction as the change they follow, then
//! claimed by workers with a lease: on PostgreSQL several `phananh` processes claim with
//! `FOR UPDATE SKIP LOCKED`, so each job goes to one of them; a worker that dies leaves a
//! lease that runs out, and the job is claimed again. Handlers must therefore be
//! idempotent; every outbound message carries a dedupe key.

use chrono::{DateTime, Utc};
use sqlx::{Any, Row, Transaction};

use crate::{Backend, Result, Store, StoreError, from_ms, ms, parse_json};

pub use phananh_domain::jobs::NewJob;
use phananh_domain::jobs::{JobKind, JobKindError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Pending,
    Done,
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub report_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

impl Job {
    /// The job's kind with its payload, read back.
    pub fn typed(&self) -> std::result::Result<JobKind, JobKindError> {
        JobKind::from_stored(&self.kind, &self.payload)
    }
}

pub(crate) async fn insert_job(
    tx: &mut Transaction<'static, Any>,
    job: &NewJob,
    now: DateTime<Utc>,
) -> Result<()> {
    let now = ms(now);
    sqlx::query(
        "INSERT INTO jobs (kind, payload, dedupe_key, status, run_at, attempts, max_attempts, report_id, \
         created_at, updated_at) VALUES ($1, $2, $3, 'pending', $4, 0, $5, $6, $7, $7) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(&job.dedupe_key)
    .bind(ms(job.run_at))
    .bind(job.max_attempts)
    .bind(job.report_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const JOB_COLUMNS: &str =
    "id, kind, payload, status, attempts, max_attempts, run_at, last_error, report_id, created_at";

fn job_from_row(row: &sqlx::any::AnyRow) -> Result<Job> {
    let payload: String = row.try_get("payload")?;
    Ok(Job {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        payload: parse_json(&payload)?,
        status: row.try_get("status")?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        run_at: from_ms(row.try_get("run_at")?),
        last_error: row.try_get("last_error")?,
        report_id: row.try_get("report_id")?,
        created_at: from_ms(row.try_get("created_at")?),
    })
}

impl Store {
    /// Queues jobs outside any other change (scheduled work).
    pub async fn enqueue(&self, jobs: &[NewJob]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        for j in jobs {
            insert_job(&mut tx, j, self.now()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Claims up to `limit` due jobs for `worker` until `now + lease`.
    pub async fn claim_jobs(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: i64,
    ) -> Result<Vec<Job>> {
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1, updated_at = $3 \
             WHERE id IN (SELECT id FROM jobs WHERE status = 'pending' AND run_at <= $3 \
             AND attempts < max_attempts \
             AND (locked_until IS NULL OR locked_until < $3) ORDER BY run_at, id LIMIT $4 {lock}) \
             RETURNING {JOB_COLUMNS}"
        );
        // A job whose last attempt never reported back (the process died holding it) and
        // has no attempts left is dead, not retried forever.
        sqlx::query(
            "UPDATE jobs SET status = 'dead', locked_by = NULL, updated_at = $1, \
             last_error = COALESCE(last_error, 'the worker stopped during the last attempt') \
             WHERE status = 'pending' AND attempts >= max_attempts AND locked_until < $1",
        )
        .bind(ms(now))
        .execute(&self.write)
        .await?;
        let rows = sqlx::query(&sql)
            .bind(worker)
            .bind(ms(now + lease))
            .bind(ms(now))
            .bind(limit)
            .fetch_all(&self.write)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Marks a claimed job done (only if `worker` still holds it); false if the lease was
    /// lost to another worker meanwhile.
    pub async fn complete_job(&self, id: i64, worker: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE jobs SET status = 'done', locked_by = NULL, locked_until = NULL, last_error = NULL, \
             updated_at = $1 WHERE id = $2 AND locked_by = $3",
        )
        .bind(ms(self.now()))
        .bind(id)
        .bind(worker)
        .execute(&self.write)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records a failure: retried at `retry_at`, or dead-lettered when out of attempts
    /// (`retry_at` = None).
    pub async fn fail_job(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let (status, run_at) = match retry_at {
            Some(t) => ("pending", Some(ms(t))),
            None => ("dead", None),
        };
        sqlx::query(
            "UPDATE jobs SET status = $1, run_at = COALESCE($2, run_at), locked_by = NULL, \
             locked_until = NULL, last_error = $3, updated_at = $4 WHERE id = $5 AND locked_by = $6",
        )
        .bind(status)
        .bind(run_at)
        .bind(error)
        .bind(ms(self.now()))
        .bind(id)
        .bind(worker)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Puts a dead job back in the queue (an admin's "retry").
    pub async fn retry_job(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let r = sqlx::query(
            "UPDATE jobs SET status = 'pending', attempts = 0, run_at = $1, updated_at = $1 \
             WHERE id = $2 AND status = 'dead'",
        )
        .bind(ms(now))
        .bind(id)
        .execute(&self.write)
        .await?;
        if r.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn jobs(&self, status: Option<JobStatus>, limit: i64) -> Result<Vec<Job>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE (CAST($1 AS TEXT) = '' OR status = $1) ORDER BY id DESC LIMIT {}",
            limit.clamp(1, 1000)
        );
        let rows = sqlx::query(&sql)
            .bind(status.map(|s| s.as_str()).unwrap_or(""))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    pub async fn jobs_for_report(&self, report_id: i64) -> Result<Vec<Job>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE report_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(report_id)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    pub async fn count_jobs_by_status(&self) -> Result<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT status, COUNT(*) FROM jobs GROUP BY status ORDER BY status")
                .fetch_all(&self.read)
                .await?,
        )
    }
}
