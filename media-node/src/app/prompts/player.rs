//! The player: a queue of clips handed out as 20 ms frames (see the [module
//! documentation](super)).

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use teleconf_sip::sdp::Codec;

use super::{FRAME_SAMPLES, Payload, PcmFrame};

/// 8 kHz mono PCM the [`Player`] can play: a default clip borrowed from the
/// catalogue, or a custom prompt shared with the node's cache.
#[derive(Clone)]
pub enum Audio {
    /// Embedded in the binary ([`Clip::Default`](super::Clip::Default), [`beep`](super::beep),
    /// [`say_time`](super::say_time)).
    Static(&'static [i16]),
    /// Decoded at run time (a custom prompt from S3), shared without copying.
    Shared(Arc<[i16]>),
}

impl Audio {
    /// The samples.
    pub fn samples(&self) -> &[i16] {
        match self {
            Self::Static(pcm) => pcm,
            Self::Shared(pcm) => pcm,
        }
    }
}

impl fmt::Debug for Audio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Self::Static(_) => "Static",
            Self::Shared(_) => "Shared",
        };
        write!(f, "{kind}([{} samples])", self.samples().len())
    }
}

impl From<&'static [i16]> for Audio {
    fn from(pcm: &'static [i16]) -> Self {
        Self::Static(pcm)
    }
}

impl From<Arc<[i16]>> for Audio {
    fn from(pcm: Arc<[i16]>) -> Self {
        Self::Shared(pcm)
    }
}

impl From<Vec<i16>> for Audio {
    fn from(pcm: Vec<i16>) -> Self {
        Self::Shared(pcm.into())
    }
}

/// What [`Player::next_frame`] (payload `T` = [`Payload`]) or
/// [`Player::next_pcm_frame`] (`T` = [`PcmFrame`]) gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<T = Payload> {
    /// The next 20 ms of the clip playing; send it. The last frame of a clip is
    /// padded with silence when the clip is not a whole number of frames.
    Audio(T),
    /// The clip whose last frame was handed out before this call has finished
    /// (once per clip, including an empty one, which gives no `Audio` at all).
    /// It takes no time: call again in the same tick for the next clip's first
    /// frame (or `Idle`).
    ClipFinished,
    /// Nothing is playing or queued: send nothing (or comfort silence).
    Idle,
}

/// A clip being played: its parts and where the next sample is.
#[derive(Debug)]
struct Playing {
    parts: Vec<Audio>,
    /// Index of the part the next sample comes from.
    part: usize,
    /// Index of the next sample within that part.
    offset: usize,
}

/// Plays a queue of clips as 20 ms frames (see the module doc for the shell's loop).
///
/// Each clip ends with exactly one [`Frame::ClipFinished`], unless [`Player::stop`]
/// drops it first. Frames follow each other without gap within a clip (its parts
/// included); every clip starts on a fresh frame.
#[derive(Debug, Default)]
pub struct Player {
    playing: Option<Playing>,
    queue: VecDeque<Vec<Audio>>,
}

impl Player {
    /// An idle player.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues a clip of one part.
    pub fn enqueue(&mut self, clip: impl Into<Audio>) {
        self.queue.push_back(vec![clip.into()]);
    }

    /// Queues one clip made of `parts` played back to back (a sentence and the
    /// words of a time): one [`Frame::ClipFinished`] after the last part.
    pub fn enqueue_parts(&mut self, parts: impl IntoIterator<Item = Audio>) {
        self.queue.push_back(parts.into_iter().collect());
    }

    /// Barge-in: drops the clip playing and every queued clip at once. No
    /// [`Frame::ClipFinished`] is reported for them; the next frame is
    /// [`Frame::Idle`] unless a clip is queued after this call.
    pub fn stop(&mut self) {
        self.playing = None;
        self.queue.clear();
    }

    /// True when nothing is playing, queued or waiting to be reported finished:
    /// [`Player::next_frame`] would give [`Frame::Idle`].
    pub fn is_idle(&self) -> bool {
        self.playing.is_none() && self.queue.is_empty()
    }

    /// Clips not yet reported finished: the one playing (if any) and those queued.
    pub fn pending_clips(&self) -> usize {
        usize::from(self.playing.is_some()) + self.queue.len()
    }

    /// The next 20 ms, encoded in `codec` (PCMU or PCMA, 160 bytes).
    pub fn next_frame(&mut self, codec: Codec) -> Frame {
        match self.next_pcm_frame() {
            Frame::Audio(pcm) => Frame::Audio(encode_frame(codec, &pcm)),
            Frame::ClipFinished => Frame::ClipFinished,
            Frame::Idle => Frame::Idle,
        }
    }

    /// The next 20 ms as PCM (for a mixer that adds the prompt to other audio);
    /// same sequence as [`Player::next_frame`].
    pub fn next_pcm_frame(&mut self) -> Frame<PcmFrame> {
        let playing = match &mut self.playing {
            Some(playing) => playing,
            None => match self.queue.pop_front() {
                Some(parts) => self.playing.insert(Playing {
                    parts,
                    part: 0,
                    offset: 0,
                }),
                None => return Frame::Idle,
            },
        };
        let mut frame = [0i16; FRAME_SAMPLES];
        let mut filled = 0;
        while filled < FRAME_SAMPLES {
            let Some(part) = playing.parts.get(playing.part) else {
                break;
            };
            let rest = part.samples().get(playing.offset..).unwrap_or(&[]);
            let n = rest.len().min(FRAME_SAMPLES - filled);
            frame[filled..filled + n].copy_from_slice(&rest[..n]);
            filled += n;
            playing.offset += n;
            if n == rest.len() {
                playing.part += 1;
                playing.offset = 0;
            }
        }
        if filled == 0 {
            self.playing = None;
            Frame::ClipFinished
        } else {
            Frame::Audio(frame)
        }
    }
}

/// Encodes 20 ms of PCM in `codec`.
pub fn encode_frame(codec: Codec, pcm: &PcmFrame) -> Payload {
    pcm.map(|sample| codec.encode_sample(sample))
}

/// 20 ms of silence in `codec` (`0xFF` for PCMU, `0xD5` for PCMA).
pub fn silence_frame(codec: Codec) -> Payload {
    encode_frame(codec, &[0; FRAME_SAMPLES])
}
