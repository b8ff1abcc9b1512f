//! The outbound URL guard: every URL that a citizen or a platform hands us goes through it
//! before phananh fetches anything (today: the photos of chat attachments).
//!
//! A URL passes only when
//! - its scheme is `https` (plain `http` only when `media_allow_loopback` is set, for tests),
//! - its host is on the platform's allow-list (`[chat] messenger_media_hosts`, …),
//! - every address its host resolves to is public: no loopback, private, link-local
//!   (with the cloud metadata address 169.254.169.254), shared (CGNAT), multicast,
//!   unspecified, reserved or documentation range, and no IPv6 form that embeds an IPv4
//!   address (mapped, compatible, NAT64, 6to4, Teredo);
//!
//! and the connection then goes to the address that was vetted (the client's resolver is
//! pinned to it), so a second DNS answer cannot swap in an internal address (DNS
//! rebinding). Redirects are followed by hand: never to another host, and each hop is
//! vetted again.
//!
//! URLs that admins set (units' webhooks, their Open311 systems) are trusted and do not
//! go through here; the worker logs where it sends them (see `admin_url`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use phananh_channels::{ChatConfig, Provider};
use reqwest::Url;

/// Redirects followed (same host only) before giving up.
const MAX_REDIRECTS: usize = 3;

/// Why a URL was not fetched.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    Malformed,
    Scheme(String),
    /// The host is not on the platform's allow-list.
    Host(String),
    /// The host resolves to an address phananh never connects to.
    Address(IpAddr, &'static str),
    Resolve(String),
    /// A redirect to another host.
    Redirect(String),
    TooManyRedirects,
    /// The fetch itself failed (status, size, network); the text has no URL in it.
    Fetch(String),
}

impl Refused {
    /// Refused by the guard (as opposed to a download that failed).
    pub fn is_policy(&self) -> bool {
        !matches!(self, Refused::Fetch(_) | Refused::Resolve(_))
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Malformed => write!(f, "not a URL"),
            Refused::Scheme(s) => write!(f, "scheme {s} not allowed (https only)"),
            Refused::Host(h) => write!(f, "host {h} is not on the media allow-list"),
            Refused::Address(ip, why) => write!(f, "address {ip} refused ({why})"),
            Refused::Resolve(e) => write!(f, "could not resolve the host: {e}"),
            Refused::Redirect(h) => write!(f, "redirect to another host ({h}) not followed"),
            Refused::TooManyRedirects => write!(f, "too many redirects"),
            Refused::Fetch(e) => write!(f, "{e}"),
        }
    }
}

/// Why phananh never connects to `ip`, or `None` for a public unicast address.
pub fn blocked(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (169, 254, 169) if ip.octets()[3] == 254 => "cloud metadata",
        (0, _, _) => "unspecified (\"this network\")",
        (127, _, _) => "loopback",
        (10, _, _) => "private",
        (172, 16..=31, _) => "private",
        (192, 168, _) => "private",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "shared address space (CGNAT)",
        (192, 0, 0) => "IETF protocol assignments",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved or broadcast",
        _ => return None,
    })
}

fn blocked_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    Some(match s[0] {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): refused whatever they embed.
        0 if s[1..5] == [0, 0, 0, 0] && (s[5] == 0xffff || s[5] == 0) => "IPv4 embedded in IPv6",
        0x0064 if s[1] == 0xff9b => "NAT64 (embeds IPv4)",
        0x2002 => "6to4 (embeds IPv4)",
        0x2001 if s[1] == 0 => "Teredo (embeds IPv4)",
        0x2001 if s[1] == 0x0db8 => "documentation",
        x if x & 0xfe00 == 0xfc00 => "unique local (private)",
        x if x & 0xffc0 == 0xfe80 => "link-local",
        x if x & 0xffc0 == 0xfec0 => "site-local (deprecated, private)",
        x if x & 0xff00 == 0xff00 => "multicast",
        // Only global unicast (2000::/3) is reachable on the internet.
        x if x & 0xe000 != 0x2000 => "reserved",
        _ => return None,
    })
}

/// Which hosts may serve one platform's media, and whether the test fakes are allowed.
#[derive(Debug, Clone)]
pub struct MediaPolicy {
    hosts: Vec<String>,
    allow_loopback: bool,
}

impl MediaPolicy {
    pub fn new(hosts: Vec<String>, allow_loopback: bool) -> MediaPolicy {
        MediaPolicy {
            hosts: hosts
                .into_iter()
                .map(|h| h.trim().trim_start_matches("*").to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
            allow_loopback,
        }
    }

    pub fn for_provider(cfg: &ChatConfig, provider: Provider) -> MediaPolicy {
        let hosts = match provider {
            Provider::Messenger => cfg.messenger_media_hosts.clone(),
            Provider::Viber => cfg.viber_media_hosts.clone(),
            Provider::Telegram => cfg.telegram_media_hosts.clone(),
            Provider::Zalo => cfg.zalo_media_hosts.clone(),
        };
        MediaPolicy::new(hosts, cfg.media_allow_loopback)
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.hosts.iter().any(|h| match h.strip_prefix('.') {
            Some(domain) => host == domain || host.ends_with(h.as_str()),
            None => host == *h,
        })
    }

    /// Scheme and host: what can be decided without the network.
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_loopback => {}
            other => return Err(Refused::Scheme(other.to_string())),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused::Malformed);
        }
        let host = url.host_str().ok_or(Refused::Malformed)?;
        if !self.host_allowed(host.trim_start_matches('[').trim_end_matches(']')) {
            return Err(Refused::Host(host.to_string()));
        }
        Ok(())
    }

    fn vet(&self, ip: IpAddr) -> Result<(), Refused> {
        match blocked(ip) {
            Some("loopback") if self.allow_loopback => Ok(()),
            Some(why) => Err(Refused::Address(ip, why)),
            None => Ok(()),
        }
    }

    /// Resolves the URL's host and vets every address it has; returns the one to connect to.
    pub async fn resolve(&self, url: &Url) -> Result<SocketAddr, Refused> {
        let port = url.port_or_known_default().ok_or(Refused::Malformed)?;
        let addrs: Vec<SocketAddr> = match url.host() {
            Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
            Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
            Some(url::Host::Domain(d)) => tokio::net::lookup_host((d, port))
                .await
                .map_err(|e| Refused::Resolve(e.to_string()))?
                .collect(),
            None => return Err(Refused::Malformed),
        };
        // One bad answer spoils them all: a rebinding host mixes public and internal ones.
        for a in &addrs {
            self.vet(a.ip())?;
        }
        addrs
            .into_iter()
            .next()
            .ok_or_else(|| Refused::Resolve("no address".into()))
    }

    /// Downloads `url` through the guard, at most `max_bytes`, within `timeout` per hop.
    pub async fn fetch(
        &self,
        url: &str,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<Vec<u8>, Refused> {
        let mut url = Url::parse(url).map_err(|_| Refused::Malformed)?;
        let origin = url.host_str().map(str::to_string);
        for _ in 0..=MAX_REDIRECTS {
            self.check_url(&url)?;
            if url.host_str().map(str::to_string) != origin {
                return Err(Refused::Redirect(
                    url.host_str().unwrap_or_default().to_string(),
                ));
            }
            let addr = self.resolve(&url).await?;
            let mut client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .timeout(timeout)
                .user_agent(concat!("phananh/", env!("CARGO_PKG_VERSION")));
            if let Some(url::Host::Domain(d)) = url.host() {
                // Connect to the address vetted above, never to a fresh DNS answer.
                client = client.resolve(d, addr);
            }
            let client = client
                .build()
                .map_err(|e| Refused::Fetch(crate::http_error(e)))?;
            let mut resp = client
                .get(url.clone())
                .send()
                .await
                .map_err(|e| Refused::Fetch(crate::http_error(e)))?;
            let status = resp.status();
            if status.is_redirection() {
                let next = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| Refused::Fetch(format!("HTTP {status} without a location")))?;
                url = next;
                continue;
            }
            if !status.is_success() {
                return Err(Refused::Fetch(format!("HTTP {status}")));
            }
            if resp
                .content_length()
                .is_some_and(|n| n as usize > max_bytes)
            {
                return Err(Refused::Fetch("larger than the limit".into()));
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| Refused::Fetch(crate::http_error(e)))?
            {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > max_bytes {
                    return Err(Refused::Fetch("larger than the limit".into()));
                }
            }
            return Ok(bytes);
        }
        Err(Refused::TooManyRedirects)
    }
}

/// An admin-set URL as it may be logged: scheme, host, port and path, without the
/// credentials or query a unit's system may have put in it.
pub fn admin_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}{}",
            u.scheme(),
            u.host_str().unwrap_or_default(),
            u.port().map(|p| format!(":{p}")).unwrap_or_default(),
            u.path()
        ),
        Err(_) => "(not a URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_are_refused() {
        for (a, why) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "cloud metadata"),
            ("169.254.1.1", "link-local"),
            ("100.64.0.1", "shared address space (CGNAT)"),
            ("100.127.255.254", "shared address space (CGNAT)"),
            ("0.0.0.0", "unspecified (\"this network\")"),
            ("224.0.0.1", "multicast"),
            ("255.255.255.255", "reserved or broadcast"),
            ("192.0.2.10", "documentation"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("::ffff:127.0.0.1", "IPv4 embedded in IPv6"),
            ("::ffff:169.254.169.254", "IPv4 embedded in IPv6"),
            ("::ffff:8.8.8.8", "IPv4 embedded in IPv6"),
            ("::127.0.0.1", "IPv4 embedded in IPv6"),
            ("64:ff9b::a9fe:a9fe", "NAT64 (embeds IPv4)"),
            ("2002:7f00:1::", "6to4 (embeds IPv4)"),
            ("2001:0:4136:e378::1", "Teredo (embeds IPv4)"),
            ("fc00::1", "unique local (private)"),
            ("fd12:3456::1", "unique local (private)"),
            ("fe80::1", "link-local"),
            ("fec0::1", "site-local (deprecated, private)"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("100::1", "reserved"),
        ] {
            assert_eq!(blocked(ip(a)), Some(why), "{a}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for a in [
            "157.240.1.1",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.255.0.1",
            "2a03:2880:f10c:83:face:b00c:0:25de",
            "2606:4700::1111",
        ] {
            assert_eq!(blocked(ip(a)), None, "{a}");
        }
    }

    #[test]
    fn hosts_and_schemes() {
        let p = MediaPolicy::new(vec![".fbcdn.net".into(), "cdn.fbsbx.com".into()], false);
        let ok = |u: &str| p.check_url(&Url::parse(u).unwrap());
        assert_eq!(ok("https://scontent.xx.fbcdn.net/v/t1/p.jpg?x=1"), Ok(()));
        assert_eq!(ok("https://fbcdn.net/p.jpg"), Ok(()));
        assert_eq!(ok("https://CDN.FBSBX.COM/p.jpg"), Ok(()));
        assert!(matches!(
            ok("https://evilfbcdn.net/p.jpg"),
            Err(Refused::Host(_))
        ));
        assert!(matches!(
            ok("https://fbcdn.net.evil.example/p.jpg"),
            Err(Refused::Host(_))
        ));
        assert!(matches!(
            ok("https://x.cdn.fbsbx.com/p.jpg"),
            Err(Refused::Host(_))
        ));
        assert!(matches!(
            ok("http://scontent.xx.fbcdn.net/p.jpg"),
            Err(Refused::Scheme(_))
        ));
        assert!(matches!(ok("file:///etc/passwd"), Err(Refused::Scheme(_))));
        assert!(matches!(
            ok("https://user:pw@scontent.xx.fbcdn.net/p.jpg"),
            Err(Refused::Malformed)
        ));
        // Defaults cover the real platforms' media hosts.
        let d = ChatConfig::default();
        let m = MediaPolicy::for_provider(&d, Provider::Messenger);
        let v = MediaPolicy::for_provider(&d, Provider::Viber);
        for u in [
            "https://scontent-sin6-2.xx.fbcdn.net/v/t1.15752-9/1.jpg",
            "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1",
        ] {
            assert_eq!(m.check_url(&Url::parse(u).unwrap()), Ok(()), "{u}");
        }
        assert_eq!(
            v.check_url(&Url::parse("https://dl-media.viber.com/1/share/2/a.jpg").unwrap()),
            Ok(())
        );
        assert!(
            v.check_url(&Url::parse("https://scontent.xx.fbcdn.net/a.jpg").unwrap())
                .is_err()
        );
        let z = MediaPolicy::for_provider(&d, Provider::Zalo);
        assert_eq!(
            z.check_url(&Url::parse("https://f20-zpc.zdn.vn/1/2/photo.jpg").unwrap()),
            Ok(())
        );
        assert!(
            z.check_url(&Url::parse("https://dl-media.viber.com/1/a.jpg").unwrap())
                .is_err()
        );
    }

    #[tokio::test]
    async fn loopback_only_when_configured_and_never_private() {
        let strict = MediaPolicy::new(vec!["localhost".into(), "127.0.0.1".into()], false);
        let url = Url::parse("https://localhost:9/p.jpg").unwrap();
        assert!(matches!(
            strict.resolve(&url).await,
            Err(Refused::Address(_, "loopback"))
        ));
        let url = Url::parse("https://127.0.0.1:9/p.jpg").unwrap();
        assert!(matches!(
            strict.resolve(&url).await,
            Err(Refused::Address(_, "loopback"))
        ));
        let tests = MediaPolicy::new(vec!["127.0.0.1".into(), "10.0.0.1".into()], true);
        assert!(tests.resolve(&url).await.is_ok());
        let private = Url::parse("http://10.0.0.1/p.jpg").unwrap();
        assert!(matches!(
            tests.resolve(&private).await,
            Err(Refused::Address(_, "private"))
        ));
        let metadata = MediaPolicy::new(vec!["169.254.169.254".into()], true);
        assert!(matches!(
            metadata
                .fetch(
                    "http://169.254.169.254/latest/meta-data/",
                    1000,
                    Duration::from_secs(1)
                )
                .await,
            Err(Refused::Address(_, "cloud metadata"))
        ));
    }

    #[test]
    fn admin_urls_are_logged_without_secrets() {
        assert_eq!(
            admin_url("https://user:pw@unit.example.vn:8443/hook?token=s3cret"),
            "https://unit.example.vn:8443/hook"
        );
    }
}
