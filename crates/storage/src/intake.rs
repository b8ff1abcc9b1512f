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
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::jobs::{NewJob, insert_job};
use crate::sql::{Args, MAX_PARAMS, Val, bulk_insert};
use crate::stats::{CountKey, add_counts};
use crate::{Backend, Result, Store, StoreError, ms};

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
    /// Attribute answers and media links.
    pub extra: phananh_domain::model::ReportExtra,
    /// Keys of the report's photos in the photo store.
    pub photos: Vec<String>,
    /// Published at once, or waiting for review (the field's policy).
    pub publication: phananh_domain::model::Publication,
    /// Keys of its video and voice notes (rows of `media` no report has yet).
    pub media: Vec<String>,
    /// An urgent case (see `phananh_domain::urgent`).
    pub urgent: bool,
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

    /// Nothing to abort: a batch in progress finishes, because the writer holds the write
    /// connection until it commits and closing the pool waits for that connection.
    pub(crate) async fn close(&self) {
        let _ = self.done.lock().await.take();
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

    /// Files reports in one transaction, with one multi-row statement per table (a few
    /// statements for the whole batch, not a few per report). The outer error fails the
    /// whole transaction; inner errors (an idempotency key reused with another request) are
    /// per report and leave nothing written for that report.
    async fn file_in_one_transaction(
        &self,
        reports: &[&NewReport],
    ) -> Result<Vec<Result<Created>>> {
        let mut tx = self.write.begin().await?;

        // 1. Idempotency keys already used, by earlier batches or earlier in this one.
        let keys: Vec<&str> = reports
            .iter()
            .filter_map(|r| r.idempotency.as_ref().map(|(k, _)| k.as_str()))
            .collect();
        let mut known: HashMap<String, (i64, String, String)> = HashMap::new();
        for chunk in keys.chunks(MAX_PARAMS) {
            let mut args = Args::new(self.backend);
            let mut sql = "SELECT i.key, i.report_id, i.request_hash, r.code FROM idempotency i \
                 JOIN reports r ON r.id = i.report_id WHERE i.key IN ("
                .to_string();
            args.push_list(&mut sql, chunk.iter().copied());
            sql.push(')');
            let q = args.query_as::<(String, i64, String, String)>(&sql);
            for (key, id, hash, code) in q.fetch_all(&mut *tx).await? {
                known.insert(key, (id, hash, code));
            }
        }
        enum Plan {
            Insert,
            Replay(i64, String),
            SameAs(usize),
            Mismatch,
        }
        let mut first_with_key: HashMap<&str, (usize, &str)> = HashMap::new();
        let plans: Vec<Plan> = reports
            .iter()
            .enumerate()
            .map(|(i, r)| match &r.idempotency {
                None => Plan::Insert,
                Some((key, hash)) => match known.get(key) {
                    Some((id, h, code)) if h == hash => Plan::Replay(*id, code.clone()),
                    Some(_) => Plan::Mismatch,
                    None => match first_with_key.get(key.as_str()) {
                        Some((j, h)) if *h == hash.as_str() => Plan::SameAs(*j),
                        Some(_) => Plan::Mismatch,
                        None => {
                            first_with_key.insert(key, (i, hash));
                            Plan::Insert
                        }
                    },
                },
            })
            .collect();

        // 2. The reports, each with a fresh tracking code; a code that collides with an
        //    existing one is skipped by the database and retried with another.
        let to_insert: Vec<usize> = (0..reports.len())
            .filter(|&i| matches!(plans[i], Plan::Insert))
            .collect();
        let mut ids: HashMap<usize, (i64, String)> = HashMap::new();
        let mut pending = to_insert.clone();
        for _attempt in 0..5 {
            if pending.is_empty() {
                break;
            }
            let mut by_code: HashMap<String, usize> = HashMap::new();
            let mut rows = Vec::with_capacity(pending.len());
            for &i in &pending {
                let r = reports[i];
                let code = loop {
                    let c = TrackingCode::from_random(rand::random::<u64>()).to_string();
                    if !by_code.contains_key(&c) {
                        break c;
                    }
                };
                by_code.insert(code.clone(), i);
                rows.push(vec![
                    Val::S(Some(code)),
                    Val::S(Some(r.field.clone())),
                    Val::S(Some(r.description.clone())),
                    Val::F(r.lat),
                    Val::F(r.lon),
                    Val::S(r.address.clone()),
                    Val::S(r.ward.clone()),
                    Val::S(Some(r.channel.as_str().into())),
                    Val::S(Some(r.status.as_str().into())),
                    Val::S(Some(r.unit.clone())),
                    Val::I(r.due_at.map(ms)),
                    Val::I(Some(ms(r.created_at))),
                    Val::I(Some(ms(r.created_at))),
                    Val::I(Some(r.events.len() as i64)),
                    Val::S(Some(crate::json(&r.extra))),
                    Val::S(Some(r.publication.as_str().into())),
                    Val::I(Some(i64::from(r.urgent))),
                ]);
            }
            let returned: Vec<(i64, String)> = bulk_insert(
                self.backend,
                &mut tx,
                "reports (code, field, description, lat, lon, address, ward, channel, status, unit, due_at, \
                 created_at, updated_at, last_seq, extra, publication, urgent)",
                rows,
                "ON CONFLICT (code) DO NOTHING RETURNING id, code",
            )
            .await?;
            for (id, code) in returned {
                if let Some(i) = by_code.get(&code) {
                    ids.insert(*i, (id, code));
                }
            }
            pending.retain(|i| !ids.contains_key(i));
        }
        if !pending.is_empty() {
            return Err(StoreError::Conflict(
                "could not find a free tracking code".into(),
            ));
        }

        // 3. Their events, reporters, idempotency keys and jobs.
        let mut events = Vec::new();
        let mut reporters = Vec::new();
        let mut idempotency = Vec::new();
        let mut jobs = Vec::new();
        let mut photos = Vec::new();
        for &i in &to_insert {
            let r = reports[i];
            let (id, code) = &ids[&i];
            for (n, (actor, kind)) in r.events.iter().enumerate() {
                events.push(vec![
                    Val::I(Some(*id)),
                    Val::I(Some(n as i64 + 1)),
                    Val::I(Some(ms(r.created_at))),
                    Val::S(Some(actor.kind.as_str().into())),
                    Val::S(actor.id.clone()),
                    Val::S(actor.name.clone()),
                    Val::S(Some(kind.type_name().into())),
                    Val::S(Some(crate::json(kind))),
                ]);
            }
            if let Some(p) = &r.reporter {
                reporters.push(vec![
                    Val::I(Some(*id)),
                    Val::S(p.name.clone()),
                    Val::S(p.phone.clone()),
                    Val::S(p.email.clone()),
                    Val::S(p.channel_identity.clone()),
                    Val::I(Some(p.consent as i64)),
                ]);
            }
            if let Some((key, hash)) = &r.idempotency {
                idempotency.push(vec![
                    Val::S(Some(key.clone())),
                    Val::S(Some(hash.clone())),
                    Val::I(Some(*id)),
                    Val::I(Some(ms(r.created_at))),
                ]);
            }
            for key in &r.photos {
                photos.push(vec![
                    Val::I(Some(*id)),
                    Val::S(Some("report".into())),
                    Val::S(Some(key.clone())),
                    Val::S(Some("image/jpeg".into())),
                    Val::I(Some(ms(r.created_at))),
                ]);
            }
            for job in &r.jobs {
                jobs.push(job.clone().for_report(*id, code));
            }
        }
        let _: Vec<(i64,)> = bulk_insert(
            self.backend,
            &mut tx,
            "events (report_id, seq, at, actor_kind, actor_id, actor_name, kind, payload)",
            events,
            "",
        )
        .await?;
        let _: Vec<(i64,)> = bulk_insert(
            self.backend,
            &mut tx,
            "reporters (report_id, name, phone, email, channel_identity, consent)",
            reporters,
            "",
        )
        .await?;
        let _: Vec<(i64,)> = bulk_insert(
            self.backend,
            &mut tx,
            "idempotency (key, request_hash, report_id, created_at)",
            idempotency,
            "",
        )
        .await?;
        let _: Vec<(i64,)> = bulk_insert(
            self.backend,
            &mut tx,
            "photos (report_id, role, storage_key, content_type, created_at)",
            photos,
            "",
        )
        .await?;
        for &i in &to_insert {
            for key in &reports[i].media {
                sqlx::query(
                    "UPDATE media SET report_id = $1 WHERE storage_key = $2 AND report_id IS NULL",
                )
                .bind(ids[&i].0)
                .bind(key)
                .execute(&mut *tx)
                .await?;
            }
        }
        for job in &jobs {
            insert_job(&mut tx, job, self.now()).await?;
        }
        if self.backend == Backend::Sqlite {
            let positions: Vec<Vec<Val>> = to_insert
                .iter()
                .filter_map(|&i| {
                    let r = reports[i];
                    let (lat, lon) = (r.lat?, r.lon?);
                    let id = ids[&i].0;
                    Some(vec![
                        Val::I(Some(id)),
                        Val::F(Some(lat)),
                        Val::F(Some(lat)),
                        Val::F(Some(lon)),
                        Val::F(Some(lon)),
                    ])
                })
                .collect();
            let _: Vec<(i64,)> = bulk_insert(
                self.backend,
                &mut tx,
                "reports_pos (id, min_lat, max_lat, min_lon, max_lon)",
                positions,
                "",
            )
            .await?;
        }
        let mut counts: HashMap<CountKey, i64> = HashMap::new();
        for &i in &to_insert {
            let r = reports[i];
            let at = ms(r.created_at);
            let key = CountKey::of(
                at,
                &r.field,
                r.ward.as_deref(),
                &r.unit,
                r.status.as_str(),
                r.due_at.map(ms),
                at,
            );
            *counts.entry(key).or_insert(0) += 1;
        }
        add_counts(self.backend, &mut tx, counts).await?;
        tx.commit().await?;

        Ok(plans
            .iter()
            .enumerate()
            .map(|(i, plan)| match plan {
                Plan::Insert => {
                    let (id, code) = ids[&i].clone();
                    Ok(Created {
                        id,
                        code,
                        replayed: false,
                    })
                }
                Plan::Replay(id, code) => Ok(Created {
                    id: *id,
                    code: code.clone(),
                    replayed: true,
                }),
                Plan::SameAs(j) => {
                    let (id, code) = ids[j].clone();
                    Ok(Created {
                        id,
                        code,
                        replayed: true,
                    })
                }
                Plan::Mismatch => Err(StoreError::IdempotencyMismatch),
            })
            .collect())
    }
}
