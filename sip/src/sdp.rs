//! SDP offer/answer for the media node's audio legs: G.711 and telephone-event.
//!
//! Sans-IO and hand-parsed: a body is a list of `<type>=<value>` lines (RFC 8866 §5,
//! which obsoletes RFC 4566), session-level lines first, then one media section per
//! `m=` line. We read only what an audio conference leg needs and ignore the rest.
//!
//! - **Reading** ([`parse`]): CRLF or bare LF; unknown line types and attributes are
//!   skipped; the first `m=audio` with a non-zero port over `RTP/AVP` is *the* audio
//!   stream (video, a second audio stream, SRTP alternatives are rejected in the answer);
//!   its connection address is the media-level `c=` or else the session-level one (RFC
//!   8866 §5.7), IPv4 unicast only. Payload types keep the offerer's order; the static
//!   types 0 (PCMU) and 8 (PCMA) need no `a=rtpmap` (RFC 3551 §6), any number mapped by
//!   `a=rtpmap` to `PCMU/8000` or `PCMA/8000` counts too (encoding names are
//!   case-insensitive, RFC 4855 §3). `telephone-event/8000` is kept at whatever number
//!   it was offered (RFC 4733 §7.1.1).
//! - **Answering** ([`answer`], RFC 3264 §6): one `m=` line per offered one, in order;
//!   every stream but the audio one rejected with port 0; the audio stream carries the
//!   first offered codec we support, telephone-event at the offered number with
//!   `a=fmtp:<pt> 0-16` (RFC 4733 §2.4.1: DTMF 0-15 and flash), `a=ptime:20`, and the
//!   direction of RFC 3264 §6.1 (`sendonly` → `recvonly`, `recvonly` → `sendonly`,
//!   `inactive` → `inactive`). The `t=` line echoes the offer's (RFC 3264 §6). Hold
//!   (RFC 3264 §8.4) is a re-offer with `a=sendonly`, or, the RFC 2543 way, with
//!   `c=IN IP4 0.0.0.0`: either way we send nothing until the next re-offer.
//! - **Offering** ([`offer`]): for an INVITE without a body our offer goes in the 200
//!   and the answer comes in the ACK (RFC 3261 §13.2.1); [`accept_answer`] reads it.
//!
//! Nothing here panics on any input: every index is checked, every number is parsed
//! with overflow checks, and the proptests at the bottom feed it garbage.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};

/// The packetisation interval we send and ask for, in milliseconds: the mixer's tick.
pub const PTIME_MS: u16 = 20;

/// The payload type of telephone-event in our own offers (the usual dynamic number).
pub const OFFERED_TELEPHONE_EVENT: u8 = 101;

/// The codecs we take, in the order we offer them.
pub const SUPPORTED_CODECS: [Codec; 2] = [Codec::Pcmu, Codec::Pcma];

/// The telephone events we can receive, as written in `a=fmtp` (RFC 4733 §2.4.1:
/// DTMF digits 0-9, `*`, `#`, A-D, then flash).
const TELEPHONE_EVENTS: &str = "0-16";

/// The RTP profile we speak (RFC 3551); `RTP/SAVP`, `RTP/AVPF` and the like are refused.
const RTP_AVP: &str = "RTP/AVP";

/// The clock rate of G.711 and of the telephone events that go with it.
const CLOCK_RATE: u32 = 8000;

/// Longest excerpt of the input quoted in an error message.
const QUOTE_CHARS: usize = 60;

/// Why an SDP body could not be read or answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// The body does not follow the SDP grammar where it matters to us.
    #[error("malformed SDP: {0}")]
    Malformed(String),
    /// No `m=audio` line with a non-zero port: nothing to answer (or, in an answer,
    /// the audio stream was rejected).
    #[error("SDP has no usable audio stream (no m=audio with a non-zero port)")]
    NoAudio,
    /// Audio was offered but in no codec we take; the INVITE gets 488.
    #[error("no common codec: only PCMU or PCMA at 8000 Hz mono are supported")]
    NoCommonCodec,
    /// Valid SDP that this node does not do (IPv6, multicast, SRTP, another SDP version…).
    #[error("unsupported SDP: {0}")]
    Unsupported(String),
}

/// A G.711 codec (ITU-T G.711, RTP payload format in RFC 3551 §4.5.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// µ-law, static payload type 0.
    Pcmu,
    /// A-law, static payload type 8.
    Pcma,
}

impl Codec {
    /// The static payload type of RFC 3551 §6 (0 for PCMU, 8 for PCMA).
    pub const fn payload_type(self) -> u8 {
        match self {
            Self::Pcmu => 0,
            Self::Pcma => 8,
        }
    }

    /// The encoding name in `a=rtpmap` (`PCMU`, `PCMA`).
    pub const fn encoding_name(self) -> &'static str {
        match self {
            Self::Pcmu => "PCMU",
            Self::Pcma => "PCMA",
        }
    }

    /// The RTP clock rate in Hz (8000 for both).
    pub const fn clock_rate(self) -> u32 {
        CLOCK_RATE
    }

    /// The codec of a static payload type with no `a=rtpmap` (RFC 3551 §6).
    const fn from_static(payload_type: u8) -> Option<Self> {
        match payload_type {
            0 => Some(Self::Pcmu),
            8 => Some(Self::Pcma),
            _ => None,
        }
    }

    /// The codec an `a=rtpmap` names, if it is G.711 at 8 kHz mono.
    fn from_rtpmap(map: &RtpMap) -> Option<Self> {
        if map.clock_rate != CLOCK_RATE || map.channels.is_some_and(|c| c != 1) {
            return None;
        }
        SUPPORTED_CODECS
            .into_iter()
            .find(|codec| map.encoding.eq_ignore_ascii_case(codec.encoding_name()))
    }
}

/// A stream's direction (RFC 3264 §5.1, RFC 8866 §6.7), from the point of view of the
/// side whose SDP carries it. `sendrecv` is the default when none is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv`: sends and receives media.
    #[default]
    SendRecv,
    /// `a=sendonly`: sends only (the usual "hold" of RFC 3264 §8.4).
    SendOnly,
    /// `a=recvonly`: receives only.
    RecvOnly,
    /// `a=inactive`: neither.
    Inactive,
}

impl Direction {
    /// Whether this side sends media.
    pub const fn sends(self) -> bool {
        matches!(self, Self::SendRecv | Self::SendOnly)
    }

    /// Whether this side receives media.
    pub const fn receives(self) -> bool {
        matches!(self, Self::SendRecv | Self::RecvOnly)
    }

    /// The direction the other side takes in reply (RFC 3264 §6.1): what one sends, the
    /// other receives.
    pub const fn reversed(self) -> Self {
        match self {
            Self::SendRecv => Self::SendRecv,
            Self::SendOnly => Self::RecvOnly,
            Self::RecvOnly => Self::SendOnly,
            Self::Inactive => Self::Inactive,
        }
    }

    /// The attribute name, as in `a=sendrecv`.
    pub const fn attribute(self) -> &'static str {
        match self {
            Self::SendRecv => "sendrecv",
            Self::SendOnly => "sendonly",
            Self::RecvOnly => "recvonly",
            Self::Inactive => "inactive",
        }
    }

    fn from_attribute(name: &str) -> Option<Self> {
        [
            Self::SendRecv,
            Self::SendOnly,
            Self::RecvOnly,
            Self::Inactive,
        ]
        .into_iter()
        .find(|d| name.eq_ignore_ascii_case(d.attribute()))
    }
}

/// An `a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]` (RFC 8866 §6.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    /// The encoding name as written (`PCMU`, `telephone-event`, `opus`…).
    pub encoding: String,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// The channel count when written (audio only).
    pub channels: Option<u16>,
}

/// One payload type of the audio `m=` line with what the SDP says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadFormat {
    /// The RTP payload type number (0..=127).
    pub payload_type: u8,
    /// Its `a=rtpmap`, if any (static types may have none).
    pub rtpmap: Option<RtpMap>,
    /// Its `a=fmtp` parameters as written, if any (e.g. `0-15` for telephone-event).
    pub fmtp: Option<String>,
}

impl PayloadFormat {
    /// The codec this payload type carries, if it is one we take: by `a=rtpmap` name
    /// (whatever the number) or, without one, by static number 0 or 8.
    pub fn codec(&self) -> Option<Codec> {
        match &self.rtpmap {
            Some(map) => Codec::from_rtpmap(map),
            None => Codec::from_static(self.payload_type),
        }
    }

    /// Whether this is RFC 4733 telephone-event at 8 kHz (the rate of G.711: RFC 4733
    /// §7.1.1 ties the event clock to the audio codec's).
    pub fn is_telephone_event(&self) -> bool {
        self.rtpmap.as_ref().is_some_and(|map| {
            map.encoding.eq_ignore_ascii_case("telephone-event") && map.clock_rate == CLOCK_RATE
        })
    }
}

/// What we need from a remote SDP, offer or answer: its origin and its audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// `o=` session id.
    pub session_id: u64,
    /// `o=` session version (bumped by the peer on every change, RFC 3264 §8).
    pub version: u64,
    /// Where the peer receives audio: media-level `c=`, else session-level. `0.0.0.0`
    /// means "send me nothing" (RFC 3264 §8.4).
    pub addr: Ipv4Addr,
    /// The audio RTP port (never 0: a zero port is not a usable stream).
    pub port: u16,
    /// The audio payload types in the peer's order of preference.
    pub formats: Vec<PayloadFormat>,
    /// The payload type of telephone-event at 8 kHz, whatever its number.
    pub telephone_event: Option<u8>,
    /// `a=ptime`, if given.
    pub ptime_ms: Option<u16>,
    /// The audio stream's direction as the peer wrote it (media-level, else
    /// session-level, else `sendrecv`).
    pub direction: Direction,
    /// The `t=` start and stop, echoed in our answer (RFC 3264 §6).
    timing: (u64, u64),
    /// Every `m=` line in order, so the answer has one per offered stream.
    streams: Vec<MediaLine>,
    /// Which of `streams` is the audio stream described above.
    audio_index: usize,
}

impl Offer {
    /// The first offered format we take, with its payload type number.
    pub fn preferred_codec(&self) -> Option<(Codec, u8)> {
        self.first_codec_of(&SUPPORTED_CODECS)
    }

    /// Whether the peer asks us to send nothing: `c=0.0.0.0`, `a=sendonly` or
    /// `a=inactive` (RFC 3264 §8.4).
    pub fn is_hold(&self) -> bool {
        !self.effective_direction().receives()
    }

    /// The peer's direction once a `0.0.0.0` address is taken into account: such a
    /// peer receives nothing whatever attribute it wrote (RFC 3264 §8.4).
    fn effective_direction(&self) -> Direction {
        if !self.addr.is_unspecified() {
            return self.direction;
        }
        match self.direction {
            Direction::SendRecv | Direction::SendOnly => Direction::SendOnly,
            Direction::RecvOnly | Direction::Inactive => Direction::Inactive,
        }
    }

    fn first_codec_of(&self, accepted: &[Codec]) -> Option<(Codec, u8)> {
        self.formats.iter().find_map(|format| {
            let codec = format.codec()?;
            (usable(format.payload_type) && accepted.contains(&codec))
                .then_some((codec, format.payload_type))
        })
    }
}

/// Our side of the audio stream: where we receive RTP, and our `o=` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalMedia {
    /// Our RTP address (unicast IPv4).
    pub addr: Ipv4Addr,
    /// Our RTP port (non-zero: port 0 would reject the stream).
    pub port: u16,
    /// Our `o=` session id, fixed for the dialog.
    pub session_id: u64,
    /// Our `o=` session version: the caller bumps it each time our SDP changes.
    pub version: u64,
}

/// The outcome of an offer/answer exchange, seen from our side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The codec we send and receive.
    pub codec: Codec,
    /// The payload type number that codec has in this session (0 or 8 unless the
    /// offerer mapped it to a dynamic number, which the answer keeps, RFC 3264 §6.1).
    pub payload_type: u8,
    /// The telephone-event payload type, if the peer does RFC 4733.
    pub telephone_event: Option<u8>,
    /// Where to send RTP; `None` while we must not send (hold, inactive, `0.0.0.0`).
    pub remote: Option<SocketAddrV4>,
    /// The peer's media address as its SDP gives it, whatever the direction: where
    /// its RTP is expected from ([`crate::rtp::MediaSource`]); `None` for `0.0.0.0`.
    pub source: Option<SocketAddrV4>,
    /// Our direction.
    pub direction: Direction,
    /// Our packetisation interval ([`PTIME_MS`]).
    pub ptime_ms: u16,
}

/// One `m=` line as offered, kept to mirror it in the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MediaLine {
    media: String,
    proto: String,
    formats: Vec<String>,
}

/// Reads a remote SDP (offer or answer) down to its audio stream.
///
/// # Errors
/// [`SdpError::Malformed`] when the grammar is broken where it matters (first line not
/// `v=0`, a line not `<type>=<value>`, no `o=`, no `c=` for the audio stream, bad
/// numbers), [`SdpError::NoAudio`] when no `m=audio` has a non-zero port,
/// [`SdpError::Unsupported`] for IPv6, multicast, a non-IPv4-literal address, or audio
/// only over another profile than `RTP/AVP`.
pub fn parse(body: &str) -> Result<Offer, SdpError> {
    let description = Description::read(body)?;
    description.into_offer()
}

/// Answers a remote offer (initial or re-offer) per RFC 3264 §6.
///
/// Returns the answer body (CRLF lines) and what was agreed. A re-offer for hold
/// (`a=sendonly` or `c=0.0.0.0`) is answered `recvonly` with no remote to send to; the
/// next plain offer brings `sendrecv` back.
///
/// # Errors
/// [`SdpError::NoCommonCodec`] when no offered codec is PCMU or PCMA at 8 kHz (answer
/// 488); [`SdpError::Unsupported`] when `local.port` is 0.
pub fn answer(offer: &Offer, local: &LocalMedia) -> Result<(String, Negotiated), SdpError> {
    if local.port == 0 {
        return Err(SdpError::Unsupported(
            "local RTP port 0 would reject the stream".into(),
        ));
    }
    let negotiated = negotiate(offer, &SUPPORTED_CODECS)?;

    let mut body = String::with_capacity(320);
    write_session(&mut body, local, offer.timing);
    if offer.streams.get(offer.audio_index).is_none() {
        // Only reachable for an `Offer` not built by `parse`: answer the audio alone.
        write_audio(&mut body, local, &negotiated);
    }
    for (index, stream) in offer.streams.iter().enumerate() {
        if index == offer.audio_index {
            write_audio(&mut body, local, &negotiated);
        } else {
            // RFC 3264 §6: a rejected stream keeps its line with port 0 and at least one
            // format.
            let formats = if stream.formats.is_empty() {
                "0".to_owned()
            } else {
                stream.formats.join(" ")
            };
            push_line(
                &mut body,
                format_args!("m={} 0 {} {formats}", stream.media, stream.proto),
            );
        }
    }
    Ok((body, negotiated))
}

/// Our offer, for an INVITE that came without SDP (RFC 3261 §13.2.1: it goes in our 200
/// and the answer comes in the ACK): PCMU, PCMA, telephone-event at
/// [`OFFERED_TELEPHONE_EVENT`], ptime 20, `sendrecv`.
pub fn offer(local: &LocalMedia) -> String {
    let mut body = String::with_capacity(320);
    write_session(&mut body, local, (0, 0));
    let te = OFFERED_TELEPHONE_EVENT;
    let mut formats = String::new();
    for codec in SUPPORTED_CODECS {
        let _ = write!(formats, "{} ", codec.payload_type());
    }
    push_line(
        &mut body,
        format_args!("m=audio {} {RTP_AVP} {formats}{te}", local.port),
    );
    for codec in SUPPORTED_CODECS {
        push_line(
            &mut body,
            format_args!(
                "a=rtpmap:{} {}/{CLOCK_RATE}",
                codec.payload_type(),
                codec.encoding_name()
            ),
        );
    }
    push_line(
        &mut body,
        format_args!("a=rtpmap:{te} telephone-event/{CLOCK_RATE}"),
    );
    push_line(&mut body, format_args!("a=fmtp:{te} {TELEPHONE_EVENTS}"));
    push_line(&mut body, format_args!("a=ptime:{PTIME_MS}"));
    push_line(
        &mut body,
        format_args!("a={}", Direction::SendRecv.attribute()),
    );
    body
}

/// Reads the answer to one of our offers (the ACK's body after [`offer`]): the first
/// codec of the answer that we offered, telephone-event if the answer kept it, and our
/// direction opposite the answerer's.
///
/// `offered` lists the codecs our offer carried ([`SUPPORTED_CODECS`] for [`offer`]).
///
/// # Errors
/// [`SdpError::NoCommonCodec`] when the answer names none of them (end the call: the
/// answerer broke RFC 3264 §6.1). An answer that rejected audio (port 0) already
/// failed [`parse`] with [`SdpError::NoAudio`].
pub fn accept_answer(offered: &[Codec], answer: &Offer) -> Result<Negotiated, SdpError> {
    negotiate(answer, offered)
}

/// The agreement with a remote SDP: its first codec among `accepted`, its
/// telephone-event, and our direction opposite its own.
fn negotiate(remote: &Offer, accepted: &[Codec]) -> Result<Negotiated, SdpError> {
    let (codec, payload_type) = remote
        .first_codec_of(accepted)
        .ok_or(SdpError::NoCommonCodec)?;
    let telephone_event = remote
        .telephone_event
        .filter(|&te| usable(te) && te != payload_type);
    let direction = remote.effective_direction().reversed();
    let source = (!remote.addr.is_unspecified() && remote.port != 0)
        .then(|| SocketAddrV4::new(remote.addr, remote.port));
    let remote_addr = source.filter(|_| direction.sends());
    Ok(Negotiated {
        codec,
        payload_type,
        telephone_event,
        remote: remote_addr,
        source,
        direction,
        ptime_ms: PTIME_MS,
    })
}

/// Whether we may send and receive RTP with this payload type: 7 bits, and not
/// 72-76, which RFC 3551 §6 reserves because with the marker bit set they read as
/// RTCP packet types 200-204 (RFC 5761 §4), as our own parser reads them
/// ([`crate::rtp::parse`]).
fn usable(payload_type: u8) -> bool {
    payload_type <= 127 && !(72..=76).contains(&payload_type)
}

/// `v=`, `o=`, `s=`, `c=`, `t=`: the same for our offers and our answers.
fn write_session(body: &mut String, local: &LocalMedia, (start, stop): (u64, u64)) {
    push_line(body, format_args!("v=0"));
    push_line(
        body,
        format_args!(
            "o=- {} {} IN IP4 {}",
            local.session_id, local.version, local.addr
        ),
    );
    push_line(body, format_args!("s=teleconf"));
    push_line(body, format_args!("c=IN IP4 {}", local.addr));
    push_line(body, format_args!("t={start} {stop}"));
}

/// Our accepted audio stream: the chosen codec, telephone-event, ptime, direction.
fn write_audio(body: &mut String, local: &LocalMedia, agreed: &Negotiated) {
    let pt = agreed.payload_type;
    match agreed.telephone_event {
        Some(te) => push_line(
            body,
            format_args!("m=audio {} {RTP_AVP} {pt} {te}", local.port),
        ),
        None => push_line(body, format_args!("m=audio {} {RTP_AVP} {pt}", local.port)),
    }
    push_line(
        body,
        format_args!(
            "a=rtpmap:{pt} {}/{CLOCK_RATE}",
            agreed.codec.encoding_name()
        ),
    );
    if let Some(te) = agreed.telephone_event {
        push_line(
            body,
            format_args!("a=rtpmap:{te} telephone-event/{CLOCK_RATE}"),
        );
        push_line(body, format_args!("a=fmtp:{te} {TELEPHONE_EVENTS}"));
    }
    push_line(body, format_args!("a=ptime:{}", agreed.ptime_ms));
    push_line(body, format_args!("a={}", agreed.direction.attribute()));
}

fn push_line(body: &mut String, line: std::fmt::Arguments<'_>) {
    // Formatting into a String cannot fail.
    let _ = body.write_fmt(line);
    body.push_str("\r\n");
}

/// The lines of a body, as read, before choosing the audio stream.
#[derive(Debug, Default)]
struct Description {
    origin: Option<(u64, u64)>,
    connection: Option<String>,
    timing: Option<(u64, u64)>,
    direction: Option<Direction>,
    ptime_ms: Option<u16>,
    media: Vec<MediaSection>,
}

/// One `m=` section, as read.
#[derive(Debug)]
struct MediaSection {
    media: String,
    port: u16,
    proto: String,
    formats: Vec<String>,
    connection: Option<String>,
    /// `a=rtpmap` by payload type (first one wins).
    rtpmaps: Vec<Option<RtpMap>>,
    /// `a=fmtp` by payload type (first one wins).
    fmtps: Vec<Option<String>>,
    ptime_ms: Option<u16>,
    direction: Option<Direction>,
}

impl Description {
    fn read(body: &str) -> Result<Self, SdpError> {
        let mut description = Self::default();
        let mut seen_version = false;
        for (index, raw) in body.split('\n').enumerate() {
            let number = index + 1;
            let line = raw.trim_end_matches(['\r', ' ', '\t']);
            if line.is_empty() {
                continue;
            }
            let Some((kind, value)) = line.split_once('=') else {
                return Err(malformed(number, "not <type>=<value>", line));
            };
            if kind.len() != 1 || !kind.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(malformed(number, "type is not one lowercase letter", line));
            }
            if !seen_version {
                // RFC 8866 §5: a description starts with `v=`, and only version 0 exists.
                if kind != "v" {
                    return Err(malformed(number, "does not start with v=0", line));
                }
                if value.trim() != "0" {
                    return Err(SdpError::Unsupported(format!(
                        "SDP version {}",
                        quote(value)
                    )));
                }
                seen_version = true;
                continue;
            }
            match kind {
                "o" if description.origin.is_none() && description.media.is_empty() => {
                    description.origin = Some(read_origin(value).ok_or_else(|| {
                        malformed(number, "o= needs <user> <sess-id> <sess-version>", line)
                    })?);
                }
                "t" if description.timing.is_none() && description.media.is_empty() => {
                    description.timing = Some(
                        read_timing(value)
                            .ok_or_else(|| malformed(number, "t= needs <start> <stop>", line))?,
                    );
                }
                "c" => {
                    let slot = match description.media.last_mut() {
                        Some(section) => &mut section.connection,
                        None => &mut description.connection,
                    };
                    // Several c= in one section are for layered multicast; keep the first.
                    if slot.is_none() {
                        *slot = Some(value.to_owned());
                    }
                }
                "m" => {
                    let section = MediaSection::read(value).ok_or_else(|| {
                        malformed(number, "m= needs <media> <port> <proto>", line)
                    })?;
                    description.media.push(section);
                }
                "a" => description.read_attribute(value),
                // s=, i=, u=, e=, p=, b=, z=, k=, r= and unknown types: nothing we need.
                _ => {}
            }
        }
        if !seen_version {
            return Err(SdpError::Malformed("empty body".into()));
        }
        Ok(description)
    }

    fn read_attribute(&mut self, value: &str) {
        let (name, argument) = value.split_once(':').unwrap_or((value, ""));
        let name = name.trim();
        if let Some(direction) = Direction::from_attribute(name) {
            let slot = match self.media.last_mut() {
                Some(section) => &mut section.direction,
                None => &mut self.direction,
            };
            slot.get_or_insert(direction);
            return;
        }
        if name.eq_ignore_ascii_case("ptime") {
            let ptime = read_ptime(argument);
            let slot = match self.media.last_mut() {
                Some(section) => &mut section.ptime_ms,
                None => &mut self.ptime_ms,
            };
            if slot.is_none() {
                *slot = ptime;
            }
            return;
        }
        // rtpmap and fmtp are media-level only (RFC 8866 §6.6, §6.15).
        let Some(section) = self.media.last_mut() else {
            return;
        };
        if name.eq_ignore_ascii_case("rtpmap") {
            if let Some((pt, map)) = read_rtpmap(argument) {
                set_once(&mut section.rtpmaps, pt, map);
            }
        } else if name.eq_ignore_ascii_case("fmtp") {
            if let Some((pt, params)) = argument.trim_start().split_once([' ', '\t']) {
                if let Some(pt) = read_payload_type(pt) {
                    set_once(&mut section.fmtps, pt, params.trim().to_owned());
                }
            }
        }
    }

    fn into_offer(self) -> Result<Offer, SdpError> {
        let (session_id, version) = self
            .origin
            .ok_or_else(|| SdpError::Malformed("no o= line".into()))?;
        let audio_index = self
            .media
            .iter()
            .position(|m| {
                m.media.eq_ignore_ascii_case("audio")
                    && m.port != 0
                    && m.proto.eq_ignore_ascii_case(RTP_AVP)
            })
            .ok_or_else(|| {
                match self
                    .media
                    .iter()
                    .find(|m| m.media.eq_ignore_ascii_case("audio") && m.port != 0)
                {
                    Some(other) => SdpError::Unsupported(format!(
                        "audio over {} (only {RTP_AVP})",
                        quote(&other.proto)
                    )),
                    None => SdpError::NoAudio,
                }
            })?;
        let audio = self.media.get(audio_index).ok_or(SdpError::NoAudio)?;
        let connection = audio
            .connection
            .as_deref()
            .or(self.connection.as_deref())
            .ok_or_else(|| SdpError::Malformed("no c= line for the audio stream".into()))?;
        let addr = read_connection(connection)?;

        let mut seen = [false; 128];
        let mut formats = Vec::new();
        for token in &audio.formats {
            let Some(pt) = read_payload_type(token) else {
                continue;
            };
            let Some(slot) = seen.get_mut(usize::from(pt)) else {
                continue;
            };
            if std::mem::replace(slot, true) {
                continue;
            }
            formats.push(PayloadFormat {
                payload_type: pt,
                rtpmap: get_once(&audio.rtpmaps, pt),
                fmtp: get_once(&audio.fmtps, pt),
            });
        }
        let telephone_event = formats
            .iter()
            .find(|f| f.is_telephone_event())
            .map(|f| f.payload_type);

        Ok(Offer {
            session_id,
            version,
            addr,
            port: audio.port,
            telephone_event,
            ptime_ms: audio.ptime_ms.or(self.ptime_ms),
            direction: audio.direction.or(self.direction).unwrap_or_default(),
            formats,
            timing: self.timing.unwrap_or((0, 0)),
            audio_index,
            streams: self
                .media
                .into_iter()
                .map(|m| MediaLine {
                    media: m.media,
                    proto: m.proto,
                    formats: m.formats,
                })
                .collect(),
        })
    }
}

impl MediaSection {
    /// `m=<media> <port>[/<count>] <proto> <fmt> …` (RFC 8866 §5.14).
    fn read(value: &str) -> Option<Self> {
        let mut tokens = value.split_whitespace();
        let media = tokens.next()?.to_owned();
        let port = tokens.next()?;
        let port = port.split_once('/').map_or(port, |(port, _count)| port);
        let port = read_decimal::<u16>(port)?;
        let proto = tokens.next()?.to_owned();
        Some(Self {
            media,
            port,
            proto,
            formats: tokens.map(str::to_owned).collect(),
            connection: None,
            rtpmaps: Vec::new(),
            fmtps: Vec::new(),
            ptime_ms: None,
            direction: None,
        })
    }
}

/// `o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>`: the two
/// numbers are all we keep.
fn read_origin(value: &str) -> Option<(u64, u64)> {
    let mut tokens = value.split_whitespace();
    let _username = tokens.next()?;
    let id = read_decimal(tokens.next()?)?;
    let version = read_decimal(tokens.next()?)?;
    Some((id, version))
}

/// `t=<start> <stop>` (NTP seconds, 0 0 for unbounded).
fn read_timing(value: &str) -> Option<(u64, u64)> {
    let mut tokens = value.split_whitespace();
    let start = read_decimal(tokens.next()?)?;
    let stop = read_decimal(tokens.next()?)?;
    Some((start, stop))
}

/// `c=IN IP4 <unicast address>` (RFC 8866 §5.7); anything else is refused.
fn read_connection(value: &str) -> Result<Ipv4Addr, SdpError> {
    let mut tokens = value.split_whitespace();
    let (Some(net), Some(family), Some(address)) = (tokens.next(), tokens.next(), tokens.next())
    else {
        return Err(SdpError::Malformed(format!(
            "c= needs <nettype> <addrtype> <address>: {}",
            quote(value)
        )));
    };
    if !net.eq_ignore_ascii_case("IN") {
        return Err(SdpError::Unsupported(format!(
            "network type {}",
            quote(net)
        )));
    }
    if family.eq_ignore_ascii_case("IP6") {
        return Err(SdpError::Unsupported("IPv6 connection address".into()));
    }
    if !family.eq_ignore_ascii_case("IP4") {
        return Err(SdpError::Unsupported(format!(
            "address type {}",
            quote(family)
        )));
    }
    if address.contains('/') {
        return Err(SdpError::Unsupported(format!(
            "multicast connection address {}",
            quote(address)
        )));
    }
    let addr: Ipv4Addr = address.parse().map_err(|_| {
        SdpError::Unsupported(format!(
            "connection address {} is not an IPv4 literal",
            quote(address)
        ))
    })?;
    if addr.is_multicast() {
        return Err(SdpError::Unsupported(format!(
            "multicast connection address {addr}"
        )));
    }
    Ok(addr)
}

/// `<pt> <encoding>/<clock rate>[/<channels>]`.
fn read_rtpmap(argument: &str) -> Option<(u8, RtpMap)> {
    let mut tokens = argument.split_whitespace();
    let pt = read_payload_type(tokens.next()?)?;
    let mut parts = tokens.next()?.split('/');
    let encoding = parts.next().filter(|e| !e.is_empty())?.to_owned();
    let clock_rate = read_decimal(parts.next()?)?;
    let channels = match parts.next() {
        Some(channels) => Some(read_decimal(channels)?),
        None => None,
    };
    Some((
        pt,
        RtpMap {
            encoding,
            clock_rate,
            channels,
        },
    ))
}

/// `a=ptime:<ms>`; some peers write a fraction (`20.0`), which we truncate.
fn read_ptime(argument: &str) -> Option<u16> {
    let argument = argument.trim();
    let whole = argument
        .split_once('.')
        .map_or(argument, |(whole, _)| whole);
    read_decimal::<u16>(whole).filter(|&ms| ms > 0)
}

/// An RTP payload type: 0..=127 (RFC 3550 §5.1, seven bits).
fn read_payload_type(token: &str) -> Option<u8> {
    read_decimal::<u8>(token).filter(|&pt| pt <= 127)
}

/// A plain decimal: digits only (no sign, no spaces), overflow refused.
fn read_decimal<T: std::str::FromStr>(token: &str) -> Option<T> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

/// Stores `value` at `index` unless one is already there.
fn set_once<T>(table: &mut Vec<Option<T>>, index: u8, value: T) {
    let index = usize::from(index);
    if table.len() <= index {
        table.resize_with(index + 1, || None);
    }
    if let Some(slot @ None) = table.get_mut(index) {
        *slot = Some(value);
    }
}

/// What [`set_once`] stored at `index`.
fn get_once<T: Clone>(table: &[Option<T>], index: u8) -> Option<T> {
    table.get(usize::from(index)).cloned().flatten()
}

fn malformed(line_number: usize, what: &str, line: &str) -> SdpError {
    SdpError::Malformed(format!("line {line_number}: {what}: {}", quote(line)))
}

/// A short, single-line excerpt of untrusted input for an error message.
fn quote(text: &str) -> String {
    let mut excerpt: String = text
        .chars()
        .take(QUOTE_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(QUOTE_CHARS).is_some() {
        excerpt.push('…');
    }
    format!("{excerpt:?}")
}

#[cfg(test)]
mod tests;
