//! The keypad in the conference (issue #5): `*` then one key. Sans-IO and pure:
//! the [`Keypad`] of a leg turns its keys into [`Command`]s; the node carries them
//! out on the conference ([`crate::app::room`]) and the caller hears the answer.
//!
//! | keys | who | what |
//! |------|-----|------|
//! | `*0` | everyone | the keys this caller may use, spoken |
//! | `*#` | everyone | how many callers are in the conference |
//! | `*6` | participants, moderators | mute / unmute yourself |
//! | `*5` | moderators | mute all participants (lecture mode) / unmute them |
//! | `*7` | moderators | lock the conference (new callers hear « locked ») / unlock it |
//! | `*8` | moderators | pause / resume the recording (a conference that records) |
//! | `*9` | moderators | remove the caller who joined last |
//!
//! A key without `*` does nothing (callers press keys by mistake, and some phones
//! send the code's keys again); `*` followed by nothing for [`ARMED_FOR`] is
//! forgotten; `*` then a key not in the caller's table does nothing.

use std::time::{Duration, Instant};

use teleconf_domain::CallerRole;
use teleconf_sip::rtp::Digit;

/// How long a `*` waits for its key.
pub const ARMED_FOR: Duration = Duration::from_secs(3);

/// What a key sequence asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// `*0`: say the keys of the caller's role.
    Help,
    /// `*#`: say how many callers are in.
    Count,
    /// `*6`: mute or unmute oneself.
    MuteSelf,
    /// `*5`: mute all participants, or unmute them (lecture mode).
    LectureMode,
    /// `*7`: lock or unlock the conference.
    Lock,
    /// `*8`: pause or resume the recording.
    RecordingPause,
    /// `*9`: remove the caller who joined last.
    RemoveLast,
}

/// The command `*` then `key` gives `role`, if any (the table above).
pub fn command(role: CallerRole, key: Digit) -> Option<Command> {
    let heard = matches!(role, CallerRole::Participant | CallerRole::Moderator);
    let moderator = role == CallerRole::Moderator;
    match key {
        Digit::Zero => Some(Command::Help),
        Digit::Pound => Some(Command::Count),
        Digit::Six if heard => Some(Command::MuteSelf),
        Digit::Five if moderator => Some(Command::LectureMode),
        Digit::Seven if moderator => Some(Command::Lock),
        Digit::Eight if moderator => Some(Command::RecordingPause),
        Digit::Nine if moderator => Some(Command::RemoveLast),
        _ => None,
    }
}

/// One leg's keypad.
#[derive(Debug, Clone)]
pub struct Keypad {
    role: CallerRole,
    /// When `*` was pressed, while it waits for its key.
    armed: Option<Instant>,
}

impl Keypad {
    /// The keypad of a caller with `role`.
    pub fn new(role: CallerRole) -> Self {
        Self { role, armed: None }
    }

    /// The caller's role (a moderator may change it, later).
    pub fn role(&self) -> CallerRole {
        self.role
    }

    /// A key: `*` arms, the next key within [`ARMED_FOR`] may give a command.
    pub fn on_digit(&mut self, now: Instant, digit: Digit) -> Option<Command> {
        if digit == Digit::Star {
            self.armed = Some(now);
            return None;
        }
        let armed = self.armed.take()?;
        if now.saturating_duration_since(armed) > ARMED_FOR {
            return None;
        }
        command(self.role, digit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(keypad: &mut Keypad, start: Instant, keys: &str) -> Vec<Command> {
        keys.chars()
            .enumerate()
            .filter_map(|(i, c)| {
                let at = start + Duration::from_millis(300 * i as u64);
                keypad.on_digit(at, Digit::from_char(c).expect("a key"))
            })
            .collect()
    }

    #[test]
    fn a_moderator_has_every_command() {
        let mut keypad = Keypad::new(CallerRole::Moderator);
        let got = keys(&mut keypad, Instant::now(), "*0*#*6*5*7*8*9");
        assert_eq!(
            got,
            [
                Command::Help,
                Command::Count,
                Command::MuteSelf,
                Command::LectureMode,
                Command::Lock,
                Command::RecordingPause,
                Command::RemoveLast
            ]
        );
    }

    #[test]
    fn a_participant_may_mute_itself_count_and_ask_for_help_only() {
        let mut keypad = Keypad::new(CallerRole::Participant);
        let got = keys(&mut keypad, Instant::now(), "*5*7*8*9*6*#*0");
        assert_eq!(got, [Command::MuteSelf, Command::Count, Command::Help]);
    }

    #[test]
    fn a_listener_may_count_and_ask_for_help_only() {
        let mut keypad = Keypad::new(CallerRole::Listener);
        let got = keys(&mut keypad, Instant::now(), "*6*5*#*0");
        assert_eq!(got, [Command::Count, Command::Help]);
    }

    #[test]
    fn keys_without_a_star_do_nothing() {
        let mut keypad = Keypad::new(CallerRole::Moderator);
        assert!(keys(&mut keypad, Instant::now(), "1234#579").is_empty());
    }

    #[test]
    fn a_star_is_forgotten_after_three_seconds() {
        let mut keypad = Keypad::new(CallerRole::Moderator);
        let start = Instant::now();
        assert_eq!(keypad.on_digit(start, Digit::Star), None);
        let late = start + ARMED_FOR + Duration::from_millis(1);
        assert_eq!(keypad.on_digit(late, Digit::Six), None);
        // A second star re-arms; one key per star.
        assert_eq!(keypad.on_digit(late, Digit::Star), None);
        assert_eq!(keypad.on_digit(late, Digit::Star), None);
        assert_eq!(keypad.on_digit(late, Digit::Six), Some(Command::MuteSelf));
        assert_eq!(keypad.on_digit(late, Digit::Six), None);
    }
}
