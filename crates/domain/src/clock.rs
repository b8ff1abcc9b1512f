//! Time as a dependency, so deadlines can be tested across weekends and Tết. `App` holds
//! one clock and hands it to the store, so every time written to the database comes from
//! it.

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The computer's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}
