//! The use cases of phananh. Web handlers, channel adapters and the CLI call these; these
//! call the domain rules and the store. Nothing here knows HTTP.

pub mod admin;
pub mod apikeys;
pub mod auth;
pub mod bulk;
pub mod catalog;
pub mod chat;
pub mod clock;
pub mod committee;
pub mod deadlines;
pub mod duplicates;
pub mod error;
pub mod follow;
pub mod hotline;
pub mod inbox;
pub mod intake;
pub mod jobs;
pub mod media;
pub mod moderation;
pub mod open_data;
pub mod performance;
pub mod photos;
pub mod public;
pub mod query;
pub mod rating;
pub mod reports;
pub mod sms;
pub mod stats;
pub mod templates;
pub mod zalo;

use std::sync::Arc;

use phananh_storage::Store;
use tokio::sync::{Notify, RwLock};

pub use catalog::Catalog;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{AppError, FieldError};

/// Everything the use cases share. Cheap to clone.
#[derive(Clone)]
pub struct App {
    /// Private: every reader and writer goes through a use case (docs/ARCHITECTURE.md).
    store: Store,
    pub clock: Arc<dyn Clock>,
    catalog: Arc<RwLock<Arc<Catalog>>>,
    /// Woken when jobs are queued, so the worker does not wait for its next poll.
    pub jobs_queued: Arc<Notify>,
    pub metrics: Arc<Metrics>,
    /// Where photos are kept, and what is accepted.
    pub photos: Arc<dyn phananh_photos::PhotoStore>,
    pub photo_limits: phananh_photos::PhotoLimits,
    /// What video and voice notes may be, and where ffmpeg is.
    pub media_limits: phananh_photos::media::MediaLimits,
    /// Answered calls, for the operators' screens (every telephone adapter publishes here).
    pub calls: tokio::sync::broadcast::Sender<hotline::CallPopup>,
    /// Images decoded at once, at most one per core: a burst of uploads queues here
    /// instead of taking every core and the memory of every picture together.
    pub decoding: Arc<tokio::sync::Semaphore>,
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    pub reports_created: std::sync::atomic::AtomicU64,
    pub reports_replayed: std::sync::atomic::AtomicU64,
    pub transitions: std::sync::atomic::AtomicU64,
    pub jobs_done: std::sync::atomic::AtomicU64,
    pub jobs_failed: std::sync::atomic::AtomicU64,
    pub jobs_dead: std::sync::atomic::AtomicU64,
    pub logins_failed: std::sync::atomic::AtomicU64,
}

impl App {
    /// Loads the catalog from the store. The store must hold a profile.
    pub async fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        photos: Arc<dyn phananh_photos::PhotoStore>,
    ) -> Result<App, AppError> {
        // Every time the store writes comes from this clock too.
        store.use_clock(clock.clone());
        let catalog = Catalog::load(&store).await?;
        Ok(App {
            store,
            clock,
            photos,
            photo_limits: phananh_photos::PhotoLimits::default(),
            media_limits: phananh_photos::media::MediaLimits::default(),
            catalog: Arc::new(RwLock::new(Arc::new(catalog))),
            jobs_queued: Arc::new(Notify::new()),
            metrics: Arc::new(Metrics::default()),
            calls: tokio::sync::broadcast::channel(64).0,
            decoding: Arc::new(tokio::sync::Semaphore::new(photos::decode_slots())),
        })
    }

    pub async fn catalog(&self) -> Arc<Catalog> {
        self.catalog.read().await.clone()
    }

    /// Reloads the catalog if the profile changed (here or in another process).
    pub async fn refresh_catalog(&self) -> Result<bool, AppError> {
        let version = self.store.profile_version().await?;
        if version == self.catalog.read().await.version {
            return Ok(false);
        }
        let fresh = Catalog::load(&self.store).await?;
        *self.catalog.write().await = Arc::new(fresh);
        Ok(true)
    }
}
