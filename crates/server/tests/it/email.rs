//! The 1022 mailbox: emails to the inbound SMTP listener and from a real IMAP server
//! (dovecot) become reports, answers to reports, or items in the operators' queue; the
//! citizen hears back once, by the receipt; automatic mail is never answered.

use std::sync::{Arc, Mutex};

use crate::support::mail::{MailDomains, reply, send_to, sink};
use crate::support::{Options, TestApp, drain, spawn};
use phananh_domain::access::Role;
use phananh_domain::model::Status;
use phananh_worker::{Worker, WorkerConfig};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncWriteExt, BufReader};

const ADDRESS: &str = "1022@phananh.test";

/// The domains the test mail comes from, with their DKIM key and DMARC policy in DNS.
fn domains() -> MailDomains {
    MailDomains::new(&["example.vn", "mail.test", "lists.test", "phananh.test"])
}

/// Sends `raw`, DKIM-signed by its From: domain, to the listener as a mail client would;
/// returns the final reply code.
async fn send(t: &TestApp, d: &MailDomains, from: &str, raw: &[u8]) -> u16 {
    let addr = t.running.email_listen.expect("the SMTP listener runs");
    let raw = d.signed(raw);
    // Only the 1022 address is taken.
    {
        let sock = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        assert_eq!(reply(&mut r).await, 220);
        w.write_all(
            b"HELO client.test\r\nMAIL FROM:<x@mail.test>\r\nRCPT TO:<someone@else.test>\r\n",
        )
        .await
        .unwrap();
        assert_eq!(reply(&mut r).await, 250);
        assert_eq!(reply(&mut r).await, 250);
        assert_eq!(reply(&mut r).await, 550, "only the 1022 address");
    }
    send_to(addr, from, ADDRESS, &raw).await
}

fn worker(t: &TestApp, port: u16, d: &MailDomains) -> Worker {
    Worker::new(
        t.app().clone(),
        WorkerConfig {
            smtp_url: Some(format!("smtp://127.0.0.1:{port}")),
            email_address: Some(ADDRESS.into()),
            email_auth: d.auth(0),
            ..WorkerConfig::default()
        },
    )
}

async fn apps() -> Vec<TestApp> {
    let email = || phananh::EmailSection {
        address: ADDRESS.into(),
        smtp_listen: "127.0.0.1:0".into(),
        max_megabytes: 2,
        ..phananh::EmailSection::default()
    };
    let mut v = vec![
        spawn(Options {
            email: email(),
            ..Options::default()
        })
        .await,
    ];
    if std::env::var("PHANANH_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        v.push(
            spawn(Options {
                email: email(),
                postgres: true,
                ..Options::default()
            })
            .await,
        );
    }
    v
}

fn b64(bytes: &[u8]) -> String {
    crate::support::mail::base64(bytes, true)
}

fn new_report_email(id: &str, from: &str) -> Vec<u8> {
    let photo = b64(&phananh_photos::sample::phone_jpeg());
    format!(
        "From: =?UTF-8?B?{name}?= <{from}>\r\nTo: {ADDRESS}\r\nSubject: =?UTF-8?Q?=C4=90=C3=A8n_=C4=91=C6=B0=E1=BB=9Dng_h=E1=BB=8Fng?=\r\n\
         Message-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
         =C4=90=C3=A8n =C4=91=C6=B0=E1=BB=9Dng tr=C6=B0=E1=BB=9Bc nh=C3=A0 t=E1=BA=AFt c=E1=BA=A3 tu=E1=BA=A7n nay.\r\n\
         =C4=90=E1=BB=8Ba ch=E1=BB=89: 12 L=C3=AA L=E1=BB=A3i, Ph=C6=B0=E1=BB=9Dng B=E1=BA=BFn Th=C3=A0nh\r\n\
         --b1\r\nContent-Type: image/jpeg; name=\"den.jpg\"\r\nContent-Disposition: attachment; filename=\"den.jpg\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{photo}\r\n--b1--\r\n",
        name = b64("Trần Văn Dân".as_bytes()),
    )
    .into_bytes()
}

fn receipts(got: &Arc<Mutex<Vec<String>>>, to: &str) -> Vec<String> {
    got.lock()
        .unwrap()
        .iter()
        .filter(|m| m.contains(&format!("To: {to}")))
        .cloned()
        .collect()
}

#[tokio::test]
async fn emails_to_the_listener_file_reports_answer_and_queue_the_rest() {
    for t in apps().await {
        let (port, got) = sink().await;
        let d = domains();
        let w = worker(&t, port, &d);
        let store = &t.store();
        let raw = new_report_email("new-1@mail.test", "dan@example.vn");
        assert_eq!(send(&t, &d, "dan@example.vn", &raw).await, 250);
        // The same message again (a client retrying): kept once, filed once.
        assert_eq!(send(&t, &d, "dan@example.vn", &raw).await, 250);
        drain(&w).await;
        let outcome = store
            .email_outcome("new-1@mail.test")
            .await
            .unwrap()
            .unwrap();
        let code = outcome.strip_prefix("report ").expect(&outcome).to_string();
        let report = store.report_by_code(&code).await.unwrap().unwrap();
        assert_eq!(report.field, "lighting");
        assert!(
            report.description.contains("Đèn đường trước nhà"),
            "{}",
            report.description
        );
        let reporter = store.reporter(report.id).await.unwrap().unwrap();
        assert_eq!(reporter.email.as_deref(), Some("dan@example.vn"));
        let photos = store.photo_keys(report.id).await.unwrap();
        assert_eq!(photos.len(), 1, "the photo is attached");
        let jpeg = t.app().photo_bytes(&photos[0], None).await.unwrap().bytes;
        assert!(!jpeg.windows(4).any(|w| w == b"Exif"), "EXIF stripped");
        // Open311 shows the emailed photo as the request's media_url.
        let o311: serde_json::Value = t
            .get(&format!("/open311/v2/requests/{code}.json"))
            .await
            .json()
            .await
            .unwrap();
        let media = o311[0]["media_url"].as_str().expect("media_url");
        assert!(
            media.starts_with("http") && media.ends_with(&format!("/photos/{}", photos[0])),
            "{media}"
        );
        let sent = receipts(&got, "dan@example.vn");
        assert_eq!(sent.len(), 1, "one receipt: {sent:?}");
        assert!(sent[0].contains(&code) && sent[0].contains(&format!("Reply-To: {ADDRESS}")));
        let message_id = sent[0]
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .unwrap()
            .to_string();

        // The unit asks; the citizen answers by replying with the code in the subject.
        let staff = t.staff(Role::UnitStaff, Some(&report.unit)).await;
        let r = staff
            .act(
                &t,
                &code,
                json!({"action": "request_info", "question": "Số nhà chính xác?"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        drain(&w).await;
        let answer = format!(
            "From: dan@example.vn\r\nTo: {ADDRESS}\r\nSubject: Re: [1022] Phản ánh {code}: cần bổ sung\r\n\
             Message-ID: <answer-1@mail.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             Số nhà 12A, cạnh tiệm thuốc.\r\n\r\nVào ngày 2/3, Tổng đài 1022 đã viết:\r\n> Số nhà chính xác?\r\n"
        );
        assert_eq!(send(&t, &d, "dan@example.vn", answer.as_bytes()).await, 250);
        drain(&w).await;
        let report = store.report_by_code(&code).await.unwrap().unwrap();
        assert_ne!(
            report.status,
            Status::InfoRequested,
            "the answer resumes the report"
        );
        let events = store.events(report.id).await.unwrap();
        let last = format!("{:?}", events.last().unwrap().kind);
        assert!(
            last.contains("InfoProvided")
                && last.contains("12A")
                && !last.contains("Số nhà chính xác"),
            "{last}"
        );

        // A reply threaded only by In-Reply-To is attached as a note.
        let note = format!(
            "From: dan@example.vn\r\nTo: {ADDRESS}\r\nSubject: Re: cảm ơn\r\nIn-Reply-To: {message_id}\r\n\
             Message-ID: <note-1@mail.test>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
             <html><body><p>Đèn vẫn <b>chưa</b> sáng.</p></body></html>\r\n"
        );
        assert_eq!(send(&t, &d, "dan@example.vn", note.as_bytes()).await, 250);
        drain(&w).await;
        let events = store.events(report.id).await.unwrap();
        let last = format!("{:?}", events.last().unwrap().kind);
        assert!(
            last.contains("Commented") && last.contains("chưa"),
            "{last}"
        );

        // Automatic mail is kept for a person and never answered.
        let before = got.lock().unwrap().len();
        let autos = [
            format!(
                "From: dan@example.vn\r\nTo: {ADDRESS}\r\nSubject: Out of office: đèn đường\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <auto-1@mail.test>\r\n\r\nĐèn đường, I am away.\r\n"
            ),
            format!(
                "From: MAILER-DAEMON@mail.test\r\nTo: {ADDRESS}\r\nSubject: Undelivered\r\nMessage-ID: <bounce-1@mail.test>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nđèn đường\r\n--x--\r\n"
            ),
            format!(
                "From: {ADDRESS}\r\nTo: {ADDRESS}\r\nSubject: [1022] đèn đường\r\nMessage-ID: <loop-1@mail.test>\r\n\r\nĐèn đường\r\n"
            ),
            format!(
                "From: list@lists.test\r\nTo: {ADDRESS}\r\nSubject: bản tin đèn đường\r\nPrecedence: bulk\r\nMessage-ID: <bulk-1@mail.test>\r\n\r\nĐèn đường\r\n"
            ),
        ];
        for (i, m) in autos.iter().enumerate() {
            assert_eq!(send(&t, &d, "x@mail.test", m.as_bytes()).await, 250, "{i}");
        }
        drain(&w).await;
        assert_eq!(got.lock().unwrap().len(), before, "nothing answered");
        for id in ["auto-1", "bounce-1", "loop-1", "bulk-1"] {
            let o = store
                .email_outcome(&format!("{id}@mail.test"))
                .await
                .unwrap()
                .unwrap();
            assert!(
                o.starts_with("unfiled") && o.contains("automatic"),
                "{id}: {o}"
            );
        }

        // No field; a broken MIME part; an unknown charset: a person files them.
        let odd = [
            (
                "nofield-1",
                format!(
                    "From: Chị Lan <lan@example.vn>\r\nTo: {ADDRESS}\r\nSubject: Xin hỏi\r\nMessage-ID: <nofield-1@mail.test>\r\n\r\nCho tôi hỏi giờ làm việc của phường.\r\n"
                ),
            ),
            (
                "broken-1",
                format!(
                    "From: lan@example.vn\r\nTo: {ADDRESS}\r\nSubject: ???\r\nMessage-ID: <broken-1@mail.test>\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@not base64@@@\r\n"
                ),
            ),
            (
                "charset-1",
                format!(
                    "From: lan@example.vn\r\nTo: {ADDRESS}\r\nSubject: =?x-unknown?Q?abc?=\r\nMessage-ID: <charset-1@mail.test>\r\nContent-Type: text/plain; charset=x-unknown-8\r\n\r\nabc\r\n"
                ),
            ),
        ];
        for (id, m) in &odd {
            assert_eq!(
                send(&t, &d, "lan@example.vn", m.as_bytes()).await,
                250,
                "{id}"
            );
        }
        drain(&w).await;
        let queue = store.unfiled_list(false, 100).await.unwrap();
        for (id, _) in &odd {
            let o = store
                .email_outcome(&format!("{id}@mail.test"))
                .await
                .unwrap()
                .unwrap();
            assert!(o.starts_with("unfiled"), "{id}: {o}");
        }
        let lan = queue
            .iter()
            .find(|u| u.subject.as_deref() == Some("Xin hỏi"))
            .expect("queued");
        assert_eq!(lan.channel, "email");
        assert_eq!(lan.sender, "lan@example.vn");
        assert!(
            lan.raw.contains("Message-ID: <nofield-1@mail.test>"),
            "the original is kept"
        );
        assert_eq!(got.lock().unwrap().len(), before, "still nothing answered");

        // Too large for the listener: refused with 552, so the sender keeps it.
        let mut big = format!("From: lan@example.vn\r\nTo: {ADDRESS}\r\nSubject: big\r\nMessage-ID: <big-1@mail.test>\r\n\r\n").into_bytes();
        big.extend(
            std::iter::repeat_n(
                b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n".as_slice(),
                3 * 1024 * 1024 / 64,
            )
            .flatten(),
        );
        assert_eq!(send(&t, &d, "lan@example.vn", &big).await, 552);
        t.stop().await;
    }
}

/// A dovecot IMAP server of its own: a static user `1022` / `secret`, Maildir in a
/// temporary directory, plain IMAP on a free local port. Stopped when dropped.
struct Dovecot {
    child: std::process::Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Dovecot {
    fn start() -> Option<Dovecot> {
        let bin = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(bin) = bin else {
            assert!(
                std::env::var("PHANANH_EMAIL_TESTS").is_err(),
                "PHANANH_EMAIL_TESTS is set but dovecot is not installed"
            );
            eprintln!("skipped: dovecot is not installed (apt-get install dovecot-imapd)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        for sub in [
            "run",
            "state",
            "home/Maildir/new",
            "home/Maildir/cur",
            "home/Maildir/tmp",
        ] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
        }
        let conf = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\ninstance_name = phananh-test-{port}\n\
             log_path = {d}/dovecot.log\nprotocols = imap\nlisten = 127.0.0.1\nssl = no\n\
             disable_plaintext_auth = no\nauth_mechanisms = plain login\nmail_location = maildir:~/Maildir\n\
             passdb {{\n  driver = static\n  args = password=secret\n}}\n\
             userdb {{\n  driver = static\n  args = uid=65534 gid=65534 home={d}/home\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
               inet_listener imaps {{\n    port = 0\n  }}\n}}\n",
            d = d.display()
        );
        std::fs::write(d.join("dovecot.conf"), conf).unwrap();
        std::process::Command::new("chmod")
            .arg("755")
            .arg(d)
            .status()
            .unwrap();
        std::process::Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(d.join("home"))
            .status()
            .unwrap();
        let child = std::process::Command::new(bin)
            .arg("-F")
            .arg("-c")
            .arg(d.join("dovecot.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Some(Dovecot { child, dir, port })
    }

    /// Delivers a message into the Maildir, as the local delivery agent would.
    fn deliver(&self, name: &str, raw: &[u8]) {
        let new = self.dir.path().join("home/Maildir/new").join(name);
        std::fs::write(&new, raw).unwrap();
        std::process::Command::new("chown")
            .arg("65534:65534")
            .arg(&new)
            .status()
            .unwrap();
    }

    fn url(&self) -> String {
        format!("imap://1022:secret@127.0.0.1:{}/INBOX", self.port)
    }

    /// Messages dovecot has marked seen (`:2,S` in the Maildir's cur).
    fn seen(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("home/Maildir/cur"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(":2,S")
            })
            .count()
    }
}

#[tokio::test]
async fn the_mailbox_is_read_over_imap_kept_before_it_is_marked_seen() {
    let Some(dovecot) = Dovecot::start() else {
        return;
    };
    for (tag, t) in apps().await.into_iter().enumerate() {
        let (port, got) = sink().await;
        let d = domains();
        let w = worker(&t, port, &d);
        let store = &t.store();
        let id = format!("imap-{tag}@mail.test");
        dovecot.deliver(
            &format!("a-{tag}"),
            &d.signed(&new_report_email(&id, "mai@example.vn")),
        );
        // 3 MB with a 2 MB limit: headers kept, queued for a person.
        let mut big = format!(
            "From: mai@example.vn\r\nTo: {ADDRESS}\r\nSubject: Đèn đường, nhiều ảnh\r\nMessage-ID: <big-{tag}@mail.test>\r\n\r\n"
        )
        .into_bytes();
        big.extend(
            std::iter::repeat_n(
                b"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n".as_slice(),
                3 * 1024 * 1024 / 64,
            )
            .flatten(),
        );
        dovecot.deliver(&format!("b-{tag}"), &big);
        let config = phananh_worker::mailbox::MailboxConfig {
            imap_url: Some(dovecot.url()),
            address: Some(ADDRESS.into()),
            max_size: 2 * 1024 * 1024,
            ..Default::default()
        };
        let n = phananh_worker::mailbox::imap_once(t.app(), &config, &dovecot.url())
            .await
            .unwrap();
        assert_eq!(n, 2);
        assert!(dovecot.seen() >= 2, "marked seen once kept");
        // Fetched again (another poller, a lost \Seen): the same message is kept once.
        dovecot.deliver(
            &format!("c-{tag}"),
            &d.signed(&new_report_email(&id, "mai@example.vn")),
        );
        phananh_worker::mailbox::imap_once(t.app(), &config, &dovecot.url())
            .await
            .unwrap();
        drain(&w).await;
        let outcome = store.email_outcome(&id).await.unwrap().unwrap();
        let code = outcome.strip_prefix("report ").expect(&outcome);
        assert_eq!(receipts(&got, "mai@example.vn").len(), 1, "one receipt");
        assert!(receipts(&got, "mai@example.vn")[0].contains(code));
        let big = store
            .email_outcome(&format!("big-{tag}@mail.test"))
            .await
            .unwrap()
            .unwrap();
        assert!(
            big.starts_with("unfiled") && big.contains("too large"),
            "{big}"
        );
        let queue = store.unfiled_list(false, 100).await.unwrap();
        let item = queue
            .iter()
            .find(|u| u.raw.contains(&format!("big-{tag}@mail.test")))
            .unwrap();
        assert!(item.raw.len() < 10_000, "headers only");
        t.stop().await;
    }
}
