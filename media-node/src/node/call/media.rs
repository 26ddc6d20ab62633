//! The call's RTP: the caller's packets (only theirs: [`MediaSource`]) into keys,
//! the intro recorder or the room; ours out, from the prompts or the room, to
//! where the caller's come from (symmetric RTP).

use std::net::SocketAddr;
use std::ops::Deref;
use std::time::Instant;

use teleconf_sip::rtp::{self, DropReason, MediaSource, Verdict};

use super::{Call, FRAME_TICKS, Line, Output, Phase, Stage, since};
use crate::app::intro;
use crate::app::ivr;
use crate::app::mixer::FRAME_BYTES;
use crate::app::prompts::Frame;

/// Bytes of the largest RTP packet the node sends: the fixed header and a
/// 20 ms G.711 frame.
const RTP_OUT_MAX: usize = 12 + FRAME_BYTES;

/// One RTP packet to send, held inline: a packet sent allocates nothing on
/// its way from the call to the socket.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RtpOut {
    len: usize,
    bytes: [u8; RTP_OUT_MAX],
}

impl RtpOut {
    /// The RTP packet carrying `payload` (RFC 3550 §5.1 fixed header).
    pub(crate) fn new(
        ssrc: u32,
        seq: u16,
        ts: u32,
        payload_type: u8,
        marker: bool,
        payload: &[u8],
    ) -> Result<Self, rtp::RtpError> {
        let mut out = Self {
            len: 0,
            bytes: [0; RTP_OUT_MAX],
        };
        out.len = rtp::write(&mut out.bytes, ssrc, seq, ts, payload_type, marker, payload)?;
        Ok(out)
    }
}

impl Deref for RtpOut {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl std::fmt::Debug for RtpOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtpOut")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// One frame of the caller's for the room, read in place from its datagram
/// ([`Call::room_audio`]).
#[derive(Debug)]
pub struct RoomAudio<'a> {
    /// The packet's sequence number.
    pub seq: u16,
    /// The packet's timestamp.
    pub ts: u32,
    /// The 20 ms frame, in the call's codec.
    pub payload: &'a [u8; FRAME_BYTES],
}

/// Where the caller's audio goes.
enum Heard {
    /// Into the intro being recorded.
    Intro,
    /// Into the room.
    Room,
}

impl Call {
    /// The caller's frame for the room in `datagram`, when that is all it is:
    /// the call is in a room (its own or a cascade's) and has heard RTP before,
    /// and the packet continues the latched stream with one 20 ms frame of the
    /// negotiated codec. Only the times the call last heard RTP move (its
    /// deadlines later, as [`Call::kept_deadlines`] allows), so the node pushes
    /// the frame to the room without feeding the call, most packets of a
    /// loaded node. `None`: nothing changed, and [`Input::Rtp`](super::Input::Rtp)
    /// judges the packet.
    pub fn room_audio<'a>(
        &mut self,
        now: Instant,
        datagram: &'a [u8],
        from: SocketAddr,
    ) -> Option<RoomAudio<'a>> {
        let Phase::Connected(line) = &mut self.phase else {
            return None;
        };
        let in_room = matches!(line.stage, Stage::Admitted(_) | Stage::Cascade(_));
        if !in_room || line.is_over() || line.last_rtp.is_none() || line.last_heard.is_none() {
            return None;
        }
        let packet = rtp::parse(datagram).ok()?;
        if line.negotiated?.payload_type != packet.payload_type {
            return None;
        }
        let payload = <&[u8; FRAME_BYTES]>::try_from(packet.payload).ok()?;
        if !self.media.continues(now, from, packet.ssrc) {
            return None;
        }
        line.last_rtp = Some(now);
        line.last_heard = Some(now);
        Some(RoomAudio {
            seq: packet.sequence,
            ts: packet.timestamp,
            payload,
        })
    }

    /// Takes a datagram from the caller. True when it was only a frame for the
    /// room on a call that had heard RTP before: nothing changed but the times
    /// it was last heard, so its deadlines can only have moved later
    /// ([`Call::kept_deadlines`]).
    pub(super) fn receive_rtp(&mut self, now: Instant, datagram: &[u8], from: SocketAddr) -> bool {
        let Phase::Connected(line) = &mut self.phase else {
            return false;
        };
        if line.is_over() {
            return false;
        }
        let Ok(packet) = rtp::parse(datagram) else {
            return false;
        };
        if let Verdict::Drop(reason) = self.media.check(now, from, packet.ssrc, packet.sequence) {
            let dropped = self.media.dropped();
            let first = match reason {
                DropReason::Source => dropped.foreign_source == 1,
                DropReason::Ssrc => dropped.foreign_ssrc == 1,
            };
            if first {
                tracing::info!(%from, ssrc = packet.ssrc, reason = reason.as_str(), "call: RTP not from the caller dropped (counted from now on)");
            }
            return false;
        }
        let heard_before = line.last_rtp.is_some() && line.last_heard.is_some();
        line.last_rtp = Some(now);
        line.last_heard = Some(now);
        if let Some(dtmf) = line
            .dtmf
            .as_mut()
            .filter(|dtmf| dtmf.payload_type() == packet.payload_type)
        {
            if let Some(digit) = dtmf.on_packet(now, &packet) {
                self.on_digit(now, digit);
            }
            return false;
        }
        let Some(negotiated) = line
            .negotiated
            .filter(|n| n.payload_type == packet.payload_type)
        else {
            return false;
        };
        let heard = match &line.stage {
            Stage::Intro(recorder, _) if recorder.is_recording() => Heard::Intro,
            Stage::Admitted(_) | Stage::Cascade(_) => Heard::Room,
            _ => return false,
        };
        match heard {
            Heard::Intro => {
                let mut pcm = Vec::with_capacity(packet.payload.len());
                negotiated.codec.decode(packet.payload, &mut pcm);
                self.feed_intro(now, intro::Input::Audio(now, pcm.into()));
                false
            }
            Heard::Room => {
                // The room mixes 20 ms frames only; anything else is heard by no one.
                let Ok(&payload) = <&[u8; FRAME_BYTES]>::try_from(packet.payload) else {
                    tracing::debug!(
                        len = packet.payload.len(),
                        "call: RTP payload not one {FRAME_BYTES}-byte frame, not mixed"
                    );
                    return false;
                };
                self.outputs.push_back(Output::ToRoom {
                    leg: self.settings.leg,
                    seq: packet.sequence,
                    ts: packet.timestamp,
                    payload,
                });
                heard_before
            }
        }
    }

    /// Whether the 20 ms tick would do anything: a prompt is playing or queued
    /// on an answered call. The node feeds the tick only to these calls, so a
    /// node full of callers listening to their rooms does no work per call per tick.
    pub fn wants_tick(&self) -> bool {
        self.line().is_some_and(|line| {
            !matches!(line.stage, Stage::Over(_) | Stage::Ringing { .. })
                && line.negotiated.is_some()
                && !line.speaker.player.is_idle()
        })
    }

    /// The 20 ms tick: the player's next frame while a prompt plays.
    pub(super) fn tick(&mut self, now: Instant) {
        let Some(line) = self.line_mut() else {
            return;
        };
        if matches!(line.stage, Stage::Over(_) | Stage::Ringing { .. }) {
            return;
        }
        let Some(codec) = line.negotiated.map(|n| n.codec) else {
            return;
        };
        loop {
            let Some(line) = self.line_mut() else {
                return;
            };
            match line.speaker.player.next_frame(codec) {
                Frame::Audio(payload) => return self.send_rtp(now, &payload),
                Frame::ClipFinished => {
                    line.speaker.finished += 1;
                    if !self.feed_intro(now, intro::Input::PromptFinished(now)) {
                        self.feed_ivr(now, ivr::Input::PromptFinished(now));
                    }
                }
                Frame::Idle => return,
            }
        }
    }

    /// Sends one 20 ms frame to the caller, if we send it media (not on hold).
    pub(super) fn send_rtp(&mut self, now: Instant, payload: &[u8]) {
        if let Some((to, bytes)) = self.next_packet(now, payload) {
            self.outputs.push_back(Output::SendRtp { to, bytes });
        }
    }

    /// The room's 20 ms for this leg (after [`Output::Join`]), as the packet to
    /// send and where: none out of the room, on hold, or while a prompt has
    /// the line (the conference's intro plays before the room's audio). The
    /// node sends it itself: 50 a second per caller, it goes through no queue
    /// of the call's and changes none of its deadlines.
    pub fn frame_from_room(
        &mut self,
        now: Instant,
        frame: &[u8; FRAME_BYTES],
    ) -> Option<(SocketAddr, RtpOut)> {
        let idle = self
            .line()
            .is_some_and(|line| line.speaker.player.is_idle());
        if !(self.in_room() && idle) {
            return None;
        }
        self.next_packet(now, frame)
    }

    /// Our next RTP packet carrying `payload`, and where it goes; none on hold.
    fn next_packet(&mut self, now: Instant, payload: &[u8]) -> Option<(SocketAddr, RtpOut)> {
        let Phase::Connected(line) = &mut self.phase else {
            return None;
        };
        let (Some(to), Some(negotiated)) = (line.media_destination(&self.media), line.negotiated)
        else {
            return None;
        };
        // The timestamp follows the clock, so gaps between prompts are gaps in time.
        let frames = since(line.caller.started.0, now).num_milliseconds() / 20;
        let ts = (frames as u32).wrapping_mul(FRAME_TICKS);
        // RFC 3551 §4.1: the marker starts a talkspurt (after silence or at the start).
        let marker = line.last_sent_ts != Some(ts.wrapping_sub(FRAME_TICKS));
        line.last_sent_ts = Some(ts);
        line.rtp_seq = line.rtp_seq.wrapping_add(1);
        RtpOut::new(
            self.settings.ssrc,
            line.rtp_seq,
            ts,
            negotiated.payload_type,
            marker,
            payload,
        )
        .map(|bytes| (to, bytes))
        .map_err(|error| tracing::debug!(%error, "call: RTP not sent"))
        .ok()
    }
}

impl Line {
    /// Where our RTP goes: nowhere on hold, else where the caller's comes from, else
    /// the SDP address.
    fn media_destination(&self, media: &MediaSource) -> Option<SocketAddr> {
        let remote = self.negotiated?.remote?;
        Some(media.latched().unwrap_or(SocketAddr::V4(remote)))
    }
}
