//! Rate limits keyed by client address (and by email for logins), with governor's GCRA.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::WebConfig;

pub struct Limits {
    /// One limiter per API key, with that key's own rate.
    keys:
        std::sync::Mutex<std::collections::HashMap<i64, (u32, governor::DefaultDirectRateLimiter)>>,
    intake: Option<DefaultKeyedRateLimiter<IpAddr>>,
    login_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    login_email: Option<DefaultKeyedRateLimiter<String>>,
    /// Reports per phone number or email address, whatever the client address.
    contact: Option<DefaultKeyedRateLimiter<String>>,
    /// Anonymous photo uploads per client address: how many, and how many bytes.
    uploads: Option<DefaultKeyedRateLimiter<IpAddr>>,
    upload_bytes: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Reports filed by each staff member (user id), per minute and per hour.
    staff_minute: Option<DefaultKeyedRateLimiter<i64>>,
    staff_hour: Option<DefaultKeyedRateLimiter<i64>>,
}

fn hourly<K: std::hash::Hash + Eq + Clone>(per_hour: u64) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_hour.min(u64::from(u32::MAX)) as u32)
        .map(|n| RateLimiter::keyed(Quota::per_hour(n)))
}

fn keyed<K: std::hash::Hash + Eq + Clone>(per_minute: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl Limits {
    pub fn new(c: &WebConfig) -> Limits {
        Limits {
            keys: Default::default(),
            intake: keyed(c.intake_per_minute),
            login_ip: keyed(c.login_per_minute),
            login_email: keyed(c.login_per_minute),
            contact: NonZeroU32::new(c.contact_per_hour)
                .map(|n| RateLimiter::keyed(Quota::per_hour(n))),
            uploads: hourly(c.uploads_per_hour.into()),
            upload_bytes: hourly(c.upload_bytes_per_hour),
            staff_minute: keyed(c.staff_filings_per_minute),
            staff_hour: hourly(c.staff_filings_per_hour.into()),
        }
    }

    pub fn intake(&self, ip: IpAddr) -> bool {
        self.intake
            .as_ref()
            .is_none_or(|l| l.check_key(&ip).is_ok())
    }

    /// Forgets keys that have been quiet long enough to be back to a full quota, so random
    /// emails or addresses cannot grow memory without limit. Run periodically.
    pub fn prune(&self) {
        for l in [&self.intake, &self.login_ip].into_iter().flatten() {
            l.retain_recent();
            l.shrink_to_fit();
        }
        for l in [&self.login_email, &self.contact].into_iter().flatten() {
            l.retain_recent();
            l.shrink_to_fit();
        }
        for l in [&self.uploads, &self.upload_bytes].into_iter().flatten() {
            l.retain_recent();
            l.shrink_to_fit();
        }
        for l in [&self.staff_minute, &self.staff_hour].into_iter().flatten() {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// Whether this address may upload another photo now (counted before the body is read).
    pub fn upload(&self, ip: IpAddr) -> bool {
        self.uploads
            .as_ref()
            .is_none_or(|l| l.check_key(&ip).is_ok())
    }

    /// Whether this address may store `bytes` more bytes of photos this hour.
    pub fn upload_bytes(&self, ip: IpAddr, bytes: usize) -> bool {
        let Some(l) = &self.upload_bytes else {
            return true;
        };
        let Some(n) = NonZeroU32::new(bytes.min(u32::MAX as usize) as u32) else {
            return true;
        };
        matches!(l.check_key_n(&ip, n), Ok(Ok(())))
    }

    /// Whether staff member `user_id` may file another report now. Staff file for citizens
    /// who call or write, so their limits are higher than a citizen's, but they have some:
    /// a stolen session or a script cannot flood the units.
    pub fn staff_filing(&self, user_id: i64) -> bool {
        let minute = self
            .staff_minute
            .as_ref()
            .is_none_or(|l| l.check_key(&user_id).is_ok());
        minute
            && self
                .staff_hour
                .as_ref()
                .is_none_or(|l| l.check_key(&user_id).is_ok())
    }

    /// Whether API key `id` (allowed `per_minute`) may make another request now.
    pub fn api_key(&self, id: i64, per_minute: u32) -> bool {
        let Some(n) = NonZeroU32::new(per_minute) else {
            return true;
        };
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let entry = keys
            .entry(id)
            .or_insert_with(|| (per_minute, RateLimiter::direct(Quota::per_minute(n))));
        if entry.0 != per_minute {
            *entry = (per_minute, RateLimiter::direct(Quota::per_minute(n)));
        }
        entry.1.check().is_ok()
    }

    /// Whether a report giving this phone and/or email may be filed now: a contact gets a
    /// handful of reports an hour, from any address (so rotating IPs does not help).
    pub fn contact(&self, phone: Option<&str>, email: Option<&str>) -> bool {
        let Some(l) = &self.contact else {
            return true;
        };
        let phone = phone
            .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
            .filter(|p| !p.is_empty())
            .map(|p| format!("tel:{}", p.trim_start_matches("84").trim_start_matches('0')));
        let email = email
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
            .map(|e| format!("mail:{e}"));
        [phone, email]
            .into_iter()
            .flatten()
            .all(|k| l.check_key(&k).is_ok())
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
