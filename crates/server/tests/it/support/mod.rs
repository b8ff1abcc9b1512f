//! Starting the real server for a test, and clients that act as citizens and staff.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use phananh::{Config, Running, start};
use phananh_app::{App, ManualClock};
use phananh_domain::access::Role;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

/// Bến Thành market, in ward Bến Thành of Ho Chi Minh City.
pub const BEN_THANH_MARKET: (f64, f64) = (10.7725, 106.6980);
pub const BEN_THANH: &str = "26743";

/// Email: the SMTP sink, a client of the inbound listener, DKIM-signed test mail.
pub mod mail;

pub struct Options {
    pub intake_per_minute: u32,
    /// Anonymous reports per phone or email per hour (0: no limit).
    pub contact_per_hour: u32,
    pub login_per_minute: u32,
    /// Map tiles (Leaflet URL template); None: the default.
    pub tile_url: Option<String>,
    pub postgres: bool,
    pub worker: bool,
    pub chat: phananh_channels::ChatConfig,
    pub sms: phananh_channels::sms::SmsConfig,
    pub hotline: phananh_app::hotline::HotlineConfig,
    /// The 1022 mailbox (`[email]`).
    pub email: phananh::EmailSection,
    /// Anonymous photo uploads per IP per hour, in number and bytes (0: no limit).
    pub uploads_per_hour: u32,
    pub upload_bytes_per_hour: u64,
    /// Reports one staff member may file per minute (0: no limit).
    pub staff_filings_per_minute: u32,
    /// Any other configuration, applied last (e.g. `public_url`, `[web] trusted_proxies`).
    pub configure: Option<fn(&mut Config)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            intake_per_minute: 0,
            contact_per_hour: 0,
            login_per_minute: 10_000,
            tile_url: None,
            postgres: false,
            worker: false,
            chat: phananh_channels::ChatConfig::default(),
            sms: phananh_channels::sms::SmsConfig::default(),
            hotline: Default::default(),
            email: phananh::EmailSection::default(),
            uploads_per_hour: 0,
            upload_bytes_per_hour: 0,
            staff_filings_per_minute: 0,
            configure: None,
        }
    }
}

pub struct TestApp {
    pub running: Running,
    pub client: Client,
    pub clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
    users: std::sync::atomic::AtomicU32,
}

/// A fresh PostgreSQL schema on the test server, as a database URL.
pub async fn postgres_url() -> Option<String> {
    let url = std::env::var("PHANANH_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let schema = format!(
        "it_{}",
        phananh_app::auth::random_token()
            .to_lowercase()
            .replace(['-', '_'], "")
            .get(..16)?
    );
    sqlx_schema(&url, &schema).await;
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{sep}options=-c%20search_path%3D{schema}"))
}

async fn sqlx_schema(url: &str, schema: &str) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url)
        .await
        .expect("PostgreSQL test server reachable");
    sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .execute(&pool)
        .await
        .expect("create schema");
    pool.close().await;
}

pub async fn spawn(opts: Options) -> TestApp {
    // The server's warnings and errors go to the test's captured output, so a failing
    // test shows why the server answered as it did (a test may still set its own
    // subscriber for its thread).
    static LOGS: std::sync::Once = std::sync::Once::new();
    LOGS.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .with_test_writer()
            .try_init();
    });
    let dir = tempfile::tempdir().unwrap();
    let database_url = if opts.postgres {
        postgres_url().await.expect("PHANANH_TEST_POSTGRES_URL")
    } else {
        dir.path().join("it.db").to_string_lossy().into_owned()
    };
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        database_url,
        photos_dir: dir.path().join("photos").to_string_lossy().into_owned(),
        worker: opts.worker,
        ..Config::default()
    };
    config.web.intake_per_minute = opts.intake_per_minute;
    config.web.contact_per_hour = opts.contact_per_hour;
    config.web.login_per_minute = opts.login_per_minute;
    if let Some(t) = &opts.tile_url {
        config.web.tile_url = t.clone();
    }
    config.webhooks.secret = "test-secret".into();
    config.chat = opts.chat.clone();
    config.sms = opts.sms.clone();
    config.hotline = opts.hotline.clone();
    config.email = opts.email.clone();
    config.web.uploads_per_hour = opts.uploads_per_hour;
    config.web.upload_bytes_per_hour = opts.upload_bytes_per_hour;
    config.web.staff_filings_per_minute = opts.staff_filings_per_minute;
    config.web.staff_filings_per_hour = 0;
    if let Some(f) = opts.configure {
        f(&mut config);
    }
    // Monday 2 March 2026, 09:00 in Ho Chi Minh City.
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap(),
    ));
    let running = start(&config, clock.clone()).await.unwrap();
    TestApp {
        running,
        client: Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        clock,
        _dir: dir,
        users: std::sync::atomic::AtomicU32::new(0),
    }
}

/// The server on SQLite, and on PostgreSQL too when the test server is configured.
pub async fn apps() -> Vec<TestApp> {
    apps_with(Options::default).await
}

/// [`apps`] with other options (`postgres` is set for the second server).
pub async fn apps_with(options: impl Fn() -> Options) -> Vec<TestApp> {
    let mut v = vec![spawn(options()).await];
    if std::env::var("PHANANH_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        v.push(
            spawn(Options {
                postgres: true,
                ..options()
            })
            .await,
        );
    }
    v
}

pub struct StaffClient {
    pub cookie: String,
    pub csrf: String,
    pub user_id: i64,
}

/// The value of cookie `name` set by a response.
pub fn set_cookie_value(resp: &Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn hidden_csrf(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        self.running.url(path)
    }

    pub fn app(&self) -> &App {
        &self.running.app
    }

    /// The store under the app, for set-up and checks that no use case offers.
    pub fn store(&self) -> &phananh_storage::Store {
        &self.running.store
    }

    pub async fn stop(self) {
        self.running.stop().await;
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Files a report as a citizen and returns the receipt; panics unless 201.
    pub async fn file(&self, body: Value) -> Value {
        let r = self
            .client
            .post(self.url("/api/v1/reports"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{v}");
        v
    }

    pub async fn login_attempt(&self, email: &str, password: &str) -> StatusCode {
        let page = self.get("/login").await;
        let cookie = set_cookie_value(&page, "phananh_login_csrf").unwrap();
        let csrf = hidden_csrf(&page.text().await.unwrap());
        self.client
            .post(self.url("/login"))
            .header("cookie", format!("phananh_login_csrf={cookie}"))
            .form(&[("email", email), ("password", password), ("csrf", &csrf)])
            .send()
            .await
            .unwrap()
            .status()
    }

    /// Creates a staff account with `role` and signs it in through the login form.
    pub async fn staff(&self, role: Role, unit: Option<&str>) -> StaffClient {
        let n = self
            .users
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let email = format!("{}{n}@example.org", role.as_str());
        let password = "correct horse battery";
        let user_id = self
            .app()
            .add_user(&email, &format!("Cán bộ {n}"), role, unit, password)
            .await
            .unwrap();
        let page = self.get("/login").await;
        let login_cookie = set_cookie_value(&page, "phananh_login_csrf").unwrap();
        let csrf = hidden_csrf(&page.text().await.unwrap());
        let resp = self
            .client
            .post(self.url("/login"))
            .header("cookie", format!("phananh_login_csrf={login_cookie}"))
            .form(&[
                ("email", email.as_str()),
                ("password", password),
                ("csrf", &csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        let session = set_cookie_value(&resp, "phananh_session").expect("session cookie");
        let cookie = format!("phananh_session={session}");
        let console = self
            .client
            .get(self.url("/console"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(console.status(), StatusCode::OK);
        let csrf = hidden_csrf(&console.text().await.unwrap());
        StaffClient {
            cookie,
            csrf,
            user_id,
        }
    }

    /// Adds the field "pothole" (to the construction department, SXD) with two extra
    /// questions: `size` (one of small, large; required) and `lanes` (any of left, right).
    pub async fn add_pothole_field(&self) {
        use phananh_domain::profile::{Attribute, AttributeValue, Field};
        let store = &self.store();
        store
            .save_field(&Field {
                code: "pothole".into(),
                name_vi: "Ổ gà".into(),
                name_en: "Pothole".into(),
                icon: "🕳".into(),
                ack_hours: 8,
                resolve_days: 3,
                keywords: vec!["o ga".into(), "pothole".into()],
                attributes: vec![
                    Attribute {
                        code: "size".into(),
                        datatype: "singlevaluelist".into(),
                        required: true,
                        description_vi: "Kích thước ổ gà".into(),
                        description_en: "Size of the pothole".into(),
                        order: 1,
                        private: false,
                        values: vec![
                            AttributeValue {
                                key: "small".into(),
                                name: "Nhỏ".into(),
                            },
                            AttributeValue {
                                key: "large".into(),
                                name: "Lớn".into(),
                            },
                        ],
                    },
                    Attribute {
                        code: "lanes".into(),
                        datatype: "multivaluelist".into(),
                        required: false,
                        description_vi: "Làn đường bị ảnh hưởng".into(),
                        description_en: "Lanes affected".into(),
                        order: 2,
                        private: false,
                        values: vec![
                            AttributeValue {
                                key: "left".into(),
                                name: "Trái".into(),
                            },
                            AttributeValue {
                                key: "right".into(),
                                name: "Phải".into(),
                            },
                        ],
                    },
                ],
                review: false,
                urgent: false,
                urgent_hours: 4,
                urgent_keywords: vec![],
                duplicate_radius_m: 150,
            })
            .await
            .unwrap();
        store
            .add_rule(&phananh_domain::routing::Rule {
                id: 0,
                field: "pothole".into(),
                ward: None,
                unit: "SXD".into(),
                priority: 0,
            })
            .await
            .unwrap();
        self.app().refresh_catalog().await.unwrap();
    }

    /// Adds a field with a city-wide rule to the Sài Gòn ward committee.
    pub async fn add_field_with_rule(&self, code: &str, resolve_days: u32) {
        let store = &self.store();
        store
            .save_field(&phananh_domain::profile::Field {
                code: code.into(),
                name_vi: code.into(),
                name_en: code.into(),
                icon: "•".into(),
                ack_hours: 8,
                resolve_days,
                keywords: vec![],
                attributes: vec![],
                review: false,
                urgent: false,
                urgent_hours: 4,
                urgent_keywords: vec![],
                duplicate_radius_m: 150,
            })
            .await
            .unwrap();
        store
            .add_rule(&phananh_domain::routing::Rule {
                id: 0,
                field: code.into(),
                ward: None,
                unit: "UBND-26740".into(),
                priority: 0,
            })
            .await
            .unwrap();
        self.app().refresh_catalog().await.unwrap();
    }
}

impl StaffClient {
    pub async fn page(&self, t: &TestApp, path: &str) -> Response {
        t.client
            .get(t.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    pub async fn api_get(&self, t: &TestApp, path: &str) -> Response {
        self.page(t, path).await
    }

    pub async fn act(&self, t: &TestApp, code: &str, body: Value) -> Response {
        t.client
            .post(t.url(&format!("/api/v1/staff/reports/{code}/actions")))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A moderation step through the staff API (`{"step": ...}`).
    pub async fn moderate(&self, t: &TestApp, code: &str, body: Value) -> Response {
        t.client
            .post(t.url(&format!("/api/v1/staff/reports/{code}/moderation")))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn form(&self, t: &TestApp, path: &str, fields: &[(&str, &str)]) -> Response {
        self.form_with_csrf(t, path, &self.csrf, fields).await
    }

    pub async fn form_with_csrf(
        &self,
        t: &TestApp,
        path: &str,
        csrf: &str,
        fields: &[(&str, &str)],
    ) -> Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf", csrf));
        t.client
            .post(t.url(path))
            .header("cookie", &self.cookie)
            .form(&all)
            .send()
            .await
            .unwrap()
    }
}

/// A local SMTP server that refuses the first `busy` connections, then keeps what it gets.
pub async fn smtp_sink(busy: usize) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let store = got.clone();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            n += 1;
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                if n <= busy {
                    let _ = w.write_all(b"421 4.3.2 busy, try later\r\n").await;
                    return;
                }
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let cmd = line.to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                        b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
                    } else if cmd.starts_with("DATA") {
                        w.write_all(b"354 end with .\r\n").await.unwrap();
                        let mut msg = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            msg.push_str(&l);
                            msg.push('\n');
                        }
                        store.lock().unwrap().push(msg);
                        b"250 queued\r\n"
                    } else if cmd.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, got)
}

/// (to, text) of every SMS a fake gateway was asked to send.
pub type SentSms = Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// A generic SMS gateway (`POST /send` with `{"to", "text"}`) that keeps what it is asked
/// to send; its base URL and what it got.
pub async fn sms_gateway() -> (String, SentSms) {
    use axum::extract::State;
    async fn send(State(sent): State<SentSms>, body: axum::Json<Value>) -> &'static str {
        sent.lock().unwrap().push((
            body["to"].as_str().unwrap_or_default().to_string(),
            body["text"].as_str().unwrap_or_default().to_string(),
        ));
        "ok"
    }
    let sent: SentSms = Arc::default();
    let app = axum::Router::new()
        .route("/send", axum::routing::post(send))
        .with_state(sent.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, sent)
}

/// Runs the worker until the outbox is empty (jobs can queue more jobs).
pub async fn drain(worker: &phananh_worker::Worker) {
    for _ in 0..20 {
        if worker.run_once().await == 0 {
            return;
        }
    }
    panic!("the outbox does not empty");
}
