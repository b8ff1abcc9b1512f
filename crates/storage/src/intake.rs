//! Filing reports with group commit.
//!
//! Every submission is sent to one writer task. The writer takes whatever has queued up
//! while the previous commit was being written to disk, files all of it in one
//! transaction, commits once, and only then answers each submitter. Under load many
//! reports share one fsync; alone, a report is committed at once. If a batch fails, each of
//! its reports is retried in a transaction of its own, so one bad report cannot sink the
//! others.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use phananh_domain::code::TrackingCode;
use phananh_domain::event::EventKind;
use phananh_domain::model::{Actor, Channel, Reporter, Status};
use sqlx::{Any, Transaction};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::jobs::{NewJob, insert_job};
use crate::{Result, Store, StoreError, ms};

const MAX_BATCH: usize = 512;

/// A report ready to be filed: validated, placed and routed by the intake use case.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub field: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: Option<String>,
    pub ward: Option<String>,
    pub channel: Channel,
    pub status: Status,
    pub unit: String,
    pub due_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The first events (created, and assigned when a rule placed it).
    pub events: Vec<(Actor, EventKind)>,
    pub reporter: Option<Reporter>,
    /// Jobs to run once the report is committed (notify the unit, answer the citizen...).
    pub jobs: Vec<NewJob>,
    /// (key, hash of the request): a retried submission returns the first report.
    pub idempotency: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub id: i64,
    pub code: String,
    /// True when an earlier submission with the same idempotency key is returned.
    pub replayed: bool,
}

type Reply = oneshot::Sender<Result<Created>>;

#[derive(Clone)]
pub(crate) struct Writer {
    tx: Option<mpsc::Sender<(NewReport, Reply)>>,
    done: Arc<Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl Writer {
    pub(crate) fn closed() -> Writer {
        Writer {
            tx: None,
            done: Arc::new(Mutex::new(None)),
        }
    }

    pub(crate) fn start(store: Store) -> Writer {
        let (tx, mut rx) = mpsc::channel::<(NewReport, Reply)>(MAX_BATCH * 8);
        let handle = tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                store.file_batch(batch).await;
            }
        });
        Writer {
            tx: Some(tx),
            done: Arc::new(Mutex::new(Some(handle))),
        }
    }

    pub(crate) async fn close(&self) {
        // Dropping our sender is not enough while clones live; the handle is awaited by
        // the last closer after every `Store` clone is gone. Here we only wait briefly.
        if let Some(h) = self.done.lock().await.take() {
            h.abort();
        }
    }
}

impl Store {
    /// Files a report and returns once it is durably committed.
    pub async fn submit(&self, report: NewReport) -> Result<Created> {
        let tx = self.intake.tx.as_ref().ok_or(StoreError::Closed)?;
        let (reply, rx) = oneshot::channel();
        tx.send((report, reply))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    async fn file_batch(&self, batch: Vec<(NewReport, Reply)>) {
        if batch.len() > 1 {
            let reports: Vec<&NewReport> = batch.iter().map(|(r, _)| r).collect();
            match self.file_in_one_transaction(&reports).await {
                Ok(results) => {
                    for ((_, reply), result) in batch.into_iter().zip(results) {
                        let _ = reply.send(result);
                    }
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %e, size = batch.len(), "batch failed, filing one by one")
                }
            }
        }
        for (report, reply) in batch {
            let result = match self.file_in_one_transaction(&[&report]).await {
                Ok(mut v) => v.pop().unwrap_or(Err(StoreError::Closed)),
                Err(e) => Err(e),
            };
            let _ = reply.send(result);
        }
    }

    /// Files reports in one transaction. The outer error fails the whole transaction;
    /// inner errors (an idempotency key reused with another request) are per report and
    /// leave nothing written for that report.
    async fn file_in_one_transaction(
        &self,
        reports: &[&NewReport],
    ) -> Result<Vec<Result<Created>>> {
        let mut tx = self.write.begin().await?;
        let mut results = Vec::with_capacity(reports.len());
        let mut seen: HashMap<&str, (&str, usize)> = HashMap::new();
        for (i, r) in reports.iter().enumerate() {
            if let Some((key, hash)) = &r.idempotency {
                if let Some((h, first)) = seen.get(key.as_str()) {
                    results.push(if *h == hash.as_str() {
                        match &results[*first] {
                            Ok(Created { id, code, .. }) => Ok(Created {
                                id: *id,
                                code: code.clone(),
                                replayed: true,
                            }),
                            Err(_) => Err(StoreError::IdempotencyMismatch),
                        }
                    } else {
                        Err(StoreError::IdempotencyMismatch)
                    });
                    continue;
                }
                let existing: Option<(i64, String, String)> = sqlx::query_as(
                    "SELECT i.report_id, i.request_hash, r.code FROM idempotency i \
                     JOIN reports r ON r.id = i.report_id WHERE i.key = $1",
                )
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some((id, stored_hash, code)) = existing {
                    results.push(if stored_hash == *hash {
                        Ok(Created {
                            id,
                            code,
                            replayed: true,
                        })
                    } else {
                        Err(StoreError::IdempotencyMismatch)
                    });
                    continue;
                }
                seen.insert(key, (hash, i));
            }
            results.push(Ok(insert_report(&mut tx, r).await?));
        }
        tx.commit().await?;
        Ok(results)
    }
}

async fn insert_report(tx: &mut Transaction<'static, Any>, r: &NewReport) -> Result<Created> {
    let created = ms(r.created_at);
    // A fresh code on the (rare) collision with an existing one.
    let mut attempt = 0;
    let (id, code) = loop {
        let code = TrackingCode::from_random(rand::random::<u64>()).to_string();
        let row: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO reports (code, field, description, lat, lon, address, ward, channel, status, \
             unit, assignee, due_at, paused_at, duplicate_of, created_at, updated_at, last_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, NULL, NULL, $12, $12, $13) \
             ON CONFLICT (code) DO NOTHING RETURNING id",
        )
        .bind(&code)
        .bind(&r.field)
        .bind(&r.description)
        .bind(r.lat)
        .bind(r.lon)
        .bind(&r.address)
        .bind(&r.ward)
        .bind(r.channel.as_str())
        .bind(r.status.as_str())
        .bind(&r.unit)
        .bind(r.due_at.map(ms))
        .bind(created)
        .bind(r.events.len() as i64)
        .fetch_optional(&mut **tx)
        .await?;
        if let Some((id,)) = row {
            break (id, code);
        }
        attempt += 1;
        if attempt > 5 {
            return Err(StoreError::Conflict(
                "could not find a free tracking code".into(),
            ));
        }
    };
    for (i, (actor, kind)) in r.events.iter().enumerate() {
        crate::reports::insert_event(tx, id, i as i64 + 1, r.created_at, actor, kind).await?;
    }
    if let Some(p) = &r.reporter {
        sqlx::query(
            "INSERT INTO reporters (report_id, name, phone, email, channel_identity, consent) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(&p.name)
        .bind(&p.phone)
        .bind(&p.email)
        .bind(&p.channel_identity)
        .bind(p.consent as i64)
        .execute(&mut **tx)
        .await?;
    }
    if let Some((key, hash)) = &r.idempotency {
        sqlx::query(
            "INSERT INTO idempotency (key, request_hash, report_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(key)
        .bind(hash)
        .bind(id)
        .bind(created)
        .execute(&mut **tx)
        .await?;
    }
    for job in &r.jobs {
        let mut job = job.clone();
        job.report_id = Some(id);
        if let Some(payload) = job.payload.as_object_mut() {
            payload.insert("report_id".into(), id.into());
            payload.insert("code".into(), code.clone().into());
        }
        if let Some(k) = &mut job.dedupe_key {
            *k = k.replace("{report}", &id.to_string());
        }
        insert_job(tx, &job).await?;
    }
    Ok(Created {
        id,
        code,
        replayed: false,
    })
}
