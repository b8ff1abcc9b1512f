//! The `phananh` binary's library: configuration, start-up (database, profile, worker,
//! HTTP server) and graceful shutdown. Integration tests start the same thing on a random
//! port with [`start`].

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use phananh_app::{App, Clock};
use phananh_domain::profile::Profile;
use phananh_storage::Store;
use phananh_web::{AppState, WebConfig};
use phananh_worker::{Worker, WorkerConfig};
use serde::Deserialize;
use tokio::sync::watch;

/// The Ho Chi Minh City profile shipped with phananh, loaded on first start.
pub const HCMC_PROFILE: &str = include_str!("../../../profiles/hcmc.json");

/// `phananh.toml`, with environment overrides (see README).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// `postgres://…`, `sqlite://path`, or a bare path (SQLite file).
    pub database_url: String,
    /// "text" or "json".
    pub log_format: String,
    /// Where photos are kept (processed, without metadata).
    pub photos_dir: String,
    /// Run the outbox worker in this process.
    pub worker: bool,
    /// The address people use to reach this server (links in emails).
    pub public_url: String,
    pub web: WebSection,
    pub webhooks: WebhookSection,
    pub smtp: SmtpSection,
    /// Messenger and Viber (`[chat]`): secrets belong in the environment or a local file.
    pub chat: phananh_channels::ChatConfig,
    /// SMS gateways (`[sms]`).
    pub sms: phananh_channels::sms::SmsConfig,
    /// The telephone exchange (`[hotline]`).
    pub hotline: phananh_app::hotline::HotlineConfig,
    /// The scheduled report to the City People's Committee (`[reports]`).
    pub reports: ReportsSection,
    /// The 1022 mailbox (`[email]`): IMAP polling and/or an inbound SMTP listener.
    pub email: EmailSection,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsSection {
    /// "month", "week", or "" for none.
    pub committee_period: String,
    pub committee_emails: Vec<String>,
}

impl Default for ReportsSection {
    fn default() -> Self {
        ReportsSection {
            committee_period: "month".into(),
            committee_emails: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSection {
    /// The 1022 address citizens write to (Reply-To of our emails; loop detection).
    pub address: String,
    /// `imaps://user:pass@host:993/INBOX` (`imap://` without TLS); empty: not read.
    pub imap_url: String,
    /// Seconds between IMAP polls.
    pub poll_seconds: u64,
    /// `127.0.0.1:2525`: an SMTP listener taking mail for `address`; empty: none.
    pub smtp_listen: String,
    /// Larger messages are kept as headers only and queued for a person (IMAP) or
    /// refused with 552 (SMTP).
    pub max_megabytes: usize,
    /// Trust the topmost `Authentication-Results:` header of this authserv-id (a hosted
    /// mailbox that checks SPF/DKIM/DMARC itself) instead of checking here; empty: check.
    pub trusted_authserv_id: String,
    /// Addresses of mail servers relaying to `smtp_listen`: for them SPF takes the client
    /// from the topmost `Received:` header they wrote, not the connection.
    pub trusted_relays: Vec<String>,
    /// Authenticated emails acted on per hour from one address / one domain (0: no limit).
    pub per_sender_per_hour: u32,
    pub per_domain_per_hour: u32,
    /// Inbound SMTP sessions at once, and from one client address (421 beyond).
    pub smtp_max_connections: usize,
    pub smtp_max_per_ip: usize,
    /// Seconds the listener waits for a command or a line of DATA (421 after).
    pub smtp_idle_seconds: u64,
    /// The longest an inbound SMTP session may last, in seconds.
    pub smtp_session_seconds: u64,
}

impl EmailSection {
    /// Who may act by email, as the worker checks it (the system's DNS).
    pub fn auth_config(&self) -> anyhow::Result<phananh_worker::email_auth::EmailAuthConfig> {
        let trusted_relays = self
            .trusted_relays
            .iter()
            .map(|r| {
                r.trim()
                    .parse()
                    .with_context(|| format!("[email] trusted_relays: {r:?} is not an IP address"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(phananh_worker::email_auth::EmailAuthConfig {
            trusted_authserv_id: self.trusted_authserv_id.trim().to_string(),
            trusted_relays,
            per_sender_per_hour: self.per_sender_per_hour,
            per_domain_per_hour: self.per_domain_per_hour,
            dns: None,
        })
    }
}

impl Default for EmailSection {
    fn default() -> Self {
        EmailSection {
            address: String::new(),
            imap_url: String::new(),
            poll_seconds: 30,
            smtp_listen: String::new(),
            max_megabytes: 25,
            trusted_authserv_id: String::new(),
            trusted_relays: Vec::new(),
            per_sender_per_hour: 10,
            per_domain_per_hour: 200,
            smtp_max_connections: 50,
            smtp_max_per_ip: 5,
            smtp_idle_seconds: 60,
            smtp_session_seconds: 600,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSection {
    /// `smtp://host:25`, `smtp://user:pass@host:587?tls=required`, `smtps://host:465`; empty: no email.
    pub url: String,
    pub from: String,
}

impl Default for SmtpSection {
    fn default() -> Self {
        SmtpSection {
            url: String::new(),
            from: WorkerConfig::default().smtp_from,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSection {
    pub intake_per_minute: u32,
    pub login_per_minute: u32,
    pub contact_per_hour: u32,
    /// Unset: on when `public_url` is https (then browsers reach us over TLS, usually
    /// through a reverse proxy), off for a plain-http `public_url`.
    pub secure_cookies: Option<bool>,
    /// Deprecated: `true` means `trusted_proxies = ["127.0.0.1", "::1"]` when that list is
    /// empty (a proxy on the same host, the usual case).
    pub trust_forwarded_for: bool,
    pub max_body_bytes: usize,
    /// Map tile URL template (Leaflet) and attribution; point it at the city's own tiles.
    pub tile_url: String,
    pub tile_attribution: String,
    /// The Open311 `jurisdiction_id` accepted besides the city's code.
    pub jurisdiction_id: String,
    /// Radius in metres of the form's "is this the same problem?" search.
    pub nearby_radius_m: f64,
    /// Seconds a connection has to send a whole request head before it is closed.
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may stay silent before it is cut off.
    pub body_read_timeout_secs: u64,
    /// Seconds a whole request may take (event streams exempt).
    pub request_timeout_secs: u64,
    /// When set, `/metrics` requires `Authorization: Bearer <token>` (a secret).
    pub metrics_token: String,
    /// Anonymous photo uploads per IP per hour, in number and in bytes (0: no limit).
    pub uploads_per_hour: u32,
    pub upload_bytes_per_hour: u64,
    /// Reports one staff member may file per minute and per hour (0: no limit).
    pub staff_filings_per_minute: u32,
    pub staff_filings_per_hour: u32,
    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSection {
    /// Key for the HMAC-SHA256 signature of webhooks to units.
    pub secret: String,
}

impl Default for WebSection {
    fn default() -> Self {
        let d = WebConfig::default();
        WebSection {
            intake_per_minute: d.intake_per_minute,
            login_per_minute: d.login_per_minute,
            contact_per_hour: d.contact_per_hour,
            secure_cookies: None,
            trust_forwarded_for: false,
            max_body_bytes: d.max_body,
            tile_url: d.tile_url,
            tile_attribution: d.tile_attribution,
            jurisdiction_id: d.jurisdiction_id,
            nearby_radius_m: d.nearby_radius_m,
            header_read_timeout_secs: d.header_read_timeout.as_secs(),
            body_read_timeout_secs: d.body_read_timeout.as_secs(),
            request_timeout_secs: d.request_timeout.as_secs(),
            metrics_token: d.metrics_token,
            uploads_per_hour: d.uploads_per_hour,
            upload_bytes_per_hour: d.upload_bytes_per_hour,
            staff_filings_per_minute: d.staff_filings_per_minute,
            staff_filings_per_hour: d.staff_filings_per_hour,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8022".into(),
            database_url: "data/phananh.db".into(),
            log_format: "text".into(),
            photos_dir: "data/photos".into(),
            worker: true,
            public_url: "http://127.0.0.1:8022".into(),
            smtp: SmtpSection::default(),
            web: WebSection::default(),
            webhooks: WebhookSection::default(),
            chat: phananh_channels::ChatConfig::default(),
            sms: phananh_channels::sms::SmsConfig::default(),
            hotline: Default::default(),
            reports: ReportsSection::default(),
            email: EmailSection::default(),
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Config {
    /// Reads `path` if it exists (a missing default file is fine), then the environment.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let mut config = match path {
            Some(p) if p.exists() => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("reading {}", p.display()))?;
                toml::from_str(&text).with_context(|| format!("parsing {}", p.display()))?
            }
            Some(p) if p != Path::new("phananh.toml") => {
                anyhow::bail!("config file {} not found", p.display())
            }
            _ => Config::default(),
        };
        if let Some(v) = env("PHANANH_LISTEN") {
            config.listen = v;
        }
        if let Some(v) = env("PHANANH_DATABASE_URL").or_else(|| env("DATABASE_URL")) {
            config.database_url = v;
        }
        if let Some(v) = env("PHANANH_PHOTOS_DIR") {
            config.photos_dir = v;
        }
        if let Some(v) = env("PHANANH_LOG_FORMAT") {
            config.log_format = v;
        }
        if let Some(v) = env("PHANANH_WORKER") {
            config.worker = v != "0" && v != "false";
        }
        if let Some(v) = env("PHANANH_INTAKE_PER_MINUTE") {
            config.web.intake_per_minute = v.parse().context("PHANANH_INTAKE_PER_MINUTE")?;
        }
        if let Some(v) = env("PHANANH_LOGIN_PER_MINUTE") {
            config.web.login_per_minute = v.parse().context("PHANANH_LOGIN_PER_MINUTE")?;
        }
        if let Some(v) = env("PHANANH_SECURE_COOKIES") {
            config.web.secure_cookies = Some(v != "0" && v != "false");
        }
        if let Some(v) = env("PHANANH_TRUSTED_PROXIES") {
            config.web.trusted_proxies = v.split(',').map(|s| s.trim().to_string()).collect();
        }
        phananh_web::TrustedProxies::parse(&config.web.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("[web] trusted_proxies: {e}"))?;
        if let Some(v) = env("PHANANH_TILE_URL") {
            config.web.tile_url = v;
        }
        if let Some(v) = env("PHANANH_PUBLIC_URL") {
            config.public_url = v;
        }
        if let Some(v) = env("PHANANH_SMTP_URL") {
            config.smtp.url = v;
        }
        if let Some(v) = env("PHANANH_SMTP_FROM") {
            config.smtp.from = v;
        }
        if let Some(v) = env("PHANANH_IMAP_URL") {
            config.email.imap_url = v;
        }
        if let Some(v) = env("PHANANH_EMAIL_ADDRESS") {
            config.email.address = v;
        }
        if let Some(v) = env("PHANANH_EMAIL_SMTP_LISTEN") {
            config.email.smtp_listen = v;
        }
        if let Some(v) = env("PHANANH_METRICS_TOKEN") {
            config.web.metrics_token = v;
        }
        if let Some(v) = env("PHANANH_WEBHOOK_SECRET") {
            config.webhooks.secret = v;
        }
        let chat = &mut config.chat;
        for (name, slot) in [
            (
                "PHANANH_MESSENGER_VERIFY_TOKEN",
                &mut chat.messenger_verify_token,
            ),
            (
                "PHANANH_MESSENGER_APP_SECRET",
                &mut chat.messenger_app_secret,
            ),
            (
                "PHANANH_MESSENGER_PAGE_TOKEN",
                &mut chat.messenger_page_token,
            ),
            ("PHANANH_MESSENGER_PAGE_ID", &mut chat.messenger_page_id),
            ("PHANANH_GRAPH_URL", &mut chat.graph_url),
            ("PHANANH_VIBER_AUTH_TOKEN", &mut chat.viber_auth_token),
            ("PHANANH_VIBER_API_URL", &mut chat.viber_api_url),
        ] {
            if let Some(v) = env(name) {
                *slot = v;
            }
        }
        let sms = &mut config.sms;
        for (name, slot) in [
            ("PHANANH_SMS_INBOUND_TOKEN", &mut sms.inbound_token),
            ("PHANANH_TWILIO_AUTH_TOKEN", &mut sms.twilio_auth_token),
            ("PHANANH_SMS_GATEWAY_KIND", &mut sms.gateway_kind),
            ("PHANANH_SMS_GATEWAY_URL", &mut sms.gateway_url),
            ("PHANANH_SMS_GATEWAY_TOKEN", &mut sms.gateway_token),
            ("PHANANH_TWILIO_ACCOUNT_SID", &mut sms.twilio_account_sid),
            ("PHANANH_SMPP_ADDRESS", &mut sms.smpp_address),
            ("PHANANH_SMPP_SYSTEM_ID", &mut sms.smpp_system_id),
            ("PHANANH_SMPP_PASSWORD", &mut sms.smpp_password),
            ("PHANANH_PBX_TOKEN", &mut config.hotline.pbx_token),
            ("PHANANH_AMI_ADDRESS", &mut config.hotline.ami_address),
            ("PHANANH_AMI_USERNAME", &mut config.hotline.ami_username),
            ("PHANANH_AMI_SECRET", &mut config.hotline.ami_secret),
        ] {
            if let Some(v) = env(name) {
                *slot = v;
            }
        }
        Ok(config)
    }

    pub fn web_config(&self, addr: SocketAddr) -> WebConfig {
        if !self.secure_cookies() && !addr.ip().is_loopback() {
            tracing::warn!(
                public_url = %self.public_url,
                "Cookie không có cờ Secure / cookies are not Secure: set public_url to the https \
                 address people use (or [web] secure_cookies = true)"
            );
        }
        WebConfig {
            intake_per_minute: self.web.intake_per_minute,
            login_per_minute: self.web.login_per_minute,
            contact_per_hour: self.web.contact_per_hour,
            secure_cookies: self.secure_cookies(),
            max_body: self.web.max_body_bytes,
            tile_url: self.web.tile_url.clone(),
            tile_attribution: self.web.tile_attribution.clone(),
            jurisdiction_id: self.web.jurisdiction_id.clone(),
            nearby_radius_m: self.web.nearby_radius_m,
            chat: self.chat.clone(),
            sms: self.sms.clone(),
            hotline: self.hotline.clone(),
            public_url: self.public_url.clone(),
            header_read_timeout: Duration::from_secs(self.web.header_read_timeout_secs.max(1)),
            body_read_timeout: Duration::from_secs(self.web.body_read_timeout_secs.max(1)),
            request_timeout: Duration::from_secs(self.web.request_timeout_secs.max(1)),
            metrics_token: self.web.metrics_token.clone(),
            uploads_per_hour: self.web.uploads_per_hour,
            upload_bytes_per_hour: self.web.upload_bytes_per_hour,
            staff_filings_per_minute: self.web.staff_filings_per_minute,
            staff_filings_per_hour: self.web.staff_filings_per_hour,
            trusted_proxies: self.trusted_proxies(),
        }
    }

    /// `Secure` cookies: as configured, else whenever `public_url` is https.
    pub fn secure_cookies(&self) -> bool {
        self.web.secure_cookies.unwrap_or_else(|| {
            self.public_url
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("https://")
        })
    }

    /// The trusted proxies, with the deprecated `trust_forwarded_for = true` read as "the
    /// proxy runs on this host". Entries are checked in [`Config::load`]; a bad one here
    /// (a config built in code) is logged and skipped.
    pub fn trusted_proxies(&self) -> phananh_web::TrustedProxies {
        let mut entries = self.web.trusted_proxies.clone();
        if entries.is_empty() && self.web.trust_forwarded_for {
            tracing::warn!(
                "[web] trust_forwarded_for is deprecated: use trusted_proxies = [\"127.0.0.1\", \"::1\"] \
                 (the addresses of your reverse proxies)"
            );
            entries = vec!["127.0.0.1".into(), "::1".into()];
        }
        entries.retain(|e| {
            let ok = phananh_web::TrustedProxies::parse(&[e]).is_ok();
            if !ok {
                tracing::error!(entry = %e, "[web] trusted_proxies: not an address or CIDR block; ignored");
            }
            ok
        });
        phananh_web::TrustedProxies::parse(&entries).unwrap_or_default()
    }
}

/// Opens the database and, on first start, loads the Ho Chi Minh City profile.
pub async fn open_app(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
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
    Ok(App::new(store, clock, Arc::new(photos)).await?)
}

/// A running server (HTTP and worker).
pub struct Running {
    pub addr: SocketAddr,
    pub app: App,
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
    let app = open_app(config, clock).await?;
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
    if app.store.count_users().await? == 0 {
        tracing::warn!(
            "Chưa có tài khoản quản trị. Tạo tài khoản đầu tiên / No admin yet. Create the first one: \
             echo 'a-long-password' | phananh user add --role admin --email you@example.org --name 'Your Name'"
        );
    }
    tracing::info!(%addr, "phananh is listening: open http://{addr}/");
    Ok(Running {
        addr,
        app,
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
        if n % 12 == 0
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
            if let Err(e) = app.purge_unconfirmed_followers().await {
                tracing::warn!(error = %e, "purging unconfirmed followers failed");
            }
        }
        if n % 60 == 0 {
            let _ = app.store.delete_expired_sessions(app.clock.now()).await;
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
        self.app.store.close().await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}
