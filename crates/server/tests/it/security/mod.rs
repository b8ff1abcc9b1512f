//! The standing security and reliability suite of issue 11 (docs/SECURITY.md,
//! docs/RELIABILITY.md): the role × route matrix, backups under load, the replay storm, and
//! the findings of the review (email, outbound requests, the reverse proxies, the public
//! pages, size and time limits).

mod backup;
mod email;
mod limits;
mod matrix;
mod outbound;
mod proxy;
mod public;
mod replay;
