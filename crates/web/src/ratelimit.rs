//! Rate limits keyed by client address (see [`crate::client_ip`]), with governor's GCRA,
//! and the per-account back-off of failed logins.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::WebConfig;

pub struct Limits {
    /// One limiter per API key, with that key's own rate.
    keys:
        std::sync::Mutex<std::collections::HashMap<i64, (u32, governor::DefaultDirectRateLimiter)>>,
    intake: Option<DefaultKeyedRateLimiter<IpAddr>>,
    login_ip: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Failed logins per account (exponential back-off, not a lockout).
    pub login_backoff: LoginBackoff,
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
            login_backoff: LoginBackoff::default(),
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
        for l in [&self.contact].into_iter().flatten() {
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

    /// Whether this client address may try another login now (per IP, every account).
    pub fn login_ip(&self, ip: IpAddr) -> bool {
        self.login_ip
            .as_ref()
            .is_none_or(|l| l.check_key(&ip).is_ok())
    }
}

/// Failures an account may have before attempts are delayed.
pub const FREE_FAILURES: u32 = 5;
/// The first delay; each further failure doubles it, up to [`MAX_DELAY_SECS`].
pub const FIRST_DELAY_SECS: i64 = 1;
pub const MAX_DELAY_SECS: i64 = 60;
/// Accounts tracked at most (random emails cannot grow memory without bound).
const MAX_ACCOUNTS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: DateTime<Utc>,
    /// No attempt is checked before this time.
    until: DateTime<Utc>,
}

/// Exponential back-off of failed logins per account, in this process's memory.
///
/// After [`FREE_FAILURES`] failures in a row, the account's next attempt waits 1 s, then
/// 2 s, 4 s … up to [`MAX_DELAY_SECS`]. An attempt during the wait is refused without
/// looking at the password and without counting, so nobody can stretch the wait by trying
/// harder, and the owner's correct password works as soon as the wait is over, whatever
/// others keep sending. A success resets the count. Nothing is locked for good.
///
/// The state is per process (lost on restart, not shared between processes behind a load
/// balancer): a restart gives an attacker at most [`FREE_FAILURES`] more tries per account,
/// still bounded by the per-IP limit.
#[derive(Default)]
pub struct LoginBackoff {
    accounts: std::sync::Mutex<HashMap<String, Failures>>,
}

fn account_key(email: &str) -> String {
    email.trim().to_lowercase().chars().take(254).collect()
}

/// The wait after `count` failures in a row.
pub fn delay_after(count: u32) -> Duration {
    if count < FREE_FAILURES {
        return Duration::zero();
    }
    let doublings = (count - FREE_FAILURES).min(30);
    Duration::seconds((FIRST_DELAY_SECS << doublings).min(MAX_DELAY_SECS))
}

impl LoginBackoff {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.accounts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err(wait)` while the account must wait before its next attempt.
    pub fn check(&self, email: &str, now: DateTime<Utc>) -> Result<(), Duration> {
        match self.lock().get(&account_key(email)) {
            Some(f) if f.until > now => Err(f.until - now),
            _ => Ok(()),
        }
    }

    /// Records a failed attempt (one that was checked).
    pub fn failed(&self, email: &str, now: DateTime<Utc>) {
        let mut accounts = self.lock();
        if accounts.len() >= MAX_ACCOUNTS {
            accounts.retain(|_, f| f.count >= FREE_FAILURES);
        }
        let f = accounts.entry(account_key(email)).or_insert(Failures {
            count: 0,
            last: now,
            until: now,
        });
        f.count = f.count.saturating_add(1);
        f.last = now;
        f.until = now + delay_after(f.count);
    }

    pub fn succeeded(&self, email: &str) {
        self.lock().remove(&account_key(email));
    }

    /// Forgets accounts whose last failure is an hour old.
    pub fn prune(&self, now: DateTime<Utc>) {
        self.lock()
            .retain(|_, f| now - f.last < Duration::hours(1) || f.until > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_and_stop_growing() {
        let d: Vec<i64> = (0..14).map(|n| delay_after(n).num_seconds()).collect();
        assert_eq!(d, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(delay_after(u32::MAX).num_seconds(), MAX_DELAY_SECS);
    }

    #[test]
    fn back_off_per_account() {
        let b = LoginBackoff::default();
        let t0 = chrono::Utc::now();
        for _ in 0..4 {
            b.failed("a@x.vn", t0);
            assert!(b.check("a@x.vn", t0).is_ok());
        }
        b.failed(" A@X.vn ", t0);
        assert_eq!(b.check("a@x.vn", t0), Err(Duration::seconds(1)));
        assert!(
            b.check("other@x.vn", t0).is_ok(),
            "other accounts unaffected"
        );
        let t1 = t0 + Duration::seconds(1);
        assert!(b.check("a@x.vn", t1).is_ok());
        b.failed("a@x.vn", t1);
        assert_eq!(b.check("a@x.vn", t1), Err(Duration::seconds(2)));
        b.succeeded("a@x.vn");
        assert!(b.check("a@x.vn", t1).is_ok());
        b.failed("a@x.vn", t1);
        assert!(b.check("a@x.vn", t1).is_ok(), "the count starts again");
        b.prune(t1 + Duration::hours(2));
        assert!(b.lock().is_empty());
    }
}
