//! Kill -9 of the real binary while it takes reports.

use reqwest::StatusCode;
use serde_json::{Value, json};

/// Kill -9 the real binary while it takes reports: every acknowledged report is there after.
#[tokio::test]
async fn a_killed_server_loses_no_acknowledged_report() {
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_phananh"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            db.to_str().unwrap(),
        ])
        .env("PHANANH_INTAKE_PER_MINUTE", "0")
        .env("PHANANH_PHOTOS_DIR", dir.path().join("photos"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let mut up = false;
    for _ in 0..300 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "server did not start");
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (client, base, acked) = (client.clone(), base.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let body = json!({"field": "traffic", "description": format!("crash test {i}-{n}"), "ward": "26740"});
                match client.post(format!("{base}/api/v1/reports")).json(&body).send().await {
                    Ok(r) if r.status() == StatusCode::CREATED => {
                        if let Ok(v) = r.json::<Value>().await {
                            acked.lock().unwrap().push(v["code"].as_str().unwrap().to_string());
                        }
                    }
                    _ => break,
                }
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    for t in tasks {
        let _ = t.await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 20,
        "only {} reports acknowledged before the kill",
        acked.len()
    );
    let store = phananh_storage::Store::open(db.to_str().unwrap())
        .await
        .unwrap();
    for code in &acked {
        let r = store
            .report_by_code(code)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged {code} lost"));
        assert_eq!(store.events(r.id).await.unwrap().len() as i64, r.last_seq);
    }
}
