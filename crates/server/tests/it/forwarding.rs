//! What goes out to the units: signed webhooks, forwarding to a unit's own Open311
//! system (and its status back), and forwarding by email to a unit's mailbox.

use chrono::Duration;
use phananh_domain::access::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn webhooks_to_units_are_signed_retried_and_delivered_once() {
    use phananh_app::Clock;
    use phananh_worker::{Worker, WorkerConfig, sign, verify_webhook};
    use std::sync::{Arc, Mutex};
    type Seen = Arc<Mutex<Vec<(String, String, String, Vec<u8>)>>>;
    let seen: Seen = Arc::default();
    // The unit's own system: fails twice, then accepts.
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(seen): axum::extract::State<Seen>,
                 headers: axum::http::HeaderMap,
                 body: axum::body::Bytes| async move {
                    let mut s = seen.lock().unwrap();
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string()
                    };
                    s.push((
                        h("x-phananh-delivery"),
                        h("x-phananh-timestamp"),
                        h("x-phananh-signature"),
                        body.to_vec(),
                    ));
                    if s.len() <= 2 {
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        axum::http::StatusCode::NO_CONTENT
                    }
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    for t in apps().await {
        seen.lock().unwrap().clear();
        let store = &t.store();
        let mut unit = t.app().catalog().await.unit("UBND-26740").unwrap().clone();
        unit.webhook_url = Some(hook.clone());
        store.save_unit(&unit).await.unwrap();
        t.app().refresh_catalog().await.unwrap();
        let r = t.file(json!({"field": "sidewalk", "description": "Lấn chiếm", "ward": "26740", "phone": "0912345678"})).await;
        let worker = Worker::new(
            t.app().clone(),
            WorkerConfig {
                webhook_secret: "test-secret".into(),
                ..WorkerConfig::default()
            },
        );
        assert_eq!(
            worker.run_once().await,
            2,
            "the webhook (refused) and the citizen's notice (phone only: nothing to send yet)"
        );
        assert_eq!(
            worker.run_once().await,
            0,
            "the retry waits for its back-off"
        );
        t.clock.advance(Duration::minutes(5));
        assert_eq!(worker.run_once().await, 1);
        t.clock.advance(Duration::minutes(5));
        assert_eq!(worker.run_once().await, 1);
        t.clock.advance(Duration::hours(2));
        assert_eq!(worker.run_once().await, 0, "delivered: nothing left");
        let seen_now = seen.lock().unwrap().clone();
        assert_eq!(seen_now.len(), 3);
        assert!(
            seen_now.iter().all(|(d, _, _, _)| *d == seen_now[0].0),
            "one delivery id across retries"
        );
        for (_, timestamp, signature, body) in &seen_now {
            // The signature covers "<timestamp>.<body>": the receiver checks both, and a
            // delivery replayed later (or with another timestamp) fails.
            let now = t.clock.now().timestamp();
            assert!(verify_webhook(
                "test-secret",
                timestamp,
                signature,
                body,
                now,
                3 * 3600
            ));
            assert!(!verify_webhook(
                "test-secret",
                timestamp,
                signature,
                body,
                now + 86_400,
                300
            ));
            assert_ne!(
                *signature,
                sign("test-secret", body),
                "not over the body alone"
            );
            let later = (timestamp.parse::<i64>().unwrap() + 600).to_string();
            assert!(!verify_webhook(
                "test-secret",
                &later,
                signature,
                body,
                now,
                3 * 3600
            ));
            let text = String::from_utf8_lossy(body);
            assert!(text.contains(r["code"].as_str().unwrap()));
            assert!(
                !text.contains("0912345678"),
                "no personal data to the unit's webhook"
            );
        }
        let jobs = store
            .jobs_for_report(
                store
                    .report_by_code(r["code"].as_str().unwrap())
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
            )
            .await
            .unwrap();
        let jobs: Vec<_> = jobs.iter().filter(|j| j.kind == "unit.webhook").collect();
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].status, "done");
        assert_eq!(jobs[0].attempts, 3);
        // A unit endpoint that refuses for good is dead-lettered, visible to admins.
        unit.webhook_url = Some(format!("{hook}-missing"));
        store.save_unit(&unit).await.unwrap();
        t.app().refresh_catalog().await.unwrap();
        t.file(json!({"field": "sidewalk", "description": "Lấn chiếm 2", "ward": "26740"}))
            .await;
        assert_eq!(worker.run_once().await, 1);
        let dead = store
            .jobs(Some(phananh_storage::JobStatus::Dead), 10)
            .await
            .unwrap();
        assert_eq!(dead.len(), 1);
        assert!(dead[0].last_error.as_deref().unwrap().contains("404"));
        let admin = t.staff(Role::Admin, None).await;
        let page = admin
            .page(&t, "/console/admin/jobs")
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("404"));
        t.stop().await;
    }
}

/// A unit that keeps its own system — here a second phananh — gets its reports over Open311
/// and sends its progress back, through failures and a timeout, without loss or duplicates.
#[tokio::test]
async fn forwarding_to_a_units_own_open311_system_and_status_back() {
    use phananh_domain::profile::Open311Forward;
    use phananh_worker::{Worker, WorkerConfig};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let city = spawn(Options::default()).await;
    let unit_system = spawn(Options::default()).await;
    let key = unit_system
        .app()
        .create_api_key("Thành phố", None)
        .await
        .unwrap()
        .1;

    // A flaky link in front of the unit's system: the first POST fails, the second reaches
    // it but answers too late for the city's timeout, the third goes through.
    let upstream = unit_system.url("");
    let posts = Arc::new(AtomicUsize::new(0));
    let proxy = {
        let (upstream, posts) = (upstream.clone(), posts.clone());
        axum::Router::new().fallback(move |req: axum::extract::Request| {
            let (upstream, posts) = (upstream.clone(), posts.clone());
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
                let n = if parts.method == axum::http::Method::POST {
                    posts.fetch_add(1, Ordering::SeqCst) + 1
                } else {
                    0
                };
                if n == 1 {
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, Vec::new());
                }
                let client = reqwest::Client::new();
                let url = format!("{upstream}{}", parts.uri);
                let mut rb = client.request(parts.method.clone(), url);
                for (k, v) in parts.headers.iter() {
                    if k != "host" && k != "content-length" {
                        rb = rb.header(k, v);
                    }
                }
                let resp = rb.body(body).send().await.unwrap();
                let status = axum::http::StatusCode::from_u16(resp.status().as_u16()).unwrap();
                let bytes = resp.bytes().await.unwrap().to_vec();
                if n == 2 {
                    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
                }
                (status, bytes)
            }
        })
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}/open311/v2", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, proxy).await.unwrap() });

    let mut unit = city.app().catalog().await.unit("SAWACO").unwrap().clone();
    unit.forward_open311 = Some(Open311Forward {
        url: proxy_url,
        api_key: key,
        jurisdiction_id: None,
        service_codes: Default::default(),
    });
    city.store().save_unit(&unit).await.unwrap();
    city.app().refresh_catalog().await.unwrap();

    let r = city.file(json!({"field": "water", "description": "Nước yếu cả tuần", "lat": 10.7725, "lon": 106.6980, "phone": "0912345678"})).await;
    let code = r["code"].as_str().unwrap().to_string();
    assert_eq!(r["unit"], "SAWACO");
    let worker = Worker::new(
        city.app().clone(),
        WorkerConfig {
            http_timeout: std::time::Duration::from_secs(1),
            ..WorkerConfig::default()
        },
    );
    assert_eq!(
        worker.run_once().await,
        2,
        "attempt 1: 503; and the citizen's notice (phone only: nothing to send yet)"
    );
    city.clock.advance(Duration::minutes(5));
    assert_eq!(worker.run_once().await, 1, "attempt 2: timeout");
    city.clock.advance(Duration::minutes(5));
    assert_eq!(worker.run_once().await, 1, "attempt 3: delivered");
    city.clock.advance(Duration::hours(2));
    assert_eq!(worker.run_once().await, 0);
    assert_eq!(posts.load(Ordering::SeqCst), 3);

    // The unit's system has it once, without the citizen's phone.
    let theirs = unit_system
        .store()
        .list_reports(&phananh_storage::ReportFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(
        theirs.len(),
        1,
        "filed once despite the retry after a timeout"
    );
    assert_eq!(theirs[0].channel, phananh_domain::model::Channel::Open311);
    assert!(theirs[0].description.contains(&code));
    assert!(
        unit_system
            .store()
            .reporter(theirs[0].id)
            .await
            .unwrap()
            .is_none()
    );
    let their_code = theirs[0].code.clone();

    // Work starts there: in progress here. Fixed there: resolved here, in the public history.
    let their_staff = unit_system.staff(Role::Supervisor, None).await;
    unit_system.clock.advance(Duration::minutes(30));
    assert_eq!(
        their_staff
            .act(&unit_system, &their_code, json!({"action": "start"}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(worker.poll_forwards().await, 1);
    let ours: Value = city
        .get(&format!("/api/v1/reports/{code}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ours["status"], "in_progress");
    unit_system.clock.advance(Duration::minutes(30));
    assert_eq!(
        their_staff
            .act(
                &unit_system,
                &their_code,
                json!({"action": "resolve", "note": "Đã thay đoạn ống"})
            )
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(worker.poll_forwards().await, 1);
    assert_eq!(worker.poll_forwards().await, 0, "nothing new");
    let ours: Value = city
        .get(&format!("/api/v1/reports/{code}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ours["status"], "resolved");
    let history = ours["history"].to_string();
    assert!(history.contains("Đã thay đoạn ống"), "{history}");
    assert!(history.contains("integrator"));
    city.stop().await;
    unit_system.stop().await;
}

#[tokio::test]
async fn forwarding_by_email_to_a_units_mailbox() {
    use phananh_worker::{Worker, WorkerConfig};
    for t in apps().await {
        let (port, got) = smtp_sink(1).await;
        let mut unit = t
            .app()
            .catalog()
            .await
            .unit("CT-CHIEUSANG")
            .unwrap()
            .clone();
        unit.forward_email = Some("chieusang@example.invalid".into());
        t.store().save_unit(&unit).await.unwrap();
        t.app().refresh_catalog().await.unwrap();
        let r = t.file(json!({"field": "lighting", "description": "Đèn đường tắt cả dãy", "ward": "26740", "phone": "0912345678"})).await;
        assert_eq!(r["unit"], "CT-CHIEUSANG");
        let worker = Worker::new(
            t.app().clone(),
            WorkerConfig {
                smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
                public_url: "https://1022.example.vn".into(),
                ..WorkerConfig::default()
            },
        );
        assert_eq!(
            worker.run_once().await,
            2,
            "the unit's email (refused at first: 421) and the citizen's notice (phone only: nothing to send yet)"
        );
        assert!(got.lock().unwrap().is_empty());
        t.clock.advance(Duration::minutes(5));
        assert_eq!(worker.run_once().await, 1);
        t.clock.advance(Duration::hours(2));
        assert_eq!(worker.run_once().await, 0);
        let mails = got.lock().unwrap().clone();
        assert_eq!(mails.len(), 1);
        let m = &mails[0];
        let code = r["code"].as_str().unwrap();
        assert!(m.contains("To: chieusang@example.invalid"), "{m}");
        assert!(
            m.contains("Subject: [1022] =?utf-8?"),
            "Vietnamese subject, encoded: {m}"
        );
        assert!(
            m.contains(&format!("Message-ID: <{code}.CT-CHIEUSANG.")),
            "{m}"
        );
        assert!(m.contains(code));
        // Quoted-printable body: undo the soft line breaks before looking for the link.
        let body = m.replace("=\n", "");
        assert!(
            body.contains(&format!("https://1022.example.vn/console/reports/{code}")),
            "{m}"
        );
        assert!(!m.contains("0912345678"), "no personal data by email");
        t.stop().await;
    }
}
