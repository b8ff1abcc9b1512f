//! Properties the fuzz targets (fuzz/) check at length, on a fixed budget for CI: the SMS
//! syntax, the Messenger, Viber, Telegram and Zalo event parsers and the Open311 form take any input without panicking, and
//! take a 1 MB input (timings are measured in release by bench/fuzz.sh, not here).

#![allow(clippy::unwrap_used)]

use phananh_channels::conversation::FieldChoice;
use phananh_channels::{Content, messenger, open311, sms, telegram, viber, zalo};
use proptest::prelude::*;

fn fields() -> Vec<FieldChoice> {
    [
        ("traffic", "Giao thông", &["o ga", "den giao thong"][..]),
        ("drainage", "Ngập nước", &["ngap", "cong thoat nuoc"][..]),
        ("lighting", "Chiếu sáng", &["den duong"][..]),
    ]
    .into_iter()
    .map(|(code, name, kw)| FieldChoice {
        code: code.into(),
        name_vi: name.into(),
        name_en: code.into(),
        keywords: kw.iter().map(|k| k.to_string()).collect(),
        questions: vec![],
    })
    .collect()
}

/// A 1 MB text made of `piece` repeated.
fn mb(piece: &str) -> String {
    piece.repeat(1_048_576 / piece.len().max(1) + 1)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn sms_parse_never_panics(text in "\\PC{0,300}") {
        let _ = sms::parse(&text, &fields());
    }

    #[test]
    fn sms_parse_takes_the_syntax(kw in "(OGA|NGAP|DEN|HD|oga|ngập)", d in "\\PC{0,80}", tai in proptest::option::of("\\PC{0,60}")) {
        let text = match &tai { Some(a) => format!("{kw} {d} TAI {a}"), None => format!("{kw} {d}") };
        let _ = sms::parse(&text, &fields());
        let _ = sms::segments(&text);
        let _ = sms::fit(&text, 3);
        let _ = sms::to_gsm(&text);
    }

    #[test]
    fn sms_decoding_never_panics(dcs in any::<u8>(), bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = sms::decode_short_message(dcs, &bytes);
    }

    #[test]
    fn messenger_parse_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = messenger::parse(&body);
    }

    #[test]
    fn messenger_parse_takes_any_json_shape(text in "\\PC{0,100}", ts in any::<i64>(), mid in "\\PC{0,20}") {
        let body = serde_json::json!({"object": "page", "entry": [{"messaging": [
            {"sender": {"id": "1"}, "timestamp": ts, "message": {"mid": mid, "text": text,
             "attachments": [{"type": "location", "payload": {"coordinates": {"lat": ts, "long": text}}}]}},
            {"sender": {"id": 2}, "postback": {"payload": text}},
            {"sender": {"id": "3"}, "message": {"quick_reply": {"payload": mid}}}
        ]}]});
        let _ = messenger::parse(body.to_string().as_bytes());
    }

    #[test]
    fn viber_parse_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = viber::parse(&body);
    }

    #[test]
    fn viber_parse_takes_any_json_shape(event in "(message|subscribed|conversation_started|webhook|seen|\\PC{0,8})", text in "\\PC{0,100}", token in any::<i64>()) {
        let body = serde_json::json!({"event": event, "timestamp": token, "message_token": token,
            "sender": {"id": text, "name": text}, "user": {"id": "u"},
            "message": {"type": "location", "text": text, "location": {"lat": text, "lon": token},
                        "media": text, "tracking_data": text}});
        let _ = viber::parse(body.to_string().as_bytes());
    }

    #[test]
    fn telegram_parse_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = telegram::parse(&body);
    }

    #[test]
    fn telegram_parse_takes_any_json_shape(kind in "(message|my_chat_member|edited_message|\\PC{0,8})", chat in "(private|group|\\PC{0,6})",
            text in "\\PC{0,100}", n in any::<i64>(), f in any::<f64>()) {
        let inner = serde_json::json!({"message_id": n, "date": n,
            "from": {"id": n, "is_bot": text.is_empty()}, "chat": {"id": n, "type": chat},
            "text": text, "caption": text, "photo": [{"file_id": text}, {"file_id": n}],
            "location": {"latitude": f, "longitude": text}, "contact": {"phone_number": text, "first_name": n},
            "new_chat_member": {"status": text}});
        let mut body = serde_json::json!({"update_id": n});
        body[kind.as_str()] = inner;
        let _ = telegram::parse(body.to_string().as_bytes());
    }

    /// Every update kept is keyed by its update_id, and a private chat's user is its chat id.
    #[test]
    fn telegram_updates_are_keyed_by_update_id(id in any::<i64>(), user in any::<i64>(), date in 0i64..4_000_000_000,
            text in "\\PC{1,60}", caption in proptest::option::of("[a-z ]{1,20}")) {
        let mut m = serde_json::json!({"message_id": 1, "date": date, "from": {"id": user, "is_bot": false},
            "chat": {"id": user, "type": "private"}, "photo": [{"file_id": text}]});
        if let Some(c) = &caption {
            m["caption"] = c.clone().into();
        }
        let events = telegram::parse(serde_json::json!({"update_id": id, "message": m}).to_string().as_bytes()).unwrap();
        prop_assert_eq!(events[0].message_id.clone(), id.to_string());
        prop_assert_eq!(events[0].user.clone(), user.to_string());
        prop_assert_eq!(events[0].at_ms, date * 1000);
        prop_assert_eq!(&events[0].content, &Content::Image { url: format!("telegram-file:{text}") });
        prop_assert_eq!(events.len(), 1 + usize::from(caption.is_some_and(|c| !c.trim().is_empty())));
    }

    /// Only the configured secret token passes, whatever is presented.
    #[test]
    fn telegram_secret_token_only_matches_itself(secret in "[A-Za-z0-9_-]{1,64}", given in "\\PC{0,70}") {
        prop_assert!(telegram::verify_secret_token(&secret, Some(&secret)));
        prop_assert_eq!(telegram::verify_secret_token(&secret, Some(&given)), given == secret);
        prop_assert!(!telegram::verify_secret_token(&secret, None));
    }

    #[test]
    fn telegram_send_bodies_fit_the_bot_api(text in "\\PC{0,5000}", titles in proptest::collection::vec("\\PC{0,80}", 0..14)) {
        let choices: Vec<(String, String)> = titles.iter().map(|t| ("P".to_string(), t.clone())).collect();
        let b = telegram::send_body("42", &text, &choices);
        prop_assert!(b["text"].as_str().unwrap().chars().count() <= 4096);
        let buttons: usize = b["reply_markup"]["keyboard"].as_array().map_or(0, |rows| rows.iter().map(|r| r.as_array().unwrap().len()).sum());
        prop_assert_eq!(buttons, choices.len());
    }

    #[test]
    fn zalo_parse_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400), header in proptest::option::of("\\PC{0,80}")) {
        let _ = zalo::parse(&body);
        if let Some(ts) = zalo::signed_timestamp(&body, header.as_deref()) {
            let _ = zalo::is_fresh(&ts, 0, 300);
            prop_assert!(!zalo::verify_signature("A", "S", &body, &ts, header.as_deref()));
        }
    }

    #[test]
    fn zalo_parse_takes_any_json_shape(event in "(user_send_(text|image|location|file|audio|video|sticker|gif)|follow|unfollow|oa_send_text|\\PC{0,12})", text in "\\PC{0,100}", n in any::<i64>(), f in any::<f64>()) {
        let body = serde_json::json!({"event_name": event, "timestamp": text, "sender": {"id": n}, "follower": {"id": text},
            "message": {"msg_id": text, "mid": n, "text": text, "attachments": [{"type": text,
                "payload": {"url": text, "coordinates": {"latitude": text, "longitude": f, "lat": n, "long": text}}}]}});
        if let Ok(zalo::Callback::Inbound(i)) = zalo::parse(body.to_string().as_bytes()) {
            if let phananh_channels::Content::Location { lat, lon } = i.content {
                prop_assert!(lat.abs() <= 90.0 && lon.abs() <= 180.0);
            }
            prop_assert!(!i.message_id.is_empty() && !i.user.is_empty());
        }
    }

    /// Only the exact signature passes: any other header, body, timestamp or key fails.
    #[test]
    fn zalo_signatures_bind_every_part(body in proptest::collection::vec(any::<u8>(), 0..200), ts in "[0-9]{1,13}", flip in any::<usize>()) {
        let sig = zalo::signature("APP", "SECRET", &body, &ts);
        prop_assert!(zalo::verify_signature("APP", "SECRET", &body, &ts, Some(&sig)));
        let with_mac = format!("mac={sig}");
        prop_assert!(zalo::verify_signature("APP", "SECRET", &body, &ts, Some(&with_mac)));
        prop_assert!(!zalo::verify_signature("APP", "SECRET2", &body, &ts, Some(&sig)));
        let later = ts.clone() + "0";
        prop_assert!(!zalo::verify_signature("APP", "SECRET", &body, &later, Some(&sig)));
        let mut other = body.clone();
        if other.is_empty() { other.push(0) } else { let i = flip % other.len(); other[i] ^= 1; }
        prop_assert!(!zalo::verify_signature("APP", "SECRET", &other, &ts, Some(&sig)));
    }

    /// ZNS numbers are 84 and 9 or 10 digits, whatever way they were written.
    #[test]
    fn zns_phones_are_normalised(national in "[1-9][0-9]{8,9}", style in 0usize..4) {
        let written = match style { 0 => format!("0{national}"), 1 => format!("+84{national}"), 2 => format!("84 {national}"), _ => format!("0{}-{}", &national[..3], &national[3..]) };
        prop_assert_eq!(zalo::zns_phone(&written), Some(format!("84{national}")));
    }

    #[test]
    fn open311_form_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = open311::parse_post(&body);
    }

    #[test]
    fn open311_form_keeps_what_it_is_given(key in "[a-z%\\[\\]]{0,12}", v in "\\PC{0,40}", lat in any::<f64>()) {
        let enc: String = form_urlencoded::byte_serialize(v.as_bytes()).collect();
        let body = format!("api_key=k&lat={lat}&long=1&attribute%5B{key}%5D={enc}&{key}={enc}&description={enc}");
        let f = open311::parse_post(body.as_bytes());
        prop_assert_eq!(f.api_key.as_deref(), Some("k"));
        if let Ok(d) = f.details {
            prop_assert_eq!(d.point.map(|p| p.1), Some(1.0));
            prop_assert_eq!(d.description.as_deref(), Some(v.trim()).filter(|t| !t.is_empty()));
        }
    }
}

#[test]
fn one_megabyte_inputs() {
    for text in [
        mb("OGA "),
        mb("ổ gà đường Lê Lợi TAI "),
        mb("\u{1F600}"),
        mb("a"),
    ] {
        let _ = sms::parse(&text, &fields());
        let _ = sms::segments(&text);
    }
    let _ = sms::decode_short_message(8, mb("\u{00e1}").as_bytes());
    let long = mb("x");
    let body = serde_json::json!({"object": "page", "entry": [{"messaging": [
        {"sender": {"id": "1"}, "timestamp": 1, "message": {"mid": "m", "text": long}}]}]});
    assert!(messenger::parse(body.to_string().as_bytes()).is_ok());
    let deep = format!("{}{}", "[".repeat(500_000), "]".repeat(500_000));
    assert!(messenger::parse(deep.as_bytes()).is_err());
    assert!(viber::parse(deep.as_bytes()).is_err());
    assert!(telegram::parse(deep.as_bytes()).is_err());
    let body = serde_json::json!({"update_id": 1, "message": {"message_id": 1, "date": 1,
        "from": {"id": 1, "is_bot": false}, "chat": {"id": 1, "type": "private"}, "text": long}});
    assert_eq!(
        telegram::parse(body.to_string().as_bytes()).unwrap().len(),
        1
    );
    let body = serde_json::json!({"event": "message", "timestamp": 1, "message_token": 5,
        "sender": {"id": "u", "name": "n"}, "message": {"type": "text", "text": long}});
    let _ = viber::parse(body.to_string().as_bytes());
    assert!(zalo::parse(deep.as_bytes()).is_err());
    assert_eq!(zalo::signed_timestamp(deep.as_bytes(), None), None);
    let body = serde_json::json!({"event_name": "user_send_text", "timestamp": "1",
        "sender": {"id": "u"}, "message": {"msg_id": "m", "text": long}});
    assert!(zalo::parse(body.to_string().as_bytes()).is_ok());
    let form = format!("address_string=a&{}", mb("attribute%5Bk%5D%5B%5D=v&"));
    let f = open311::parse_post(form.as_bytes());
    assert_eq!(f.details.unwrap().attributes["k"].len(), 1_048_576 / 25 + 1);
}
