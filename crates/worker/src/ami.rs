//! Asterisk's Manager Interface (AMI) as the telephone exchange's adapter: phananh logs in,
//! listens, and turns the events of the hotline's calls into call events (ringing,
//! answered by an operator's extension, ended), so the caller pops up on the screen of the
//! operator who picked up. Reconnects when the link drops.
//!
//! Events used: `Newchannel` (a call comes in: its `Uniqueid` and `CallerIDNum`),
//! `AgentConnect` (a queue member answered: `Interface` names their extension) or
//! `DialEnd` with `DialStatus: ANSWER` (a direct dial answered: `DestChannel`), and
//! `Hangup`.

use std::collections::HashMap;
use std::time::Duration;

use phananh_app::App;
use phananh_app::hotline::{CallEvent, HotlineConfig};
use phananh_app::inbox::{self, Delivery};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One AMI message: its `Key: Value` lines.
pub type Message = HashMap<String, String>;

/// Parses one message block (lines up to a blank line).
pub fn parse_block(block: &str) -> Message {
    block
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The extension in a channel name: `PJSIP/101-00000002` → `101`.
pub fn extension_of(channel: &str) -> Option<String> {
    let rest = channel.split_once('/')?.1;
    let ext = rest.split('-').next()?;
    (!ext.is_empty()).then(|| ext.to_string())
}

/// What a call event an AMI event is, if any. `callers` remembers each call's number
/// (events after `Newchannel` do not always repeat it).
pub fn to_call_event(m: &Message, callers: &mut HashMap<String, String>) -> Option<CallEvent> {
    let event = m.get("Event")?.as_str();
    let id = m.get("Uniqueid").or_else(|| m.get("UniqueID"))?.clone();
    let number = |m: &Message| {
        m.get("CallerIDNum")
            .filter(|n| !n.is_empty() && *n != "<unknown>")
            .cloned()
    };
    match event {
        "Newchannel" => {
            let caller = number(m)?;
            callers.insert(id.clone(), caller.clone());
            Some(CallEvent {
                event: "ringing".into(),
                call_id: id,
                caller,
                operator: None,
            })
        }
        "AgentConnect" => {
            let caller = number(m).or_else(|| callers.get(&id).cloned())?;
            let operator = m
                .get("Interface")
                .or_else(|| m.get("DestChannel"))
                .and_then(|c| extension_of(c))
                .or_else(|| m.get("MemberName").cloned());
            Some(CallEvent {
                event: "answered".into(),
                call_id: id,
                caller,
                operator,
            })
        }
        "DialEnd" if m.get("DialStatus").map(String::as_str) == Some("ANSWER") => {
            let caller = number(m).or_else(|| callers.get(&id).cloned())?;
            Some(CallEvent {
                event: "answered".into(),
                call_id: id,
                caller,
                operator: m.get("DestChannel").and_then(|c| extension_of(c)),
            })
        }
        "Hangup" => {
            let caller = callers.remove(&id)?;
            Some(CallEvent {
                event: "ended".into(),
                call_id: id,
                caller,
                operator: None,
            })
        }
        _ => None,
    }
}

/// Connects, logs in and feeds call events to the app until the link drops; then tries
/// again every few seconds.
pub fn start(app: App, cfg: HotlineConfig) {
    tokio::spawn(async move {
        loop {
            match listen(&app, &cfg).await {
                Ok(()) => tracing::warn!("AMI link closed; reconnecting"),
                Err(e) => {
                    let e = crate::redact(&e.to_string(), std::slice::from_ref(&cfg.ami_secret));
                    tracing::warn!(error = %e, "AMI link failed; reconnecting")
                }
            }
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    });
}

async fn listen(app: &App, cfg: &HotlineConfig) -> std::io::Result<()> {
    let stream = TcpStream::connect(&cfg.ami_address).await?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    // The banner ("Asterisk Call Manager/…") comes first, on its own line.
    let _banner = lines.next_line().await?;
    let login = format!(
        "Action: Login\r\nUsername: {}\r\nSecret: {}\r\nEvents: call,agent\r\n\r\n",
        cfg.ami_username, cfg.ami_secret
    );
    write.write_all(login.as_bytes()).await?;
    let mut callers: HashMap<String, String> = HashMap::new();
    let mut block = String::new();
    while let Some(line) = lines.next_line().await? {
        if !line.trim().is_empty() {
            block.push_str(&line);
            block.push('\n');
            continue;
        }
        let m = parse_block(&block);
        block.clear();
        if m.get("Response").map(String::as_str) == Some("Error") {
            let why = m.get("Message").cloned().unwrap_or_default();
            return Err(std::io::Error::other(format!("AMI refused: {why}")));
        }
        if let Some(e) = to_call_event(&m, &mut callers) {
            let call = Delivery::Call {
                event: &e,
                extensions: &cfg.extensions,
            };
            if let Err(err) = inbox::receive(app, call).await {
                tracing::warn!(error = %err.message(), call = %e.call_id, "AMI call event not recorded");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_call_from_ring_to_hangup() {
        let mut callers = HashMap::new();
        let ring = parse_block(
            "Event: Newchannel\nChannel: PJSIP/trunk-00000001\nCallerIDNum: 0912345678\nUniqueid: 1700000000.42\nExten: 1022\n",
        );
        let e = to_call_event(&ring, &mut callers).unwrap();
        assert_eq!(
            (e.event.as_str(), e.caller.as_str()),
            ("ringing", "0912345678")
        );
        let answer = parse_block(
            "Event: AgentConnect\nUniqueid: 1700000000.42\nInterface: PJSIP/101\nMemberName: Lan\n",
        );
        let e = to_call_event(&answer, &mut callers).unwrap();
        assert_eq!(e.event, "answered");
        assert_eq!(e.operator.as_deref(), Some("101"));
        assert_eq!(
            e.caller, "0912345678",
            "the number remembered from Newchannel"
        );
        let dial = parse_block(
            "Event: DialEnd\nUniqueid: 1700000000.42\nDestChannel: PJSIP/102-00000003\nDialStatus: ANSWER\nCallerIDNum: 0912345678\n",
        );
        assert_eq!(
            to_call_event(&dial, &mut callers)
                .unwrap()
                .operator
                .as_deref(),
            Some("102")
        );
        let busy = parse_block("Event: DialEnd\nUniqueid: 1700000000.42\nDialStatus: BUSY\n");
        assert!(to_call_event(&busy, &mut callers).is_none());
        let hang = parse_block("Event: Hangup\nUniqueid: 1700000000.42\nCause: 16\n");
        assert_eq!(to_call_event(&hang, &mut callers).unwrap().event, "ended");
        assert!(to_call_event(&hang, &mut callers).is_none(), "once");
        assert!(
            to_call_event(
                &parse_block("Event: PeerStatus\nPeer: PJSIP/101\n"),
                &mut callers
            )
            .is_none()
        );
    }
}
