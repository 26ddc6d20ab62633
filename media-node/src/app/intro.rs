//! Recording a conference's intro message by phone (issue #5), sans-IO: the
//! caller keyed a one-time intro code at the IVR's number prompt; this machine
//! takes over the call from there.
//!
//! ```text
//! "record after the beep, then #" ─> beep ─> Recording ──(# or 2 min)──> plays it back
//!         ▲                                                                   │
//!         └──────────── 2: record again ──── "1 to keep, 2 to record again" <─┘
//!                                                  │ 1
//!                                                  ▼
//!                                Keep(audio) ─> "saved" ─> "goodbye" ─> Hangup
//! ```
//!
//! Nothing recorded (`#` at once) records again. No answer to the choice within
//! [`CHOICE_TIMEOUT`] asks once more, then says goodbye without keeping. The
//! caller's audio arrives as decoded 20 ms frames ([`Input::Audio`]) only while
//! recording.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use teleconf_sip::rtp::Digit;

use crate::app::prompts::{Awaited, Prompt};

/// The longest intro recorded.
pub const MAX_LENGTH: Duration = Duration::from_secs(120);
/// Samples per second (G.711).
const RATE: usize = 8_000;
/// How long the choice after playback waits for a key.
pub const CHOICE_TIMEOUT: Duration = Duration::from_secs(10);

/// What happens to the recorder.
#[derive(Debug, Clone)]
pub enum Input {
    /// A key.
    Digit(Instant, Digit),
    /// 20 ms of the caller's audio, 8 kHz.
    Audio(Instant, Arc<[i16]>),
    /// The clip played last has ended.
    PromptFinished(Instant),
    /// [`IntroRecorder::poll_timeout`] has come.
    Timeout(Instant),
}

/// What the recorder asks of the call.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Say this.
    Play(Prompt),
    /// Play the 1 kHz beep.
    Beep,
    /// Play back this audio.
    PlayAudio(Arc<[i16]>),
    /// Stop what plays (a key cut it short).
    StopPrompt,
    /// Store this audio as the conference's intro.
    Keep(Arc<[i16]>),
    /// End the call.
    Hangup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The instructions and the beep play.
    Instructions,
    /// The caller speaks.
    Recording,
    /// Their message, then the choice, play.
    PlayingBack,
    /// Waiting for 1 or 2.
    Choosing,
    /// Last words, then the hang-up.
    Ending,
    Done,
}

/// The recorder of one call.
#[derive(Debug)]
pub struct IntroRecorder {
    state: State,
    outputs: VecDeque<Output>,
    audio: Vec<i16>,
    /// Clips queued and not yet finished.
    playing: Awaited,
    deadline: Option<Instant>,
    /// The choice was asked again already.
    asked_again: bool,
}

impl IntroRecorder {
    /// Starts: the instructions, then the beep.
    pub fn start() -> Self {
        let mut recorder = Self {
            state: State::Done,
            outputs: VecDeque::new(),
            audio: Vec::new(),
            playing: Awaited::default(),
            deadline: None,
            asked_again: false,
        };
        recorder.instruct();
        recorder
    }

    /// Feeds one input.
    pub fn handle_input(&mut self, input: Input) {
        match input {
            Input::Digit(_, digit) => self.on_digit(digit),
            Input::Audio(_, frame) => {
                if self.state == State::Recording {
                    let room = MAX_LENGTH.as_secs() as usize * RATE - self.audio.len();
                    self.audio
                        .extend_from_slice(&frame[..frame.len().min(room)]);
                }
            }
            Input::PromptFinished(now) => self.on_prompt_finished(now),
            Input::Timeout(now) => {
                if self.deadline.is_some_and(|at| at <= now) {
                    self.deadline = None;
                    self.on_timeout();
                }
            }
        }
    }

    /// The next thing to do, until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When to feed [`Input::Timeout`].
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Recording: the caller's audio is wanted.
    pub fn is_recording(&self) -> bool {
        self.state == State::Recording
    }

    /// Hung up.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn play(&mut self, output: Output) {
        self.playing.queued();
        self.outputs.push_back(output);
    }

    fn instruct(&mut self) {
        self.audio.clear();
        self.state = State::Instructions;
        self.deadline = None;
        self.play(Output::Play(Prompt::IntroInstructions));
        self.play(Output::Beep);
    }

    fn on_prompt_finished(&mut self, now: Instant) {
        if !self.playing.finished() {
            return;
        }
        match self.state {
            State::Instructions => {
                self.state = State::Recording;
                self.deadline = Some(now + MAX_LENGTH);
            }
            State::PlayingBack => {
                self.state = State::Choosing;
                self.deadline = Some(now + CHOICE_TIMEOUT);
            }
            State::Ending => {
                self.state = State::Done;
                self.deadline = None;
                self.outputs.push_back(Output::Hangup);
            }
            State::Recording | State::Choosing | State::Done => {}
        }
    }

    fn on_digit(&mut self, digit: Digit) {
        match (self.state, digit) {
            (State::Recording, Digit::Pound) => self.stop_recording(),
            (State::PlayingBack | State::Choosing, Digit::One) => self.keep(),
            (State::PlayingBack | State::Choosing, Digit::Two) => {
                self.interrupt();
                self.instruct();
            }
            _ => {}
        }
    }

    fn on_timeout(&mut self) {
        match self.state {
            State::Recording => self.stop_recording(),
            State::Choosing if !self.asked_again => {
                self.asked_again = true;
                self.state = State::PlayingBack;
                self.play(Output::Play(Prompt::IntroChoice));
            }
            State::Choosing => self.end(&[]),
            _ => {}
        }
    }

    fn stop_recording(&mut self) {
        self.deadline = None;
        if self.audio.is_empty() {
            return self.instruct();
        }
        self.state = State::PlayingBack;
        self.asked_again = false;
        let audio: Arc<[i16]> = self.audio.as_slice().into();
        self.play(Output::PlayAudio(audio));
        self.play(Output::Play(Prompt::IntroChoice));
    }

    fn keep(&mut self) {
        self.interrupt();
        let audio: Arc<[i16]> = std::mem::take(&mut self.audio).into();
        self.outputs.push_back(Output::Keep(audio));
        self.end(&[Prompt::IntroSaved]);
    }

    fn interrupt(&mut self) {
        if self.playing.stop() {
            self.outputs.push_back(Output::StopPrompt);
        }
    }

    fn end(&mut self, prompts: &[Prompt]) {
        self.state = State::Ending;
        self.deadline = None;
        for prompt in prompts {
            self.play(Output::Play(prompt.clone()));
        }
        self.play(Output::Play(Prompt::Goodbye));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Phone {
        recorder: IntroRecorder,
        now: Instant,
        log: Vec<Output>,
        playing: usize,
    }

    impl Phone {
        fn new() -> Self {
            let mut phone = Self {
                recorder: IntroRecorder::start(),
                now: Instant::now(),
                log: Vec::new(),
                playing: 0,
            };
            phone.drain();
            phone
        }

        fn drain(&mut self) {
            while let Some(out) = self.recorder.poll_output() {
                match &out {
                    Output::Play(_) | Output::Beep | Output::PlayAudio(_) => self.playing += 1,
                    Output::StopPrompt => self.playing = 0,
                    _ => {}
                }
                self.log.push(out);
            }
        }

        fn feed(&mut self, input: Input) {
            self.recorder.handle_input(input);
            self.drain();
        }

        fn play_out(&mut self) {
            while self.playing > 0 {
                self.playing -= 1;
                self.now += Duration::from_secs(2);
                self.feed(Input::PromptFinished(self.now));
            }
        }

        fn speak(&mut self, frames: usize) {
            for i in 0..frames {
                self.now += Duration::from_millis(20);
                let frame: Arc<[i16]> = vec![i as i16; 160].into();
                self.feed(Input::Audio(self.now, frame));
            }
        }

        fn key(&mut self, c: char) {
            let digit = Digit::from_char(c).expect("a key");
            self.feed(Input::Digit(self.now, digit));
        }

        fn kept(&self) -> Option<&Arc<[i16]>> {
            self.log.iter().find_map(|o| match o {
                Output::Keep(audio) => Some(audio),
                _ => None,
            })
        }
    }

    #[test]
    fn a_message_recorded_after_the_beep_is_played_back_and_kept_with_1() {
        let mut phone = Phone::new();
        assert_eq!(
            phone.log[..2],
            [Output::Play(Prompt::IntroInstructions), Output::Beep]
        );
        phone.speak(10); // Before the beep ends: not recorded.
        phone.play_out();
        assert!(phone.recorder.is_recording());
        phone.speak(50);
        phone.key('#');
        assert!(matches!(&phone.log[2], Output::PlayAudio(a) if a.len() == 50 * 160));
        phone.play_out();
        phone.key('1');
        assert_eq!(phone.kept().map(|a| a.len()), Some(50 * 160));
        phone.play_out();
        assert_eq!(phone.log.last(), Some(&Output::Hangup));
        assert!(phone.recorder.is_done());
    }

    #[test]
    fn two_records_again_and_only_the_second_take_is_kept() {
        let mut phone = Phone::new();
        phone.play_out();
        phone.speak(20);
        phone.key('#');
        phone.key('2'); // Over the playback.
        assert!(phone.log.contains(&Output::StopPrompt));
        phone.play_out();
        phone.speak(30);
        phone.key('#');
        phone.play_out();
        phone.key('1');
        assert_eq!(phone.kept().map(|a| a.len()), Some(30 * 160));
    }

    #[test]
    fn recording_stops_by_itself_after_two_minutes() {
        let mut phone = Phone::new();
        phone.play_out();
        phone.speak(100);
        let deadline = phone.recorder.poll_timeout().expect("the 2 minute cap");
        phone.now = deadline;
        phone.feed(Input::Timeout(deadline));
        assert!(!phone.recorder.is_recording());
        assert!(phone.log.iter().any(|o| matches!(o, Output::PlayAudio(_))));
    }

    #[test]
    fn no_choice_asks_once_more_then_says_goodbye_keeping_nothing() {
        let mut phone = Phone::new();
        phone.play_out();
        phone.speak(10);
        phone.key('#');
        phone.play_out();
        for _ in 0..2 {
            let at = phone.recorder.poll_timeout().expect("the choice waits");
            phone.now = at;
            phone.feed(Input::Timeout(at));
            phone.play_out();
        }
        assert!(phone.kept().is_none());
        assert_eq!(phone.log.last(), Some(&Output::Hangup));
        let choices = phone
            .log
            .iter()
            .filter(|o| **o == Output::Play(Prompt::IntroChoice))
            .count();
        assert_eq!(choices, 2);
    }

    #[test]
    fn pound_before_any_audio_records_again() {
        let mut phone = Phone::new();
        phone.play_out();
        phone.key('#');
        assert_eq!(
            phone.log[2..],
            [Output::Play(Prompt::IntroInstructions), Output::Beep]
        );
    }
}
