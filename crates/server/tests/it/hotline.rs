//! The switchboard: filing during a call, the caller's history, the caller popping up on
//! the screen of the operator who answered, and the queue of unfiled messages.

use std::collections::HashMap;

use crate::support::*;
use phananh_app::Clock;
use phananh_app::hotline::HotlineConfig;
use phananh_domain::access::Role;
use phananh_storage::NewUnfiled;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn setup() -> TestApp {
    spawn(Options {
        hotline: HotlineConfig {
            pbx_token: "pbx-secret".into(),
            extensions: HashMap::from([("101".to_string(), "nobody@example.org".to_string())]),
            ..Default::default()
        },
        ..Options::default()
    })
    .await
}

async fn pbx(t: &TestApp, token: Option<&str>, body: Value) -> reqwest::Response {
    let mut req = t.client.post(t.url("/api/v1/pbx/calls")).json(&body);
    if let Some(tok) = token {
        req = req.header("authorization", format!("Bearer {tok}"));
    }
    req.send().await.unwrap()
}

/// Reads server-sent events until one named `call` arrives.
async fn next_call(resp: &mut reqwest::Response) -> Value {
    let mut buf = String::new();
    loop {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), resp.chunk())
            .await
            .expect("a popup within 5 s")
            .unwrap()
            .expect("the stream stays open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block = buf[..end].to_string();
            buf.drain(..end + 2);
            if block.lines().any(|l| l == "event: call") {
                let data = block
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap();
                return serde_json::from_str(data).unwrap();
            }
        }
    }
}

#[tokio::test]
async fn an_operator_files_a_report_during_a_call() {
    let t = setup().await;
    let operator = t.staff(Role::Triage, None).await;
    let op_email = t
        .store()
        .user(operator.user_id)
        .await
        .unwrap()
        .unwrap()
        .email;

    // Only operators have the screen.
    let unit_staff = t.staff(Role::UnitStaff, Some("SXD")).await;
    assert_eq!(
        unit_staff.page(&t, "/console/hotline").await.status(),
        StatusCode::NOT_FOUND
    );
    let screen = operator
        .page(&t, "/console/hotline")
        .await
        .text()
        .await
        .unwrap();
    assert!(screen.contains("Tổng đài: tiếp nhận cuộc gọi") && screen.contains("autofocus"));
    assert!(
        screen.contains("id=\"map\"") && screen.contains("name=\"lat\""),
        "a map to pin the place"
    );
    // A place pinned on the map (no ward, no address): the ward comes from the point.
    let r = operator
        .form(
            &t,
            "/console/hotline",
            &[
                ("phone", "0900000009"),
                ("field", "trees"),
                ("description", "Cây gãy cành đè lên dây điện"),
                ("lat", "10.7769"),
                ("lon", "106.7009"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let pinned = r.headers()["location"]
        .to_str()
        .unwrap()
        .split("filed=")
        .nth(1)
        .unwrap()
        .to_string();
    let pinned = t.store().report_by_code(&pinned).await.unwrap().unwrap();
    assert!(pinned.ward.is_some() && pinned.lat.is_some(), "{pinned:?}");

    // The caller reported before: the number brings it up, with the name they gave.
    let before = t
        .file(
            json!({"field": "drainage", "description": "Ngập sâu sau mưa", "ward": "26740",
        "phone": "0912345678", "name": "Lê Thị Hoa"}),
        )
        .await;
    let c: Value = operator
        .api_get(&t, "/console/hotline/caller?phone=%2B84%20912%20345%20678")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c["name"], "Lê Thị Hoa");
    assert_eq!(c["reports"][0]["code"], before["code"]);
    let page = operator
        .page(&t, "/console/hotline?phone=0912345678")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(before["code"].as_str().unwrap()) && page.contains("Lê Thị Hoa"));

    // The exchange: only with its token.
    let call = json!({"event": "ringing", "call_id": "1700000000.42", "caller": "0912345678"});
    assert_eq!(
        pbx(&t, None, call.clone()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        pbx(&t, Some("wrong"), call.clone()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        pbx(&t, Some("pbx-secret"), call).await.status(),
        StatusCode::OK
    );

    // The operator's screen listens; answering pops the caller up there.
    let mut stream = t
        .client
        .get(t.url("/console/hotline/events"))
        .header("cookie", &operator.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let answered = pbx(
        &t,
        Some("pbx-secret"),
        json!({"event": "answered", "call_id": "1700000000.42",
        "caller": "0912345678", "operator": op_email}),
    )
    .await;
    let answer: Value = answered.json().await.unwrap();
    assert_eq!(answer["shown_to"], operator.user_id);
    let popup = next_call(&mut stream).await;
    assert_eq!(popup["caller"], "0912345678");
    assert_eq!(popup["call_id"], "1700000000.42");
    // An extension we cannot place pops up for every operator.
    let r: Value = pbx(
        &t,
        Some("pbx-secret"),
        json!({"event": "answered", "call_id": "c-2", "caller": "0900000002", "operator": "101"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(r["shown_to"], "all");
    assert_eq!(next_call(&mut stream).await["call_id"], "c-2");
    // Bad events are answered with a reason.
    assert_eq!(
        pbx(
            &t,
            Some("pbx-secret"),
            json!({"event": "exploded", "call_id": "x", "caller": "1"})
        )
        .await
        .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let r = t
        .client
        .post(t.url("/api/v1/pbx/calls"))
        .header("authorization", "Bearer pbx-secret")
        .body("{")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    // Filing during the call: the ward typed without accents, the call linked.
    let screen = operator
        .page(&t, "/console/hotline?call=1700000000.42&phone=0912345678")
        .await
        .text()
        .await
        .unwrap();
    let key = screen
        .split("name=\"key\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let fields = [
        ("key", key.as_str()),
        ("call_id", "1700000000.42"),
        ("channel", "hotline"),
        ("phone", "0912345678"),
        ("name", "Lê Thị Hoa"),
        ("consent", "1"),
        ("field", "traffic"),
        (
            "description",
            "Cây đổ chắn ngang đường, xe máy không qua được",
        ),
        ("address", "12 Lê Lợi"),
        ("ward_name", "sai gon"),
    ];
    let r = operator.form(&t, "/console/hotline", &fields).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let code = location.split("filed=").nth(1).unwrap().to_string();
    // The same form sent twice (a double Enter) files once.
    let again = operator.form(&t, "/console/hotline", &fields).await;
    assert_eq!(again.headers()["location"].to_str().unwrap(), location);
    let shown = operator.page(&t, &location).await.text().await.unwrap();
    assert!(shown.contains(&code) && shown.contains("Đọc mã hồ sơ"));
    let report = t.store().report_by_code(&code).await.unwrap().unwrap();
    assert_eq!(report.channel.as_str(), "hotline");
    assert_eq!(report.ward.as_deref(), Some("26740"));
    let calls = t.store().calls_of_report(report.id).await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].operator_id, Some(operator.user_id));
    assert_eq!(calls[0].state, "answered");
    let page = operator
        .page(&t, &format!("/console/reports/{code}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("1700000000.42"), "the call on the report");
    // A missing description keeps what was typed, with the reason.
    let r = operator
        .form(
            &t,
            "/console/hotline",
            &[
                ("field", "traffic"),
                ("phone", "0912345678"),
                ("name", "Lê Thị Hoa"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("value=\"Lê Thị Hoa\""));
    t.stop().await;
}

#[tokio::test]
async fn operators_file_or_set_aside_what_could_not_be_filed() {
    for t in apps().await {
        let operator = t.staff(Role::Triage, None).await;
        let store = &t.store();
        let now = t.clock.now();
        let item = |body: &str| NewUnfiled {
            channel: "sms".into(),
            sender: "0987654321".into(),
            subject: None,
            body: body.into(),
            raw: format!("raw:{body}"),
            reason: "không đúng cú pháp".into(),
        };
        let a = store
            .unfiled_add(&item("Duong Le Loi co o ga lon o phuong Sai Gon"), now)
            .await
            .unwrap();
        let b = store
            .unfiled_add(&item("Quang cao vay tien nhanh"), now)
            .await
            .unwrap();
        let list = operator
            .page(&t, "/console/unfiled")
            .await
            .text()
            .await
            .unwrap();
        assert!(
            list.contains("Quang cao vay tien nhanh")
                && list.contains(&format!("/console/hotline?unfiled={a}"))
        );
        assert_eq!(
            t.staff(Role::UnitStaff, Some("SXD"))
                .await
                .page(&t, "/console/unfiled")
                .await
                .status(),
            StatusCode::FORBIDDEN
        );

        // File the first from the screen, prefilled with the message.
        let screen = operator
            .page(&t, &format!("/console/hotline?unfiled={a}"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            screen.contains("Duong Le Loi co o ga lon")
                && screen.contains("value=\"0987654321\"")
                && screen.contains("value=\"sms\"")
        );
        let id = a.to_string();
        let r = operator
            .form(
                &t,
                "/console/hotline",
                &[
                    ("unfiled", id.as_str()),
                    ("channel", "sms"),
                    ("phone", "0987654321"),
                    ("field", "traffic"),
                    ("description", "Đường Lê Lợi có ổ gà lớn"),
                    ("ward_name", "Sài Gòn"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let code = r.headers()["location"]
            .to_str()
            .unwrap()
            .split("filed=")
            .nth(1)
            .unwrap()
            .to_string();
        let filed = store.unfiled(a).await.unwrap().unwrap();
        assert_eq!(filed.report_code.as_deref(), Some(code.as_str()));
        assert_eq!(
            store
                .report_by_code(&code)
                .await
                .unwrap()
                .unwrap()
                .channel
                .as_str(),
            "sms"
        );

        // Set the second aside: a reason is required.
        let path = format!("/console/unfiled/{b}/dismiss");
        assert_eq!(
            operator.form(&t, &path, &[("note", " ")]).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        assert_eq!(
            operator
                .form(&t, &path, &[("note", "quảng cáo")])
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        assert_eq!(store.unfiled_open_count().await.unwrap(), 0);
        let all = operator
            .page(&t, "/console/unfiled?all=1")
            .await
            .text()
            .await
            .unwrap();
        assert!(all.contains("quảng cáo") && all.contains(&code));
        t.stop().await;
    }
}

/// A fake Asterisk Manager: greets, accepts the login, then plays a queue call.
async fn fake_asterisk(
    script: Vec<String>,
    go: tokio::sync::oneshot::Receiver<()>,
) -> (String, tokio::sync::oneshot::Receiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut lines = BufReader::new(r).lines();
        w.write_all(b"Asterisk Call Manager/7.0.3\r\n")
            .await
            .unwrap();
        let mut login = String::new();
        while let Ok(Some(l)) = lines.next_line().await {
            if l.is_empty() {
                break;
            }
            login.push_str(&l);
            login.push('\n');
        }
        let _ = tx.send(login);
        w.write_all(b"Response: Success\r\nMessage: Authentication accepted\r\n\r\n")
            .await
            .unwrap();
        let _ = go.await;
        for block in script {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            w.write_all(block.replace('\n', "\r\n").as_bytes())
                .await
                .unwrap();
            w.write_all(b"\r\n").await.unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    });
    (addr, rx)
}

#[tokio::test]
async fn asterisk_calls_pop_up_on_the_operator_who_answered() {
    // The operator's extension is 101 in the exchange (the first staff account a test
    // server makes is triage0@example.org).
    let operator_email = "triage0@example.org".to_string();
    let script = vec![
        "Event: Newchannel\nChannel: PJSIP/trunk-00000001\nCallerIDNum: 0909123456\nUniqueid: 1700000099.7\n".to_string(),
        "Event: PeerStatus\nPeer: PJSIP/102\nPeerStatus: Reachable\n".to_string(),
        "Event: AgentConnect\nUniqueid: 1700000099.7\nInterface: PJSIP/101\nMemberName: Op\n".to_string(),
        "Event: Hangup\nUniqueid: 1700000099.7\nCause: 16\n".to_string(),
    ];
    let (go, wait) = tokio::sync::oneshot::channel();
    let (addr, login) = fake_asterisk(script, wait).await;
    let t = spawn(Options {
        hotline: HotlineConfig {
            pbx_token: String::new(),
            extensions: HashMap::from([("101".to_string(), operator_email.clone())]),
            ami_address: addr,
            ami_username: "phananh".into(),
            ami_secret: "ami-secret".into(),
        },
        ..Options::default()
    })
    .await;
    let operator = t.staff(Role::Triage, None).await;
    assert_eq!(
        t.store()
            .user(operator.user_id)
            .await
            .unwrap()
            .unwrap()
            .email,
        operator_email
    );
    let mut stream = t
        .client
        .get(t.url("/console/hotline/events"))
        .header("cookie", &operator.cookie)
        .send()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let _ = go.send(());
    let login = tokio::time::timeout(std::time::Duration::from_secs(5), login)
        .await
        .unwrap()
        .unwrap();
    assert!(
        login.contains("Action: Login") && login.contains("Secret: ami-secret"),
        "{login}"
    );
    let popup = next_call(&mut stream).await;
    assert_eq!(popup["caller"], "0909123456");
    assert_eq!(popup["operator_id"], operator.user_id);
    // The hangup is recorded too.
    for _ in 0..50 {
        if t.store()
            .call("1700000099.7")
            .await
            .unwrap()
            .is_some_and(|c| c.state == "ended")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let call = t.store().call("1700000099.7").await.unwrap().unwrap();
    assert_eq!(
        (call.state.as_str(), call.operator_id),
        ("ended", Some(operator.user_id))
    );
    drop(stream);
    t.stop().await;
}
