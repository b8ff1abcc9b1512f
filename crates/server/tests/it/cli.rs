//! The command line an operator uses.

use serde_json::{Value, json};

/// The command line an operator uses: users, API keys, profile export and import.
#[tokio::test]
async fn command_line_users_keys_and_profile() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.db");
    let bin = env!("CARGO_BIN_EXE_phananh");
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(bin)
            .arg("--database-url")
            .arg(&db)
            .args(args)
            .env("RUST_LOG", "error")
            .env("PHANANH_PHOTOS_DIR", dir.path().join("photos"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, out, _) = run(
        &[
            "user",
            "add",
            "--role",
            "admin",
            "--email",
            "Boss@Example.org",
            "--name",
            "Quản trị",
        ],
        "a very long password\n",
    );
    assert!(ok, "{out}");
    let (ok, _, err) = run(
        &[
            "user",
            "add",
            "--role",
            "unit_staff",
            "--email",
            "x@example.org",
        ],
        "a very long password\n",
    );
    assert!(
        !ok && err.contains("đơn vị"),
        "a unit role needs a unit: {err}"
    );
    let (ok, _, err) = run(
        &["user", "add", "--role", "admin", "--email", "y@example.org"],
        "short\n",
    );
    assert!(!ok && err.contains("10"), "{err}");
    let (_, out, _) = run(&["user", "list"], "");
    assert!(out.contains("boss@example.org\tadmin"), "{out}");
    let (ok, key, _) = run(
        &["apikey", "add", "--name", "Đối tác A", "--rate", "30"],
        "",
    );
    assert!(ok && key.trim().starts_with("pa_"));
    let (_, list, _) = run(&["apikey", "list"], "");
    assert!(list.contains("Đối tác A") && list.contains("30/min") && !list.contains(key.trim()));
    // Export, change, import: the change is there.
    let file = dir.path().join("profile.json");
    let (ok, _, err) = run(&["profile", "export", file.to_str().unwrap()], "");
    assert!(ok, "{err}");
    let mut profile: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(profile["wards"].as_array().unwrap().len(), 168);
    profile["fields"].as_array_mut().unwrap().push(json!({"code": "graffiti", "name_vi": "Vẽ bậy", "name_en": "Graffiti", "icon": "🎨", "ack_hours": 8, "resolve_days": 5}));
    std::fs::write(&file, profile.to_string()).unwrap();
    let (ok, _, err) = run(&["profile", "import", file.to_str().unwrap()], "");
    assert!(ok, "{err}");
    let (_, out, _) = run(&["profile", "export", "-"], "");
    assert!(out.contains("graffiti"));
    // A broken profile is refused with the reasons, and nothing changes.
    profile["rules"]
        .as_array_mut()
        .unwrap()
        .push(json!({"field": "nope", "ward": null, "unit": "NOPE"}));
    std::fs::write(&file, profile.to_string()).unwrap();
    let (ok, _, err) = run(&["profile", "import", file.to_str().unwrap()], "");
    assert!(
        !ok && err.contains("unknown field") && err.contains("unknown unit"),
        "{err}"
    );
}
