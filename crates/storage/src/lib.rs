//! The storage contract of phananh: one [`Store`], the same SQL on SQLite (the embedded
//! default) and PostgreSQL, chosen at runtime from the database URL.
//!
//! - Times are stored as unix milliseconds in UTC, booleans as 0/1, JSON as text: the same
//!   columns on both backends, so one set of queries serves both (through sqlx's `Any`).
//! - On SQLite every write goes through one connection (SQLite has one writer anyway) and
//!   reads through a pool, in WAL mode with `synchronous=FULL`: a commit is on disk.
//! - Reports are filed through a group-commit writer ([`Store::submit`]): concurrent
//!   submissions share one transaction and one fsync, and each is acknowledged only after
//!   that commit.

mod api_keys;
mod calls;
mod chat;
mod email;
mod follow;
mod intake;
mod jobs;
mod media;
mod profile;
mod reports;
mod sql;
mod stats;
mod templates;
mod unfiled;
mod uploads;
mod users;
mod zalo;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use phananh_domain::clock::{Clock, SystemClock};
use sqlx::AnyPool;
use sqlx::Executor;
use sqlx::any::AnyPoolOptions;

pub use api_keys::ApiKey;
pub use calls::Call;
pub use chat::{ChatEvent, ChatUser, NewChatEvent};
pub use email::{EmailAuthRecord, EmailEnvelope, InboundEmail, UNVERIFIED_SENDER};
pub use follow::{FollowOutcome, Follower};
pub use intake::{Created, NewReport};
pub use jobs::{Job, JobStatus, NewJob};
pub use media::{MediaRow, NewMedia};
pub use reports::{Page, ReportFilter, StoredEvent};
pub use stats::Stats;
pub use unfiled::{NewUnfiled, Unfiled};
pub use uploads::PhotoOwner;
pub use users::{Session, User};
pub use zalo::ZaloToken;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    #[error("idempotency key reused for a different request")]
    IdempotencyMismatch,
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("the storage writer has stopped")]
    Closed,
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The handle every part of phananh uses to reach the database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    intake: intake::Writer,
    /// Where the times the store writes itself (`created_at`, `updated_at`, …) come from:
    /// the system's clock until `App` hands over its own ([`Store::use_clock`]). Shared by
    /// every clone, the intake writer's included.
    clock: Arc<RwLock<Arc<dyn Clock>>>,
}

const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_open311.sql")),
    (3, include_str!("../migrations/sqlite/0003_forwarding.sql")),
    (
        4,
        include_str!("../migrations/sqlite/0004_counts_follow.sql"),
    ),
    (5, include_str!("../migrations/sqlite/0005_chat.sql")),
    (6, include_str!("../migrations/sqlite/0006_positions.sql")),
    (7, include_str!("../migrations/sqlite/0007_unfiled.sql")),
    (8, include_str!("../migrations/sqlite/0008_calls.sql")),
    (9, include_str!("../migrations/sqlite/0009_email.sql")),
    (10, include_str!("../migrations/sqlite/0010_public.sql")),
    (
        11,
        include_str!("../migrations/sqlite/0011_password_resets.sql"),
    ),
    (12, include_str!("../migrations/sqlite/0012_email_auth.sql")),
    (13, include_str!("../migrations/sqlite/0013_moderation.sql")),
    (14, include_str!("../migrations/sqlite/0014_zalo.sql")),
    (15, include_str!("../migrations/sqlite/0015_media.sql")),
    (16, include_str!("../migrations/sqlite/0016_urgent.sql")),
    (17, include_str!("../migrations/sqlite/0017_templates.sql")),
    (18, include_str!("../migrations/sqlite/0018_duplicates.sql")),
    (19, include_str!("../migrations/sqlite/0019_field_work.sql")),
];
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (2, include_str!("../migrations/postgres/0002_open311.sql")),
    (
        3,
        include_str!("../migrations/postgres/0003_forwarding.sql"),
    ),
    (
        4,
        include_str!("../migrations/postgres/0004_counts_follow.sql"),
    ),
    (5, include_str!("../migrations/postgres/0005_chat.sql")),
    (6, include_str!("../migrations/postgres/0006_positions.sql")),
    (7, include_str!("../migrations/postgres/0007_unfiled.sql")),
    (8, include_str!("../migrations/postgres/0008_calls.sql")),
    (9, include_str!("../migrations/postgres/0009_email.sql")),
    (10, include_str!("../migrations/postgres/0010_public.sql")),
    (
        11,
        include_str!("../migrations/postgres/0011_password_resets.sql"),
    ),
    (
        12,
        include_str!("../migrations/postgres/0012_email_auth.sql"),
    ),
    (
        13,
        include_str!("../migrations/postgres/0013_moderation.sql"),
    ),
    (14, include_str!("../migrations/postgres/0014_zalo.sql")),
    (15, include_str!("../migrations/postgres/0015_media.sql")),
    (16, include_str!("../migrations/postgres/0016_urgent.sql")),
    (
        17,
        include_str!("../migrations/postgres/0017_templates.sql"),
    ),
    (
        18,
        include_str!("../migrations/postgres/0018_duplicates.sql"),
    ),
    (
        19,
        include_str!("../migrations/postgres/0019_field_work.sql"),
    ),
];

/// Turns a path or URL into a database URL: a bare path means an SQLite file.
pub fn normalise_url(url: &str) -> String {
    if url.starts_with("postgres://")
        || url.starts_with("postgresql://")
        || url.starts_with("sqlite:")
    {
        url.to_string()
    } else {
        format!("sqlite://{url}")
    }
}

impl Store {
    /// Opens (and creates, for SQLite) the database and applies the migrations.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let url = normalise_url(url);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let (read, write) = match backend {
            Backend::Sqlite => {
                let path = url
                    .trim_start_matches("sqlite://")
                    .trim_start_matches("sqlite:");
                let path = path.split('?').next().unwrap_or(path);
                if let Some(parent) = std::path::Path::new(path).parent()
                    && !parent.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        StoreError::Migration(format!("cannot create {}: {e}", parent.display()))
                    })?;
                }
                let url = if url.contains('?') {
                    url.clone()
                } else {
                    format!("{url}?mode=rwc")
                };
                let write = sqlite_pool(&url, 1).await?;
                // WAL must be set before readers open the file.
                let read = sqlite_pool(&url, 4).await?;
                (read, write)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(&url)
                    .await?;
                (pool.clone(), pool)
            }
        };
        let mut store = Store {
            read,
            write: write.clone(),
            backend,
            intake: intake::Writer::closed(),
            clock: Arc::new(RwLock::new(Arc::new(SystemClock))),
        };
        store.migrate().await?;
        store.intake = intake::Writer::start(store.clone());
        Ok(store)
    }

    /// From now on, this store and all its clones take the time from `clock`.
    pub fn use_clock(&self, clock: Arc<dyn Clock>) {
        *self.clock.write().unwrap_or_else(|e| e.into_inner()) = clock;
    }

    /// The time now, by the store's clock.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.read().unwrap_or_else(|e| e.into_inner()).now()
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Writes a consistent copy of an SQLite database to `file` (`VACUUM INTO`), while the
    /// server keeps running: the copy is one read transaction, so writers are not blocked
    /// (WAL) and the copy holds exactly what was committed when it began. Refuses an existing
    /// file. PostgreSQL is backed up with `pg_dump` instead (docs/RELIABILITY.md).
    pub async fn backup_to(&self, file: &std::path::Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Migration(
                "backup: PostgreSQL is backed up with pg_dump (see docs/RELIABILITY.md)".into(),
            ));
        }
        if file.exists() {
            return Err(StoreError::Migration(format!(
                "backup: {} exists; choose a new file",
                file.display()
            )));
        }
        let path = file.to_str().ok_or_else(|| {
            StoreError::Migration(format!("backup: {} is not UTF-8", file.display()))
        })?;
        sqlx::query(&format!("VACUUM INTO '{}'", path.replace('\'', "''")))
            .execute(&self.read)
            .await?;
        Ok(())
    }

    async fn migrate(&self) -> Result<()> {
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let mut conn = self.write.acquire().await?;
        if self.backend == Backend::Postgres {
            // Several phananh processes may start at once on one PostgreSQL.
            conn.execute("SELECT pg_advisory_lock(1022)").await?;
        }
        let result = async {
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
            )
            .await?;
            for (version, sql) in migrations {
                let done: Option<i64> =
                    sqlx::query_scalar("SELECT version FROM schema_migrations WHERE version = $1")
                        .bind(*version)
                        .fetch_optional(&mut *conn)
                        .await?;
                if done.is_some() {
                    continue;
                }
                conn.execute("BEGIN").await?;
                let applied = async {
                    for stmt in split_sql(sql) {
                        conn.execute(stmt.as_str()).await?;
                    }
                    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                        .bind(*version)
                        .bind(ms(self.now()))
                        .execute(&mut *conn)
                        .await?;
                    Ok::<_, sqlx::Error>(())
                }
                .await;
                match applied {
                    Ok(()) => {
                        conn.execute("COMMIT").await?;
                    }
                    Err(e) => {
                        let _ = conn.execute("ROLLBACK").await;
                        return Err(StoreError::Migration(format!("version {version}: {e}")));
                    }
                }
                tracing::info!(version, "migration applied");
            }
            Ok(())
        }
        .await;
        if self.backend == Backend::Postgres {
            conn.execute("SELECT pg_advisory_unlock(1022)").await?;
        }
        result
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Tables and their columns, for the test that keeps both schemas in step.
    pub async fn schema_columns(&self) -> Result<Vec<(String, String)>> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                 AND m.name NOT LIKE 'reports_pos%' ORDER BY 1, 2"
            }
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
                 WHERE table_schema = current_schema() ORDER BY 1, 2"
            }
        };
        let rows: Vec<(String, String)> = sqlx::query_as(sql).fetch_all(&self.read).await?;
        Ok(rows)
    }

    /// Waits until the intake writer has drained (graceful shutdown).
    pub async fn close(&self) {
        self.intake.close().await;
        self.write.close().await;
        self.read.close().await;
    }
}

async fn sqlite_pool(url: &str, max: u32) -> Result<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                     PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456; \
                     PRAGMA temp_store = MEMORY;",
                )
                .await?;
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

/// Splits a migration file into statements (our migrations hold no `;` inside strings).
fn split_sql(sql: &str) -> Vec<String> {
    sql.lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

pub(crate) fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}
