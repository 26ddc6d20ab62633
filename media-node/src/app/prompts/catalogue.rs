//! The catalogue: the default recordings, embedded, and what says each [`Prompt`]
//! (see the [module documentation](super)).

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use chrono::{NaiveTime, Timelike};
use teleconf_domain::audio::decode_wav;
use teleconf_domain::{CallerRole, Language, PromptId};

use super::{Prompt, SAMPLE_RATE};

/// What one embedded file says. Sentences exist in both languages; the time words
/// `Heures`, `Heure`, `Une` are French only, `OClock`, `Oh`, `Am`, `Pm` English only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Word {
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

pub(super) static FR_FILES: &[Embedded] = bank_files!("fr" {
    Heures => "heures",
    Heure => "heure",
    Une => "une",
});

pub(super) static EN_FILES: &[Embedded] = bank_files!("en" {
    OClock => "oclock",
    Oh => "oh",
    Am => "am",
    Pm => "pm",
});

pub(super) static BEEP_FILE: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/beep.wav"));
pub(super) static ENTRY_FILE: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/entry.wav"));
pub(super) static EXIT_FILE: &[u8] =
    include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/prompts/exit.wav"));

/// One language's files, decoded.
pub(super) struct Bank(HashMap<Word, Vec<i16>>);

impl Bank {
    fn decode(files: &'static [Embedded]) -> Self {
        Self(
            files
                .iter()
                .map(|&(word, (name, bytes))| (word, decode_clip(name, bytes)))
                .collect(),
        )
    }

    pub(super) fn get(&self, word: Word) -> Option<&[i16]> {
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

pub(super) fn bank(language: Language) -> &'static Bank {
    match language {
        Language::Fr => &FR,
        Language::En => &EN,
    }
}

/// The PCM of `word` in `language`; empty if the language has no such file (never
/// the case for the words this module asks for, which the tests check).
pub(super) fn clip(language: Language, word: Word) -> &'static [i16] {
    bank(language).get(word).unwrap_or(&[])
}

/// A short beep, 1 kHz for 200 ms, 8 kHz PCM (for later use: joins, leaves, …).
pub fn beep() -> &'static [i16] {
    &BEEP
}

/// One piece of what a prompt says.
#[derive(Clone, PartialEq, Eq)]
pub enum Clip {
    /// A default recording, 8 kHz mono PCM, embedded in the binary.
    Default(&'static [i16]),
    /// A custom recording (greeting, number or code prompt of an access number, or a
    /// conference's intro): the shell fetches it from S3, or from its cache, and
    /// plays it as [`Audio::Shared`](super::Audio::Shared).
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
pub(super) fn time_words(language: Language, time: NaiveTime) -> Vec<Word> {
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
