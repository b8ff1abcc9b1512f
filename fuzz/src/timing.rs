//! Times every fuzzed entry point on 1 MB inputs, in release (bench/fuzz.sh prints this).
//! The bar (issue 11): each handles 1 MB in under 100 ms, or refuses it earlier.

use std::time::Instant;

fn one_mb(piece: &str) -> Vec<u8> {
    piece.repeat(1_048_576 / piece.len() + 1).into_bytes()
}

fn main() {
    let city = phananh_fuzz::city();
    let names: String = {
        let mut s = String::new();
        let mut i = 0;
        let words = [
            "Phường Bến Thành", "phường Sài Gòn", "Phường 1, Quận 3", "Tân Định", "xã Bình Chánh",
        ];
        while s.len() < 1_048_576 {
            s.push_str(words[i % words.len()]);
            s.push_str(", ");
            i += 1;
        }
        s
    };
    let _ = &city.names;
    let mail = {
        let mut m = b"From: a@example.org\r\nSubject: O ga\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n".to_vec();
        m.extend(one_mb("Ổ gà trên đường Lê Lợi phường Bến Thành. "));
        m
    };
    let long_text = "x".repeat(1_048_576);
    let messenger = serde_json::json!({"object": "page", "entry": [{"messaging": [
        {"sender": {"id": "1"}, "timestamp": 1, "message": {"mid": "m", "text": long_text}}]}]})
    .to_string()
    .into_bytes();
    let viber = serde_json::json!({"event": "message", "timestamp": 1, "message_token": 5,
        "sender": {"id": "u", "name": "n"}, "message": {"type": "text", "text": long_text}})
    .to_string()
    .into_bytes();
    let telegram = serde_json::json!({"update_id": 1, "message": {"message_id": 1, "date": 1,
        "from": {"id": 1, "is_bot": false}, "chat": {"id": 1, "type": "private"}, "text": long_text}})
    .to_string()
    .into_bytes();
    let zalo = serde_json::json!({"event_name": "user_send_text", "timestamp": "1",
        "sender": {"id": "u"}, "message": {"msg_id": "m", "text": long_text}})
    .to_string()
    .into_bytes();
    let cases: Vec<(&str, Vec<u8>, fn(&[u8]))> = vec![
        ("sms (1 MB of keywords)", one_mb("OGA ngap TAI "), phananh_fuzz::sms),
        ("ward names (1 MB of ward names)", names.into_bytes(), phananh_fuzz::ward_names),
        ("ward names (1 MB of 'phường ')", one_mb("phường "), phananh_fuzz::ward_names),
        ("messenger (1 MB text)", messenger, phananh_fuzz::messenger),
        ("viber (1 MB text)", viber, phananh_fuzz::viber),
        ("telegram (1 MB text)", telegram, phananh_fuzz::telegram),
        ("zalo (1 MB text)", zalo, phananh_fuzz::zalo),
        ("email (1 MB body)", mail, phananh_fuzz::email),
        ("open311 form (1 MB of attributes)", [b"address_string=a&".to_vec(), one_mb("attribute%5Bk%5D%5B%5D=v&")].concat(), phananh_fuzz::open311_form),
        ("photo (1 MB garbage after a JPEG header)", {
            let mut v = b"\xff\xd8\xff\xe0".to_vec();
            v.extend(one_mb("\x01\x02\x03"));
            v
        }, phananh_fuzz::photo),
    ];
    for (name, input, f) in cases {
        let start = Instant::now();
        f(&input);
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        println!(
            "| {name} | {} | {ms:.1} ms | {} |",
            input.len(),
            if ms < 100.0 { "ok" } else { "OVER 100 ms" }
        );
    }
}
