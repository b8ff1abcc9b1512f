//! Issue 11, findings 4 and 7 (SMTP): email must not be trusted on its `From:` header,
//! replies add to a report only from its reporter or its unit, senders are rate-limited,
//! and the inbound SMTP listener caps connections and closes idle ones.

use std::net::SocketAddr;
use std::time::Duration;

use phananh_worker::{Worker, WorkerConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::support::mail::{MailDomains, reply, send_to, sink};
use crate::support::{Options, TestApp, drain, spawn};

const ADDRESS: &str = "1022@phananh.test";

fn email_section() -> phananh::EmailSection {
    phananh::EmailSection {
        address: ADDRESS.into(),
        smtp_listen: "127.0.0.1:0".into(),
        max_megabytes: 2,
        ..phananh::EmailSection::default()
    }
}

async fn servers(email: phananh::EmailSection) -> Vec<TestApp> {
    let mut v = vec![
        spawn(Options {
            email: email.clone(),
            ..Options::default()
        })
        .await,
    ];
    if std::env::var("PHANANH_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        v.push(
            spawn(Options {
                email,
                postgres: true,
                ..Options::default()
            })
            .await,
        );
    }
    v
}

fn worker(t: &TestApp, port: u16, d: &MailDomains, per_sender: u32) -> Worker {
    Worker::new(
        t.app().clone(),
        WorkerConfig {
            smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
            email_address: Some(ADDRESS.into()),
            email_auth: d.auth(per_sender),
            ..WorkerConfig::default()
        },
    )
}

/// A new report by email: a field (street light) and an address in Bến Thành.
fn report_email(id: &str, from: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {ADDRESS}\r\nSubject: Den duong hong\r\nMessage-ID: <{id}>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n\
         Đèn đường trước nhà tắt cả tuần nay.\r\nĐịa chỉ: 12 Lê Lợi, Phường Bến Thành\r\n"
    )
    .into_bytes()
}

async fn send(t: &TestApp, from: &str, raw: &[u8]) -> u16 {
    send_to(t.running.email_listen.unwrap(), from, ADDRESS, raw).await
}

#[tokio::test]
async fn forged_senders_file_nothing_and_get_no_receipt() {
    for t in servers(email_section()).await {
        let (port, got) = sink().await;
        // example.vn publishes DMARC p=reject and a DKIM key; attacker.test has its own.
        let d = MailDomains::new(&["example.vn", "attacker.test"]);
        let w = worker(&t, port, &d, 0);
        let store = &t.store();

        // 1. Unsigned, From: a stranger at example.vn (the old code filed it and mailed
        //    the stranger a receipt).
        let forged = report_email("forged-1@attacker.test", "victim@example.vn");
        assert_eq!(send(&t, "victim@example.vn", &forged).await, 250);
        // 2. Signed, but by the attacker's own domain: not aligned with From:.
        let other = d.sign(
            "attacker.test",
            &report_email("forged-2@attacker.test", "victim@example.vn"),
        );
        assert_eq!(send(&t, "bad@attacker.test", &other).await, 250);
        // 3. Signed by example.vn, then altered on the way: the signature breaks.
        let mut altered = d.signed(&report_email("forged-3@attacker.test", "victim@example.vn"));
        altered.extend_from_slice(b"Chuyen khoan vao tai khoan 123.\r\n");
        assert_eq!(send(&t, "victim@example.vn", &altered).await, 250);
        drain(&w).await;
        for id in ["forged-1", "forged-2", "forged-3"] {
            let mid = format!("{id}@attacker.test");
            let o = store.email_outcome(&mid).await.unwrap().unwrap();
            assert!(
                o.starts_with("unfiled") && o.contains("not authenticated"),
                "{id}: {o}"
            );
            let auth = store.email_auth_of(&mid).await.unwrap().unwrap();
            assert_eq!(auth.auth, "fail", "{id}: {auth:?}");
            assert_eq!(auth.sender, "victim@example.vn");
            assert_eq!(auth.sender_domain, "example.vn");
            assert!(auth.dmarc.contains("fail"), "{id}: {auth:?}");
        }
        let queue = store.unfiled_list(false, 100).await.unwrap();
        let items: Vec<_> = queue
            .iter()
            .filter(|u| u.raw.contains("@attacker.test>"))
            .collect();
        assert_eq!(items.len(), 3, "each one waits for a person");
        for u in &items {
            assert!(
                u.reason.starts_with(phananh_storage::UNVERIFIED_SENDER),
                "{}",
                u.reason
            );
            assert!(u.raw.contains("Đèn đường"), "the original is kept");
        }
        assert!(
            got.lock().unwrap().is_empty(),
            "no receipt to anyone: {:?}",
            got.lock().unwrap()
        );
        // The operator filing it by hand is not offered the forged address.
        let staff = t.staff(phananh_domain::access::Role::Triage, None).await;
        let page = staff
            .page(&t, &format!("/console/hotline?unfiled={}", items[0].id))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains("Đèn đường trước nhà"), "the item's form");
        assert!(
            !page.contains("value=\"victim@example.vn\""),
            "forged sender prefilled"
        );

        // The same message, properly signed by example.vn: filed, one receipt.
        let good = d.signed(&report_email("good-1@example.vn", "dan@example.vn"));
        assert_eq!(send(&t, "dan@example.vn", &good).await, 250);
        drain(&w).await;
        let o = store
            .email_outcome("good-1@example.vn")
            .await
            .unwrap()
            .unwrap();
        let code = o.strip_prefix("report ").expect(&o).to_string();
        let auth = store
            .email_auth_of("good-1@example.vn")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((auth.auth.as_str(), auth.dmarc.as_str()), ("pass", "pass"));
        assert!(auth.dkim.contains("pass"), "{auth:?}");
        let sent = got.lock().unwrap().clone();
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert!(sent[0].contains("To: dan@example.vn") && sent[0].contains(&code));
        t.stop().await;
    }
}

#[tokio::test]
async fn replies_add_to_a_report_only_from_its_reporter_or_unit() {
    for t in servers(email_section()).await {
        let (port, got) = sink().await;
        let d = MailDomains::new(&["example.vn", "mail.test", "unit.example.vn"]);
        let w = worker(&t, port, &d, 0);
        let store = &t.store();
        let good = d.signed(&report_email("r-1@example.vn", "dan@example.vn"));
        assert_eq!(send(&t, "dan@example.vn", &good).await, 250);
        drain(&w).await;
        let o = store
            .email_outcome("r-1@example.vn")
            .await
            .unwrap()
            .unwrap();
        let code = o.strip_prefix("report ").expect(&o).to_string();
        let report = store.report_by_code(&code).await.unwrap().unwrap();
        let before = store.events(report.id).await.unwrap().len();
        let receipts = got.lock().unwrap().len();

        // An authenticated stranger who knows the code (it is on the public page).
        let reply_from = |id: &str, from: &str| {
            d.signed(
                format!(
                    "From: {from}\r\nTo: {ADDRESS}\r\nSubject: Re: [1022] Phản ánh {code}\r\n\
                     Message-ID: <{id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                     Đã sửa xong rồi, đóng hồ sơ đi.\r\n"
                )
                .as_bytes(),
            )
        };
        let raw = reply_from("stranger-1@mail.test", "stranger@mail.test");
        assert_eq!(send(&t, "stranger@mail.test", &raw).await, 250);
        drain(&w).await;
        let o = store
            .email_outcome("stranger-1@mail.test")
            .await
            .unwrap()
            .unwrap();
        assert!(
            o.starts_with("unfiled") && o.contains("not from its reporter"),
            "{o}"
        );
        assert_eq!(
            store.events(report.id).await.unwrap().len(),
            before,
            "nothing added to the report"
        );

        // The unit's forwarding address is heard.
        let mut unit = t.app().catalog().await.unit(&report.unit).unwrap().clone();
        unit.forward_email = Some("doi@unit.example.vn".into());
        t.store().save_unit(&unit).await.unwrap();
        t.app().refresh_catalog().await.unwrap();
        let raw = reply_from("unit-1@unit.example.vn", "doi@unit.example.vn");
        assert_eq!(send(&t, "doi@unit.example.vn", &raw).await, 250);
        // And the reporter.
        let raw = reply_from("dan-2@example.vn", "dan@example.vn");
        assert_eq!(send(&t, "dan@example.vn", &raw).await, 250);
        drain(&w).await;
        for id in ["unit-1@unit.example.vn", "dan-2@example.vn"] {
            let o = store.email_outcome(id).await.unwrap().unwrap();
            assert_eq!(o, format!("comment on {code}"), "{id}");
        }
        assert_eq!(store.events(report.id).await.unwrap().len(), before + 2);
        assert_eq!(got.lock().unwrap().len(), receipts, "replies get no answer");
        t.stop().await;
    }
}

#[tokio::test]
async fn each_sender_is_rate_limited() {
    for t in servers(email_section()).await {
        let (port, got) = sink().await;
        let d = MailDomains::new(&["example.vn"]);
        let w = worker(&t, port, &d, 2);
        let store = &t.store();
        // Forged mail in Dan's name does not use up Dan's allowance...
        for i in 0..2 {
            let forged = report_email(&format!("rl-forged-{i}@example.vn"), "dan@example.vn");
            assert_eq!(send(&t, "dan@example.vn", &forged).await, 250);
        }
        for i in 0..3 {
            let raw = d.signed(&report_email(
                &format!("rl-{i}@example.vn"),
                "dan@example.vn",
            ));
            assert_eq!(send(&t, "dan@example.vn", &raw).await, 250);
        }
        let lan = d.signed(&report_email("rl-lan@example.vn", "lan@example.vn"));
        assert_eq!(send(&t, "lan@example.vn", &lan).await, 250);
        drain(&w).await;
        let outcome = |id: String| async move { store.email_outcome(&id).await.unwrap().unwrap() };
        assert!(
            outcome("rl-0@example.vn".into())
                .await
                .starts_with("report ")
        );
        assert!(
            outcome("rl-1@example.vn".into())
                .await
                .starts_with("report ")
        );
        let third = outcome("rl-2@example.vn".into()).await;
        assert!(
            third.starts_with("unfiled") && third.contains("too many emails"),
            "{third}"
        );
        // ...and another sender of the same domain is not held up by it.
        assert!(
            outcome("rl-lan@example.vn".into())
                .await
                .starts_with("report ")
        );
        let to_dan = got
            .lock()
            .unwrap()
            .iter()
            .filter(|m| m.contains("To: dan@example.vn"))
            .count();
        assert_eq!(to_dan, 2, "no receipt past the limit");
        // An hour later Dan is heard again.
        t.clock.advance(chrono::Duration::minutes(61));
        let raw = d.signed(&report_email("rl-3@example.vn", "dan@example.vn"));
        assert_eq!(send(&t, "dan@example.vn", &raw).await, 250);
        drain(&w).await;
        assert!(
            outcome("rl-3@example.vn".into())
                .await
                .starts_with("report ")
        );
        t.stop().await;
    }
}

/// Connects from a given loopback address; returns the first reply line.
async fn connect_from(
    addr: SocketAddr,
    from: [u8; 4],
) -> (
    String,
    BufReader<tokio::net::tcp::OwnedReadHalf>,
    tokio::net::tcp::OwnedWriteHalf,
) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind((std::net::Ipv4Addr::from(from), 0).into())
        .unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let (r, w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(5), r.read_line(&mut line))
        .await
        .expect("a greeting or a refusal")
        .unwrap();
    (line, r, w)
}

#[tokio::test]
async fn the_smtp_listener_caps_connections_and_closes_idle_ones() {
    let t = spawn(Options {
        email: phananh::EmailSection {
            smtp_max_connections: 3,
            smtp_max_per_ip: 2,
            smtp_idle_seconds: 1,
            ..email_section()
        },
        ..Options::default()
    })
    .await;
    let addr = t.running.email_listen.unwrap();
    let (g1, _r1, w1) = connect_from(addr, [127, 0, 0, 1]).await;
    let (g2, _r2, _w2) = connect_from(addr, [127, 0, 0, 1]).await;
    assert!(g1.starts_with("220") && g2.starts_with("220"));
    // A third from the same address: refused.
    let (g3, mut r3, _w3) = connect_from(addr, [127, 0, 0, 1]).await;
    assert!(g3.starts_with("421"), "{g3}");
    let mut rest = Vec::new();
    r3.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty(), "and closed");
    // Another address takes the last place; the next one finds the listener full.
    let (g4, _r4, _w4) = connect_from(addr, [127, 0, 0, 2]).await;
    assert!(g4.starts_with("220"), "{g4}");
    let (g5, _r5, _w5) = connect_from(addr, [127, 0, 0, 3]).await;
    assert!(g5.starts_with("421"), "{g5}");
    // A place frees when a session ends.
    drop(w1);
    drop(_r1);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (g6, _r6, _w6) = connect_from(addr, [127, 0, 0, 3]).await;
    assert!(g6.starts_with("220"), "{g6}");
    drop((_r2, _w2, _r4, _w4, _r6, _w6));
    tokio::time::sleep(Duration::from_millis(200)).await;

    // An idle client is told 421 and closed after the idle timeout (1 s here)...
    let (g, mut r, _w) = connect_from(addr, [127, 0, 0, 4]).await;
    assert!(g.starts_with("220"));
    let started = std::time::Instant::now();
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(5), r.read_line(&mut line))
        .await
        .expect("closed by the server")
        .unwrap();
    assert!(line.starts_with("421 4.4.2"), "{line}");
    assert!(started.elapsed() < Duration::from_secs(3));
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
    // ...and so is one that stops in the middle of DATA.
    let (_, mut r, mut w) = connect_from(addr, [127, 0, 0, 5]).await;
    w.write_all(
        format!(
            "HELO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<{ADDRESS}>\r\nDATA\r\nSubject: x\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    for want in [250, 250, 250, 354] {
        assert_eq!(reply(&mut r).await, want);
    }
    let code = tokio::time::timeout(Duration::from_secs(5), reply(&mut r))
        .await
        .expect("closed by the server");
    assert_eq!(code, 421);

    // Too many recipients: 452.
    let (_, mut r, mut w) = connect_from(addr, [127, 0, 0, 6]).await;
    w.write_all(b"HELO c.test\r\nMAIL FROM:<a@b.test>\r\n")
        .await
        .unwrap();
    assert_eq!(reply(&mut r).await, 250);
    assert_eq!(reply(&mut r).await, 250);
    let mut codes = Vec::new();
    for _ in 0..11 {
        w.write_all(format!("RCPT TO:<{ADDRESS}>\r\n").as_bytes())
            .await
            .unwrap();
        codes.push(reply(&mut r).await);
    }
    assert_eq!(codes[..10], [250; 10]);
    assert_eq!(codes[10], 452);
    t.stop().await;
}
