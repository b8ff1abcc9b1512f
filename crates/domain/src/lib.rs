//! The rules of phananh, with no I/O: no HTTP, no SQL, no channel knows this crate's
//! insides and this crate knows none of them.
//!
//! - [`code`]: tracking codes a person can read over the phone.
//! - [`model`]: the public report record, channels, statuses, actors.
//! - [`event`]: the append-only history; a report's state is a fold of its events.
//! - [`procedure`]: the common procedure every unit follows (which command is allowed when).
//! - [`routing`]: (field, ward) → responsible unit.
//! - [`access`]: roles and unit scope.
//! - [`clock`]: time as a dependency.
//! - [`profile`]: the city profile (units, fields, wards, rules, calendar) as data.
//! - [`jobs`]: the outbox's jobs, typed, and their constructors.
//! - [`urgent`]: what makes a report urgent, and its deadline in hours.
//! - [`templates`]: response templates per field and step, and their placeholders.

pub mod access;
pub mod clock;
pub mod code;
pub mod duplicates;
pub mod event;
pub mod jobs;
pub mod model;
pub mod moderation;
pub mod open_data;
pub mod performance;
pub mod procedure;
pub mod profile;
pub mod questions;
pub mod routing;
pub mod templates;
pub mod urgent;

pub use phananh_calendar as calendar;
