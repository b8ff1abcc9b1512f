//! Who is the client? Behind a reverse proxy every TCP peer is the proxy, so the real client
//! address comes from `X-Forwarded-For`, but only a proxy we trust may say so: anyone else
//! could write any address there. This module is the one place that decides; every rate
//! limit keys on what it returns (through the [`crate::session::ClientIp`] extractor).

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` we believe: addresses and CIDR blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `["127.0.0.1", "10.0.0.0/8", "::1"]`. An entry that is neither an address nor a
    /// block is an error (a typo must not silently trust nobody, or everybody).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, String> {
        let mut nets = Vec::new();
        for e in entries {
            let e = e.as_ref().trim();
            if e.is_empty() {
                continue;
            }
            let net = match IpNet::from_str(e) {
                Ok(n) => n.trunc(),
                Err(_) => match IpAddr::from_str(e) {
                    Ok(ip) => {
                        let ip = canonical(ip);
                        let bits = if ip.is_ipv4() { 32 } else { 128 };
                        IpNet::new(ip, bits).map_err(|e| e.to_string())?
                    }
                    Err(_) => return Err(format!("not an IP address or CIDR block: {e:?}")),
                },
            };
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }
}

/// `::ffff:10.0.0.1` is `10.0.0.1` (dual-stack listeners report IPv4 peers that way).
fn canonical(ip: IpAddr) -> IpAddr {
    ip.to_canonical()
}

/// Most hops we read from `X-Forwarded-For` before giving up.
const MAX_HOPS: usize = 32;

/// The client's address.
///
/// - If the TCP `peer` is not a trusted proxy, it is the client: headers are ignored.
/// - Otherwise `X-Forwarded-For` (all its header lines, in order, as one list) is read from
///   the right, skipping trusted proxies; the first address that is not one is the client.
///   Each proxy appends the address it saw, so the entries right of that one were written
///   by proxies we trust, and the ones left of it by the client (never read, whatever they
///   hold).
/// - If every hop is a trusted proxy, the leftmost is the client (an internal caller).
/// - A missing or empty header, or a malformed entry among those read (not a bare IP
///   address: a name, a port, an empty entry) or more than 32 trusted hops, yields the peer:
///   guessing would let a client pick its own key.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &TrustedProxies,
) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.contains(peer) {
        return peer;
    }
    let lines: Vec<&str> = forwarded_for.into_iter().collect();
    let mut last_trusted = None;
    for (n, entry) in lines.iter().rev().flat_map(|l| l.rsplit(',')).enumerate() {
        if n >= MAX_HOPS {
            return peer;
        }
        let Ok(ip) = IpAddr::from_str(entry.trim()) else {
            return peer;
        };
        let ip = canonical(ip);
        if !trusted.contains(ip) {
            return ip;
        }
        last_trusted = Some(ip);
    }
    last_trusted.unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn trusted() -> TrustedProxies {
        TrustedProxies::parse(&["127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"]).unwrap()
    }

    fn from(peer: &str, xff: &[&str]) -> IpAddr {
        client_ip(ip(peer), xff.iter().copied(), &trusted())
    }

    #[test]
    fn parses_addresses_and_blocks() {
        let t = trusted();
        assert!(t.contains(ip("127.0.0.1")));
        assert!(!t.contains(ip("127.0.0.2")));
        assert!(t.contains(ip("10.200.3.4")));
        assert!(!t.contains(ip("11.0.0.1")));
        assert!(t.contains(ip("::1")));
        assert!(t.contains(ip("fd12::5")));
        assert!(t.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped peers");
        // Host bits in a block are tolerated (10.1.2.3/8 is 10.0.0.0/8).
        assert!(
            TrustedProxies::parse(&["10.1.2.3/8"])
                .unwrap()
                .contains(ip("10.9.9.9"))
        );
        assert!(TrustedProxies::parse(&[" ", ""]).unwrap().is_empty());
        for bad in ["localhost", "10.0.0.0/33", "1.2.3", "*", "10.0.0.0/8,"] {
            assert!(TrustedProxies::parse(&[bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        assert_eq!(from("203.0.113.9", &["198.51.100.1"]), ip("203.0.113.9"));
        assert_eq!(from("203.0.113.9", &[]), ip("203.0.113.9"));
        // Nobody trusted: the header never counts (the old `trust_forwarded_for = false`).
        assert_eq!(
            client_ip(
                ip("127.0.0.1"),
                ["198.51.100.1"],
                &TrustedProxies::default()
            ),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        assert_eq!(from("127.0.0.1", &["198.51.100.7"]), ip("198.51.100.7"));
        assert_eq!(
            from("::ffff:127.0.0.1", &["198.51.100.7"]),
            ip("198.51.100.7")
        );
        assert_eq!(from("::1", &["2001:db8::1"]), ip("2001:db8::1"));
        assert_eq!(from("127.0.0.1", &[" 198.51.100.7 "]), ip("198.51.100.7"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_wins_over_what_the_client_wrote() {
        // The client sent "X-Forwarded-For: 1.2.3.4"; our proxy appended what it saw.
        assert_eq!(
            from("127.0.0.1", &["1.2.3.4, 198.51.100.7"]),
            ip("198.51.100.7")
        );
        // Two of our proxies in a row (edge 10.0.0.5, then local nginx).
        assert_eq!(
            from("127.0.0.1", &["1.2.3.4, 198.51.100.7, 10.0.0.5"]),
            ip("198.51.100.7")
        );
        // The client pretends to be one of our proxies: still skipped only as far as the
        // first untrusted hop from the right.
        assert_eq!(
            from("127.0.0.1", &["10.0.0.9, 198.51.100.7, 10.0.0.5"]),
            ip("198.51.100.7")
        );
        // Several header lines are one list, in order.
        assert_eq!(
            from("127.0.0.1", &["1.2.3.4", "198.51.100.7", "10.0.0.5"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            from("127.0.0.1", &["198.51.100.7", "1.2.3.4"]),
            ip("1.2.3.4")
        );
    }

    #[test]
    fn only_trusted_hops_give_the_leftmost() {
        assert_eq!(from("127.0.0.1", &["10.0.0.8, 10.0.0.5"]), ip("10.0.0.8"));
        assert_eq!(from("127.0.0.1", &["127.0.0.1"]), ip("127.0.0.1"));
    }

    #[test]
    fn malformed_headers_give_the_peer() {
        for xff in [
            &[""][..],
            &["   "],
            &["unknown"],
            &["1.2.3.4, nonsense"],
            &["1.2.3.4,"],
            &["1.2.3.4, 10.0.0.5,"],
            &["1.2.3.4, junk, 10.0.0.5"],
            &["1.2.3.4:5678"],
            &["[2001:db8::1]:443"],
            &["1.2.3.4 5.6.7.8"],
            &["1.2.3.4", ""],
            &["999.1.1.1"],
            &["_hidden"],
        ] {
            assert_eq!(from("127.0.0.1", xff), ip("127.0.0.1"), "{xff:?}");
        }
        // No header at all.
        assert_eq!(from("10.0.0.5", &[]), ip("10.0.0.5"));
        // Too many trusted hops.
        let long = vec!["10.0.0.7"; 40].join(",");
        assert_eq!(from("127.0.0.1", &[&long]), ip("127.0.0.1"));
        let ok = vec!["10.0.0.7"; 32].join(",");
        assert_eq!(from("127.0.0.1", &[&ok]), ip("10.0.0.7"));
    }

    #[test]
    fn what_the_client_wrote_left_of_its_address_is_never_read() {
        // A client sent "X-Forwarded-For: garbage"; our proxy appended its address. The
        // client must not get a fresh key (the proxy's) by sending junk.
        assert_eq!(
            from("127.0.0.1", &["garbage, 198.51.100.7"]),
            ip("198.51.100.7")
        );
        assert_eq!(from("127.0.0.1", &[",198.51.100.7"]), ip("198.51.100.7"));
        assert_eq!(
            from("127.0.0.1", &["x".repeat(5000).as_str(), "198.51.100.7"]),
            ip("198.51.100.7")
        );
        let long = vec!["203.0.113.1"; 100].join(",") + ", 198.51.100.7";
        assert_eq!(from("127.0.0.1", &[&long]), ip("198.51.100.7"));
    }
}
