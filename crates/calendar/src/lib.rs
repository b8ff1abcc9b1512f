//! Vietnamese working-day calendar.
//!
//! * [`lunar`]: the Vietnamese lunisolar calendar (UTC+7), needed because
//!   Tết and Hùng Kings' day are fixed by lunar dates.
//! * [`Calendar`]: public holidays under the Labour Code 2019 (Art. 112),
//!   compensatory days off, admin-maintained extra days off and make-up
//!   working days, and the deadline arithmetic built on them (due dates in
//!   working days, working hours, extension after a paused clock).
//!
//! Everything here is pure: no I/O, no clock reads. Instants are
//! `DateTime<Utc>`; calendar reasoning happens in the city's local time
//! (Asia/Ho_Chi_Minh, a fixed UTC+7).

mod calendar;
pub mod lunar;

pub use calendar::{CITY_OFFSET_SECS, Calendar, Holiday, city_tz, statutory_holidays, to_local};
pub use lunar::LunarDate;
