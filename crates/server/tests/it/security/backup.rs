//! `phananh backup FILE` while the server files reports: the copy opens with the server and
//! holds every report acknowledged before the backup started.

use std::process::Stdio;
use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::{Value, json};

/// The release or debug `phananh` binary serving `db` on a free port; returns it and its URL.
pub async fn serve_binary(
    db: &std::path::Path,
    photos: &std::path::Path,
) -> (tokio::process::Child, String) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_phananh"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            db.to_str().unwrap(),
        ])
        .env("PHANANH_INTAKE_PER_MINUTE", "0")
        .env("PHANANH_PHOTOS_DIR", photos)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return (child, base);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("server did not start");
}

#[tokio::test]
async fn backup_under_load_restores_every_acknowledged_report() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let (mut server, base) = serve_binary(&db, &dir.path().join("photos")).await;
    let client = reqwest::Client::new();
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for i in 0..8 {
        let (client, base, acked, stop) =
            (client.clone(), base.clone(), acked.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let body = json!({"field": "traffic", "description": format!("backup {i}-{n}"), "ward": "26740"});
                let r = client.post(format!("{base}/api/v1/reports")).json(&body).send().await.unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                let v: Value = r.json().await.unwrap();
                acked.lock().unwrap().push(v["code"].as_str().unwrap().to_string());
                n += 1;
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let before: Vec<String> = acked.lock().unwrap().clone();
    let copy = dir.path().join("copy.db");
    let bin = env!("CARGO_BIN_EXE_phananh");
    let run = |file: &std::path::Path| {
        tokio::process::Command::new(bin)
            .args([
                "--database-url",
                db.to_str().unwrap(),
                "backup",
                file.to_str().unwrap(),
            ])
            .env("RUST_LOG", "error")
            .env("PHANANH_PHOTOS_DIR", dir.path().join("photos"))
            .output()
    };
    let out = run(&copy).await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The load went on during the backup.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in load {
        t.await.unwrap();
    }
    let after = acked.lock().unwrap().len();
    assert!(
        before.len() > 20 && after > before.len(),
        "{} then {after}",
        before.len()
    );
    // An existing file is refused, and left as it was.
    let size = std::fs::metadata(&copy).unwrap().len();
    let again = run(&copy).await.unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
    assert_eq!(std::fs::metadata(&copy).unwrap().len(), size);
    server.start_kill().unwrap();
    server.wait().await.unwrap();

    // Restore: the server opens the copy and shows every report acknowledged before.
    let (mut restored, base) = serve_binary(&copy, &dir.path().join("photos")).await;
    for code in &before {
        let r = client
            .get(format!("{base}/api/v1/reports/{code}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{code} missing from the backup");
    }
    let store = phananh_storage::Store::open(copy.to_str().unwrap())
        .await
        .unwrap();
    for code in &before {
        let r = store.report_by_code(code).await.unwrap().unwrap();
        assert_eq!(store.events(r.id).await.unwrap().len() as i64, r.last_seq);
    }
    restored.start_kill().unwrap();
    restored.wait().await.unwrap();
}
