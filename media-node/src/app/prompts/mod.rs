//! The default prompts and the prompt player (issue #4, « Default prompts, French
//! and English, made offline »). Sans-IO: no file, socket or clock is touched.
//!
//! What there is to say ([`Prompt`]) is declared here; the catalogue (`catalogue.rs`)
//! and the player (`player.rs`) are the two halves below.
//!
//! # The catalogue
//!
//! `scripts/make-prompts.sh` speaks every default prompt with espeak-ng (French
//! `-v fr`, vouvoiement and Québec wording such as « carré » for `#`; English
//! `-v en-us`) and writes 8 kHz mono G.711 µ-law WAV files to
//! `media-node/prompts/{fr,en}/`. Those files are committed and embedded here with
//! `include_bytes!`, so the binary needs no file at run time and CI needs neither
//! espeak-ng nor sox. Each language is decoded once, on first use, to 16-bit PCM
//! with `teleconf_domain`'s WAV decoder.
//!
//! [`default_prompt`] turns a [`Prompt`] into the [`Clip`]s that say it:
//! PCM borrowed from the catalogue ([`Clip::Default`]), or a marker for a custom
//! prompt the shell fetches from S3 and caches ([`Clip::Custom`]).
//!
//! # Saying a time of day
//!
//! [`Prompt::NotYetOpen`] is the sentence "… access opens at" followed by the
//! opening time, assembled from one file per word (numbers 0 to 59 are whole words,
//! `n00.wav` … `n59.wav`, so "vingt-cinq" or "twenty-five" is one recording):
//!
//! - **French**, 24-hour clock, as said in Québec: *hour* « heures » *minute*,
//!   the minute left out when it is 0: 09:25 → « neuf heures vingt-cinq »,
//!   14:05 → « quatorze heures cinq », 14:00 → « quatorze heures ». Hour 1 is
//!   « une heure », hour 0 « zéro heure » (singular), minute 1 « une ».
//! - **English**, 12-hour clock: *hour* then "o'clock" when the minute is 0,
//!   "oh" *minute* below 10, *minute* otherwise, then "a.m." or "p.m.":
//!   09:25 → "nine twenty-five a.m.", 14:05 → "two oh five p.m.",
//!   00:00 → "twelve o'clock a.m.", 12:30 → "twelve thirty p.m.".
//!
//! Seconds are ignored (the IVR announces whole minutes).
//!
//! # The player
//!
//! A [`Player`] holds a queue of clips and hands out one 20 ms frame (160 samples
//! at 8 kHz) per call to [`Player::next_frame`], encoded in the call's
//! [`Codec`](teleconf_sip::sdp::Codec).
//! A clip may be made of several parts played back to back (a sentence and the
//! words of a time): [`Player::enqueue_parts`]. The shell's loop, once per 20 ms
//! tick:
//!
//! ```text
//! loop {
//!     match player.next_frame(codec) {
//!         Frame::Audio(payload) => { send(payload); break }       // one frame per tick
//!         Frame::ClipFinished => ivr.handle(now, Input::PromptFinished), // no time used: ask again
//!         Frame::Idle => break,                                    // nothing to play
//!     }
//! }
//! ```
//!
//! Enqueue each [`Prompt`] the IVR emits as *one* clip (all its [`Clip`]s resolved
//! to [`Audio`] and passed to [`Player::enqueue_parts`]) so that every
//! [`Frame::ClipFinished`] is exactly one `PromptFinished`. On
//! `Output::StopPrompt` call [`Player::stop`]: the clip playing and every queued
//! one are dropped at once, and no `ClipFinished` is reported for them (the IVR's
//! barge-in contract).

mod catalogue;
mod player;

use chrono::NaiveTime;
use teleconf_domain::{CallerRole, PromptId};

pub use catalogue::{Clip, beep, default_prompt, say_time};
pub use player::{Audio, Frame, Player, encode_frame, silence_frame};

/// Sample rate of every prompt and of G.711: 8 kHz.
pub const SAMPLE_RATE: u32 = 8_000;

/// Samples in one 20 ms frame at 8 kHz; also the bytes of one G.711 RTP payload.
pub const FRAME_SAMPLES: usize = 160;

/// One 20 ms G.711 payload.
pub type Payload = [u8; FRAME_SAMPLES];

/// One 20 ms frame of 16-bit PCM.
pub type PcmFrame = [i16; FRAME_SAMPLES];

/// What to say to a caller: the IVR's, the intro recorder's, the keypad's and the
/// room's words. [`default_prompt`] gives the audio (a custom recording from S3, or
/// the default in the call's language).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    /// « Msg d'accueil général »: the number's custom greeting, or the default.
    Greeting(Option<PromptId>),
    /// "Key the conference number, then #": custom or default.
    AskConferenceNumber(Option<PromptId>),
    /// "Key your access code, then #": custom or default.
    AskAccessCode(Option<PromptId>),
    /// "This conference number is not valid."
    InvalidConferenceNumber,
    /// "This access code is not valid."
    InvalidCode,
    /// "This conference opens at HH:MM" (in the conference's time zone).
    NotYetOpen {
        /// The opening time (five minutes before the start), local.
        opens_at_local: NaiveTime,
    },
    /// "This conference has ended."
    Ended,
    /// "This conference is full."
    Full,
    /// "This conference is locked."
    Locked,
    /// "Too many attempts, try again later."
    TooManyAttempts,
    /// "Goodbye."
    Goodbye,
    /// The conference's intro message.
    Intro(PromptId),
    // In the conference (the keypad and the room's announcements, #5):
    /// "You are muted." (`true`) / "You are unmuted." (`false`).
    Muted(bool),
    /// "All participants are muted." / "… unmuted." (lecture mode on / off).
    AllMuted(bool),
    /// "The conference is now locked." / "… unlocked."
    ConferenceLocked(bool),
    /// "N callers in the conference."
    Callers(u32),
    /// "The last caller to join has been removed." (`true`) / "There is no one
    /// to remove." (`false`).
    CallerRemoved(bool),
    /// "You are the first caller."
    FirstCaller,
    /// "This conference is scheduled to end in five minutes."
    EndsSoon,
    /// The keys this role may use ([`crate::app::keypad`]'s table, spoken).
    KeypadHelp(CallerRole),
    /// "This conference is recorded." (to each caller admitted while it records)
    Recorded,
    /// "Recording is paused." (`true`) / "Recording has resumed." (`false`).
    RecordingPaused(bool),
    /// "Record your message after the beep, then press #." (intro by phone)
    IntroInstructions,
    /// "Press 1 to keep this message, or 2 to record it again."
    IntroChoice,
    /// "Your message has been saved."
    IntroSaved,
    /// Somebody joined: a rising tone.
    EntryTone,
    /// Somebody left: a falling tone.
    ExitTone,
}

/// How many prompts a machine has queued and not yet heard finish; the IVR and
/// the intro recorder both wait on it (each `PromptFinished` counts one down,
/// only the last one ends the wait; a barge-in drops them all).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Awaited(usize);

impl Awaited {
    /// One more prompt queued.
    pub fn queued(&mut self) {
        self.0 += 1;
    }

    /// One finished: whether it was the last one playing.
    pub fn finished(&mut self) -> bool {
        if self.0 == 0 {
            return false;
        }
        self.0 -= 1;
        self.0 == 0
    }

    /// Forgets them all: whether any was playing (a `StopPrompt` is then due).
    pub fn stop(&mut self) -> bool {
        std::mem::take(&mut self.0) > 0
    }
}

#[cfg(test)]
mod tests;
