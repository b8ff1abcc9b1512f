//! Benchmarks of phananh (docs/PERFORMANCE.md):
//!
//! - `phananh-bench intake URL CONCURRENCY SECONDS`: files reports through
//!   `POST /api/v1/reports` from CONCURRENCY keep-alive connections for SECONDS, then prints
//!   reports per second and latency percentiles. Every request must answer 201.
//! - `phananh-bench seed DATABASE_URL COUNT`: fills a database with COUNT reports spread
//!   over the last year, through the intake use case (validation, routing, deadlines).
//! - `phananh-bench get URL CONCURRENCY SECONDS PATH...`: GETs the paths in turn and prints
//!   requests per second and latency percentiles. Every answer must be 200.
//! - `phananh-bench webhooks URL RATE SECONDS APP_SECRET`: posts signed Messenger deliveries
//!   at a fixed RATE per second (open loop, one new message each, from 1,000 people), prints
//!   the acknowledgement latencies, then waits until the outbox is empty (the conversations
//!   processed and answered) and prints how long that took.
//! - `phananh-bench zalo-webhooks URL RATE SECONDS APP_ID OA_SECRET`: the same with signed
//!   Zalo OA events (`/webhooks/zalo`).
//! - `phananh-bench fake-graph ADDR`: a stand-in Graph API and Zalo OpenAPI/OAuth that
//!   accept every message, for the webhooks benchmark.

use std::time::{Duration, Instant};

const WARDS: [&str; 8] = [
    "26740", "26743", "26758", "26737", "26767", "26773", "26782", "26785",
];
const FIELDS: [&str; 5] = ["traffic", "drainage", "lighting", "sidewalk", "other"];

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("seed") if args.len() == 4 => {
            return seed(&args[2], args[3].parse().expect("COUNT")).await;
        }
        Some("get") if args.len() >= 6 => {
            return get(
                &args[2],
                args[3].parse().expect("CONCURRENCY"),
                args[4].parse().expect("SECONDS"),
                &args[5..],
            )
            .await;
        }
        Some("webhooks") if args.len() == 6 => {
            return webhooks(
                &args[2],
                args[3].parse().expect("RATE"),
                args[4].parse().expect("SECONDS"),
                Platform::Messenger {
                    app_secret: args[5].clone(),
                },
            )
            .await;
        }
        Some("zalo-webhooks") if args.len() == 7 => {
            return webhooks(
                &args[2],
                args[3].parse().expect("RATE"),
                args[4].parse().expect("SECONDS"),
                Platform::Zalo {
                    app_id: args[5].clone(),
                    oa_secret: args[6].clone(),
                },
            )
            .await;
        }
        Some("fake-graph") if args.len() == 3 => return fake_graph(&args[2]).await,
        Some("intake") if args.len() == 5 => {}
        _ => {
            eprintln!(
                "usage: phananh-bench intake URL CONCURRENCY SECONDS\n       phananh-bench seed DATABASE_URL COUNT\n       phananh-bench get URL CONCURRENCY SECONDS PATH...\n       phananh-bench webhooks URL RATE SECONDS APP_SECRET\n       phananh-bench zalo-webhooks URL RATE SECONDS APP_ID OA_SECRET\n       phananh-bench fake-graph ADDR"
            );
            std::process::exit(2);
        }
    }
    let url = format!("{}/api/v1/reports", args[2].trim_end_matches('/'));
    let concurrency: usize = args[3].parse().expect("CONCURRENCY");
    let seconds: u64 = args[4].parse().expect("SECONDS");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut errors = 0u64;
            let mut n = 0usize;
            while Instant::now() < end {
                let body = serde_json::json!({
                    "field": FIELDS[(t + n) % FIELDS.len()],
                    "description": format!("Benchmark report {t}-{n}: ổ gà trên đường"),
                    "ward": WARDS[(t * 7 + n) % WARDS.len()],
                    "phone": "0912345678",
                });
                let sent = Instant::now();
                match client.post(&url).json(&body).send().await {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let _ = r.bytes().await;
                        lat.push(sent.elapsed().as_micros() as u64);
                    }
                    Ok(r) => {
                        errors += 1;
                        if errors < 3 {
                            eprintln!(
                                "status {}: {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if errors < 3 {
                            eprintln!("error: {e}");
                        }
                    }
                }
                n += 1;
            }
            (lat, errors)
        }));
    }
    summarise("reports", start, tasks).await;
}

/// A clock the seeder moves back in time, so reports spread over a year.
struct SeedClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl phananh_app::Clock for SeedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn seed(database_url: &str, count: usize) {
    let start = chrono::Utc::now() - chrono::Duration::days(365);
    let clock = std::sync::Arc::new(SeedClock(std::sync::Mutex::new(start)));
    let photos = std::env::temp_dir().join("phananh-bench-photos");
    let config = phananh::Config {
        database_url: database_url.to_string(),
        photos_dir: photos.to_string_lossy().into_owned(),
        ..phananh::Config::default()
    };
    let app = phananh::open_app(&config, clock.clone())
        .await
        .expect("open");
    let catalog = app.catalog().await;
    let wards: Vec<String> = catalog.wards.iter().map(|w| w.code.clone()).collect();
    let fields: Vec<String> = catalog.fields.iter().map(|f| f.code.clone()).collect();
    let started = Instant::now();
    let step = chrono::Duration::milliseconds(365 * 86_400_000 / count.max(1) as i64);
    let chunk = 2000;
    let mut n = 0;
    while n < count {
        *clock.0.lock().unwrap_or_else(|e| e.into_inner()) = start + step * n as i32;
        let mut tasks = Vec::with_capacity(chunk);
        for i in n..(n + chunk).min(count) {
            let app = app.clone();
            // Two reports in three carry a position (a deterministic scatter over the
            // central wards, for the map's bounding-box query); the rest name a ward.
            let with_position = i % 3 != 2;
            let (lat, lon) = if with_position {
                let a = (i as f64 * 0.618_033_988_75).fract();
                let b = (i as f64 * 0.754_877_666_25).fract();
                (Some(10.74 + 0.08 * a), Some(106.64 + 0.09 * b))
            } else {
                (None, None)
            };
            let request = phananh_app::intake::IntakeRequest {
                field: fields[i % fields.len()].clone(),
                description: format!("Phản ánh mẫu số {i}: ổ gà, đèn hỏng, rác thải"),
                lat,
                lon,
                ward: (!with_position).then(|| wards[(i * 7) % wards.len()].clone()),
                phone: (i % 3 == 0).then(|| format!("09{:08}", i % 100_000_000)),
                ..Default::default()
            };
            tasks.push(tokio::spawn(async move {
                app.submit(
                    request,
                    phananh_domain::model::Channel::Web,
                    phananh_domain::model::Actor::citizen(),
                    None,
                    None,
                )
                .await
            }));
        }
        for t in tasks {
            t.await.expect("task").expect("filed");
        }
        n += chunk;
        if n % 100_000 == 0 {
            eprintln!(
                "{n} reports, {:.0}/s",
                n as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "seeded {count} reports in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn get(base: &str, concurrency: usize, seconds: u64, paths: &[String]) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("client");
    let start = Instant::now();
    let end = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let client = client.clone();
        let urls: Vec<String> = paths
            .iter()
            .map(|p| format!("{}{p}", base.trim_end_matches('/')))
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut n = t;
            while Instant::now() < end {
                let url = &urls[n % urls.len()];
                let sent = Instant::now();
                match client.get(url).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        lat.push(sent.elapsed().as_micros() as u64);
                    }
                    Ok(r) => {
                        errors += 1;
                        if errors < 3 {
                            eprintln!("{url}: {}", r.status());
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if errors < 3 {
                            eprintln!("{url}: {e}");
                        }
                    }
                }
                n += 1;
            }
            (lat, errors)
        }));
    }
    summarise("requests", start, tasks).await;
}

/// Collects the tasks' latencies (µs) and errors, prints throughput and percentiles, and
/// fails the run if anything failed.
async fn summarise(
    what: &str,
    start: Instant,
    tasks: Vec<tokio::task::JoinHandle<(Vec<u64>, u64)>>,
) {
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("task");
        all.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    println!(
        "{what}: {}  errors: {}  seconds: {:.1}  {what}/s: {:.0}  p50: {:.2} ms  p99: {:.2} ms  max: {:.2} ms",
        all.len(),
        errors,
        elapsed,
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99),
        all.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    if errors > 0 {
        std::process::exit(1);
    }
}

async fn fake_graph(addr: &str) {
    let app = axum::Router::new()
        .route(
            "/v25.0/me/messages",
            axum::routing::post(|| async { axum::Json(serde_json::json!({"message_id": "m_bench"})) }),
        )
        .route(
            "/v4/oa/access_token",
            axum::routing::post(|| async {
                let n = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default();
                axum::Json(serde_json::json!({"access_token": format!("AT{n}"), "refresh_token": format!("RT{n}"), "expires_in": "90000"}))
            }),
        )
        .route(
            "/v3.0/oa/message/cs",
            axum::routing::post(|| async {
                axum::Json(serde_json::json!({"error": 0, "message": "Success", "data": {"message_id": "m_bench"}}))
            }),
        );
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}

/// Jobs waiting in the outbox, from /metrics.
async fn pending_jobs(client: &reqwest::Client, base: &str) -> u64 {
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body");
    text.lines()
        .find(|l| l.starts_with("phananh_jobs{status=\"pending\"}"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Whose deliveries the webhooks benchmark posts, with what it signs them with.
enum Platform {
    Messenger { app_secret: String },
    Zalo { app_id: String, oa_secret: String },
}

impl Platform {
    /// The path, body and signature header of delivery `i` of the run started at `run`.
    fn delivery(&self, run: i64, i: u64) -> (&'static str, String, (&'static str, String)) {
        let text = "Ổ gà lớn trước số 12 Lê Lợi, phường Sài Gòn";
        match self {
            Platform::Messenger { app_secret } => {
                let body = serde_json::json!({"object": "page", "entry": [{"id": "PAGE", "time": run, "messaging": [{
                    "sender": {"id": format!("PSID_{}", i % 1000)}, "recipient": {"id": "PAGE"},
                    "timestamp": run + i as i64,
                    "message": {"mid": format!("m.bench.{run}.{i}"), "text": text}}]}]})
                .to_string();
                let sig = format!(
                    "sha256={}",
                    phananh_channels::hmac_sha256_hex(app_secret.as_bytes(), body.as_bytes())
                );
                ("/webhooks/messenger", body, ("x-hub-signature-256", sig))
            }
            Platform::Zalo { app_id, oa_secret } => {
                // Zalo stamps an event with when it happened (checked for freshness).
                let ts = chrono::Utc::now().timestamp_millis().to_string();
                let body = serde_json::json!({"app_id": app_id, "event_name": "user_send_text",
                    "timestamp": ts, "sender": {"id": format!("{}", 7_000_000_000_000_000u64 + i % 1000)},
                    "recipient": {"id": "OA"}, "user_id_by_app": "1",
                    "message": {"msg_id": format!("zbench{run}x{i}"), "text": text}})
                .to_string();
                let sig =
                    phananh_channels::zalo::signature(app_id, oa_secret, body.as_bytes(), &ts);
                ("/webhooks/zalo", body, ("x-zevent-signature", sig))
            }
        }
    }
}

async fn webhooks(base: &str, rate: u64, seconds: u64, platform: Platform) {
    let base = base.trim_end_matches('/').to_string();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");
    let start = Instant::now();
    let total = rate * seconds;
    let mut ticker = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate.max(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::with_capacity(total as usize);
    let run = chrono::Utc::now().timestamp_millis();
    for i in 0..total {
        ticker.tick().await;
        let (path, body, (header, sig)) = platform.delivery(run, i);
        let url = format!("{base}{path}");
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            match client
                .post(&url)
                .header(header, sig)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => (vec![sent.elapsed().as_micros() as u64], 0),
                Ok(r) => {
                    eprintln!("webhook: {}", r.status());
                    (vec![], 1)
                }
                Err(e) => {
                    eprintln!("webhook: {e}");
                    (vec![], 1)
                }
            }
        }));
    }
    summarise("deliveries", start, tasks).await;
    let sent_at = Instant::now();
    // `/metrics` caches its database gauges for 15 s: with the server's database at hand the
    // outbox is counted there instead, to the 200 ms of the polling.
    let store = match std::env::var("PHANANH_BENCH_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(
            phananh_storage::Store::open(&url)
                .await
                .expect("the server's database"),
        ),
        _ => None,
    };
    loop {
        let pending = match &store {
            Some(store) => store
                .count_jobs_by_status()
                .await
                .expect("jobs")
                .into_iter()
                .filter(|(status, _)| status == "pending")
                .map(|(_, n)| n as u64)
                .sum(),
            None => pending_jobs(&client, &base).await,
        };
        if pending == 0 {
            break;
        }
        if sent_at.elapsed() > Duration::from_secs(300) {
            eprintln!("the outbox did not empty within 5 minutes ({pending} jobs left)");
            std::process::exit(1);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "processing: the outbox was empty {:.1} s after the last delivery was acknowledged",
        sent_at.elapsed().as_secs_f64()
    );
}
