//! The default prompts and the prompt player (issue #4, « Default prompts, French
//! and English, made offline »). Sans-IO: no file, socket or clock is touched.
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
//! [`default_prompt`] turns an [`ivr::Prompt`](Prompt) into the [`Clip`]s that say it:
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
//! at 8 kHz) per call to [`Player::next_frame`], encoded in the call's [`Codec`].
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

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, LazyLock};

use chrono::{NaiveTime, Timelike};
use teleconf_domain::audio::decode_wav;
use teleconf_domain::{CallerRole, Language, PromptId};

use crate::ivr::Prompt;
use crate::sdp::Codec;

/// Sample rate of every prompt and of G.711: 8 kHz.
pub const SAMPLE_RATE: u32 = 8_000;

/// Samples in one 20 ms frame at 8 kHz; also the bytes of one G.711 RTP payload.
pub const FRAME_SAMPLES: usize = 160;

/// One 20 ms G.711 payload.
pub type Payload = [u8; FRAME_SAMPLES];

/// One 20 ms frame of 16-bit PCM.
pub type PcmFrame = [i16; FRAME_SAMPLES];

// ---------------------------------------------------------------------------------
// Catalogue
// ---------------------------------------------------------------------------------

/// What one embedded file says. Sentences exist in both languages; the time words
/// `Heures`, `Heure`, `Une` are French only, `OClock`, `Oh`, `Am`, `Pm` English only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Word {
    Greeting,
    AskNumber,
    AskCode,
    InvalidNumber,
    InvalidCode,
    NotYetOpen,
    Ended,
    Full,
    Locked,
    TooManyAttempts,
    Goodbye,
    Muted,
    Unmuted,
    AllMuted,
    AllUnmuted,
    ConferenceLocked,
    ConferenceUnlocked,
    /// "… callers in the conference", after a number.
    Callers,
    CallerRemoved,
    NobodyToRemove,
    FirstCaller,
    EndsSoon,
    HelpListener,
    HelpParticipant,
    HelpModerator,
    Recorded,
    IntroInstructions,
    IntroChoice,
    IntroSaved,
    RecordingPaused,
    RecordingResumed,
    /// fr « heures ».
    Heures,
    /// fr « heure » (after zéro and une).
    Heure,
    /// fr « une » (hour 1, minute 1).
    Une,
    /// en "o'clock".
    OClock,
    /// en "oh" (before minutes 1 to 9).
    Oh,
    /// en "a.m.".
    Am,
    /// en "p.m.".
    Pm,
    /// The number 0 to 59.
    Number(u8),
}

/// `(file name, bytes)` of `media-node/prompts/<dir>/<name>.wav`.
macro_rules! wav {
    ($dir:literal, $name:literal) => {
        (
            $name,
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/prompts/",
                $dir,
                "/",
                $name,
                ".wav"
            ))
            .as_slice(),
        )
    };
}

/// One language's files: the sentences both languages have, the words of its
/// own given, then `n00` … `n59`.
macro_rules! bank_files {
    ($dir:literal { $($word:ident => $name:literal),* $(,)? }) => {
        bank_files!(@ $dir {
            Recorded => "recorded",
            IntroInstructions => "intro_instructions",
            IntroChoice => "intro_choice",
            IntroSaved => "intro_saved",
            RecordingPaused => "recording_paused",
            RecordingResumed => "recording_resumed",
            Muted => "muted",
            Unmuted => "unmuted",
            AllMuted => "all_muted",
            AllUnmuted => "all_unmuted",
            ConferenceLocked => "conference_locked",
            ConferenceUnlocked => "conference_unlocked",
            Callers => "callers",
            CallerRemoved => "caller_removed",
            NobodyToRemove => "nobody_to_remove",
            FirstCaller => "first_caller",
            EndsSoon => "ends_soon",
            HelpListener => "help_listener",
            HelpParticipant => "help_participant",
            HelpModerator => "help_moderator",
            Greeting => "greeting",
            AskNumber => "ask_number",
            AskCode => "ask_code",
            InvalidNumber => "invalid_number",
            InvalidCode => "invalid_code",
            NotYetOpen => "not_yet_open",
            Ended => "ended",
            Full => "full",
            Locked => "locked",
            TooManyAttempts => "too_many_attempts",
            Goodbye => "goodbye",
            $($word => $name,)*
        })
    };
    (@ $dir:literal { $($word:ident => $name:literal,)* }) => {
        &[
            $((Word::$word, wav!($dir, $name)),)*
            (Word::Number(0), wav!($dir, "n00")),
            (Word::Number(1), wav!($dir, "n01")),
            (Word::Number(2), wav!($dir, "n02")),
            (Word::Number(3), wav!($dir, "n03")),
            (Word::Number(4), wav!($dir, "n04")),
            (Word::Number(5), wav!($dir, "n05")),
            (Word::Number(6), wav!($dir, "n06")),
            (Word::Number(7), wav!($dir, "n07")),
            (Word::Number(8), wav!($dir, "n08")),
            (Word::Number(9), wav!($dir, "n09")),
            (Word::Number(10), wav!($dir, "n10")),
            (Word::Number(11), wav!($dir, "n11")),
            (Word::Number(12), wav!($dir, "n12")),
            (Word::Number(13), wav!($dir, "n13")),
            (Word::Number(14), wav!($dir, "n14")),
            (Word::Number(15), wav!($dir, "n15")),
            (Word::Number(16), wav!($dir, "n16")),
            (Word::Number(17), wav!($dir, "n17")),
            (Word::Number(18), wav!($dir, "n18")),
            (Word::Number(19), wav!($dir, "n19")),
            (Word::Number(20), wav!($dir, "n20")),
            (Word::Number(21), wav!($dir, "n21")),
            (Word::Number(22), wav!($dir, "n22")),
            (Word::Number(23), wav!($dir, "n23")),
            (Word::Number(24), wav!($dir, "n24")),
            (Word::Number(25), wav!($dir, "n25")),
            (Word::Number(26), wav!($dir, "n26")),
            (Word::Number(27), wav!($dir, "n27")),
            (Word::Number(28), wav!($dir, "n28")),
            (Word::Number(29), wav!($dir, "n29")),
            (Word::Number(30), wav!($dir, "n30")),
            (Word::Number(31), wav!($dir, "n31")),
            (Word::Number(32), wav!($dir, "n32")),
            (Word::Number(33), wav!($dir, "n33")),
            (Word::Number(34), wav!($dir, "n34")),
            (Word::Number(35), wav!($dir, "n35")),
            (Word::Number(36), wav!($dir, "n36")),
            (Word::Number(37), wav!($dir, "n37")),
            (Word::Number(38), wav!($dir, "n38")),
            (Word::Number(39), wav!($dir, "n39")),
            (Word::Number(40), wav!($dir, "n40")),
            (Word::Number(41), wav!($dir, "n41")),
            (Word::Number(42), wav!($dir, "n42")),
            (Word::Number(43), wav!($dir, "n43")),
            (Word::Number(44), wav!($dir, "n44")),
            (Word::Number(45), wav!($dir, "n45")),
            (Word::Number(46), wav!($dir, "n46")),
            (Word::Number(47), wav!($dir, "n47")),
            (Word::Number(48), wav!($dir, "n48")),
            (Word::Number(49), wav!($dir, "n49")),
            (Word::Number(50), wav!($dir, "n50")),
            (Word::Number(51), wav!($dir, "n51")),
            (Word::Number(52), wav!($dir, "n52")),
            (Word::Number(53), wav!($dir, "n53")),
            (Word::Number(54), wav!($dir, "n54")),
            (Word::Number(55), wav!($dir, "n55")),
            (Word::Number(56), wav!($dir, "n56")),
            (Word::Number(57), wav!($dir, "n57")),
            (Word::Number(58), wav!($dir, "n58")),
            (Word::Number(59), wav!($dir, "n59")),
        ]
    };
}

/// An embedded file: what it says, its name (for messages and tests), its bytes.
type Embedded = (Word, (&'static str, &'static [u8]));

static FR_FILES: &[Embedded] = bank_files!("fr" {
    Heures => "heures",
    Heure => "heure",
    Une => "une",
});

static EN_FILES: &[Embedded] = bank_files!("en" {
    OClock => "oclock",
    Oh => "oh",
    Am => "am",
    Pm => "pm",
});

static BEEP_FILE: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/beep.wav"));
static ENTRY_FILE: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/entry.wav"));
static EXIT_FILE: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/exit.wav"));

/// One language's files, decoded.
struct Bank(HashMap<Word, Vec<i16>>);

impl Bank {
    fn decode(files: &'static [Embedded]) -> Self {
        Self(
            files
                .iter()
                .map(|&(word, (name, bytes))| (word, decode_clip(name, bytes)))
                .collect(),
        )
    }

    fn get(&self, word: Word) -> Option<&[i16]> {
        self.0.get(&word).map(Vec::as_slice)
    }
}

/// Decodes an embedded 8 kHz mono WAV file to PCM. The files are committed and
/// checked by the tests, so a failure here is a packaging bug: it is logged and the
/// clip is left empty (silence) rather than bringing the media node down.
fn decode_clip(name: &str, bytes: &[u8]) -> Vec<i16> {
    match decode_wav(bytes) {
        Ok(d) if d.sample_rate == SAMPLE_RATE && d.channels == 1 => d.samples,
        Ok(d) => {
            tracing::error!(
                name,
                sample_rate = d.sample_rate,
                channels = d.channels,
                "default prompt is not 8 kHz mono"
            );
            Vec::new()
        }
        Err(error) => {
            tracing::error!(name, %error, "default prompt does not decode");
            Vec::new()
        }
    }
}

static FR: LazyLock<Bank> = LazyLock::new(|| Bank::decode(FR_FILES));
static EN: LazyLock<Bank> = LazyLock::new(|| Bank::decode(EN_FILES));
static BEEP: LazyLock<Vec<i16>> = LazyLock::new(|| decode_clip("beep", BEEP_FILE));
static ENTRY: LazyLock<Vec<i16>> = LazyLock::new(|| decode_clip("entry", ENTRY_FILE));
static EXIT: LazyLock<Vec<i16>> = LazyLock::new(|| decode_clip("exit", EXIT_FILE));

fn bank(language: Language) -> &'static Bank {
    match language {
        Language::Fr => &FR,
        Language::En => &EN,
    }
}

/// The PCM of `word` in `language`; empty if the language has no such file (never
/// the case for the words this module asks for, which the tests check).
fn clip(language: Language, word: Word) -> &'static [i16] {
    bank(language).get(word).unwrap_or(&[])
}

/// A short beep, 1 kHz for 200 ms, 8 kHz PCM (for later use: joins, leaves, …).
pub fn beep() -> &'static [i16] {
    &BEEP
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

/// One piece of what a prompt says.
#[derive(Clone, PartialEq, Eq)]
pub enum Clip {
    /// A default recording, 8 kHz mono PCM, embedded in the binary.
    Default(&'static [i16]),
    /// A custom recording (greeting, number or code prompt of an access number, or a
    /// conference's intro): the shell fetches it from S3, or from its cache, and
    /// plays it as [`Audio::Shared`].
    Custom(PromptId),
}

impl fmt::Debug for Clip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default(pcm) => write!(f, "Default([{} samples])", pcm.len()),
            Self::Custom(id) => f.debug_tuple("Custom").field(id).finish(),
        }
    }
}

/// What the IVR's `prompt` says in `language`, as the clips to play back to back
/// (at least one, never an empty default clip).
///
/// A prompt with a custom recording (`Greeting(Some(id))`, `AskConferenceNumber(Some(id))`,
/// `AskAccessCode(Some(id))`, `Intro(id)`) is the single [`Clip::Custom`]; without
/// one it is the default sentence. `NotYetOpen` is the sentence then the words of
/// the opening time (see the module doc); every other prompt is one sentence.
pub fn default_prompt(language: Language, prompt: &Prompt) -> Vec<Clip> {
    let sentence = |word| vec![Clip::Default(clip(language, word))];
    let custom_or = |id: &Option<PromptId>, word| match id {
        Some(id) => vec![Clip::Custom(*id)],
        None => sentence(word),
    };
    match prompt {
        Prompt::Greeting(id) => custom_or(id, Word::Greeting),
        Prompt::AskConferenceNumber(id) => custom_or(id, Word::AskNumber),
        Prompt::AskAccessCode(id) => custom_or(id, Word::AskCode),
        Prompt::InvalidConferenceNumber => sentence(Word::InvalidNumber),
        Prompt::InvalidCode => sentence(Word::InvalidCode),
        Prompt::NotYetOpen { opens_at_local } => {
            let mut clips = sentence(Word::NotYetOpen);
            clips.extend(
                say_time(language, *opens_at_local)
                    .into_iter()
                    .map(Clip::Default),
            );
            clips
        }
        Prompt::Ended => sentence(Word::Ended),
        Prompt::Full => sentence(Word::Full),
        Prompt::Locked => sentence(Word::Locked),
        Prompt::TooManyAttempts => sentence(Word::TooManyAttempts),
        Prompt::Goodbye => sentence(Word::Goodbye),
        Prompt::Intro(id) => vec![Clip::Custom(*id)],
        Prompt::Muted(on) => sentence(if *on { Word::Muted } else { Word::Unmuted }),
        Prompt::AllMuted(on) => sentence(if *on {
            Word::AllMuted
        } else {
            Word::AllUnmuted
        }),
        Prompt::ConferenceLocked(on) => sentence(if *on {
            Word::ConferenceLocked
        } else {
            Word::ConferenceUnlocked
        }),
        Prompt::Callers(n) => number_words(*n)
            .into_iter()
            .chain([Word::Callers])
            .map(|word| Clip::Default(clip(language, word)))
            .collect(),
        Prompt::CallerRemoved(done) => sentence(if *done {
            Word::CallerRemoved
        } else {
            Word::NobodyToRemove
        }),
        Prompt::FirstCaller => sentence(Word::FirstCaller),
        Prompt::EndsSoon => sentence(Word::EndsSoon),
        Prompt::KeypadHelp(role) => sentence(match role {
            CallerRole::Listener => Word::HelpListener,
            CallerRole::Participant => Word::HelpParticipant,
            CallerRole::Moderator => Word::HelpModerator,
        }),
        Prompt::Recorded => sentence(Word::Recorded),
        Prompt::IntroInstructions => sentence(Word::IntroInstructions),
        Prompt::IntroChoice => sentence(Word::IntroChoice),
        Prompt::IntroSaved => sentence(Word::IntroSaved),
        Prompt::RecordingPaused(paused) => sentence(if *paused {
            Word::RecordingPaused
        } else {
            Word::RecordingResumed
        }),
        Prompt::EntryTone => vec![Clip::Default(&ENTRY)],
        Prompt::ExitTone => vec![Clip::Default(&EXIT)],
    }
}

/// The words that say `n`: one word up to 59 (the catalogue's numbers), digit by
/// digit above ("one two five").
fn number_words(n: u32) -> Vec<Word> {
    match u8::try_from(n) {
        Ok(n) if n < 60 => vec![Word::Number(n)],
        _ => n
            .to_string()
            .bytes()
            .map(|digit| Word::Number(digit - b'0'))
            .collect(),
    }
}

/// The clips that say the time of day `time` (hours and minutes) in `language`, as
/// described in the module doc: "neuf heures vingt-cinq", "nine twenty-five a.m.".
pub fn say_time(language: Language, time: NaiveTime) -> Vec<&'static [i16]> {
    time_words(language, time)
        .into_iter()
        .map(|word| clip(language, word))
        .collect()
}

/// The words of [`say_time`].
fn time_words(language: Language, time: NaiveTime) -> Vec<Word> {
    // NaiveTime guarantees hour < 24 and minute < 60.
    let (hour, minute) = (time.hour() as u8, time.minute() as u8);
    let mut words = Vec::with_capacity(4);
    match language {
        Language::Fr => {
            match hour {
                0 => words.extend([Word::Number(0), Word::Heure]),
                1 => words.extend([Word::Une, Word::Heure]),
                h => words.extend([Word::Number(h), Word::Heures]),
            }
            match minute {
                0 => {}
                1 => words.push(Word::Une),
                m => words.push(Word::Number(m)),
            }
        }
        Language::En => {
            let h12 = match hour % 12 {
                0 => 12,
                h => h,
            };
            words.push(Word::Number(h12));
            match minute {
                0 => words.push(Word::OClock),
                m @ 1..=9 => words.extend([Word::Oh, Word::Number(m)]),
                m => words.push(Word::Number(m)),
            }
            words.push(if hour < 12 { Word::Am } else { Word::Pm });
        }
    }
    words
}

// ---------------------------------------------------------------------------------
// Player
// ---------------------------------------------------------------------------------

/// 8 kHz mono PCM the [`Player`] can play: a default clip borrowed from the
/// catalogue, or a custom prompt shared with the node's cache.
#[derive(Clone)]
pub enum Audio {
    /// Embedded in the binary ([`Clip::Default`], [`beep`], [`say_time`]).
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use teleconf_domain::audio::{alaw_to_linear, ulaw_to_linear};

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    /// Every variant of `ivr::Prompt`, the custom ones both with and without a recording.
    fn every_prompt() -> Vec<Prompt> {
        let id = PromptId::new();
        vec![
            Prompt::Greeting(None),
            Prompt::Greeting(Some(id)),
            Prompt::AskConferenceNumber(None),
            Prompt::AskConferenceNumber(Some(id)),
            Prompt::AskAccessCode(None),
            Prompt::AskAccessCode(Some(id)),
            Prompt::InvalidConferenceNumber,
            Prompt::InvalidCode,
            Prompt::NotYetOpen {
                opens_at_local: time(9, 25),
            },
            Prompt::NotYetOpen {
                opens_at_local: time(14, 5),
            },
            Prompt::NotYetOpen {
                opens_at_local: time(0, 0),
            },
            Prompt::NotYetOpen {
                opens_at_local: time(1, 1),
            },
            Prompt::NotYetOpen {
                opens_at_local: time(12, 30),
            },
            Prompt::NotYetOpen {
                opens_at_local: time(23, 59),
            },
            Prompt::Ended,
            Prompt::Full,
            Prompt::Locked,
            Prompt::TooManyAttempts,
            Prompt::Goodbye,
            Prompt::Intro(id),
            Prompt::Muted(true),
            Prompt::Muted(false),
            Prompt::AllMuted(true),
            Prompt::AllMuted(false),
            Prompt::ConferenceLocked(true),
            Prompt::ConferenceLocked(false),
            Prompt::Callers(0),
            Prompt::Callers(25),
            Prompt::Callers(2_000),
            Prompt::CallerRemoved(true),
            Prompt::CallerRemoved(false),
            Prompt::FirstCaller,
            Prompt::EndsSoon,
            Prompt::KeypadHelp(CallerRole::Listener),
            Prompt::KeypadHelp(CallerRole::Participant),
            Prompt::KeypadHelp(CallerRole::Moderator),
            Prompt::EntryTone,
            Prompt::ExitTone,
            Prompt::Recorded,
            Prompt::IntroInstructions,
            Prompt::IntroChoice,
            Prompt::IntroSaved,
            Prompt::RecordingPaused(true),
            Prompt::RecordingPaused(false),
        ]
    }

    fn all_files() -> impl Iterator<Item = (String, &'static [u8])> {
        let fr = FR_FILES.iter().map(|(_, (n, b))| (format!("fr/{n}"), *b));
        let en = EN_FILES.iter().map(|(_, (n, b))| (format!("en/{n}"), *b));
        fr.chain(en).chain([
            ("beep".to_owned(), BEEP_FILE),
            ("entry".to_owned(), ENTRY_FILE),
            ("exit".to_owned(), EXIT_FILE),
        ])
    }

    fn pcm(len: usize) -> Vec<i16> {
        // A ramp across most of the 16-bit range, with both signs.
        (0..len)
            .map(|i| (((i * 397) % 60_000) as i32 - 30_000) as i16)
            .collect()
    }

    /// Plays everything queued, returning the audio frames and events in order.
    fn drain(player: &mut Player, codec: Codec) -> Vec<Frame> {
        let mut out = Vec::new();
        loop {
            let frame = player.next_frame(codec);
            out.push(frame);
            if frame == Frame::Idle {
                return out;
            }
        }
    }

    #[test]
    fn every_prompt_has_a_non_empty_french_and_english_rendering() {
        for language in [Language::Fr, Language::En] {
            for prompt in every_prompt() {
                let clips = default_prompt(language, &prompt);
                assert!(!clips.is_empty(), "{language:?} {prompt:?}");
                for clip in &clips {
                    if let Clip::Default(pcm) = clip {
                        assert!(!pcm.is_empty(), "{language:?} {prompt:?}: empty clip");
                    }
                }
            }
        }
    }

    #[test]
    fn a_custom_recording_is_a_custom_marker_and_its_absence_the_default_sentence() {
        let id = PromptId::new();
        for language in [Language::Fr, Language::En] {
            assert_eq!(
                default_prompt(language, &Prompt::Greeting(Some(id))),
                vec![Clip::Custom(id)]
            );
            assert_eq!(
                default_prompt(language, &Prompt::Intro(id)),
                vec![Clip::Custom(id)]
            );
            assert_eq!(
                default_prompt(language, &Prompt::AskAccessCode(None)),
                vec![Clip::Default(clip(language, Word::AskCode))]
            );
        }
    }

    #[test]
    fn french_and_english_differ() {
        assert_ne!(
            default_prompt(Language::Fr, &Prompt::Goodbye),
            default_prompt(Language::En, &Prompt::Goodbye)
        );
    }

    #[test]
    fn french_says_the_time_on_a_24_hour_clock_with_heures() {
        use Word::*;
        let fr = |h, m| time_words(Language::Fr, time(h, m));
        assert_eq!(fr(9, 25), [Number(9), Heures, Number(25)]);
        assert_eq!(fr(14, 5), [Number(14), Heures, Number(5)]);
        assert_eq!(fr(14, 0), [Number(14), Heures]);
        assert_eq!(fr(0, 0), [Number(0), Heure]);
        assert_eq!(fr(1, 1), [Une, Heure, Une]);
        assert_eq!(fr(23, 59), [Number(23), Heures, Number(59)]);
    }

    #[test]
    fn english_says_the_time_on_a_12_hour_clock_with_oclock_oh_and_am_pm() {
        use Word::*;
        let en = |h, m| time_words(Language::En, time(h, m));
        assert_eq!(en(9, 25), [Number(9), Number(25), Am]);
        assert_eq!(en(14, 5), [Number(2), Oh, Number(5), Pm]);
        assert_eq!(en(0, 0), [Number(12), OClock, Am]);
        assert_eq!(en(12, 30), [Number(12), Number(30), Pm]);
        assert_eq!(en(23, 59), [Number(11), Number(59), Pm]);
    }

    #[test]
    fn not_yet_open_is_the_sentence_then_the_time() {
        let clips = default_prompt(
            Language::Fr,
            &Prompt::NotYetOpen {
                opens_at_local: time(9, 25),
            },
        );
        let expected: Vec<Clip> = [
            Word::NotYetOpen,
            Word::Number(9),
            Word::Heures,
            Word::Number(25),
        ]
        .into_iter()
        .map(|w| Clip::Default(clip(Language::Fr, w)))
        .collect();
        assert_eq!(clips, expected);
    }

    #[test]
    fn every_time_of_day_is_said_with_existing_words_in_both_languages() {
        for language in [Language::Fr, Language::En] {
            for h in 0..24 {
                for m in 0..60 {
                    for word in time_words(language, time(h, m)) {
                        assert!(
                            bank(language).get(word).is_some_and(|pcm| !pcm.is_empty()),
                            "{language:?} {h:02}:{m:02}: no {word:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_embedded_wav_decodes_to_8_khz_mono_lasting_0_2_to_8_seconds_but_the_keypad_help() {
        let mut total = 0;
        for (name, bytes) in all_files() {
            total += bytes.len();
            let d = decode_wav(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!((d.sample_rate, d.channels), (8_000, 1), "{name}");
            let ms = d.duration_ms();
            // The moderator's spoken key table is the one long prompt.
            let longest = if name.contains("help_") {
                25_000
            } else {
                8_000
            };
            assert!((200..=longest).contains(&ms), "{name} lasts {ms} ms");
        }
        assert_eq!(all_files().count(), 60 * 2 + (14 + 20) + (15 + 20) + 3);
        assert!(total < 2_500_000, "the prompts take {total} bytes");
    }

    #[test]
    fn the_beep_is_200_ms() {
        assert_eq!(beep().len(), 1_600);
    }

    #[test]
    fn the_player_emits_ceil_samples_over_160_frames_then_clip_finished_then_idle() {
        for len in [0, 1, 159, 160, 161, 320, 1_000] {
            let mut player = Player::new();
            assert!(player.is_idle());
            player.enqueue(pcm(len));
            assert!(!player.is_idle());
            let frames = drain(&mut player, Codec::Pcmu);
            let audio = len.div_ceil(FRAME_SAMPLES);
            assert_eq!(frames.len(), audio + 2, "len {len}");
            assert!(frames[..audio].iter().all(|f| matches!(f, Frame::Audio(_))));
            assert_eq!(
                frames[audio..],
                [Frame::ClipFinished, Frame::Idle],
                "len {len}"
            );
            assert!(player.is_idle());
            assert_eq!(player.next_frame(Codec::Pcmu), Frame::Idle);
        }
    }

    #[test]
    fn the_last_partial_frame_is_padded_with_silence() {
        let mut player = Player::new();
        player.enqueue(vec![1_000i16; 170]);
        let _ = player.next_frame(Codec::Pcma);
        let Frame::Audio(last) = player.next_frame(Codec::Pcma) else {
            panic!("expected a second frame");
        };
        assert!(
            last[..10]
                .iter()
                .all(|&b| b == Codec::Pcma.encode_sample(1_000))
        );
        assert!(last[10..].iter().all(|&b| b == 0xD5));
        assert_eq!(silence_frame(Codec::Pcmu), [0xFF; FRAME_SAMPLES]);
        assert_eq!(silence_frame(Codec::Pcma), [0xD5; FRAME_SAMPLES]);
    }

    #[test]
    fn the_parts_of_a_clip_play_back_to_back_with_one_clip_finished() {
        let (a, b) = (pcm(100), pcm(250));
        let mut player = Player::new();
        player.enqueue_parts([
            Audio::from(a.clone()),
            Audio::from(Vec::new()),
            Audio::from(b.clone()),
        ]);
        player.enqueue(beep());
        let mut played = Vec::new();
        let mut events = Vec::new();
        loop {
            match player.next_pcm_frame() {
                Frame::Audio(frame) => played.extend_from_slice(&frame),
                other => {
                    events.push((other, played.len()));
                    if other == Frame::Idle {
                        break;
                    }
                }
            }
        }
        // 350 samples → 3 frames (480 samples), then the beep's 10 frames.
        assert_eq!(
            events,
            [
                (Frame::ClipFinished, 480),
                (Frame::ClipFinished, 480 + 1_600),
                (Frame::Idle, 2_080)
            ]
        );
        assert_eq!(played[..100], a[..]);
        assert_eq!(played[100..350], b[..]);
        assert!(played[350..480].iter().all(|&s| s == 0));
        assert_eq!(played[480..], beep()[..]);
    }

    #[test]
    fn stop_empties_the_queue_at_once() {
        let mut player = Player::new();
        player.enqueue(pcm(1_000));
        player.enqueue(pcm(1_000));
        player.enqueue_parts(
            default_prompt(Language::En, &Prompt::Goodbye)
                .into_iter()
                .map(|c| match c {
                    Clip::Default(pcm) => Audio::from(pcm),
                    Clip::Custom(_) => unreachable!(),
                }),
        );
        assert!(matches!(player.next_frame(Codec::Pcmu), Frame::Audio(_)));
        assert_eq!(player.pending_clips(), 3);
        player.stop();
        assert!(player.is_idle());
        assert_eq!(player.pending_clips(), 0);
        assert_eq!(player.next_frame(Codec::Pcmu), Frame::Idle);
        // A clip queued after the stop plays from its start.
        player.enqueue(vec![7i16; 10]);
        assert_eq!(drain(&mut player, Codec::Pcmu).len(), 3);
    }

    #[test]
    fn pcmu_and_pcma_frames_decode_back_close_to_the_clip_samples() {
        let prompts: [(&[i16], &str); 3] = [
            (clip(Language::Fr, Word::Greeting), "fr greeting"),
            (clip(Language::En, Word::NotYetOpen), "en not_yet_open"),
            (&pcm(5_000), "ramp"),
        ];
        for (samples, name) in prompts {
            for (codec, decode) in [
                (Codec::Pcmu, ulaw_to_linear as fn(u8) -> i16),
                (Codec::Pcma, alaw_to_linear),
            ] {
                let mut player = Player::new();
                player.enqueue(samples.to_vec());
                let mut decoded = Vec::new();
                while let Frame::Audio(payload) = player.next_frame(codec) {
                    decoded.extend(payload.map(decode));
                }
                assert_eq!(
                    decoded.len(),
                    samples.len().div_ceil(FRAME_SAMPLES) * FRAME_SAMPLES
                );
                for (i, (&want, &got)) in samples.iter().zip(&decoded).enumerate() {
                    // G.711 keeps ~4 significant bits past the segment: ≤ 1/16 relative,
                    // plus the smallest step near zero.
                    let tolerance = i32::from(want).abs() / 16 + 32;
                    let error = (i32::from(want) - i32::from(got)).abs();
                    assert!(
                        error <= tolerance,
                        "{name} {codec:?} sample {i}: {want} came back {got}"
                    );
                }
            }
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Enqueue(usize),
        EnqueueParts(Vec<usize>),
        Stop,
        Next(bool),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0usize..700).prop_map(Op::Enqueue),
            proptest::collection::vec(0usize..400, 0..4).prop_map(Op::EnqueueParts),
            Just(Op::Stop),
            any::<bool>().prop_map(Op::Next),
            any::<bool>().prop_map(Op::Next),
            any::<bool>().prop_map(Op::Next),
        ]
    }

    proptest! {
        #[test]
        fn random_enqueue_stop_and_next_frame_sequences_never_panic(ops in proptest::collection::vec(op(), 0..200)) {
            let mut player = Player::new();
            // Clips not yet reported finished, by the model.
            let mut pending = 0usize;
            for op in ops {
                match op {
                    Op::Enqueue(len) => { player.enqueue(pcm(len)); pending += 1; }
                    Op::EnqueueParts(lens) => {
                        player.enqueue_parts(lens.into_iter().map(|n| Audio::from(pcm(n))));
                        pending += 1;
                    }
                    Op::Stop => { player.stop(); pending = 0; }
                    Op::Next(pcmu) => {
                        let codec = if pcmu { Codec::Pcmu } else { Codec::Pcma };
                        match player.next_frame(codec) {
                            Frame::Audio(_) => prop_assert!(pending > 0),
                            Frame::ClipFinished => { prop_assert!(pending > 0); pending -= 1; }
                            Frame::Idle => prop_assert_eq!(pending, 0),
                        }
                    }
                }
                prop_assert_eq!(player.pending_clips(), pending);
                prop_assert_eq!(player.is_idle(), pending == 0);
            }
        }
    }
}
