//! Properties the fuzz target fuzz/fuzz_targets/email.rs checks at length, on a fixed budget
//! for CI: email → report (parsing and the filing decision) takes any bytes and any
//! message shape without panicking, and a 1 MB message.

#![allow(clippy::unwrap_used)]

use phananh_worker::{MailDecision, read_mail};
use proptest::prelude::*;

fn fields() -> Vec<(String, Vec<String>)> {
    vec![
        (
            "traffic".into(),
            vec!["o ga".into(), "den giao thong".into()],
        ),
        ("drainage".into(), vec!["ngap".into()]),
    ]
}

fn message(from: &str, subject: &str, headers: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: 1022@example.org\r\nSubject: {subject}\r\nMessage-ID: <a@b>\r\n{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes(raw in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let _ = read_mail(&raw, Some("1022@example.org"), &fields());
    }

    #[test]
    fn any_message(from in "\\PC{0,40}", subject in "\\PC{0,80}", headers in prop::sample::select(vec!["", "Auto-Submitted: auto-replied\r\n", "In-Reply-To: <\u{0}>\r\n", "References: <x@y> <PA-2026-000001@phananh>\r\n", "Content-Transfer-Encoding: base64\r\n", "Content-Transfer-Encoding: quoted-printable\r\n"]), body in "\\PC{0,400}") {
        let raw = message(&from, &subject, headers, &body);
        let r = read_mail(raw.as_bytes(), Some("1022@example.org"), &fields());
        prop_assert_eq!(r.sender.clone(), r.sender.to_ascii_lowercase());
    }
}

#[test]
fn one_megabyte_messages() {
    let fields = fields();
    let body = "Ổ gà trên đường, địa chỉ phường Bến Thành. ".repeat(25_000);
    let raw = message("a@example.org", "Ổ gà", "", &body);
    assert!(raw.len() > 1_000_000);
    let r = read_mail(raw.as_bytes(), None, &fields);
    assert_eq!(
        r.decision,
        MailDecision::New {
            field: "traffic".into(),
            address: None
        }
    );
    let lines = "Địa chỉ: 12 Lê Lợi\r\n".repeat(50_000);
    let _ = read_mail(message("a@b.c", "x", "", &lines).as_bytes(), None, &fields);
    let mut multipart = String::from(
        "From: a@b.c\r\nSubject: ảnh\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n",
    );
    while multipart.len() < 1_048_576 {
        multipart.push_str("--b\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/4AAQ\r\n");
    }
    let r = read_mail(multipart.as_bytes(), None, &fields);
    assert!(r.images > 1000);
    let _ = read_mail(&vec![b'\n'; 1_048_576], None, &fields);
}
