//! Email in tests: an SMTP sink for what the server sends, a client for its inbound SMTP
//! listener, and DKIM signing with a test key whose public half is in a preloaded DNS
//! (so mail is authenticated as real mail is, with no network).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use phananh_worker::email_auth::{Dns, EmailAuthConfig};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// An SMTP server that keeps what it is sent (the outgoing side: receipts).
pub async fn sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let got = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let keep = got.clone();
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            let keep = keep.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink\r\n").await.unwrap();
                while let Ok(Some(line)) = lines.next_line().await {
                    let up = line.to_ascii_uppercase();
                    if up.starts_with("DATA") {
                        w.write_all(b"354 go\r\n").await.unwrap();
                        let mut m = String::new();
                        while let Ok(Some(l)) = lines.next_line().await {
                            if l == "." {
                                break;
                            }
                            m.push_str(&l);
                            m.push('\n');
                        }
                        keep.lock().unwrap().push(m);
                        w.write_all(b"250 ok\r\n").await.unwrap();
                    } else if up.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else if up.starts_with("EHLO") {
                        w.write_all(b"250-sink\r\n250 8BITMIME\r\n").await.unwrap();
                    } else {
                        w.write_all(b"250 ok\r\n").await.unwrap();
                    }
                }
            });
        }
    });
    (port, got)
}

/// Reads one (possibly multi-line) SMTP reply; returns its code.
pub async fn reply(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> u16 {
    loop {
        let mut l = String::new();
        r.read_line(&mut l).await.unwrap();
        if l.len() < 3 {
            return 0;
        }
        if l.as_bytes().get(3) != Some(&b'-') {
            return l[..3].parse().unwrap();
        }
    }
}

/// Sends `raw` from `from` to `to` through the listener at `addr` as a mail client would;
/// returns the final reply code.
pub async fn send_to(addr: SocketAddr, from: &str, to: &str, raw: &[u8]) -> u16 {
    let sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    assert_eq!(reply(&mut r).await, 220);
    w.write_all(b"EHLO client.test\r\n").await.unwrap();
    assert_eq!(reply(&mut r).await, 250);
    w.write_all(format!("MAIL FROM:<{from}>\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(reply(&mut r).await, 250);
    w.write_all(format!("RCPT TO:<{to}>\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(reply(&mut r).await, 250);
    w.write_all(b"DATA\r\n").await.unwrap();
    assert_eq!(reply(&mut r).await, 354);
    let mut body = Vec::new();
    for line in raw.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b".") {
            body.push(b'.');
        }
        body.extend_from_slice(line);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b".\r\n");
    w.write_all(&body).await.unwrap();
    let code = reply(&mut r).await;
    w.write_all(b"QUIT\r\n").await.unwrap();
    code
}

/// Base64, wrapped at 76 characters when `wrap`.
pub fn base64(bytes: &[u8], wrap: bool) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, c) in bytes.chunks(3).enumerate() {
        if wrap && i > 0 && i % 19 == 0 {
            out.push_str("\r\n");
        }
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(A[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Test mail domains: each publishes a DKIM key (Ed25519, selector `test`), an SPF record
/// allowing nobody, and `DMARC p=reject`, in a DNS that knows nothing else.
pub struct MailDomains {
    pkcs8: Vec<u8>,
    pub dns: Arc<Dns>,
}

impl MailDomains {
    pub fn new(domains: &[&str]) -> MailDomains {
        let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
        let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
        let dns = Dns::offline();
        for d in domains {
            dns.preload_txt(
                &format!("test._domainkey.{d}"),
                &format!("v=DKIM1; k=ed25519; p={}", base64(&key.public_key(), false)),
            )
            .unwrap();
            dns.preload_txt(d, "v=spf1 -all").unwrap();
            dns.preload_txt(&format!("_dmarc.{d}"), "v=DMARC1; p=reject")
                .unwrap();
        }
        MailDomains {
            pkcs8,
            dns: Arc::new(dns),
        }
    }

    /// The worker's settings for these domains (with `per_sender` emails an hour).
    pub fn auth(&self, per_sender: u32) -> EmailAuthConfig {
        EmailAuthConfig {
            per_sender_per_hour: per_sender,
            per_domain_per_hour: 0,
            dns: Some(self.dns.clone()),
            ..EmailAuthConfig::default()
        }
    }

    /// `raw` with a DKIM signature of `domain` on top.
    pub fn sign(&self, domain: &str, raw: &[u8]) -> Vec<u8> {
        let key = Ed25519Key::from_pkcs8_der(&self.pkcs8).unwrap();
        let signature = DkimSigner::from_key(key)
            .domain(domain)
            .selector("test")
            .headers([
                "From",
                "To",
                "Subject",
                "Message-ID",
                "In-Reply-To",
                "References",
                "Content-Type",
                "MIME-Version",
            ])
            .sign(raw)
            .unwrap();
        let mut out = signature.to_header().into_bytes();
        out.extend_from_slice(raw);
        out
    }

    /// `raw` signed by the domain of its `From:` address.
    pub fn signed(&self, raw: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(raw);
        let from = text
            .lines()
            .find_map(|l| l.strip_prefix("From:"))
            .expect("a From: header");
        let domain = from
            .rsplit('@')
            .next()
            .unwrap()
            .trim()
            .trim_end_matches('>')
            .to_ascii_lowercase();
        self.sign(&domain, raw)
    }
}
