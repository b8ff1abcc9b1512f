//! Integration tests: the real server on a random port, driven over HTTP (and SMTP, IMAP,
//! SMPP, the PBX's AMI and the command line). SQLite always; PostgreSQL too when
//! `PHANANH_TEST_POSTGRES_URL` is set.
//!
//! One binary, one module per area, because each test binary links the whole server:
//! `cargo test -p phananh --test it chat::` runs one area.

#![allow(clippy::unwrap_used)]

mod support;

mod browser;
mod bulk;
mod chat;
mod citizens;
mod cli;
mod console;
mod crash;
mod duplicates;
mod email;
mod field;
mod forwarding;
mod hotline;
mod media;
mod moderation;
mod open311;
mod open_data;
mod photos;
mod questions;
mod rate_limits;
mod reports;
mod satisfaction;
mod security;
mod smpp;
mod sms;
mod telegram;
mod templates;
mod urgent;
mod zalo;
