//! Reading the 1022 mailbox: an IMAP poller and an inbound SMTP listener. Both keep each
//! message whole (`Store::email_receive`, deduplicated on the Message-ID) before they
//! tell the other side it was taken (IMAP `\Seen`, SMTP `250`); `email.inbound` then
//! processes it (crate::email_in).

use std::sync::Arc;
use std::time::Duration;

use phananh_app::App;
use phananh_app::inbox::{self, Delivery};
use phananh_storage::EmailEnvelope;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// How the 1022 mailbox is read.
#[derive(Debug, Clone)]
pub struct MailboxConfig {
    /// `imaps://user:pass@host:993/INBOX`, or `imap://` (no TLS, for tests).
    pub imap_url: Option<String>,
    /// Where the inbound SMTP listener binds, e.g. `127.0.0.1:2525`.
    pub smtp_listen: Option<String>,
    /// The 1022 address: the only recipient the listener takes; mail from it is a loop.
    pub address: Option<String>,
    pub poll_interval: Duration,
    /// Larger messages: headers kept, queued for a person (IMAP); refused with 552 (SMTP).
    pub max_size: usize,
    /// SMTP sessions at once; more are refused with 421 (so memory stays under
    /// `smtp_max_connections × max_size`).
    pub smtp_max_connections: usize,
    /// SMTP sessions at once from one client address; more are refused with 421.
    pub smtp_max_per_ip: usize,
    /// How long the listener waits for a command or a line of DATA before it says 421
    /// and closes.
    pub smtp_idle_timeout: Duration,
    /// The longest a whole SMTP session may last.
    pub smtp_session_limit: Duration,
}

impl Default for MailboxConfig {
    fn default() -> Self {
        MailboxConfig {
            imap_url: None,
            smtp_listen: None,
            address: None,
            poll_interval: Duration::from_secs(30),
            max_size: 25 * 1024 * 1024,
            smtp_max_connections: 50,
            smtp_max_per_ip: 5,
            smtp_idle_timeout: Duration::from_secs(60),
            smtp_session_limit: Duration::from_secs(600),
        }
    }
}

/// The Message-ID of a raw message, or one made from its content (so the same message
/// without an id is still kept once).
pub fn message_id_of(raw: &[u8]) -> String {
    let head_end = find(raw, b"\r\n\r\n")
        .or_else(|| find(raw, b"\n\n"))
        .unwrap_or(raw.len());
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("message-id")
        {
            let mut v = value.trim().to_string();
            while let Some(next) = lines.peek()
                && next.starts_with([' ', '\t'])
            {
                v.push_str(next.trim());
                lines.next();
            }
            let v = v.trim_start_matches('<').trim_end_matches('>').trim();
            if !v.is_empty() {
                return v.to_string();
            }
        }
    }
    format!("sha256-{}@phananh.local", hex::encode(Sha256::digest(raw)))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The header block of a message (kept when the whole is too large).
pub fn headers_of(raw: &[u8]) -> &[u8] {
    let end = find(raw, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| find(raw, b"\n\n").map(|i| i + 2))
        .unwrap_or(raw.len());
    &raw[..end]
}

/// Keeps one message; `size` is its full size, `raw` the message or its headers.
pub async fn receive(
    app: &App,
    source: &str,
    size: usize,
    raw: &[u8],
    truncated: bool,
    envelope: Option<&EmailEnvelope>,
) -> Result<bool, String> {
    let id = message_id_of(raw);
    let email = Delivery::Email {
        message_id: &id,
        source,
        size,
        raw,
        truncated,
        envelope,
    };
    let received = inbox::receive(app, email)
        .await
        .map_err(|e| e.to_string())?;
    Ok(received.new > 0)
}

// ---------------------------------------------------------------------------------------
// Inbound SMTP

/// Recipients one message may name (the 1022 address only; more is a client's mistake).
const MAX_RECIPIENTS: usize = 10;
/// Bad commands before the session is closed.
const MAX_ERRORS: usize = 10;

/// Counts the sessions of one client address; the count drops with the guard.
struct PerIp {
    counts: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>,
}

struct IpGuard {
    per_ip: Arc<PerIp>,
    ip: std::net::IpAddr,
}

impl PerIp {
    fn enter(self: &Arc<Self>, ip: std::net::IpAddr, max: usize) -> Option<IpGuard> {
        let mut c = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = c.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IpGuard {
            per_ip: self.clone(),
            ip,
        })
    }
}

impl Drop for IpGuard {
    fn drop(&mut self) {
        let mut c = self.per_ip.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = c.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.remove(&self.ip);
            }
        }
    }
}

/// Says why a connection is not taken, and closes it.
fn refuse(mut stream: TcpStream, reply: &'static str) {
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            let _ = stream.write_all(reply.as_bytes()).await;
            let _ = stream.shutdown().await;
        })
        .await;
    });
}

/// Listens for mail to the 1022 address until the task is aborted.
pub async fn smtp_listen(app: App, config: Arc<MailboxConfig>, listener: TcpListener) {
    let sessions = Arc::new(tokio::sync::Semaphore::new(
        config.smtp_max_connections.max(1),
    ));
    let per_ip = Arc::new(PerIp {
        counts: Default::default(),
    });
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Ok(permit) = sessions.clone().try_acquire_owned() else {
            tracing::warn!(%peer, "SMTP connection refused: too many sessions");
            refuse(
                stream,
                "421 4.7.0 Quá nhiều kết nối, thử lại sau / too many connections, try again later\r\n",
            );
            continue;
        };
        let Some(guard) = per_ip.enter(peer.ip(), config.smtp_max_per_ip.max(1)) else {
            tracing::warn!(%peer, "SMTP connection refused: too many sessions from this address");
            refuse(
                stream,
                "421 4.7.0 Quá nhiều kết nối từ địa chỉ này / too many connections from your address\r\n",
            );
            continue;
        };
        let app = app.clone();
        let config = config.clone();
        tokio::spawn(async move {
            let _held = (permit, guard);
            // A backstop: the session checks its own deadline, but a client that never
            // reads our replies could block a write.
            let limit = config.smtp_session_limit + Duration::from_secs(5);
            match tokio::time::timeout(limit, smtp_session(&app, &config, stream, peer)).await {
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "SMTP session ended"),
                Err(_) => tracing::warn!(%peer, "SMTP session took too long; closed"),
                Ok(Ok(())) => {}
            }
        });
    }
}

/// Why a read gave up.
enum Wait {
    Idle,
    Session,
}

/// Runs `f` until the idle timeout or the session's deadline, whichever comes first.
async fn within<T>(
    idle: Duration,
    deadline: tokio::time::Instant,
    f: impl std::future::Future<Output = T>,
) -> Result<T, Wait> {
    let idle_at = tokio::time::Instant::now() + idle;
    let (at, why) = if idle_at < deadline {
        (idle_at, Wait::Idle)
    } else {
        (deadline, Wait::Session)
    };
    tokio::time::timeout_at(at, f).await.map_err(|_| why)
}

fn timed_out(why: Wait) -> &'static str {
    match why {
        Wait::Idle => "421 4.4.2 Hết thời gian chờ / idle too long, closing\r\n",
        Wait::Session => "421 4.4.2 Phiên quá dài / session too long, closing\r\n",
    }
}

async fn smtp_session(
    app: &App,
    config: &MailboxConfig,
    stream: TcpStream,
    peer: std::net::SocketAddr,
) -> std::io::Result<()> {
    let deadline = tokio::time::Instant::now() + config.smtp_session_limit;
    let idle = config.smtp_idle_timeout;
    let (r, mut wr) = stream.into_split();
    let mut r = BufReader::new(r);
    wr.write_all(b"220 phananh 1022 ESMTP\r\n").await?;
    let mut recipients = 0usize;
    let mut from = false;
    let mut errors = 0usize;
    let mut envelope = EmailEnvelope {
        peer_ip: peer.ip().to_canonical().to_string(),
        ..EmailEnvelope::default()
    };
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = match within(
            idle,
            deadline,
            (&mut r).take(4096).read_until(b'\n', &mut line),
        )
        .await
        {
            Ok(n) => n?,
            Err(why) => {
                tracing::debug!(%peer, "SMTP session timed out");
                wr.write_all(timed_out(why).as_bytes()).await?;
                return Ok(());
            }
        };
        if n == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let cmd = text.trim_end();
        let upper = cmd.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            envelope.helo = cmd[4..].trim().chars().take(255).collect();
            if upper.starts_with("EHLO") {
                format!(
                    "250-phananh\r\n250-SIZE {}\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                    config.max_size
                )
            } else {
                "250 phananh\r\n".into()
            }
        } else if upper.starts_with("MAIL FROM:") {
            let size = upper
                .split_whitespace()
                .find_map(|p| p.strip_prefix("SIZE="))
                .and_then(|s| s.parse::<usize>().ok());
            if size.is_some_and(|s| s > config.max_size) {
                "552 5.3.4 Thư quá lớn / message too large\r\n".into()
            } else {
                from = true;
                recipients = 0;
                envelope.mail_from = cmd[10..]
                    .trim()
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(320)
                    .collect();
                "250 2.1.0 OK\r\n".into()
            }
        } else if upper.starts_with("RCPT TO:") {
            let to = cmd[8..]
                .trim()
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or_default()
                .to_string();
            if !from {
                "503 5.5.1 MAIL first\r\n".into()
            } else if recipients >= MAX_RECIPIENTS {
                "452 4.5.3 Quá nhiều người nhận / too many recipients\r\n".into()
            } else if config
                .address
                .as_deref()
                .is_none_or(|a| a.eq_ignore_ascii_case(&to))
            {
                recipients += 1;
                "250 2.1.5 OK\r\n".into()
            } else {
                errors += 1;
                "550 5.1.1 Không có hộp thư này / no such mailbox\r\n".into()
            }
        } else if upper == "DATA" {
            if recipients == 0 {
                errors += 1;
                "503 5.5.1 RCPT first\r\n".into()
            } else {
                wr.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let (raw, size, too_large) =
                    match read_data(&mut r, config.max_size, idle, deadline).await? {
                        Ok(d) => d,
                        Err(why) => {
                            wr.write_all(timed_out(why).as_bytes()).await?;
                            return Ok(());
                        }
                    };
                from = false;
                recipients = 0;
                if too_large {
                    tracing::warn!(size, "inbound email refused: too large");
                    "552 5.3.4 Thư quá lớn / message too large\r\n".into()
                } else {
                    match receive(app, "smtp", size, &raw, false, Some(&envelope)).await {
                        Ok(_) => "250 2.0.0 Đã nhận / accepted\r\n".into(),
                        Err(e) => {
                            tracing::error!(error = %e, "inbound email could not be kept");
                            "451 4.3.0 Thử lại sau / try again later\r\n".into()
                        }
                    }
                }
            }
        } else if upper == "RSET" {
            from = false;
            recipients = 0;
            "250 2.0.0 OK\r\n".into()
        } else if upper.starts_with("NOOP") {
            "250 2.0.0 OK\r\n".into()
        } else if upper == "QUIT" {
            wr.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            errors += 1;
            "502 5.5.2 Command not implemented\r\n".into()
        };
        if errors >= MAX_ERRORS {
            wr.write_all("421 4.7.0 Quá nhiều lỗi / too many errors, closing\r\n".as_bytes())
                .await?;
            return Ok(());
        }
        wr.write_all(reply.as_bytes()).await?;
    }
}

/// Reads a DATA section up to the lone dot, undoing dot-stuffing. Past `max` bytes the
/// rest is read and dropped.
/// Every line must come within `idle`, and all of it before `deadline`.
async fn read_data<R: AsyncRead + Unpin>(
    r: &mut BufReader<R>,
    max: usize,
    idle: Duration,
    deadline: tokio::time::Instant,
) -> std::io::Result<Result<(Vec<u8>, usize, bool), Wait>> {
    let mut out = Vec::new();
    let mut size = 0usize;
    let mut line = Vec::new();
    loop {
        line.clear();
        // Bounded, so one endless line cannot take the memory.
        let cap = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1024);
        let n = match within(
            idle,
            deadline,
            (&mut *r).take(cap).read_until(b'\n', &mut line),
        )
        .await
        {
            Ok(n) => n?,
            Err(why) => return Ok(Err(why)),
        };
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed in DATA",
            ));
        }
        if line == b".\r\n" || line == b".\n" {
            break;
        }
        let l = if line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        size += l.len();
        if size <= max {
            out.extend_from_slice(l);
        }
    }
    Ok(Ok((out, size, size > max)))
}

// ---------------------------------------------------------------------------------------
// IMAP

/// Polls the mailbox until the task is aborted.
pub async fn imap_poll(app: App, config: Arc<MailboxConfig>) {
    let Some(url) = config.imap_url.clone() else {
        return;
    };
    loop {
        match imap_once(&app, &config, &url).await {
            Ok(n) if n > 0 => tracing::info!(n, "emails fetched"),
            Ok(_) => {}
            Err(e) => {
                let e = crate::redact(&e, &crate::url_password(&url));
                tracing::warn!(error = %e, "IMAP poll failed")
            }
        }
        tokio::time::sleep(config.poll_interval).await;
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Imap {
    io: BufReader<Box<dyn Io>>,
    tag: u32,
}

/// One response: the untagged lines' literals and text, and the tagged status.
struct Response {
    literals: Vec<Vec<u8>>,
    text: String,
}

impl Imap {
    async fn read_response(&mut self, tag: &str) -> Result<Response, String> {
        let mut literals = Vec::new();
        let mut text = String::new();
        loop {
            let mut line = Vec::new();
            let n = self
                .io
                .read_until(b'\n', &mut line)
                .await
                .map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("IMAP connection closed".into());
            }
            let l = String::from_utf8_lossy(&line).trim_end().to_string();
            // A literal: `{n}` at the end of the line, then n bytes.
            if l.ends_with('}')
                && let Some(open) = l.rfind('{')
                && let Ok(len) = l[open + 1..l.len() - 1].parse::<usize>()
            {
                let mut buf = vec![0u8; len];
                self.io
                    .read_exact(&mut buf)
                    .await
                    .map_err(|e| e.to_string())?;
                literals.push(buf);
                text.push_str(&l);
                text.push('\n');
                continue;
            }
            if let Some(rest) = l.strip_prefix(&format!("{tag} ")) {
                if rest.starts_with("OK") {
                    return Ok(Response { literals, text });
                }
                return Err(format!("IMAP: {rest}"));
            }
            text.push_str(&l);
            text.push('\n');
        }
    }

    async fn command(&mut self, cmd: &str) -> Result<Response, String> {
        self.tag += 1;
        let tag = format!("a{}", self.tag);
        self.io
            .get_mut()
            .write_all(format!("{tag} {cmd}\r\n").as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        self.read_response(&tag).await
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct ImapUrl {
    tls: bool,
    host: String,
    port: u16,
    user: String,
    password: String,
    mailbox: String,
}

fn parse_url(url: &str) -> Result<ImapUrl, String> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("imaps://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("imap://") {
        (false, r)
    } else {
        return Err("imap_url must start with imaps:// or imap://".into());
    };
    let (auth, rest) = rest
        .rsplit_once('@')
        .ok_or("imap_url needs user:password@")?;
    let (user, password) = auth
        .split_once(':')
        .ok_or("imap_url needs user:password@")?;
    let (hostport, mailbox) = rest.split_once('/').unwrap_or((rest, "INBOX"));
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| "bad IMAP port")?),
        None => (hostport, if tls { 993 } else { 143 }),
    };
    Ok(ImapUrl {
        tls,
        host: host.to_string(),
        port,
        user: percent_decode(user),
        password: percent_decode(password),
        mailbox: if mailbox.is_empty() {
            "INBOX".into()
        } else {
            percent_decode(mailbox)
        },
    })
}

async fn connect(u: &ImapUrl) -> Result<Box<dyn Io>, String> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(20),
        TcpStream::connect((u.host.as_str(), u.port)),
    )
    .await
    .map_err(|_| "IMAP connect timed out".to_string())?
    .map_err(|e| e.to_string())?;
    if !u.tls {
        return Ok(Box::new(tcp));
    }
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let tls = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(u.host.clone())
        .map_err(|e| e.to_string())?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Box::new(stream))
}

/// One poll: fetches the unseen messages, keeps each, then marks it seen. Returns how
/// many were kept (new or already known).
pub async fn imap_once(app: &App, config: &MailboxConfig, url: &str) -> Result<usize, String> {
    let u = parse_url(url)?;
    let io = connect(&u).await?;
    let mut imap = Imap {
        io: BufReader::new(io),
        tag: 0,
    };
    let mut greeting = Vec::new();
    imap.io
        .read_until(b'\n', &mut greeting)
        .await
        .map_err(|e| e.to_string())?;
    if !greeting.starts_with(b"* OK") {
        return Err(format!(
            "IMAP greeting: {}",
            String::from_utf8_lossy(&greeting).trim()
        ));
    }
    let step = Duration::from_secs(120);
    let run = async {
        imap.command(&format!("LOGIN {} {}", quote(&u.user), quote(&u.password)))
            .await?;
        imap.command(&format!("SELECT {}", quote(&u.mailbox)))
            .await?;
        let found = imap.command("UID SEARCH UNSEEN").await?;
        let uids: Vec<u32> = found
            .text
            .lines()
            .filter_map(|l| l.strip_prefix("* SEARCH"))
            .flat_map(|l| l.split_whitespace().filter_map(|n| n.parse().ok()))
            .collect();
        let mut kept = 0;
        for uid in uids {
            let sized = imap
                .command(&format!("UID FETCH {uid} (RFC822.SIZE)"))
                .await?;
            let size: usize = sized
                .text
                .split("RFC822.SIZE ")
                .nth(1)
                .and_then(|s| {
                    s.split(|c: char| !c.is_ascii_digit())
                        .next()
                        .and_then(|n| n.parse().ok())
                })
                .unwrap_or(0);
            let too_large = size > config.max_size;
            let what = if too_large {
                "BODY.PEEK[HEADER]"
            } else {
                "BODY.PEEK[]"
            };
            let body = imap.command(&format!("UID FETCH {uid} ({what})")).await?;
            let Some(raw) = body.literals.into_iter().next() else {
                tracing::warn!(uid, "IMAP message without a body; left unseen");
                continue;
            };
            if too_large {
                tracing::warn!(uid, size, "email too large: headers kept for a person");
            }
            receive(app, "imap", size.max(raw.len()), &raw, too_large, None).await?;
            // Only now that it is kept.
            imap.command(&format!("UID STORE {uid} +FLAGS.SILENT (\\Seen)"))
                .await?;
            kept += 1;
        }
        let _ = imap.command("LOGOUT").await;
        Ok::<usize, String>(kept)
    };
    tokio::time::timeout(step.max(config.poll_interval * 4), run)
        .await
        .map_err(|_| "IMAP poll timed out".to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_read_or_made() {
        assert_eq!(
            message_id_of(b"Subject: a\r\nMessage-ID:\r\n <x.1@mail.test>\r\n\r\nbody"),
            "x.1@mail.test"
        );
        let made = message_id_of(b"Subject: a\r\n\r\nbody");
        assert!(made.starts_with("sha256-"));
        assert_eq!(made, message_id_of(b"Subject: a\r\n\r\nbody"));
        assert_eq!(
            headers_of(b"A: 1\r\nB: 2\r\n\r\nbody"),
            b"A: 1\r\nB: 2\r\n\r\n"
        );
    }

    #[test]
    fn imap_urls() {
        let u = parse_url("imaps://1022%40hcm.gov.vn:p%40ss@mail.hcm.gov.vn/INBOX").unwrap();
        assert!(u.tls);
        assert_eq!(
            (u.user.as_str(), u.password.as_str(), u.port),
            ("1022@hcm.gov.vn", "p@ss", 993)
        );
        assert_eq!(u.mailbox, "INBOX");
        let u = parse_url("imap://a:b@127.0.0.1:1143").unwrap();
        assert_eq!((u.tls, u.port, u.mailbox.as_str()), (false, 1143, "INBOX"));
        assert!(parse_url("http://a:b@x").is_err());
    }
}
