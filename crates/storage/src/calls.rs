//! Hotline calls: what the telephone exchange reported, and the report a call led to.

use chrono::{DateTime, Utc};

use crate::{Result, Store, from_ms, ms};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub call_id: String,
    /// The caller's number (personal data).
    pub caller: String,
    pub operator_id: Option<i64>,
    /// The operator as the exchange named them (extension or email).
    pub operator: Option<String>,
    pub state: String,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub report_id: Option<i64>,
}

type Row = (
    String,
    String,
    Option<i64>,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn from_row(r: Row) -> Call {
    Call {
        call_id: r.0,
        caller: r.1,
        operator_id: r.2,
        operator: r.3,
        state: r.4,
        started_at: from_ms(r.5),
        answered_at: r.6.map(from_ms),
        ended_at: r.7.map(from_ms),
        report_id: r.8,
    }
}

const COLUMNS: &str =
    "call_id, caller, operator_id, operator, state, started_at, answered_at, ended_at, report_id";

impl Store {
    /// Records an event of a call ("ringing", "answered", "ended"): the first creates it,
    /// later ones move it on. Events may arrive out of order; an earlier state never
    /// overwrites a later one.
    pub async fn call_event(
        &self,
        call_id: &str,
        caller: &str,
        state: &str,
        operator_id: Option<i64>,
        operator: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let rank = |s: &str| match s {
            "ringing" => 0,
            "answered" => 1,
            _ => 2,
        };
        let mut tx = self.write.begin().await?;
        let existing: Option<(String,)> =
            sqlx::query_as("SELECT state FROM calls WHERE call_id = $1")
                .bind(call_id)
                .fetch_optional(&mut *tx)
                .await?;
        let at = ms(at);
        match existing {
            None => {
                sqlx::query(
                    "INSERT INTO calls (call_id, caller, operator_id, operator, state, started_at, answered_at, ended_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(call_id)
                .bind(caller)
                .bind(operator_id)
                .bind(operator)
                .bind(state)
                .bind(at)
                .bind((state == "answered").then_some(at))
                .bind((state == "ended").then_some(at))
                .execute(&mut *tx)
                .await?;
            }
            Some((old,)) => {
                let merged = if rank(state) >= rank(&old) {
                    state
                } else {
                    old.as_str()
                };
                sqlx::query(
                    "UPDATE calls SET state = $1, operator_id = COALESCE($2, operator_id), \
                     operator = COALESCE($3, operator), \
                     answered_at = CASE WHEN $4 = 'answered' AND answered_at IS NULL THEN $5 ELSE answered_at END, \
                     ended_at = CASE WHEN $4 = 'ended' THEN $5 ELSE ended_at END WHERE call_id = $6",
                )
                .bind(merged)
                .bind(operator_id)
                .bind(operator)
                .bind(state)
                .bind(at)
                .bind(call_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn call(&self, call_id: &str) -> Result<Option<Call>> {
        let row: Option<Row> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM calls WHERE call_id = $1"))
                .bind(call_id)
                .fetch_optional(&self.read)
                .await?;
        Ok(row.map(from_row))
    }

    /// Links a call to the report filed during it.
    pub async fn call_attach(&self, call_id: &str, report_id: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE calls SET report_id = $1 WHERE call_id = $2")
            .bind(report_id)
            .bind(call_id)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn calls_of_report(&self, report_id: i64) -> Result<Vec<Call>> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM calls WHERE report_id = $1 ORDER BY started_at"
        ))
        .bind(report_id)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(from_row).collect())
    }
}
