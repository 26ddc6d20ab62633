//! The cascade between nodes (issue #16): a conference's room lives on the node
//! that holds its lease (the owner); a node that admits a caller of that
//! conference (a member) joins the owner's room through one SIP dialog per
//! (member node, conference), which the owner's room takes as one talker.
//! This module holds what both ends agree on about the cascade INVITE: its
//! headers and its authentication.
//!
//! The INVITE names the conference ([`CONFERENCE_HEADER`]) and the member node
//! ([`NODE_HEADER`]), and carries [`AUTH_HEADER`]: `<unix seconds>;<hex
//! HMAC-SHA256>` over the conference, the node, the Call-ID and those seconds,
//! keyed by the nodes' shared secret (`TELECONF_CASCADE_SECRET`). The owner
//! takes it only from the nodes' own addresses (`TELECONF_NODE_SOURCES`), with a
//! valid MAC made within [`MAX_SKEW`] of its clock ([`verify`]); anything else is
//! refused (403) and counted.
//!
//! The room's authority travels on the cascade dialog as SIP INFO carrying one
//! [`RoomMessage`] ([`ROOM_CONTENT_TYPE`], JSON), answered 200 each; a
//! retransmitted INFO is answered again and never applied twice (the owner's
//! server transactions absorb it; the member goes by its CSeq). The member
//! reports its callers' joins, leaves and keypad commands; the owner, whose room
//! holds them as remote legs, sends what it decides for them (a prompt or tone,
//! a mute, a removal) and the room's figures (callers, lock) as the cascade
//! comes in and after each change.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use rsip::headers::UntypedHeader;
use rsip::message::HeadersExt;
use rsip::{Header, Request};
use sha2::Sha256;

use serde::{Deserialize, Serialize};
use teleconf_domain::{CallerRole, ConferenceId, LegId, NodeId};

use crate::app::keypad::Command;
use crate::app::prompts::Prompt;

/// The conference a cascade INVITE joins.
pub const CONFERENCE_HEADER: &str = "X-Teleconf-Conference";
/// The member node that opens it.
pub const NODE_HEADER: &str = "X-Teleconf-Node";
/// Its authentication: `<unix seconds>;<hex HMAC-SHA256>`.
pub const AUTH_HEADER: &str = "X-Teleconf-Cascade-Auth";
/// How far from the owner's clock a cascade INVITE may have been signed (the
/// nodes' clocks are NTP-synchronised; this bounds a replay's life).
pub const MAX_SKEW: TimeDelta = TimeDelta::seconds(60);
/// The shortest secret taken: 128 bits.
pub const MIN_SECRET_BYTES: usize = 16;

/// The Content-Type of a [`RoomMessage`] in a cascade dialog's INFO.
pub const ROOM_CONTENT_TYPE: &str = "application/vnd.teleconf.room+json";

/// What the two ends of a cascade tell each other about the room: the
/// member's callers are named by the member's own leg number (`leg`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RoomMessage {
    /// Member → owner: a caller of the member's joined the room.
    Joined {
        /// The member's leg number.
        leg: u64,
        /// Its CDR leg (the portal's commands name it).
        leg_id: LegId,
        /// Its role.
        role: CallerRole,
        /// Whether it is muted now.
        muted: bool,
        /// Its caller ID, for the activity feed.
        caller_id: String,
    },
    /// Member → owner: that caller left.
    Left {
        /// The member's leg number.
        leg: u64,
    },
    /// Member → owner: that caller keyed a command.
    Keypad {
        /// The member's leg number.
        leg: u64,
        /// The command.
        command: Command,
    },
    /// Owner → member: say this to that caller.
    Say {
        /// The member's leg number.
        leg: u64,
        /// What to say.
        prompt: Prompt,
    },
    /// Owner → member: that caller is muted (`true`) or heard again.
    Mute {
        /// The member's leg number.
        leg: u64,
        /// Muted.
        muted: bool,
    },
    /// Owner → member: hang up on that caller (a moderator removed it).
    Remove {
        /// The member's leg number.
        leg: u64,
    },
    /// Owner → member: the whole room's figures, as the cascade comes in and
    /// after each change (the member's IVR counts and checks the lock with
    /// them, its first caller's included).
    Room {
        /// Callers in the room, every node's.
        callers: u32,
        /// Locked by a moderator.
        locked: bool,
    },
}

impl RoomMessage {
    /// The INFO body.
    pub fn encode(&self) -> Vec<u8> {
        // A plain enum of plain fields: serialising cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The message in an INFO body, or what is wrong with it (field named).
    pub fn decode(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }
}

/// The 400 for an INFO whose [`RoomMessage`] cannot be read: `response`
/// with a Warning naming what is wrong (the field).
pub fn unreadable(mut response: rsip::Response, error: &serde_json::Error) -> rsip::Response {
    let text = error.to_string().replace('"', "'");
    response
        .headers
        .push(Header::Warning(rsip::headers::Warning::new(format!(
            "399 teleconf \"{text}\""
        ))));
    response
}

/// The nodes' shared cascade secret (never printed).
#[derive(Clone, PartialEq, Eq)]
pub struct CascadeSecret(Arc<[u8]>);

impl CascadeSecret {
    /// The secret, if at least [`MIN_SECRET_BYTES`] long.
    pub fn new(bytes: &[u8]) -> Option<Self> {
        (bytes.len() >= MIN_SECRET_BYTES).then(|| Self(Arc::from(bytes)))
    }

    fn mac(&self, conference: ConferenceId, node: &NodeId, call_id: &str, at: i64) -> Hmac<Sha256> {
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        // Fields separated by a byte none of them holds.
        for field in [
            conference.to_string().as_bytes(),
            node.as_str().as_bytes(),
            call_id.as_bytes(),
            at.to_string().as_bytes(),
        ] {
            mac.update(field);
            mac.update(b"\n");
        }
        mac
    }
}

impl fmt::Debug for CascadeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CascadeSecret(..)")
    }
}

/// What an authenticated cascade INVITE asks: the member `node` joins
/// `conference`'s room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CascadeInvite {
    /// The conference.
    pub conference: ConferenceId,
    /// The member node.
    pub node: NodeId,
}

/// Why a cascade INVITE was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A header is missing (or the Call-ID).
    #[error("no {0}")]
    Missing(&'static str),
    /// A header cannot be read.
    #[error("unreadable {0}")]
    Unreadable(&'static str),
    /// Signed too far from now (a replay, or a clock adrift).
    #[error("signed {0} s from now")]
    Stale(i64),
    /// The MAC does not match (another secret, or altered).
    #[error("wrong MAC")]
    WrongMac,
}

/// Whether `request` asks to be a cascade (names a conference): it is then
/// [`verify`]ed, never taken as a caller.
pub fn is_cascade(request: &Request) -> bool {
    header(request, CONFERENCE_HEADER).is_some()
}

/// The headers that make a cascade INVITE of `node` into `conference` with
/// this Call-ID, signed at `at`.
pub fn headers(
    secret: &CascadeSecret,
    conference: ConferenceId,
    node: &NodeId,
    call_id: &str,
    at: DateTime<Utc>,
) -> [Header; 3] {
    let seconds = at.timestamp();
    let mac = secret.mac(conference, node, call_id, seconds).finalize();
    let hex: String = mac
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    [
        Header::Other(CONFERENCE_HEADER.into(), conference.to_string()),
        Header::Other(NODE_HEADER.into(), node.to_string()),
        Header::Other(AUTH_HEADER.into(), format!("{seconds};{hex}")),
    ]
}

/// The cascade `request` asks for, if its MAC is right and was made within
/// [`MAX_SKEW`] of `now`.
pub fn verify(
    secret: &CascadeSecret,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<CascadeInvite, Refusal> {
    let read = |name: &'static str| header(request, name).ok_or(Refusal::Missing(name));
    let conference: ConferenceId = read(CONFERENCE_HEADER)?
        .parse()
        .map_err(|_| Refusal::Unreadable(CONFERENCE_HEADER))?;
    let node: NodeId = read(NODE_HEADER)?
        .parse()
        .map_err(|_| Refusal::Unreadable(NODE_HEADER))?;
    let call_id = request
        .call_id_header()
        .map_err(|_| Refusal::Missing("Call-ID"))?
        .value()
        .to_string();
    let (seconds, hex) = read(AUTH_HEADER)?
        .split_once(';')
        .ok_or(Refusal::Unreadable(AUTH_HEADER))?;
    let seconds: i64 = seconds
        .trim()
        .parse()
        .map_err(|_| Refusal::Unreadable(AUTH_HEADER))?;
    let mac = from_hex(hex.trim()).ok_or(Refusal::Unreadable(AUTH_HEADER))?;
    let skew = now.timestamp().saturating_sub(seconds);
    if skew.unsigned_abs() > MAX_SKEW.num_seconds().unsigned_abs() {
        return Err(Refusal::Stale(skew));
    }
    secret
        .mac(conference, &node, &call_id, seconds)
        .verify_slice(&mac)
        .map_err(|_| Refusal::WrongMac)?;
    Ok(CascadeInvite { conference, node })
}

/// The value of the last `name` header of `request`.
fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .filter_map(|header| match header {
            Header::Other(n, value) if n.eq_ignore_ascii_case(name) => Some(value.trim()),
            _ => None,
        })
        .last()
}

fn from_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(byte: u8) -> CascadeSecret {
        CascadeSecret::new(&[byte; 32]).unwrap()
    }

    fn invite(headers: impl IntoIterator<Item = Header>) -> Request {
        let text = "INVITE sip:cascade@10.0.0.7:5060 SIP/2.0\r\n\
            Via: SIP/2.0/UDP 10.0.0.8:5060;branch=z9hG4bK-1\r\n\
            From: <sip:node-b@10.0.0.8>;tag=1\r\n\
            To: <sip:cascade@10.0.0.7>\r\n\
            Call-ID: cascade-1@10.0.0.8\r\n\
            CSeq: 1 INVITE\r\n\
            Content-Length: 0\r\n\r\n";
        let mut request = Request::try_from(text).unwrap();
        for header in headers {
            request.headers.push(header);
        }
        request
    }

    #[test]
    fn a_room_message_goes_through_json_and_a_bad_one_is_an_error_never_a_panic() {
        let messages = [
            RoomMessage::Joined {
                leg: 3,
                leg_id: LegId::new(),
                role: CallerRole::Listener,
                muted: false,
                caller_id: "+33123456789".into(),
            },
            RoomMessage::Keypad {
                leg: 3,
                command: Command::Count,
            },
            RoomMessage::Say {
                leg: 3,
                prompt: Prompt::Callers(4),
            },
            RoomMessage::Room {
                callers: 4,
                locked: true,
            },
        ];
        for message in messages {
            assert_eq!(RoomMessage::decode(&message.encode()).unwrap(), message);
        }
        assert_eq!(
            String::from_utf8(
                RoomMessage::Mute {
                    leg: 1,
                    muted: true
                }
                .encode()
            )
            .unwrap(),
            r#"{"type":"mute","leg":1,"muted":true}"#
        );
        let error = RoomMessage::decode(br#"{"type":"mute","leg":1}"#).unwrap_err();
        assert!(error.to_string().contains("muted"), "{error}");
        assert!(RoomMessage::decode(b"\xff{").is_err());
    }

    #[test]
    fn a_cascade_invite_signed_with_the_secret_is_taken() {
        let now = Utc::now();
        let (conference, node) = (ConferenceId::new(), "node-b".parse().unwrap());
        let request = invite(headers(
            &secret(1),
            conference,
            &node,
            "cascade-1@10.0.0.8",
            now,
        ));
        assert!(is_cascade(&request));
        assert_eq!(
            verify(&secret(1), &request, now + TimeDelta::seconds(3)),
            Ok(CascadeInvite { conference, node })
        );
    }

    #[test]
    fn a_cascade_invite_with_another_secret_another_call_or_an_old_signature_is_refused() {
        let now = Utc::now();
        let (conference, node) = (ConferenceId::new(), "node-b".parse().unwrap());
        let signed = |call_id, at| invite(headers(&secret(1), conference, &node, call_id, at));
        let good = signed("cascade-1@10.0.0.8", now);
        assert_eq!(verify(&secret(2), &good, now), Err(Refusal::WrongMac));
        assert_eq!(
            verify(&secret(1), &signed("another@10.0.0.8", now), now),
            Err(Refusal::WrongMac),
            "a signature is for its own Call-ID"
        );
        assert_eq!(
            verify(&secret(1), &good, now + TimeDelta::seconds(61)),
            Err(Refusal::Stale(61))
        );
        // Another conference named under the same signature.
        let mut altered = good.clone();
        altered.headers.push(Header::Other(
            CONFERENCE_HEADER.into(),
            ConferenceId::new().to_string(),
        ));
        assert_eq!(verify(&secret(1), &altered, now), Err(Refusal::WrongMac));
    }

    #[test]
    fn a_cascade_invite_missing_or_garbling_a_header_is_refused_never_a_panic() {
        let now = Utc::now();
        assert!(!is_cascade(&invite([])));
        let conference = Header::Other(CONFERENCE_HEADER.into(), ConferenceId::new().to_string());
        assert_eq!(
            verify(&secret(1), &invite([conference.clone()]), now),
            Err(Refusal::Missing(NODE_HEADER))
        );
        let node = Header::Other(NODE_HEADER.into(), "node-b".into());
        for auth in ["", "12", "x;00", "12;zz", "12;abc"] {
            let request = invite([
                conference.clone(),
                node.clone(),
                Header::Other(AUTH_HEADER.into(), auth.into()),
            ]);
            assert_eq!(
                verify(&secret(1), &request, now),
                Err(Refusal::Unreadable(AUTH_HEADER)),
                "{auth:?}"
            );
        }
        let bad_node = invite([conference, Header::Other(NODE_HEADER.into(), "a b".into())]);
        assert_eq!(
            verify(&secret(1), &bad_node, now),
            Err(Refusal::Unreadable(NODE_HEADER))
        );
        assert_eq!(CascadeSecret::new(&[0; 15]), None, "too short a secret");
        assert_eq!(format!("{:?}", secret(7)), "CascadeSecret(..)");
    }
}
