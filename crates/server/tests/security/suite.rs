//! The standing security and reliability suite of issue 11 (docs/SECURITY.md,
//! docs/RELIABILITY.md): the role × route matrix, backups under load, kill -9 cycles and the
//! replay storm.

#[path = "matrix.rs"]
mod matrix;

#[path = "backup.rs"]
mod backup;
