//! Rate limits keyed by client address (and by email for logins), with governor's GCRA.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::WebConfig;

pub struct Limits {
    intake: Option<DefaultKeyedRateLimiter<IpAddr>>,
    login_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    login_email: Option<DefaultKeyedRateLimiter<String>>,
}

fn keyed<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl Limits {
    pub fn new(c: &WebConfig) -> Limits {
        Limits {
            intake: keyed(c.intake_per_minute),
            login_ip: keyed(c.login_per_minute),
            login_email: keyed(c.login_per_minute),
        }
    }

    pub fn intake(&self, ip: IpAddr) -> bool {
        self.intake
            .as_ref()
            .is_none_or(|l| l.check_key(&ip).is_ok())
    }

    pub fn login(&self, ip: IpAddr, email: &str) -> bool {
        let ip_ok = self
            .login_ip
            .as_ref()
            .is_none_or(|l| l.check_key(&ip).is_ok());
        let email_ok = self
            .login_email
            .as_ref()
            .is_none_or(|l| l.check_key(&email.trim().to_lowercase()).is_ok());
        ip_ok && email_ok
    }
}
