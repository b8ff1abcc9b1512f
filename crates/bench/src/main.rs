//! `phananh-bench intake URL CONCURRENCY SECONDS`: files reports through
//! `POST /api/v1/reports` from CONCURRENCY keep-alive connections for SECONDS, then prints
//! reports per second and latency percentiles. Every request must answer 201.

use std::time::{Duration, Instant};

const WARDS: [&str; 8] = [
    "26740", "26743", "26758", "26737", "26767", "26773", "26782", "26785",
];
const FIELDS: [&str; 5] = ["traffic", "drainage", "lighting", "sidewalk", "other"];

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 || args[1] != "intake" {
        eprintln!("usage: phananh-bench intake URL CONCURRENCY SECONDS");
        std::process::exit(2);
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
        "reports: {}  errors: {}  seconds: {:.1}  reports/s: {:.0}  p50: {:.2} ms  p99: {:.2} ms  max: {:.2} ms",
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
