//! The configuration: `phananh.toml`, then the environment, then the command line.
//!
//! Every setting is declared once, in [`SETTINGS`]: its TOML key, its environment
//! variables, whether it is a secret, and its documentation. Defaults are the `Default`
//! of the section types below. Loading applies the environment through the declarations,
//! `phananh config` prints the effective configuration through them (secrets masked), and
//! the README's configuration section is their output for the defaults (a test keeps the
//! two equal).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use phananh_web::WebConfig;
use phananh_worker::WorkerConfig;
use serde::{Deserialize, Serialize};

/// `phananh.toml`, with environment overrides. What each field means, its environment
/// variables and whether it is a secret are declared in [`SETTINGS`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: String,
    pub database_url: String,
    pub log_format: String,
    pub photos_dir: String,
    pub worker: bool,
    pub public_url: String,
    pub web: WebSection,
    pub webhooks: WebhookSection,
    pub smtp: SmtpSection,
    pub chat: phananh_channels::ChatConfig,
    pub sms: phananh_channels::sms::SmsConfig,
    pub hotline: phananh_app::hotline::HotlineConfig,
    pub reports: ReportsSection,
    pub email: EmailSection,
    pub media: MediaSection,
}

/// Video and voice notes (see `phananh_photos::media`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MediaSection {
    pub max_megabytes: u64,
    pub max_seconds: u64,
    pub timeout_seconds: u64,
    pub ffmpeg: String,
    pub ffprobe: String,
}

impl Default for MediaSection {
    fn default() -> Self {
        let d = phananh_photos::media::MediaLimits::default();
        MediaSection {
            max_megabytes: d.max_bytes / (1024 * 1024),
            max_seconds: d.max_duration.as_secs(),
            timeout_seconds: d.timeout.as_secs(),
            ffmpeg: d.ffmpeg.to_string_lossy().into_owned(),
            ffprobe: d.ffprobe.to_string_lossy().into_owned(),
        }
    }
}

impl MediaSection {
    /// The limits the app checks recordings against.
    pub fn limits(&self) -> phananh_photos::media::MediaLimits {
        phananh_photos::media::MediaLimits {
            max_bytes: self.max_megabytes.saturating_mul(1024 * 1024),
            max_duration: Duration::from_secs(self.max_seconds),
            timeout: Duration::from_secs(self.timeout_seconds.max(1)),
            ffmpeg: self.ffmpeg.clone().into(),
            ffprobe: self.ffprobe.clone().into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsSection {
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSection {
    pub address: String,
    pub imap_url: String,
    pub poll_seconds: u64,
    pub smtp_listen: String,
    pub max_megabytes: usize,
    pub trusted_authserv_id: String,
    pub trusted_relays: Vec<String>,
    pub per_sender_per_hour: u32,
    pub per_domain_per_hour: u32,
    pub smtp_max_connections: usize,
    pub smtp_max_per_ip: usize,
    pub smtp_idle_seconds: u64,
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSection {
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSection {
    pub intake_per_minute: u32,
    pub login_per_minute: u32,
    pub contact_per_hour: u32,
    pub secure_cookies: Option<bool>,
    pub trust_forwarded_for: bool,
    pub max_body_bytes: usize,
    pub tile_url: String,
    pub tile_attribution: String,
    pub jurisdiction_id: String,
    pub nearby_radius_m: f64,
    pub open_data_licence: String,
    pub header_read_timeout_secs: u64,
    pub body_read_timeout_secs: u64,
    pub request_timeout_secs: u64,
    pub metrics_token: String,
    pub uploads_per_hour: u32,
    pub upload_bytes_per_hour: u64,
    pub staff_filings_per_minute: u32,
    pub staff_filings_per_hour: u32,
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSection {
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
            open_data_licence: d.open_data_licence,
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
            media: MediaSection::default(),
        }
    }
}

/// How much of a setting's value `phananh config` may show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// Shown as is.
    No,
    /// Shown as `********` when set.
    Yes,
    /// A URL that may carry a password (`scheme://user:password@host`): the password is
    /// shown as `********`.
    InUrl,
}

/// One setting of `phananh.toml`.
pub struct Setting {
    /// `section.key`, or `key` at the top of the file.
    pub key: &'static str,
    /// Environment variables that override the file, the first set one winning.
    pub env: &'static [&'static str],
    pub secret: Secret,
    /// What it does, one line per entry.
    pub doc: &'static [&'static str],
    /// Puts an environment variable's value in place (settings with `env` only).
    set: Option<fn(&mut Config, &str) -> anyhow::Result<()>>,
}

/// The mask printed for a secret that is set.
pub const MASK: &str = "********";

impl Setting {
    /// `value` as `phananh config` may show it.
    fn masked(&self, value: &serde_json::Value) -> serde_json::Value {
        let serde_json::Value::String(s) = value else {
            return value.clone();
        };
        match self.secret {
            Secret::No => value.clone(),
            Secret::Yes if s.is_empty() => value.clone(),
            Secret::Yes => MASK.into(),
            Secret::InUrl => mask_url_password(s).into(),
        }
    }
}

/// `scheme://user:password@host/…` → `scheme://user:********@host/…`; other text as is.
fn mask_url_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_string();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:{MASK}{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_string(),
    }
}

/// How an environment variable's text becomes a setting's value.
trait FromEnv: Sized {
    fn from_env(v: &str) -> anyhow::Result<Self>;
}

impl FromEnv for String {
    fn from_env(v: &str) -> anyhow::Result<Self> {
        Ok(v.to_string())
    }
}

/// Anything but `0` and `false` is true.
impl FromEnv for bool {
    fn from_env(v: &str) -> anyhow::Result<Self> {
        Ok(v != "0" && v != "false")
    }
}

impl FromEnv for Option<bool> {
    fn from_env(v: &str) -> anyhow::Result<Self> {
        bool::from_env(v).map(Some)
    }
}

impl FromEnv for u32 {
    fn from_env(v: &str) -> anyhow::Result<Self> {
        Ok(v.parse()?)
    }
}

impl FromEnv for i64 {
    fn from_env(v: &str) -> anyhow::Result<Self> {
        Ok(v.parse()?)
    }
}

impl FromEnv for u64 {
    fn from_env(v: &str) -> anyhow::Result<Self> {
        Ok(v.parse()?)
    }
}

/// A comma-separated list.
impl FromEnv for Vec<String> {
    fn from_env(v: &str) -> anyhow::Result<Self> {
        Ok(v.split(',').map(|s| s.trim().to_string()).collect())
    }
}

/// Declares [`SETTINGS`]: `/// doc` lines, then `key` or `section.key` (the field of
/// [`Config`]), then optionally `= env("NAME", …)` and `, secret` or `, secret_in_url`.
macro_rules! settings {
    ($(
        $(#[doc = $doc:literal])*
        $first:ident $(. $rest:ident)* $(= env($($env:literal),+))? $(, $secret:ident)? ;
    )*) => {
        /// Every setting, in the order of the configuration file.
        pub static SETTINGS: &[Setting] = &[$(
            Setting {
                key: concat!(stringify!($first) $(, ".", stringify!($rest))*),
                env: &[$($($env),+)?],
                secret: settings!(@secret $($secret)?),
                doc: &[$($doc.trim_ascii()),*],
                set: settings!(@set [$first $(. $rest)*] $($($env)+)?),
            },
        )*];
    };
    (@secret) => { Secret::No };
    (@secret secret) => { Secret::Yes };
    (@secret secret_in_url) => { Secret::InUrl };
    (@set [$($path:ident).+]) => { None };
    (@set [$($path:ident).+] $($env:literal)+) => {
        Some(|c: &mut Config, v: &str| -> anyhow::Result<()> {
            c.$($path).+ = FromEnv::from_env(v)?;
            Ok(())
        })
    };
}

settings! {
    /// Address to listen on (`phananh serve --listen` overrides it).
    listen = env("PHANANH_LISTEN");
    /// A file path or `sqlite://path` (SQLite), or "postgres://user@host/db" (PostgreSQL);
    /// `--database-url` overrides it.
    database_url = env("PHANANH_DATABASE_URL", "DATABASE_URL"), secret_in_url;
    /// "text" or "json"; the level with RUST_LOG.
    log_format = env("PHANANH_LOG_FORMAT");
    /// Processed photos (no metadata).
    photos_dir = env("PHANANH_PHOTOS_DIR");
    /// Run the outbox worker in this process ("0" or "false": no).
    worker = env("PHANANH_WORKER");
    /// How people reach this server (links in emails).
    public_url = env("PHANANH_PUBLIC_URL");

    /// Anonymous reports per IP per minute (0 = no limit).
    web.intake_per_minute = env("PHANANH_INTAKE_PER_MINUTE");
    /// Anonymous reports per phone number or email per hour (0 = no limit).
    web.contact_per_hour;
    /// Login attempts per client IP per minute (each account also backs off:
    /// after 5 failures 1 s, 2 s, 4 s … 60 s).
    web.login_per_minute = env("PHANANH_LOGIN_PER_MINUTE");
    /// Cookies carry `Secure`; unset: on when public_url is https.
    web.secure_cookies = env("PHANANH_SECURE_COOKIES");
    /// Reverse proxies (addresses or CIDR blocks) whose X-Forwarded-For is believed;
    /// in the environment comma-separated: "127.0.0.1,10.0.0.0/8".
    web.trusted_proxies = env("PHANANH_TRUSTED_PROXIES");
    /// Deprecated: true means trusted_proxies = ["127.0.0.1", "::1"].
    web.trust_forwarded_for;
    /// Every body but photo uploads (the form: 5 photos × 10 MB, streamed to disk).
    web.max_body_bytes;
    /// Map tiles (Leaflet URL template); point it at the city's own tiles.
    web.tile_url = env("PHANANH_TILE_URL");
    web.tile_attribution;
    /// Accepted as Open311 jurisdiction_id, besides the city code.
    web.jurisdiction_id;
    /// How far, in metres, the form looks for "the same problem".
    web.nearby_radius_m;
    /// The licence of the open data at /open-data/ (its name, or a link).
    web.open_data_licence;
    /// A connection must send its whole request head within this, or is closed.
    web.header_read_timeout_secs;
    /// A request body silent this long is cut off.
    web.body_read_timeout_secs;
    /// A whole request, body included (408 after); the hotline event stream is exempt.
    web.request_timeout_secs;
    /// If set, /metrics needs "Authorization: Bearer <token>".
    web.metrics_token = env("PHANANH_METRICS_TOKEN"), secret;
    /// Anonymous photo uploads per IP per hour (0 = no limit).
    web.uploads_per_hour;
    /// Anonymous photo bytes per IP per hour (0 = no limit).
    web.upload_bytes_per_hour;
    /// Reports one staff member may file per minute (0 = no limit).
    web.staff_filings_per_minute;
    /// ... and per hour (0 = no limit).
    web.staff_filings_per_hour;

    /// The token Messenger's GET handshake must present.
    chat.messenger_verify_token = env("PHANANH_MESSENGER_VERIFY_TOKEN"), secret;
    /// Webhook signatures, appsecret_proof.
    chat.messenger_app_secret = env("PHANANH_MESSENGER_APP_SECRET"), secret;
    /// The Page access token for the Send API.
    chat.messenger_page_token = env("PHANANH_MESSENGER_PAGE_TOKEN"), secret;
    chat.messenger_page_id = env("PHANANH_MESSENGER_PAGE_ID");
    /// The Graph API base, with its version.
    chat.graph_url = env("PHANANH_GRAPH_URL");
    /// The Viber bot's token (signs callbacks, authorises calls).
    chat.viber_auth_token = env("PHANANH_VIBER_AUTH_TOKEN"), secret;
    chat.viber_api_url = env("PHANANH_VIBER_API_URL");
    /// The name shown with the bot's messages on Viber (≤ 28 characters).
    chat.viber_sender_name;
    /// The Telegram bot's token from @BotFather (it goes in the Bot API's URL path, so no
    /// Bot API URL is ever logged).
    chat.telegram_bot_token = env("PHANANH_TELEGRAM_BOT_TOKEN"), secret;
    /// Telegram presents it on /webhooks/telegram (1–256 of A-Z a-z 0-9 _ -); given to
    /// setWebhook by `phananh chat telegram-webhook URL`.
    chat.telegram_secret_token = env("PHANANH_TELEGRAM_SECRET_TOKEN"), secret;
    /// The Bot API base (a local telegram-bot-api server, or a test fake).
    chat.telegram_api_url = env("PHANANH_TELEGRAM_API_URL");
    /// Largest photo downloaded from the platforms, in bytes.
    chat.max_photo_bytes;
    /// Hosts attachments are downloaded from (https only; ".example.com" = it and its
    /// subdomains); anything else a platform hands us is not fetched (see "Outbound calls").
    chat.messenger_media_hosts;
    chat.viber_media_hosts;
    chat.telegram_media_hosts;
    /// Tests only: allow http and loopback addresses for those hosts.
    chat.media_allow_loopback;
    /// The Zalo OA's app id (webhook signatures, OAuth).
    chat.zalo_app_id = env("PHANANH_ZALO_APP_ID");
    /// The app secret (the OAuth refresh's secret_key).
    chat.zalo_app_secret = env("PHANANH_ZALO_APP_SECRET"), secret;
    /// The OA secret key that signs webhook events.
    chat.zalo_oa_secret = env("PHANANH_ZALO_OA_SECRET"), secret;
    /// The first refresh token, used once when none is stored (then the pair rotates in
    /// the database; `phananh chat zalo-check --new-refresh-token` installs a new one).
    chat.zalo_refresh_token = env("PHANANH_ZALO_REFRESH_TOKEN"), secret;
    /// The OA OpenAPI base (CS messages).
    chat.zalo_openapi_url = env("PHANANH_ZALO_OPENAPI_URL");
    /// The OAuth base (/v4/oa/access_token).
    chat.zalo_oauth_url = env("PHANANH_ZALO_OAUTH_URL");
    /// The ZNS base (/message/template).
    chat.zalo_zns_url = env("PHANANH_ZALO_ZNS_URL");
    chat.zalo_media_hosts;
    /// Webhook events further than this from now, either way, are refused.
    chat.zalo_timestamp_window_secs;
    /// Consultation (CS) messages only this long after the citizen's last message.
    chat.zalo_reply_window_hours;
    /// At most this many CS messages after the citizen's last message (0: no limit).
    chat.zalo_reply_quota;
    /// One process refreshes the token at a time; a dead one's turn runs out after this.
    chat.zalo_refresh_lease_secs = env("PHANANH_ZALO_REFRESH_LEASE_SECS");
    /// The ZNS template of status notices to citizens who reported by phone (hotline, SMS);
    /// empty: SMS only.
    chat.zalo_zns_template_id = env("PHANANH_ZALO_ZNS_TEMPLATE_ID");
    /// Unit code → its own ZNS template, e.g. { Q1 = "355330" }.
    chat.zalo_zns_unit_templates;

    /// SMS gateways present it on /webhooks/sms.
    sms.inbound_token = env("PHANANH_SMS_INBOUND_TOKEN"), secret;
    /// Checks X-Twilio-Signature.
    sms.twilio_auth_token = env("PHANANH_TWILIO_AUTH_TOKEN"), secret;
    /// "json" (a generic gateway), "twilio", or "smpp" (the telco's SMSC).
    sms.gateway_kind = env("PHANANH_SMS_GATEWAY_KIND");
    /// The generic gateway's URL, or Twilio's API base; empty = no SMS sent.
    sms.gateway_url = env("PHANANH_SMS_GATEWAY_URL");
    sms.gateway_token = env("PHANANH_SMS_GATEWAY_TOKEN"), secret;
    sms.twilio_account_sid = env("PHANANH_TWILIO_ACCOUNT_SID");
    /// The short code or brand name (≤ 11 characters).
    sms.sender;
    /// Segments an outgoing SMS may use.
    sms.max_segments;
    /// gateway_kind = "smpp": the SMSC's host:2775, and the bind.
    sms.smpp_address = env("PHANANH_SMPP_ADDRESS");
    sms.smpp_system_id = env("PHANANH_SMPP_SYSTEM_ID");
    sms.smpp_password = env("PHANANH_SMPP_PASSWORD"), secret;

    /// The exchange presents it on /api/v1/pbx/calls.
    hotline.pbx_token = env("PHANANH_PBX_TOKEN"), secret;
    /// Extension → operator email.
    hotline.extensions;
    /// Asterisk Manager Interface, host:5038.
    hotline.ami_address = env("PHANANH_AMI_ADDRESS");
    hotline.ami_username = env("PHANANH_AMI_USERNAME");
    hotline.ami_secret = env("PHANANH_AMI_SECRET"), secret;

    /// "month", "week", or "" (none): the scheduled report to the City People's Committee.
    reports.committee_period;
    /// Who receives it (nothing is sent while empty).
    reports.committee_emails;

    /// Signs webhooks to units (none are sent without it).
    webhooks.secret = env("PHANANH_WEBHOOK_SECRET"), secret;

    /// "smtp://host:25", "smtp://user:pass@host:587?tls=required", "smtps://host:465";
    /// empty: no email.
    smtp.url = env("PHANANH_SMTP_URL"), secret_in_url;
    smtp.from = env("PHANANH_SMTP_FROM");

    /// The 1022 address: Reply-To of our emails; mail from it is a loop.
    email.address = env("PHANANH_EMAIL_ADDRESS");
    /// "imaps://user:pass@host:993/INBOX" ("imap://" without TLS); empty: not read.
    email.imap_url = env("PHANANH_IMAP_URL"), secret_in_url;
    /// Seconds between IMAP polls.
    email.poll_seconds;
    /// E.g. 127.0.0.1:2525: an SMTP listener taking mail for `address`; empty: none.
    email.smtp_listen = env("PHANANH_EMAIL_SMTP_LISTEN");
    /// Larger: headers kept and queued for a person (IMAP), 552 (SMTP).
    email.max_megabytes;
    /// Trust this server's topmost Authentication-Results instead of checking
    /// SPF/DKIM/DMARC here.
    email.trusted_authserv_id;
    /// E.g. ["10.0.0.25"]: MXs relaying to smtp_listen (SPF then reads their Received header).
    email.trusted_relays;
    /// Authenticated emails acted on per address per hour (0: no limit).
    email.per_sender_per_hour;
    /// ... per sender domain per hour (0: no limit).
    email.per_domain_per_hour;
    /// Inbound SMTP sessions at once (421 beyond).
    email.smtp_max_connections;
    /// ... from one client address.
    email.smtp_max_per_ip;
    /// No command or DATA line for this long: 421 and closed.
    email.smtp_idle_seconds;
    /// The longest one session may last.
    email.smtp_session_seconds;

    /// The largest video or voice note accepted (web form, chats, email).
    media.max_megabytes = env("PHANANH_MEDIA_MAX_MEGABYTES");
    /// The longest one, in seconds (read by ffprobe before it is remuxed).
    media.max_seconds = env("PHANANH_MEDIA_MAX_SECONDS");
    /// Each ffprobe or ffmpeg run is killed after this.
    media.timeout_seconds;
    /// The tools (Debian's `ffmpeg` package), by name on the PATH or by path.
    media.ffmpeg = env("PHANANH_FFMPEG");
    media.ffprobe = env("PHANANH_FFPROBE");
}

/// What the sections are for, printed with their headers.
const SECTION_DOCS: &[(&str, &str)] = &[
    (
        "chat",
        "Messenger, Viber, Telegram and Zalo; secrets: prefer the environment variables",
    ),
    ("sms", "SMS gateways"),
    ("hotline", "the telephone exchange"),
    ("email", "the 1022 mailbox (see \"Email\")"),
    ("media", "video and voice notes (ffmpeg)"),
];

/// The column comments start at, and the width they are wrapped to.
const COMMENT_COLUMN: usize = 35;
const WIDTH: usize = 100;

/// A JSON value (a serialised setting) written as TOML.
fn toml_value(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        // A JSON string is a valid TOML basic string.
        Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => v.to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) if map.is_empty() => "{}".into(),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{} = {}", Value::from(k.as_str()), toml_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// `line`, then `comment` from [`COMMENT_COLUMN`], wrapped to [`WIDTH`].
fn with_comment(out: &mut String, line: &str, comment: &str) {
    out.push_str(line);
    let mut width = line.chars().count();
    let mut words = comment.split_whitespace().peekable();
    while words.peek().is_some() {
        let start = if width < COMMENT_COLUMN {
            COMMENT_COLUMN
        } else {
            width + 3
        };
        out.extend(std::iter::repeat_n(' ', start - width));
        out.push('#');
        width = start + 1;
        // At least one word per line, however long.
        let mut first = true;
        while let Some(word) = words.peek() {
            let w = word.chars().count();
            if !first && width + 1 + w > WIDTH {
                break;
            }
            out.push(' ');
            out.push_str(word);
            width += 1 + w;
            first = false;
            words.next();
        }
        if words.peek().is_some() {
            out.push('\n');
            width = 0;
        }
    }
    out.push('\n');
}

impl Config {
    /// Reads `path` if it exists (a missing default file is fine), then the environment.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        Config::load_with_env(path, |name| std::env::var(name).ok())
    }

    /// [`Config::load`] with the environment read through `env`.
    pub fn load_with_env(
        path: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Config> {
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
        config.apply_env(env)?;
        phananh_web::TrustedProxies::parse(&config.web.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("[web] trusted_proxies: {e}"))?;
        Ok(config)
    }

    /// Every declared environment variable that is set and not empty replaces its
    /// setting (the first of a setting's variables that is set wins).
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        for setting in SETTINGS {
            let Some(set) = setting.set else { continue };
            let found = setting
                .env
                .iter()
                .find_map(|name| env(name).filter(|v| !v.is_empty()).map(|v| (name, v)));
            if let Some((name, value)) = found {
                set(self, &value).with_context(|| name.to_string())?;
            }
        }
        Ok(())
    }

    /// The configuration as a `phananh.toml`, every setting with its environment
    /// variables and documentation, secrets masked (`phananh config`).
    pub fn render(&self) -> String {
        let values = serde_json::to_value(self).expect("the configuration serialises to JSON");
        let mut out = String::new();
        let mut section = "";
        for setting in SETTINGS {
            let (sec, name) = setting.key.split_once('.').unwrap_or(("", setting.key));
            if sec != section {
                section = sec;
                out.push('\n');
                let header = format!("[{sec}]");
                let doc = SECTION_DOCS
                    .iter()
                    .find(|(s, _)| *s == sec)
                    .map_or("", |(_, d)| *d);
                with_comment(&mut out, &header, doc);
            }
            let value = setting.key.split('.').fold(&values, |v, part| &v[part]);
            let line = match setting.masked(value) {
                serde_json::Value::Null => format!("# {name} ="),
                v => format!("{name} = {}", toml_value(&v)),
            };
            // "PHANANH_X or PHANANH_Y (secret): what it does", lowercased, without a final stop.
            let mut comment = setting.env.join(" or ");
            if setting.secret != Secret::No {
                comment.push_str(if comment.is_empty() {
                    "secret"
                } else {
                    " (secret)"
                });
            }
            let doc = setting.doc.join(" ");
            let mut chars = doc.strip_suffix('.').unwrap_or(&doc).chars();
            if let Some(first) = chars.next() {
                if !comment.is_empty() {
                    comment.push_str(": ");
                }
                comment.extend(first.to_lowercase());
                comment.push_str(chars.as_str());
            }
            with_comment(&mut out, &line, &comment);
        }
        out
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
            open_data_licence: self.web.open_data_licence.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeSet, HashMap};

    /// The ```toml block of the README's "Configuration" section.
    fn readme_block() -> &'static str {
        let readme = include_str!("../../../README.md");
        let section = &readme[readme.find("\n## Configuration\n").expect("the section")..];
        let start = section.find("```toml\n").expect("a ```toml block") + "```toml\n".len();
        let len = section[start..].find("```").expect("the block's end");
        &section[start..start + len]
    }

    fn load(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load_with_env(None, |name| vars.get(name).cloned())
    }

    #[test]
    fn every_setting_is_declared_once() {
        let values = serde_json::to_value(Config::default()).unwrap();
        let mut fields = BTreeSet::new();
        for (key, value) in values.as_object().unwrap() {
            match value.as_object() {
                // A section, except a map-valued setting at the top (there is none).
                Some(section) => {
                    fields.extend(section.keys().map(|k| format!("{key}.{k}")));
                }
                None => {
                    fields.insert(key.clone());
                }
            }
        }
        let declared: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
        let unique: BTreeSet<String> = declared.iter().map(|k| k.to_string()).collect();
        assert_eq!(unique.len(), declared.len(), "a setting is declared twice");
        assert_eq!(
            unique, fields,
            "SETTINGS and the fields of Config differ (declare every field in config.rs)"
        );
        let mut env = BTreeSet::new();
        for s in SETTINGS {
            for e in s.env {
                assert!(env.insert(*e), "{e} is declared twice");
            }
        }
    }

    #[test]
    fn the_readme_shows_the_declarations() {
        let expected = Config::default().render();
        assert!(
            readme_block() == expected,
            "README.md's configuration block differs from the declarations in \
             crates/server/src/config.rs; replace it with:\n{expected}"
        );
    }

    #[test]
    fn the_readme_block_is_a_valid_file_of_defaults() {
        let parsed: Config = toml::from_str(readme_block()).unwrap();
        assert_eq!(parsed.render(), Config::default().render());
    }

    #[test]
    fn secrets_set_in_the_environment_print_masked() {
        let c = load(&[
            ("PHANANH_WEBHOOK_SECRET", "hunter2-webhook"),
            ("PHANANH_AMI_SECRET", "hunter2-ami"),
            ("PHANANH_LISTEN", "0.0.0.0:9000"),
            (
                "PHANANH_SMTP_URL",
                "smtp://mailer:hunter2-smtp@mail.example.org:587",
            ),
            (
                "DATABASE_URL",
                "postgres://app:hunter2-db@db.example.org/phananh",
            ),
        ])
        .unwrap();
        assert_eq!(c.webhooks.secret, "hunter2-webhook");
        let out = format!("\n{}", c.render());
        assert!(!out.contains("hunter2"), "a secret is shown:\n{out}");
        assert!(out.contains("\n[webhooks]\nsecret = \"********\""), "{out}");
        assert!(out.contains("\nami_secret = \"********\""), "{out}");
        assert!(out.contains("\nlisten = \"0.0.0.0:9000\""), "{out}");
        assert!(
            out.contains("\nurl = \"smtp://mailer:********@mail.example.org:587\""),
            "{out}"
        );
        assert!(
            out.contains("\ndatabase_url = \"postgres://app:********@db.example.org/phananh\""),
            "{out}"
        );
        // Secrets left empty show as empty, so that "not set" is visible.
        assert!(out.contains("\npbx_token = \"\""), "{out}");
    }

    #[test]
    fn the_environment_reads_as_before() {
        let c = load(&[
            ("PHANANH_WORKER", "no"),
            ("PHANANH_SECURE_COOKIES", "0"),
            ("PHANANH_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
            ("PHANANH_INTAKE_PER_MINUTE", "0"),
            ("PHANANH_DATABASE_URL", ""),
            ("DATABASE_URL", "sqlite://other.db"),
            ("PHANANH_PBX_TOKEN", "pbx"),
        ])
        .unwrap();
        assert!(c.worker, "anything but 0 and false is true");
        assert_eq!(c.web.secure_cookies, Some(false));
        assert_eq!(c.web.trusted_proxies, ["127.0.0.1", "10.0.0.0/8"]);
        assert_eq!(c.web.intake_per_minute, 0);
        assert_eq!(
            c.database_url, "sqlite://other.db",
            "an empty variable is unset"
        );
        assert_eq!(c.hotline.pbx_token, "pbx");
        assert!(!load(&[("PHANANH_WORKER", "false")]).unwrap().worker);
        assert!(!load(&[("PHANANH_WORKER", "0")]).unwrap().worker);
        let both = load(&[
            ("PHANANH_DATABASE_URL", "first.db"),
            ("DATABASE_URL", "second.db"),
        ])
        .unwrap();
        assert_eq!(both.database_url, "first.db");

        let e = load(&[("PHANANH_LOGIN_PER_MINUTE", "ten")]).unwrap_err();
        assert_eq!(e.to_string(), "PHANANH_LOGIN_PER_MINUTE");
        let e = load(&[("PHANANH_TRUSTED_PROXIES", "not-an-address")]).unwrap_err();
        assert!(e.to_string().starts_with("[web] trusted_proxies:"), "{e}");
    }

    #[test]
    fn a_file_then_the_environment() {
        let dir = std::env::temp_dir().join(format!("phananh-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("phananh.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:1\"\n[web]\nlogin_per_minute = 3\n[sms]\nsender = \"CITY\"\n",
        )
        .unwrap();
        let c = Config::load_with_env(Some(&path), |name| {
            (name == "PHANANH_LISTEN").then(|| "127.0.0.1:2".to_string())
        })
        .unwrap();
        assert_eq!(c.listen, "127.0.0.1:2");
        assert_eq!(c.web.login_per_minute, 3);
        assert_eq!(c.sms.sender, "CITY");
        std::fs::write(&path, "[web]\nno_such_key = 1\n").unwrap();
        assert!(Config::load_with_env(Some(&path), |_| None).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(Config::load_with_env(Some(&path), |_| None).is_err());
        assert!(Config::load_with_env(Some(Path::new("phananh.toml")), |_| None).is_ok());
    }

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            mask_url_password("imaps://u:p@h:993/INBOX"),
            "imaps://u:********@h:993/INBOX"
        );
        assert_eq!(mask_url_password("smtp://h:25"), "smtp://h:25");
        assert_eq!(mask_url_password("smtp://user@h:25"), "smtp://user@h:25");
        assert_eq!(
            mask_url_password("postgres://u:p@ss@h/db?x=a@b"),
            "postgres://u:********@h/db?x=a@b"
        );
        assert_eq!(mask_url_password("data/phananh.db"), "data/phananh.db");
    }
}
