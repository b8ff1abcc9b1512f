//! Who really sent an email: SPF, DKIM and DMARC (with Stalwart's `mail-auth`), or the
//! verdict of the city's own mail server when it is trusted to have checked already.
//!
//! The rule (issue 11): an email may file a report, add to one, or get a receipt only when
//! its `From:` domain is *authenticated*: DMARC passes, that is an SPF or DKIM pass whose
//! domain is aligned with the `From:` domain (relaxed alignment, RFC 9989). What the
//! domain's policy asks receivers to do (`p=none` included) does not lower that bar: we
//! do not reject the message, we only refuse to act in the sender's name; it goes to a
//! person. A domain that publishes no DMARC record passes only with an aligned SPF or DKIM
//! pass of its own (the `From:` domain, or a parent or child of it); otherwise it fails.
//!
//! SPF needs the client that handed the message to us and its HELO:
//! - the inbound SMTP listener knows them, unless the client is one of the configured
//!   `trusted_relays` (the city's mail server relaying to us): then they are read from the
//!   topmost `Received:` header, which that relay wrote;
//! - mail read over IMAP has no connection of ours: the topmost `Received:` header is taken
//!   as written by the mailbox's own MX (assumption, documented in the README), and
//!   `Return-Path:` as the envelope sender. DKIM does not depend on the path, so a signed
//!   message from a large provider passes either way.
//!
//! With `trusted_authserv_id` set, nothing is looked up: the topmost
//! `Authentication-Results:` header must carry that id and say `dmarc=pass` (a hosted
//! mailbox that verifies mail itself and puts its header on top of every message).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::dmarc::Dmarc;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::hickory_resolver::proto::op::ResponseCode;
use mail_auth::spf::Spf;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, DkimResult, DmarcResult, DnsError, DnssecStatus, Error, MX,
    MessageAuthenticator, Parameters, RecordSet, ResolverCache, SpfOutput, SpfResult, Txt,
};
use phananh_storage::{EmailAuthRecord, EmailEnvelope};

/// How inbound email is authenticated (`[email]` keys).
#[derive(Debug, Clone, Default)]
pub struct EmailAuthConfig {
    /// When set, trust the topmost `Authentication-Results:` header of this authserv-id
    /// (the mailbox provider's verdict) instead of checking here.
    pub trusted_authserv_id: String,
    /// Mail servers that relay to the SMTP listener: for them SPF uses the client named
    /// in the topmost `Received:` header instead of the connection.
    pub trusted_relays: Vec<IpAddr>,
    /// Authenticated emails per hour from one address (0: no limit).
    pub per_sender_per_hour: u32,
    /// Authenticated emails per hour from one domain (0: no limit).
    pub per_domain_per_hour: u32,
    /// The DNS used for SPF, DKIM and DMARC; `None`: the system's resolver, built on first
    /// use. Tests give one with preloaded records ([`Dns::offline`]).
    pub dns: Option<Arc<Dns>>,
}

/// The outcome of checking one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// A DNS lookup failed for now: worth another try.
    TempError,
}

#[derive(Debug, Clone)]
pub struct Verdict {
    pub status: Status,
    pub spf: String,
    pub dkim: String,
    pub dmarc: String,
    pub detail: String,
}

impl Verdict {
    fn fail(detail: impl Into<String>) -> Verdict {
        Verdict {
            status: Status::Fail,
            spf: "none".into(),
            dkim: "none".into(),
            dmarc: "none".into(),
            detail: detail.into(),
        }
    }

    pub fn record(&self, sender: &str) -> EmailAuthRecord {
        EmailAuthRecord {
            sender: sender.to_string(),
            sender_domain: domain_of(sender).to_string(),
            auth: match self.status {
                Status::Pass => "pass",
                _ => "fail",
            }
            .into(),
            spf: self.spf.clone(),
            dkim: self.dkim.clone(),
            dmarc: self.dmarc.clone(),
            detail: self.detail.clone(),
        }
    }
}

/// The domain of an address (lowercase input expected).
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// DNS: mail-auth's resolver with our cache, which tests preload.

/// Most names kept; past it the cache starts over (names come from senders' mail).
const CACHE_MAX: usize = 10_000;

struct MapCache<K, V> {
    map: Mutex<HashMap<K, (V, Instant)>>,
    /// Offline: what a name nobody preloaded answers (instead of asking the network).
    miss: Option<V>,
}

impl<K, V> MapCache<K, V> {
    fn new(miss: Option<V>) -> Self {
        MapCache {
            map: Mutex::new(HashMap::new()),
            miss,
        }
    }
}

impl<K: Hash + Eq, V: Clone> ResolverCache<K, V> for MapCache<K, V> {
    fn get<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(name) {
            Some((v, until)) if *until > Instant::now() => Some(v.clone()),
            _ => self.miss.clone(),
        }
    }

    fn remove<Q>(&self, name: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(name).map(|(v, _)| v)
    }

    fn insert(&self, key: K, value: V, valid_until: Instant) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CACHE_MAX {
            let now = Instant::now();
            map.retain(|_, (_, until)| *until > now);
            if map.len() >= CACHE_MAX {
                map.clear();
            }
        }
        map.insert(key, (value, valid_until));
    }
}

struct Caches {
    txt: MapCache<Box<str>, Txt>,
    mx: MapCache<Box<str>, RecordSet<MX>>,
    ipv4: MapCache<Box<str>, RecordSet<Ipv4Addr>>,
    ipv6: MapCache<Box<str>, RecordSet<Ipv6Addr>>,
    ptr: MapCache<IpAddr, RecordSet<Box<str>>>,
}

/// Verifier parameters with all our caches.
type Params<'x, P> = Parameters<
    'x,
    P,
    MapCache<Box<str>, Txt>,
    MapCache<Box<str>, RecordSet<MX>>,
    MapCache<Box<str>, RecordSet<Ipv4Addr>>,
    MapCache<Box<str>, RecordSet<Ipv6Addr>>,
    MapCache<IpAddr, RecordSet<Box<str>>>,
>;

impl Caches {
    fn params<P>(&self, params: P) -> Params<'_, P> {
        Parameters {
            params,
            cache_txt: Some(&self.txt),
            cache_mx: Some(&self.mx),
            cache_ptr: Some(&self.ptr),
            cache_ipv4: Some(&self.ipv4),
            cache_ipv6: Some(&self.ipv6),
        }
    }
}

fn empty<T>() -> RecordSet<T> {
    RecordSet {
        rrset: Arc::from(Vec::new().into_boxed_slice()),
        dnssec_status: DnssecStatus::Indeterminate,
    }
}

/// The resolver and cache used to authenticate mail.
pub struct Dns {
    authenticator: MessageAuthenticator,
    caches: Caches,
}

impl std::fmt::Debug for Dns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dns")
    }
}

fn fqdn(name: &str) -> Box<str> {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase()).into_boxed_str()
}

impl Dns {
    /// The system's resolver (`/etc/resolv.conf`), with a cache.
    pub fn system() -> Result<Dns, String> {
        let authenticator = MessageAuthenticator::new_system_conf()
            .map_err(|e| format!("DNS resolver for email authentication: {e}"))?;
        Ok(Dns {
            authenticator,
            caches: Caches {
                txt: MapCache::new(None),
                mx: MapCache::new(None),
                ipv4: MapCache::new(None),
                ipv6: MapCache::new(None),
                ptr: MapCache::new(None),
            },
        })
    }

    /// A DNS that never asks the network: only what is preloaded exists; every other
    /// TXT name answers NXDOMAIN and every address lookup nothing (for tests, and for
    /// checking a setup offline).
    pub fn offline() -> Dns {
        Dns {
            // Never queried: every lookup is answered by the caches below.
            authenticator: MessageAuthenticator::new_cloudflare()
                .expect("a resolver configuration without I/O"),
            caches: Caches {
                txt: MapCache::new(Some(Txt::Error(Error::Dns(DnsError::RecordNotFound(
                    ResponseCode::NXDomain,
                ))))),
                mx: MapCache::new(Some(empty())),
                ipv4: MapCache::new(Some(empty())),
                ipv6: MapCache::new(Some(empty())),
                ptr: MapCache::new(Some(empty())),
            },
        }
    }

    /// Puts a TXT record (SPF `v=spf1 …`, DMARC `v=DMARC1; …`, or a DKIM key `v=DKIM1;
    /// … p=…`) at `name` for a day.
    pub fn preload_txt(&self, name: &str, record: &str) -> Result<(), String> {
        let bytes = record.as_bytes();
        let lower = record.trim_start().to_ascii_lowercase();
        let txt: Txt = if lower.starts_with("v=spf1") {
            Spf::parse(bytes).map_err(|e| e.to_string())?.into()
        } else if lower.starts_with("v=dmarc1") {
            Dmarc::parse(bytes).map_err(|e| e.to_string())?.into()
        } else {
            DomainKey::parse(bytes).map_err(|e| e.to_string())?.into()
        };
        self.caches.txt.insert(
            fqdn(name),
            txt,
            Instant::now() + std::time::Duration::from_secs(86_400),
        );
        Ok(())
    }
}

static SYSTEM_DNS: OnceLock<Result<Arc<Dns>, String>> = OnceLock::new();

fn dns_of(config: &EmailAuthConfig) -> Result<Arc<Dns>, String> {
    if let Some(d) = &config.dns {
        return Ok(d.clone());
    }
    SYSTEM_DNS
        .get_or_init(|| Dns::system().map(Arc::new))
        .clone()
}

// ---------------------------------------------------------------------------------------
// Checking a message.

/// The client a trace header names: `Received: from HELO (… [IP] …) by …`.
pub fn client_in_received(value: &str) -> Option<(IpAddr, String)> {
    let v = value.split_whitespace().collect::<Vec<_>>().join(" ");
    let rest = v.strip_prefix("from ")?;
    let helo = rest
        .split([' ', '('])
        .next()
        .unwrap_or_default()
        .to_string();
    // The first bracketed address within the `from` clause (before ` by `).
    let from_clause = rest.split(" by ").next().unwrap_or(rest);
    let open = from_clause.find('[')?;
    let close = from_clause[open..].find(']')? + open;
    let ip = from_clause[open + 1..close]
        .trim()
        .trim_start_matches("IPv6:")
        .trim_start_matches("ipv6:");
    Some((ip.parse().ok()?, helo))
}

/// The values of the headers called `name`, topmost first (unfolded).
fn header_values(raw: &[u8], name: &str) -> Vec<String> {
    let head = crate::mailbox::headers_of(raw);
    let head = String::from_utf8_lossy(head);
    let mut out: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(c) = current.as_mut() {
                c.push(' ');
                c.push_str(line.trim());
            }
            continue;
        }
        if let Some(c) = current.take() {
            out.push(c);
        }
        if let Some((n, v)) = line.split_once(':')
            && n.trim().eq_ignore_ascii_case(name)
        {
            current = Some(v.trim().to_string());
        }
    }
    if let Some(c) = current {
        out.push(c);
    }
    out
}

/// Whether `a` and `b` are the same domain or one is a subdomain of the other (relaxed
/// alignment without a public-suffix list: a parent must have at least two labels).
fn aligned(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    let (a, b) = (a.trim_end_matches('.'), b.trim_end_matches('.'));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let parent_ok = |p: &str, c: &str| p.contains('.') && c.ends_with(&format!(".{p}"));
    a == b || parent_ok(a, b) || parent_ok(b, a)
}

/// The verdict of the trusted mail server's `Authentication-Results:` header.
fn from_auth_results(raw: &[u8], authserv_id: &str, from_domain: &str) -> Verdict {
    let Some(top) = header_values(raw, "Authentication-Results")
        .into_iter()
        .next()
    else {
        return Verdict::fail("no Authentication-Results header");
    };
    // Comments in parentheses are not results.
    let mut clean = String::new();
    let mut depth = 0usize;
    for c in top.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => clean.push(c),
            _ => {}
        }
    }
    let mut parts = clean.split(';');
    let id = parts
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .next()
        .unwrap_or_default();
    if !id.eq_ignore_ascii_case(authserv_id) {
        return Verdict::fail(format!(
            "topmost Authentication-Results is from {id:?}, not {authserv_id:?}"
        ));
    }
    let mut v = Verdict::fail("");
    let mut header_from = None;
    for part in parts {
        let mut words = part.split_whitespace();
        let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else {
            continue;
        };
        let result = result.to_ascii_lowercase();
        let props: Vec<&str> = words.collect();
        match method.to_ascii_lowercase().as_str() {
            "spf" => v.spf = result,
            "dkim" if v.dkim != "pass" => v.dkim = result,
            "dmarc" => {
                v.dmarc = result;
                header_from = props
                    .iter()
                    .find_map(|p| p.strip_prefix("header.from="))
                    .map(|d| d.trim_matches('"').to_ascii_lowercase());
            }
            _ => {}
        }
    }
    let from_ok = header_from.as_deref().is_none_or(|d| d == from_domain);
    if v.dmarc == "pass" && from_ok {
        v.status = Status::Pass;
        v.detail = format!("dmarc=pass by {authserv_id}");
    } else if !from_ok {
        v.detail = format!("{authserv_id} checked another From: domain");
    } else {
        v.detail = format!("dmarc={} by {authserv_id}", v.dmarc);
    }
    v
}

/// Checks who sent `raw`. `sender` is the lowercase From address the message is read as
/// from; `envelope` is the SMTP envelope when our listener took it.
pub async fn verify(
    config: &EmailAuthConfig,
    raw: &[u8],
    sender: &str,
    envelope: Option<&EmailEnvelope>,
) -> Verdict {
    let from_domain = domain_of(sender);
    if from_domain.is_empty() {
        return Verdict::fail("no From: address");
    }
    if !config.trusted_authserv_id.is_empty() {
        return from_auth_results(raw, &config.trusted_authserv_id, from_domain);
    }
    let dns = match dns_of(config) {
        Ok(d) => d,
        Err(e) => {
            return Verdict {
                status: Status::TempError,
                ..Verdict::fail(e)
            };
        }
    };
    // RFC 5322 allows one From: header; with two, parsers and signers disagree on which
    // one counts.
    if header_values(raw, "From").len() != 1 {
        return Verdict::fail("not exactly one From: header");
    }
    let Some(mut message) = AuthenticatedMessage::parse(raw) else {
        return Verdict::fail("the message could not be parsed");
    };
    if message.froms().len() != 1 {
        return Verdict::fail("not exactly one From: address");
    }
    // Both parsers must read the same author, or a crafted header could be checked as
    // one address and acted on as another.
    if !message.from().eq_ignore_ascii_case(sender) {
        return Verdict::fail("the From: header reads as two different addresses");
    }
    // At most a few signatures are checked (each costs DNS lookups and hashing).
    message.dkim_headers.truncate(5);
    let ma = &dns.authenticator;
    let caches = &dns.caches;
    let dkim = ma.verify_dkim(caches.params(&message)).await;

    // The client for SPF: our connection, unless it is a trusted relay or there is none.
    let received = header_values(raw, "Received")
        .first()
        .and_then(|r| client_in_received(r));
    let return_path = header_values(raw, "Return-Path")
        .first()
        .map(|v| {
            v.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let client: Option<(IpAddr, String, String)> = match envelope {
        Some(e) => {
            let peer: Option<IpAddr> = e.peer_ip.parse().ok();
            match peer {
                Some(ip) if !config.trusted_relays.contains(&ip) => {
                    Some((ip, e.helo.clone(), e.mail_from.to_ascii_lowercase()))
                }
                _ => received.map(|(ip, helo)| (ip, helo, e.mail_from.to_ascii_lowercase())),
            }
        }
        None => received.map(|(ip, helo)| (ip, helo, return_path.clone())),
    };
    let (spf, mail_from_domain) = match &client {
        Some((ip, helo, mail_from)) => {
            let helo = if helo.is_empty() { "unknown" } else { helo };
            let host = "phananh";
            let spf = ma
                .verify_spf(caches.params(SpfParameters::verify(*ip, helo, host, mail_from)))
                .await;
            let d = match mail_from.rsplit_once('@') {
                Some((_, d)) if !d.is_empty() => d.to_string(),
                _ => helo.to_string(),
            };
            (spf, d)
        }
        None => (
            SpfOutput::new(String::new()).with_result(SpfResult::None),
            String::new(),
        ),
    };
    let dmarc = ma
        .verify_dmarc(caches.params(DmarcParameters::new(
            &message,
            &dkim,
            &mail_from_domain,
            &spf,
        )))
        .await;

    let dkim_pass: Vec<String> = dkim
        .iter()
        .filter(|o| o.result() == &DkimResult::Pass)
        .filter_map(|o| o.signature().map(|s| s.d.to_ascii_lowercase()))
        .collect();
    let dkim_temp = dkim
        .iter()
        .any(|o| matches!(o.result(), DkimResult::TempError(_)));
    let dkim_text = if !dkim_pass.is_empty() {
        format!("pass (d={})", dkim_pass.join(","))
    } else if let Some(o) = dkim.first() {
        o.result().to_string().to_ascii_lowercase()
    } else {
        "none".into()
    };
    let spf_text = if mail_from_domain.is_empty() {
        "none (no client known)".to_string()
    } else {
        format!("{} ({mail_from_domain})", spf.result()).to_ascii_lowercase()
    };
    let dmarc_result = dmarc.result();
    let mut v = Verdict {
        status: Status::Fail,
        spf: spf_text,
        dkim: dkim_text,
        dmarc: dmarc_result.to_string(),
        detail: String::new(),
    };
    let has_record = dmarc.dmarc_record().is_some();
    let temp = |r: &DmarcResult| matches!(r, DmarcResult::TempError(_));
    if dmarc_result == DmarcResult::Pass {
        v.status = Status::Pass;
        v.detail = format!("DMARC pass for {from_domain}");
    } else if temp(dmarc.dkim_result()) || temp(dmarc.spf_result()) || (!has_record && dkim_temp) {
        v.status = Status::TempError;
        v.detail = "DNS lookup failed for now".into();
    } else if has_record {
        v.detail = format!("DMARC fails for {from_domain} (no aligned SPF or DKIM pass)");
    } else if dkim_pass.iter().any(|d| aligned(d, from_domain))
        || (spf.result() == SpfResult::Pass && aligned(&mail_from_domain, from_domain))
    {
        v.status = Status::Pass;
        v.dmarc = "none".into();
        v.detail = format!("no DMARC record for {from_domain}; aligned SPF or DKIM pass");
    } else if spf.result() == SpfResult::TempError {
        v.status = Status::TempError;
        v.detail = "DNS lookup failed for now".into();
    } else {
        v.dmarc = "none".into();
        v.detail = format!("no DMARC record for {from_domain} and no aligned SPF or DKIM pass");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn received_headers_name_the_client() {
        let (ip, helo) = client_in_received(
            "from mail.example.vn (mail.example.vn [203.0.113.5]) by mx.hcm.gov.vn with ESMTPS id 1; Mon, 2 Mar 2026",
        )
        .unwrap();
        assert_eq!(ip, "203.0.113.5".parse::<IpAddr>().unwrap());
        assert_eq!(helo, "mail.example.vn");
        let (ip, _) = client_in_received("from x ([IPv6:2001:db8::1]) by y").unwrap();
        assert_eq!(ip, "2001:db8::1".parse::<IpAddr>().unwrap());
        assert!(client_in_received("by mx.hcm.gov.vn with LMTP").is_none());
    }

    #[test]
    fn alignment_is_relaxed_but_not_to_a_bare_suffix() {
        assert!(aligned("example.vn", "example.vn"));
        assert!(aligned("mail.example.vn", "example.vn"));
        assert!(aligned("example.vn", "mail.example.vn"));
        assert!(!aligned("vn", "example.vn"));
        assert!(!aligned("other.vn", "example.vn"));
        assert!(!aligned("badexample.vn", "example.vn"));
    }

    #[test]
    fn only_the_trusted_servers_topmost_header_counts() {
        let raw = b"Authentication-Results: mx.hcm.gov.vn; spf=pass smtp.mailfrom=a.vn;\r\n dkim=pass header.d=a.vn; dmarc=pass (p=reject) header.from=a.vn\r\nAuthentication-Results: evil.test; dmarc=pass\r\nFrom: x@a.vn\r\n\r\nbody";
        let v = from_auth_results(raw, "mx.hcm.gov.vn", "a.vn");
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert_eq!((v.spf.as_str(), v.dkim.as_str()), ("pass", "pass"));
        // Another From: domain than the one checked.
        assert_eq!(
            from_auth_results(raw, "mx.hcm.gov.vn", "b.vn").status,
            Status::Fail
        );
        // A forged header below the provider's does not count; one on top from another
        // server is not the provider's.
        let forged = b"Authentication-Results: mx.hcm.gov.vn; dmarc=fail header.from=a.vn\r\nAuthentication-Results: mx.hcm.gov.vn; dmarc=pass header.from=a.vn\r\nFrom: x@a.vn\r\n\r\nbody";
        assert_eq!(
            from_auth_results(forged, "mx.hcm.gov.vn", "a.vn").status,
            Status::Fail
        );
        assert_eq!(
            from_auth_results(raw, "mx.other.vn", "a.vn").status,
            Status::Fail
        );
    }

    /// A test domain: an Ed25519 DKIM key, SPF allowing 203.0.113.5 only, DMARC reject;
    /// `other.vn` has SPF but no DMARC record.
    fn setup() -> (EmailAuthConfig, mail_auth::common::crypto::Ed25519Key) {
        use base64::Engine;
        use mail_auth::common::crypto::Ed25519Key;
        let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
        let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
        let dns = Dns::offline();
        let p = base64::engine::general_purpose::STANDARD.encode(key.public_key());
        dns.preload_txt(
            "s1._domainkey.example.vn",
            &format!("v=DKIM1; k=ed25519; p={p}"),
        )
        .unwrap();
        dns.preload_txt("example.vn", "v=spf1 ip4:203.0.113.5 -all")
            .unwrap();
        dns.preload_txt("_dmarc.example.vn", "v=DMARC1; p=reject")
            .unwrap();
        dns.preload_txt("other.vn", "v=spf1 ip4:203.0.113.9 -all")
            .unwrap();
        let config = EmailAuthConfig {
            trusted_relays: vec!["10.0.0.1".parse().unwrap()],
            dns: Some(Arc::new(dns)),
            ..EmailAuthConfig::default()
        };
        (config, key)
    }

    fn envelope(ip: &str, mail_from: &str) -> EmailEnvelope {
        EmailEnvelope {
            peer_ip: ip.into(),
            helo: "mail.example.vn".into(),
            mail_from: mail_from.into(),
        }
    }

    const MAIL: &[u8] =
        b"From: Dan <dan@example.vn>\r\nTo: 1022@hcm.test\r\nSubject: Den duong\r\n\r\nDen duong hong.\r\n";

    #[tokio::test]
    async fn dkim_signed_mail_passes_and_forged_mail_fails() {
        use mail_auth::common::headers::HeaderWriter;
        use mail_auth::dkim::DkimSigner;
        let (config, key) = setup();
        let sig = DkimSigner::from_key(key)
            .domain("example.vn")
            .selector("s1")
            .headers(["From", "To", "Subject"])
            .sign(MAIL)
            .unwrap();
        let mut signed = sig.to_header().into_bytes();
        signed.extend_from_slice(MAIL);
        // Read over IMAP (no envelope, no Received): DKIM alone carries it.
        let v = verify(&config, &signed, "dan@example.vn", None).await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        assert!(v.dkim.starts_with("pass"), "{v:?}");
        assert_eq!(v.dmarc, "pass");
        // From a stranger's server, unsigned: SPF and DMARC fail.
        let bad = envelope("198.51.100.7", "dan@example.vn");
        let v = verify(&config, MAIL, "dan@example.vn", Some(&bad)).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        assert!(v.spf.starts_with("fail"), "{v:?}");
        assert!(v.dmarc.contains("fail"), "{v:?}");
        // The signed message altered on the way.
        let mut altered = signed.clone();
        altered.extend_from_slice(b"Chuyen tien vao 123.\r\n");
        let v = verify(&config, &altered, "dan@example.vn", Some(&bad)).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        // Acted on as another address than the one checked: refused.
        let v = verify(&config, &signed, "x@other.vn", None).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        // Two From: headers.
        let two = [b"From: x@other.vn\r\n".as_slice(), &signed].concat();
        let v = verify(&config, &two, "dan@example.vn", None).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
    }

    #[tokio::test]
    async fn spf_uses_the_connection_or_the_relays_received_header() {
        let (config, _) = setup();
        // Straight from the domain's server: aligned SPF pass.
        let direct = envelope("203.0.113.5", "bounce@example.vn");
        let v = verify(&config, MAIL, "dan@example.vn", Some(&direct)).await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        // Through our trusted relay, which wrote the Received header on top.
        let relayed = [
            b"Received: from mail.example.vn (mail.example.vn [203.0.113.5])\r\n by mx.hcm.gov.vn with ESMTPS; Mon, 2 Mar 2026 09:00:00 +0700\r\n".as_slice(),
            MAIL,
        ]
        .concat();
        let relay = envelope("10.0.0.1", "bounce@example.vn");
        let v = verify(&config, &relayed, "dan@example.vn", Some(&relay)).await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        // The same header from a client that is not a trusted relay is not believed.
        let liar = envelope("198.51.100.7", "bounce@example.vn");
        let v = verify(&config, &relayed, "dan@example.vn", Some(&liar)).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        // IMAP: the topmost Received header (our MX's) and Return-Path.
        let imap = [b"Return-Path: <bounce@example.vn>\r\n".as_slice(), &relayed].concat();
        let v = verify(&config, &imap, "dan@example.vn", None).await;
        assert_eq!(v.status, Status::Pass, "{v:?}");
        // A domain without a DMARC record: its own aligned SPF pass is enough...
        let other = b"From: a@other.vn\r\nSubject: x\r\n\r\nx\r\n";
        let ok = envelope("203.0.113.9", "a@other.vn");
        let v = verify(&config, other, "a@other.vn", Some(&ok)).await;
        assert_eq!(
            (v.status.clone(), v.dmarc.as_str()),
            (Status::Pass, "none"),
            "{v:?}"
        );
        // ...an SPF pass for another domain is not.
        let v = verify(&config, other, "a@other.vn", Some(&direct)).await;
        assert_eq!(v.status, Status::Fail, "{v:?}");
        // No From: address at all.
        let v = verify(&config, b"Subject: x\r\n\r\nx\r\n", "", Some(&direct)).await;
        assert_eq!(v.status, Status::Fail);
    }
}
