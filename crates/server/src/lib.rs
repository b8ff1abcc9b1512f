//! The `phananh` binary's library: configuration, start-up (database, profile, worker,
//! HTTP server) and graceful shutdown. Integration tests start the same thing on a random
//! port with [`start`].

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use phananh_app::{App, Clock};
use phananh_domain::profile::Profile;
use phananh_storage::Store;
use phananh_web::AppState;
use phananh_worker::{Worker, WorkerConfig};
use tokio::sync::watch;

pub mod config;
pub use config::{
    Config, EmailSection, ReportsSection, SETTINGS, Secret, Setting, SmtpSection, WebSection,
    WebhookSection,
};

/// The Ho Chi Minh City profile shipped with phananh, loaded on first start.
pub const HCMC_PROFILE: &str = include_str!("../../../profiles/hcmc.json");

/// Opens the database and, on first start, loads the Ho Chi Minh City profile.
pub async fn open_app(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
    Ok(open(config, clock).await?.0)
}

/// [`open_app`], with the store itself for start-up wiring and the operator's commands
/// (everything else reaches the data through `App`).
pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<(App, Store)> {
    let database_url = config.database_url.as_str();
    let store = Store::open(database_url)
        .await
        .with_context(|| format!("opening the database {database_url}"))?;
    if store.export_profile().await?.is_none() {
        let profile: Profile =
            serde_json::from_str(HCMC_PROFILE).context("the built-in HCMC profile")?;
        store.import_profile(&profile).await?;
        tracing::info!(
            wards = profile.wards.len(),
            units = profile.units.len(),
            "loaded the Ho Chi Minh City profile"
        );
    }
    let photos = phananh_photos::FsPhotoStore::new(&config.photos_dir)
        .with_context(|| format!("photo directory {}", config.photos_dir))?;
    let mut app = App::new(store.clone(), clock, Arc::new(photos)).await?;
    app.media_limits = config.media.limits();
    Ok((app, store))
}

/// A running server (HTTP and worker).
pub struct Running {
    pub addr: SocketAddr,
    pub app: App,
    /// The store under `app`, for start-up wiring and tests' set-up and checks.
    pub store: Store,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    worker: Option<tokio::task::JoinHandle<()>>,
    upkeep: tokio::task::JoinHandle<()>,
    mailbox: Vec<tokio::task::JoinHandle<()>>,
    /// Where the inbound SMTP listener took connections, if it runs.
    pub email_listen: Option<SocketAddr>,
}

/// Starts the server: binds `config.listen` (port 0 for a random one), runs the worker.
pub async fn start(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let (app, store) = open(config, clock).await?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = watch::channel(false);
    let email_auth = config.email.auth_config()?;
    let worker = config.worker.then(|| {
        let w = Worker::new(
            app.clone(),
            WorkerConfig {
                webhook_secret: config.webhooks.secret.clone(),
                smtp_url: (!config.smtp.url.is_empty()).then(|| config.smtp.url.clone()),
                smtp_from: config.smtp.from.clone(),
                public_url: config.public_url.clone(),
                chat: config.chat.clone(),
                sms: config.sms.clone(),
                committee_emails: config.reports.committee_emails.clone(),
                email_address: (!config.email.address.is_empty())
                    .then(|| config.email.address.clone()),
                email_auth,
                ..WorkerConfig::default()
            },
        );
        tokio::spawn(w.run(stopped.clone()))
    });
    if !config.hotline.ami_address.is_empty() {
        // The telephone exchange's events, straight from Asterisk.
        phananh_worker::ami::start(app.clone(), config.hotline.clone());
    }
    let (mailbox, email_listen) = start_mailbox(config, &app).await?;
    let state = AppState::new(app.clone(), config.web_config(addr));
    // Only one process needs to queue the committee's report; the dedupe key makes
    // a second one harmless, so every process may try.
    let committee = phananh_app::committee::Period::parse(&config.reports.committee_period)
        .filter(|_| !config.reports.committee_emails.is_empty());
    let upkeep = tokio::spawn(upkeep(
        app.clone(),
        state.clone(),
        stopped.clone(),
        committee,
    ));
    let mut stopped_http = stopped;
    let server = tokio::spawn(phananh_web::serve(listener, state, async move {
        let _ = stopped_http.wait_for(|s| *s).await;
    }));
    if config.webhooks.secret.is_empty() {
        tracing::warn!(
            "Chưa đặt khóa ký webhook: webhook tới đơn vị sẽ không được gửi / no webhook secret set \
             ([webhooks] secret or PHANANH_WEBHOOK_SECRET): webhooks to units will not be sent"
        );
    }
    if store.count_users().await? == 0 {
        tracing::warn!(
            "Chưa có tài khoản quản trị. Tạo tài khoản đầu tiên / No admin yet. Create the first one: \
             echo 'a-long-password' | phananh user add --role admin --email you@example.org --name 'Your Name'"
        );
    }
    tracing::info!(%addr, "phananh is listening: open http://{addr}/");
    Ok(Running {
        addr,
        app,
        store,
        stop,
        server,
        worker,
        upkeep,
        mailbox,
        email_listen,
    })
}

/// Starts reading the 1022 mailbox: the IMAP poller and the SMTP listener, if configured.
async fn start_mailbox(
    config: &Config,
    app: &App,
) -> anyhow::Result<(Vec<tokio::task::JoinHandle<()>>, Option<SocketAddr>)> {
    use phananh_worker::mailbox;
    let e = &config.email;
    let mb = Arc::new(mailbox::MailboxConfig {
        imap_url: (!e.imap_url.is_empty()).then(|| e.imap_url.clone()),
        smtp_listen: (!e.smtp_listen.is_empty()).then(|| e.smtp_listen.clone()),
        address: (!e.address.is_empty()).then(|| e.address.clone()),
        poll_interval: std::time::Duration::from_secs(e.poll_seconds.max(1)),
        max_size: e.max_megabytes.saturating_mul(1024 * 1024),
        smtp_max_connections: e.smtp_max_connections.max(1),
        smtp_max_per_ip: e.smtp_max_per_ip.max(1),
        smtp_idle_timeout: std::time::Duration::from_secs(e.smtp_idle_seconds.max(1)),
        smtp_session_limit: std::time::Duration::from_secs(e.smtp_session_seconds.max(1)),
    });
    let mut tasks = Vec::new();
    let mut addr = None;
    if mb.imap_url.is_some() {
        tasks.push(tokio::spawn(mailbox::imap_poll(app.clone(), mb.clone())));
    }
    if let Some(listen) = &mb.smtp_listen {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("[email] smtp_listen {listen}"))?;
        addr = Some(listener.local_addr()?);
        tracing::info!(addr = ?addr, "inbound SMTP for the 1022 mailbox");
        tasks.push(tokio::spawn(mailbox::smtp_listen(
            app.clone(),
            mb.clone(),
            listener,
        )));
    }
    Ok((tasks, addr))
}

/// Periodic work every process does, worker or not: reload the profile when an admin (here
/// or in another process) changed it, drop expired sessions, forget idle rate-limit keys.
async fn upkeep(
    app: App,
    state: AppState,
    mut stopped: watch::Receiver<bool>,
    committee: Option<phananh_app::committee::Period>,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => break,
            _ = tick.tick() => {}
        }
        if let Err(e) = app.refresh_catalog().await {
            tracing::warn!(error = %e, "profile reload failed");
        }
        n += 1;
        // Deadlines are looked at every minute (each reminder is queued once).
        if n.is_multiple_of(12)
            && let Err(e) = app.scan_deadlines().await
        {
            tracing::warn!(error = %e, "deadline scan failed");
        }
        if n % 60 == 1
            && let Some(p) = committee
            && let Err(e) = app.queue_committee_report(p).await
        {
            tracing::warn!(error = %e, "could not queue the committee's report");
        }
        // Uploads no report used within a day, and follows never confirmed, are deleted.
        if n % 12 == 6 {
            if let Err(e) = app.purge_unattached_photos().await {
                tracing::warn!(error = %e, "purging unattached photos failed");
            }
            if let Err(e) = app.purge_unattached_media().await {
                tracing::warn!(error = %e, "purging unattached recordings failed");
            }
            if let Err(e) = app.purge_unconfirmed_followers().await {
                tracing::warn!(error = %e, "purging unconfirmed followers failed");
            }
        }
        if n.is_multiple_of(60) {
            let _ = app.delete_expired_sessions().await;
            state.upkeep();
        }
    }
}

impl Running {
    /// Stops accepting requests, lets those in flight finish, stops the worker.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for t in &self.mailbox {
            t.abort();
        }
        match tokio::time::timeout(phananh_web::SHUTDOWN_GRACE, self.server).await {
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "server stopped with an error"),
            Err(_) => tracing::warn!("requests still running after the grace period"),
            _ => {}
        }
        let _ = self.upkeep.await;
        if let Some(w) = self.worker {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), w).await;
        }
        self.store.close().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}
