//! Reading reports and appending to their history.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use phananh_domain::event::{Event, EventKind};
use phananh_domain::model::{Actor, ActorKind, Channel, Report, Reporter, Status};
use phananh_domain::procedure::State;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use crate::jobs::{NewJob, insert_job};
use crate::sql::{Args, Val};
use crate::stats::{CountKey, add_counts};
use crate::{Backend, Result, Store, StoreError, from_ms, json, ms, parse_json};

/// Below this many square degrees (about 1 km² in the city), a bounding box is looked up
/// through the position index.
const SMALL_BOX_DEG2: f64 = 0.0001;

const REPORT_COLUMNS: &str = "id, code, field, description, lat, lon, address, ward, channel, status, \
     unit, assignee, due_at, paused_at, duplicate_of, created_at, updated_at, last_seq, extra, \
     publication, public_text, urgent";

/// Filters for report lists. Every field narrows the list; `unit` is also how a unit's
/// staff are scoped to their own reports.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub unit: Option<String>,
    pub statuses: Vec<Status>,
    pub field: Option<String>,
    pub ward: Option<String>,
    /// Only open reports whose due date is before this instant.
    pub overdue_at: Option<DateTime<Utc>>,
    /// [min lon, min lat, max lon, max lat]
    pub bbox: Option<[f64; 4]>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub updated_from: Option<DateTime<Utc>>,
    pub updated_to: Option<DateTime<Utc>>,
    /// Only these tracking codes (empty: any).
    pub codes: Vec<String>,
    /// Only these fields (empty: any), on top of `field`.
    pub fields: Vec<String>,
    /// Leave out reports that are not published (public lists; see `Status::is_published`).
    pub hide_rejected: bool,
    /// Only reports in this state of moderation (the moderation queue: `Review`).
    pub publication: Option<phananh_domain::model::Publication>,
    /// Urgent cases first, then the newest (the staff queues).
    pub urgent_first: bool,
    /// Only reports assigned to this staff member.
    pub assignee: Option<i64>,
    /// The soonest deadline first (after urgent cases, when `urgent_first`), those without
    /// one last: a staff member's tasks.
    pub due_first: bool,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

/// An event as stored, with its report.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub report_id: i64,
    pub event: Event,
}

fn report_from_row(row: &AnyRow) -> Result<Report> {
    let channel: String = row.try_get("channel")?;
    let status: String = row.try_get("status")?;
    Ok(Report {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        field: row.try_get("field")?,
        description: row.try_get("description")?,
        lat: row.try_get("lat")?,
        lon: row.try_get("lon")?,
        address: row.try_get("address")?,
        ward: row.try_get("ward")?,
        channel: Channel::parse(&channel)
            .ok_or_else(|| StoreError::Corrupt(format!("channel {channel}")))?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("status {status}")))?,
        unit: row.try_get("unit")?,
        assignee: row.try_get("assignee")?,
        due_at: row.try_get::<Option<i64>, _>("due_at")?.map(from_ms),
        paused_at: row.try_get::<Option<i64>, _>("paused_at")?.map(from_ms),
        duplicate_of: row.try_get("duplicate_of")?,
        created_at: from_ms(row.try_get("created_at")?),
        updated_at: from_ms(row.try_get("updated_at")?),
        last_seq: row.try_get("last_seq")?,
        extra: parse_json(&row.try_get::<String, _>("extra")?)?,
        publication: {
            let p: String = row.try_get("publication")?;
            phananh_domain::model::Publication::parse(&p)
                .ok_or_else(|| StoreError::Corrupt(format!("publication {p}")))?
        },
        public_text: row.try_get("public_text")?,
        urgent: row.try_get::<i64, _>("urgent")? != 0,
    })
}

pub(crate) async fn insert_event(
    tx: &mut Transaction<'static, Any>,
    report_id: i64,
    seq: i64,
    at: DateTime<Utc>,
    actor: &Actor,
    kind: &EventKind,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO events (report_id, seq, at, actor_kind, actor_id, actor_name, kind, payload) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(report_id)
    .bind(seq)
    .bind(ms(at))
    .bind(actor.kind.as_str())
    .bind(&actor.id)
    .bind(&actor.name)
    .bind(kind.type_name())
    .bind(json(kind))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The links of a merge, in the merge's transaction: the duplicate's reporter follows the
/// original `of` (a follower row naming the duplicate: the worker reaches that reporter on
/// their own channel), and the duplicate's photos are listed with the original (rows naming
/// the duplicate). A linked row is only a pointer: whether the public sees the photo is
/// decided by the duplicate's own row and report (moderation there still applies). The
/// original's history records it ([`note_on_original`]).
async fn link_duplicate(
    tx: &mut Transaction<'static, Any>,
    duplicate: i64,
    of: &str,
    at: DateTime<Utc>,
    actor: &Actor,
) -> Result<()> {
    let original: Option<i64> = sqlx::query_scalar("SELECT id FROM reports WHERE code = $1")
        .bind(of)
        .fetch_optional(&mut **tx)
        .await?;
    let original = original.ok_or(StoreError::NotFound)?;
    // Checked by the use case before; checked again here, where it cannot change under us:
    // no merge into a duplicate, none of a report others are merged into (no chains, no
    // circles from two merges at once).
    let chained: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM reports WHERE (id = $1 AND status = 'duplicate') \
         OR duplicate_of = (SELECT code FROM reports WHERE id = $2)",
    )
    .bind(original)
    .bind(duplicate)
    .fetch_one(&mut **tx)
    .await?;
    if chained > 0 {
        return Err(StoreError::Conflict(
            "hồ sơ gốc vừa thay đổi / the original changed meanwhile".into(),
        ));
    }
    let token = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    };
    sqlx::query(
        "INSERT INTO followers (report_id, email, phone, token, created_at, confirmed_at, duplicate_id) \
         VALUES ($1, NULL, NULL, $2, $3, $3, $4)",
    )
    .bind(original)
    .bind(token)
    .bind(ms(at))
    .bind(duplicate)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO photos (report_id, role, storage_key, content_type, created_at, linked_from) \
         SELECT $1, 'duplicate', storage_key, content_type, $2, report_id FROM photos \
         WHERE report_id = $3 AND role = 'report' ORDER BY id",
    )
    .bind(original)
    .bind(ms(at))
    .bind(duplicate)
    .execute(&mut **tx)
    .await?;
    note_on_original(tx, original, duplicate, true, at, actor).await
}

/// Appends `DuplicateLinked` (or `DuplicateUnlinked`) for `duplicate` to the original's
/// history. The event changes nothing in the original's state, so only its sequence moves
/// (not `updated_at`, which its statistics key on); a step on the original decided before
/// it conflicts and is decided again, as with any concurrent change.
async fn note_on_original(
    tx: &mut Transaction<'static, Any>,
    original: i64,
    duplicate: i64,
    linked: bool,
    at: DateTime<Utc>,
    actor: &Actor,
) -> Result<()> {
    let code: String = sqlx::query_scalar("SELECT code FROM reports WHERE id = $1")
        .bind(duplicate)
        .fetch_one(&mut **tx)
        .await?;
    let seq: i64 = sqlx::query_scalar(
        "UPDATE reports SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
    )
    .bind(original)
    .fetch_one(&mut **tx)
    .await?;
    let kind = if linked {
        EventKind::DuplicateLinked { code }
    } else {
        EventKind::DuplicateUnlinked { code }
    };
    insert_event(tx, original, seq, at, actor, &kind).await
}

/// Undoes [`link_duplicate`]: the duplicate's reporter no longer follows the original `of`,
/// its photos are no longer listed there, and the original's history says so.
async fn unlink_duplicate(
    tx: &mut Transaction<'static, Any>,
    duplicate: i64,
    of: &str,
    at: DateTime<Utc>,
    actor: &Actor,
) -> Result<()> {
    sqlx::query("DELETE FROM followers WHERE duplicate_id = $1")
        .bind(duplicate)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM photos WHERE linked_from = $1")
        .bind(duplicate)
        .execute(&mut **tx)
        .await?;
    let original: Option<i64> = sqlx::query_scalar("SELECT id FROM reports WHERE code = $1")
        .bind(of)
        .fetch_optional(&mut **tx)
        .await?;
    match original {
        Some(original) => note_on_original(tx, original, duplicate, false, at, actor).await,
        None => Ok(()),
    }
}

impl Store {
    /// The reports merged into report `code`, oldest first.
    pub async fn duplicates_of(&self, code: &str) -> Result<Vec<Report>> {
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE duplicate_of = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql).bind(code).fetch_all(&self.read).await?;
        rows.iter().map(report_from_row).collect()
    }

    /// Keys of the photos linked to a report from the duplicates merged into it, in order.
    pub async fn linked_photo_keys(&self, report_id: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT storage_key FROM photos WHERE report_id = $1 AND role = 'duplicate' ORDER BY id",
        )
        .bind(report_id)
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn report_by_code(&self, code: &str) -> Result<Option<Report>> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE code = $1");
        let row = sqlx::query(&sql)
            .bind(code)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(report_from_row).transpose()
    }

    pub async fn report(&self, id: i64) -> Result<Option<Report>> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(report_from_row).transpose()
    }

    /// The whole history of a report, in order.
    pub async fn events(&self, report_id: i64) -> Result<Vec<Event>> {
        Ok(self
            .events_of(&[report_id])
            .await?
            .pop()
            .map(|(_, e)| e)
            .unwrap_or_default())
    }

    /// Published reports (not rejected) with an id above `after`, filed in `[from, to)`
    /// when given, in id order: a page of the open-data export, read by key so a million
    /// reports stream in pages of the same cost.
    pub async fn published_reports_after(
        &self,
        after: i64,
        created: Option<(DateTime<Utc>, DateTime<Utc>)>,
        limit: i64,
    ) -> Result<Vec<Report>> {
        let mut args = Args::new(self.backend);
        let mut sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE id > {} AND status <> '{}'",
            args.mark(after),
            Status::Rejected.as_str()
        );
        if let Some((from, to)) = created {
            sql.push_str(&format!(
                " AND created_at >= {} AND created_at < {}",
                args.mark(ms(from)),
                args.mark(ms(to))
            ));
        }
        sql.push_str(&format!(" ORDER BY id LIMIT {}", limit.clamp(1, 5000)));
        let rows = args.query(&sql).fetch_all(&self.read).await?;
        rows.iter().map(report_from_row).collect()
    }

    /// The histories of several reports in one query (lists that show them), in the order
    /// of `report_ids`; a report with no events is left out.
    pub async fn events_of(&self, report_ids: &[i64]) -> Result<Vec<(i64, Vec<Event>)>> {
        self.events_of_kinds(report_ids, &[]).await
    }

    /// [`Store::events_of`], only events of `kinds` (all when empty).
    pub async fn events_of_kinds(
        &self,
        report_ids: &[i64],
        kinds: &[&str],
    ) -> Result<Vec<(i64, Vec<Event>)>> {
        let mut out: Vec<(i64, Vec<Event>)> = Vec::with_capacity(report_ids.len());
        // Kinds are our own constants, never user input.
        let only = if kinds.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = kinds.iter().map(|k| format!("'{k}'")).collect();
            // "+kind" on SQLite: the lookup must go by report, never by the (kind, at)
            // index (which would read every event of those kinds: minutes, not seconds).
            let kind = match self.backend {
                Backend::Sqlite => "+kind",
                Backend::Postgres => "kind",
            };
            format!(" AND {kind} IN ({})", list.join(", "))
        };
        for chunk in report_ids.chunks(500) {
            let mut args = Args::new(self.backend);
            let mut marks = String::new();
            args.push_list(&mut marks, chunk.iter().copied());
            let sql = format!(
                "SELECT report_id, seq, at, actor_kind, actor_id, actor_name, payload FROM events \
                 WHERE report_id IN ({marks}){only} ORDER BY report_id, seq"
            );
            let rows = args.query(&sql).fetch_all(&self.read).await?;
            let mut by_id: std::collections::HashMap<i64, Vec<Event>> =
                std::collections::HashMap::new();
            for row in &rows {
                let id: i64 = row.try_get("report_id")?;
                by_id.entry(id).or_default().push(event_from_row(row)?);
            }
            for id in chunk {
                if let Some(e) = by_id.remove(id) {
                    out.push((*id, e));
                }
            }
        }
        Ok(out)
    }
}

fn event_from_row(row: &AnyRow) -> Result<Event> {
    let actor_kind: String = row.try_get("actor_kind")?;
    let payload: String = row.try_get("payload")?;
    Ok(Event {
        seq: row.try_get("seq")?,
        at: from_ms(row.try_get("at")?),
        actor: Actor {
            kind: ActorKind::parse(&actor_kind)
                .ok_or_else(|| StoreError::Corrupt(format!("actor {actor_kind}")))?,
            id: row.try_get("actor_id")?,
            name: row.try_get("actor_name")?,
        },
        kind: parse_json(&payload)?,
    })
}

impl Store {
    /// Keys of the photos filed with a report, in order.
    pub async fn photo_keys(&self, report_id: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT storage_key FROM photos WHERE report_id = $1 AND role = 'report' ORDER BY id",
        )
        .bind(report_id)
        .fetch_all(&self.read)
        .await?)
    }

    /// The first photo of each of `report_ids` that has one (any channel: web, chat,
    /// email, hotline), by report id.
    pub async fn first_photo_keys(
        &self,
        report_ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, String>> {
        let mut out = std::collections::HashMap::new();
        for chunk in report_ids.chunks(500) {
            let mut args = Args::new(self.backend);
            let mut marks = String::new();
            args.push_list(&mut marks, chunk.iter().copied());
            let sql = format!(
                "SELECT p.report_id, COALESCE(p.public_key, p.storage_key) FROM photos p \
                 JOIN (SELECT report_id, MIN(id) AS id FROM photos \
                       WHERE role = 'report' AND hidden = 0 AND report_id IN ({marks}) \
                       GROUP BY report_id) f \
                 ON p.id = f.id"
            );
            let rows: Vec<(i64, String)> = args.query_as(&sql).fetch_all(&self.read).await?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// The photos of a report the public may see, in order: not hidden, and the redacted
    /// copy in place of any photo a moderator redacted; then those linked from duplicates
    /// merged into it, each as its own report shows it to the public (none of a duplicate
    /// whose content is not public).
    pub async fn public_photo_keys(&self, report_id: i64) -> Result<Vec<String>> {
        let mut keys: Vec<String> = sqlx::query_scalar(
            "SELECT COALESCE(public_key, storage_key) FROM photos \
             WHERE report_id = $1 AND role = 'report' AND hidden = 0 ORDER BY id",
        )
        .bind(report_id)
        .fetch_all(&self.read)
        .await?;
        let linked: Vec<String> = sqlx::query_scalar(
            "SELECT COALESCE(d.public_key, d.storage_key) FROM photos l \
             JOIN photos d ON d.report_id = l.linked_from AND d.storage_key = l.storage_key AND d.role = 'report' \
             JOIN reports r ON r.id = l.linked_from \
             WHERE l.report_id = $1 AND l.role = 'duplicate' AND d.hidden = 0 \
             AND r.publication = 'published' AND r.status <> 'rejected' ORDER BY l.id",
        )
        .bind(report_id)
        .fetch_all(&self.read)
        .await?;
        keys.extend(linked);
        Ok(keys)
    }

    /// A report's photos for moderators: (key, hidden, key of the public copy).
    pub async fn photos_for_moderation(
        &self,
        report_id: i64,
    ) -> Result<Vec<(String, bool, Option<String>)>> {
        let rows: Vec<(String, i64, Option<String>)> = sqlx::query_as(
            "SELECT storage_key, hidden, public_key FROM photos \
             WHERE report_id = $1 AND role = 'report' ORDER BY id",
        )
        .bind(report_id)
        .fetch_all(&self.read)
        .await?;
        Ok(rows.into_iter().map(|(k, h, p)| (k, h != 0, p)).collect())
    }

    /// The personal data of a report's reporter (never for public views).
    pub async fn reporter(&self, report_id: i64) -> Result<Option<Reporter>> {
        let row: Option<(Option<String>, Option<String>, Option<String>, Option<String>, i64)> =
            sqlx::query_as(
                "SELECT name, phone, email, channel_identity, consent FROM reporters WHERE report_id = $1",
            )
            .bind(report_id)
            .fetch_optional(&self.read)
            .await?;
        Ok(
            row.map(|(name, phone, email, channel_identity, consent)| Reporter {
                name,
                phone,
                email,
                channel_identity,
                consent: consent != 0,
            }),
        )
    }

    /// Reports, newest first.
    pub async fn list_reports(&self, f: &ReportFilter) -> Result<Page<Report>> {
        // Values are bound in the order their placeholders appear in the text: the FROM
        // clause first, then the conditions in the order they are joined.
        let mut args = Args::new(self.backend);
        // A small box (about a square kilometre) is looked up through the spatial index
        // (SQLite: the R*Tree, PostgreSQL: GiST on point(lon, lat)). A bigger one holds so
        // many reports that walking them newest first finds a page sooner, so there the
        // position only filters ("+lat" keeps SQLite's planner off the (lat, lon) index).
        let small_box = f
            .bbox
            .filter(|[w, s, e, n]| (e - w).abs() * (n - s).abs() < SMALL_BOX_DEG2);
        let mut from = "reports".to_string();
        if let (Some([w, s, e, n]), Backend::Sqlite) = (small_box, self.backend) {
            // The R*Tree drives (CROSS JOIN fixes the order of the loops): left to itself,
            // SQLite's planner walks an index of another filter (status, field) and probes
            // each report against the box.
            from = format!(
                "(SELECT id AS pos_id FROM reports_pos WHERE max_lon >= {} AND max_lat >= {} \
                 AND min_lon <= {} AND min_lat <= {}) AS p CROSS JOIN reports ON reports.id = p.pos_id",
                args.mark(w),
                args.mark(s),
                args.mark(e),
                args.mark(n)
            );
        }
        let mut conds: Vec<String> = Vec::new();
        fn push(conds: &mut Vec<String>, args: &mut Args, cond: &str, arg: impl Into<Val>) {
            conds.push(cond.replace('?', &args.mark(arg)));
        }
        if let Some(u) = &f.unit {
            push(&mut conds, &mut args, "unit = ?", u.as_str());
        }
        if let Some(v) = &f.field {
            push(&mut conds, &mut args, "field = ?", v.as_str());
        }
        if let Some(v) = &f.ward {
            push(&mut conds, &mut args, "ward = ?", v.as_str());
        }
        if let Some(t) = f.overdue_at {
            push(&mut conds, &mut args, "due_at < ?", ms(t));
            conds.push("paused_at IS NULL AND status IN ('assigned', 'in_progress')".into());
        }
        if let Some(t) = f.created_from {
            push(&mut conds, &mut args, "created_at >= ?", ms(t));
        }
        if let Some(t) = f.created_to {
            push(&mut conds, &mut args, "created_at < ?", ms(t));
        }
        if let Some(t) = f.updated_from {
            push(&mut conds, &mut args, "updated_at >= ?", ms(t));
        }
        if let Some(t) = f.updated_to {
            push(&mut conds, &mut args, "updated_at <= ?", ms(t));
        }
        for (column, values) in [("code", &f.codes), ("field", &f.fields)] {
            if values.is_empty() {
                continue;
            }
            let mut marks = String::new();
            args.push_list(&mut marks, values.iter().take(200).map(String::as_str));
            conds.push(format!("{column} IN ({marks})"));
        }
        if let Some([w, s, e, n]) = f.bbox {
            if let (Some(_), Backend::Postgres) = (small_box, self.backend) {
                conds.push(format!(
                    "point(lon, lat) <@ box(point({}, {}), point({}, {}))",
                    args.mark(w),
                    args.mark(s),
                    args.mark(e),
                    args.mark(n)
                ));
            }
            // The exact test (the R*Tree keeps 32-bit coordinates, rounded outwards).
            let (lat, lon) = match self.backend {
                Backend::Sqlite => ("+lat", "+lon"),
                Backend::Postgres => ("lat", "lon"),
            };
            push(&mut conds, &mut args, &format!("{lon} >= ?"), w);
            push(&mut conds, &mut args, &format!("{lat} >= ?"), s);
            push(&mut conds, &mut args, &format!("{lon} <= ?"), e);
            push(&mut conds, &mut args, &format!("{lat} <= ?"), n);
        }
        if f.hide_rejected {
            // The domain's one definition of what the public may see.
            for s in Status::ALL.into_iter().filter(|s| !s.is_published()) {
                conds.push(format!("status <> '{}'", s.as_str()));
            }
        }
        if let Some(a) = f.assignee {
            conds.push(format!("assignee = {}", args.mark(a)));
        }
        if let Some(p) = f.publication {
            // Our own constant, never user input.
            conds.push(format!("publication = '{}'", p.as_str()));
        }
        if !f.statuses.is_empty() {
            let list: Vec<String> = f
                .statuses
                .iter()
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            conds.push(format!("status IN ({})", list.join(", ")));
        }
        let limit = f.limit.clamp(1, 500);
        let mut sql = format!("SELECT {REPORT_COLUMNS} FROM {from}");
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        sql.push_str(&format!(
            " ORDER BY {}{}created_at DESC, id DESC LIMIT {} OFFSET {}",
            if f.urgent_first { "urgent DESC, " } else { "" },
            if f.due_first {
                "(due_at IS NULL), due_at ASC, "
            } else {
                ""
            },
            limit + 1,
            f.offset.max(0)
        ));
        let rows = args.query(&sql).fetch_all(&self.read).await?;
        let mut items = rows
            .iter()
            .map(report_from_row)
            .collect::<Result<Vec<_>>>()?;
        let has_more = items.len() as i64 > limit;
        items.truncate(limit as usize);
        Ok(Page { items, has_more })
    }

    /// Appends one event to a report whose history has `expected_seq` events, updates the
    /// report's current state to `state`, and queues `jobs`, in one transaction. If someone
    /// else appended first, nothing is written and `Conflict` is returned.
    // Every argument is one part of the one transaction; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub async fn append_event(
        &self,
        report_id: i64,
        expected_seq: i64,
        at: DateTime<Utc>,
        actor: &Actor,
        kind: &EventKind,
        state: &State,
        jobs: &[NewJob],
    ) -> Result<i64> {
        let mut tx = self.write.begin().await?;
        let seq = expected_seq + 1;
        type Row = (
            i64,
            String,
            Option<String>,
            String,
            String,
            Option<i64>,
            i64,
        );
        let before: Option<Row> = sqlx::query_as(
            "SELECT created_at, field, ward, unit, status, due_at, updated_at FROM reports \
             WHERE id = $1 AND last_seq = $2",
        )
        .bind(report_id)
        .bind(expected_seq)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((created, field, ward, old_unit, old_status, old_due, old_updated)) = before
        else {
            return Err(StoreError::Conflict(
                "hồ sơ vừa được người khác cập nhật / the report was changed meanwhile".into(),
            ));
        };
        let updated = sqlx::query(
            "UPDATE reports SET status = $1, unit = $2, assignee = $3, due_at = $4, paused_at = $5, \
             updated_at = $6, last_seq = $7, publication = $8, public_text = $9, urgent = $10, \
             duplicate_of = $11 WHERE id = $12 AND last_seq = $13",
        )
        .bind(state.status.as_str())
        .bind(&state.unit)
        .bind(state.assignee)
        .bind(state.due_at.map(ms))
        .bind(state.paused_at.map(ms))
        .bind(ms(at))
        .bind(seq)
        .bind(state.publication.as_str())
        .bind(state.public_text.as_deref())
        .bind(i64::from(state.urgent))
        .bind(state.duplicate_of.as_deref())
        .bind(report_id)
        .bind(expected_seq)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Err(StoreError::Conflict(
                "hồ sơ vừa được người khác cập nhật / the report was changed meanwhile".into(),
            ));
        }
        insert_event(&mut tx, report_id, seq, at, actor, kind).await?;
        if let EventKind::Resolved {
            photo: Some(key), ..
        } = kind
        {
            // Listed with the report, so the photo is served as the report's (and no longer
            // counts as an unattached upload).
            sqlx::query(
                "INSERT INTO photos (report_id, role, storage_key, content_type, created_at) \
                 VALUES ($1, 'resolution', $2, 'image/jpeg', $3)",
            )
            .bind(report_id)
            .bind(key)
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
        }
        match kind {
            EventKind::PhotoHidden { photo } => {
                sqlx::query(
                    "UPDATE photos SET hidden = 1 WHERE report_id = $1 AND storage_key = $2",
                )
                .bind(report_id)
                .bind(photo)
                .execute(&mut *tx)
                .await?;
            }
            EventKind::PhotoRedacted { photo, copy, .. } => {
                sqlx::query(
                    "UPDATE photos SET public_key = $1 WHERE report_id = $2 AND storage_key = $3",
                )
                .bind(copy)
                .bind(report_id)
                .bind(photo)
                .execute(&mut *tx)
                .await?;
                // The copy is the report's too (served as its public photo).
                sqlx::query(
                    "INSERT INTO photos (report_id, role, storage_key, content_type, created_at) \
                     VALUES ($1, 'redacted', $2, 'image/jpeg', $3)",
                )
                .bind(report_id)
                .bind(copy)
                .bind(ms(at))
                .execute(&mut *tx)
                .await?;
            }
            EventKind::MarkedDuplicate { of } => {
                link_duplicate(&mut tx, report_id, of, at, actor).await?
            }
            EventKind::DuplicateUndone { of, .. } => {
                unlink_duplicate(&mut tx, report_id, of, at, actor).await?
            }
            _ => {}
        }
        for job in jobs {
            insert_job(&mut tx, job, self.now()).await?;
        }
        // Move the report from its old place in the statistics to its new one.
        let ward = ward.as_deref();
        let old = CountKey::of(
            created,
            &field,
            ward,
            &old_unit,
            &old_status,
            old_due,
            old_updated,
        );
        let new = CountKey::of(
            created,
            &field,
            ward,
            &state.unit,
            state.status.as_str(),
            state.due_at.map(ms),
            ms(at),
        );
        if old != new {
            add_counts(self.backend, &mut tx, HashMap::from([(old, -1), (new, 1)])).await?;
        }
        tx.commit().await?;
        Ok(seq)
    }

    /// Counts reports by status (for metrics and dashboards).
    pub async fn count_by_status(&self) -> Result<Vec<(String, i64)>> {
        Ok(
            sqlx::query_as("SELECT status, COUNT(*) FROM reports GROUP BY status ORDER BY status")
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Earlier reports by the same phone or email (for operators; personal data).
    pub async fn reports_by_contact(
        &self,
        phone: Option<&str>,
        email: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Report>> {
        let cols: Vec<String> = REPORT_COLUMNS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect();
        let sql = format!(
            "SELECT {} FROM reports r JOIN reporters p ON p.report_id = r.id \
             WHERE (p.phone = $1 OR p.email = $2) ORDER BY r.created_at DESC LIMIT {}",
            cols.join(", "),
            limit.clamp(1, 100)
        );
        let rows = sqlx::query(&sql)
            .bind(phone)
            .bind(email)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(report_from_row).collect()
    }

    /// Reports filed from a chat identity (`messenger:PSID`) that wait for the citizen's
    /// information, newest first.
    pub async fn reports_awaiting_info(&self, channel_identity: &str) -> Result<Vec<Report>> {
        let cols: Vec<String> = REPORT_COLUMNS
            .split(", ")
            .map(|c| format!("r.{c}"))
            .collect();
        let sql = format!(
            "SELECT {} FROM reports r JOIN reporters p ON p.report_id = r.id \
             WHERE p.channel_identity = $1 AND r.status = 'info_requested' ORDER BY r.updated_at DESC LIMIT 10",
            cols.join(", "),
        );
        let rows = sqlx::query(&sql)
            .bind(channel_identity)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(report_from_row).collect()
    }

    /// Reports a unit received, was transferred, had reopened or had rated in `[from, to)`.
    pub async fn reports_with_unit_activity(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        // No DISTINCT: with it SQLite walks the (report_id, seq) key instead of the
        // (kind, at) index. Duplicates are dropped here.
        let mut ids: Vec<i64> = sqlx::query_scalar(
            "SELECT report_id FROM events WHERE kind IN ('assigned', 'transferred', 'reopened', 'rated') \
             AND at >= $1 AND at < $2",
        )
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(&self.read)
        .await?;
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Scores the citizens gave in `[from, to)`: (unit, score, fixed).
    pub async fn ratings_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, u8, bool)>> {
        Ok(self
            .ratings_with_fields(from, to)
            .await?
            .into_iter()
            .map(|(unit, _, score, fixed)| (unit, score, fixed))
            .collect())
    }

    /// Scores the citizens gave in `[from, to)`: (unit, field, score, fixed).
    pub async fn ratings_with_fields(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(String, String, u8, bool)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT e.payload, r.field FROM events e JOIN reports r ON r.id = e.report_id \
             WHERE e.kind = 'rated' AND e.at >= $1 AND e.at < $2",
        )
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(p, field)| match parse_json::<EventKind>(&p).ok()? {
                EventKind::Rated {
                    unit, score, fixed, ..
                } => Some((unit, field, score, fixed)),
                _ => None,
            })
            .collect())
    }

    /// Reports being worked on (assigned or in progress, clock running) whose deadline
    /// falls before `until`, oldest deadline first.
    pub async fn reports_due_before(
        &self,
        until: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Report>> {
        // On SQLite "+status" keeps the planner on the due date index (walked in order)
        // rather than collecting every open report by status and sorting them.
        let status = match self.backend {
            Backend::Sqlite => "+status",
            Backend::Postgres => "status",
        };
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE due_at < $1 AND paused_at IS NULL \
             AND {status} IN ('assigned', 'in_progress') ORDER BY due_at LIMIT {}",
            limit.clamp(1, 10_000)
        );
        let rows = sqlx::query(&sql)
            .bind(ms(until))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(report_from_row).collect()
    }
}
