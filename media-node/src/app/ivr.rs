//! The conference IVR: one sans-IO state machine per call that greets the caller,
//! collects the conference number and the access code, checks the access window,
//! the moderator's lock, brute-force counters and occupancy, then admits the caller
//! with the role their code opens (issue #4, « DTMF and IVR »).
//!
//! It never touches the store, S3, a socket or a clock. Everything it needs to
//! know comes in as an [`Input`] stamped with `now`; everything it wants done
//! goes out as an [`Output`] read with [`Ivr::poll_output`], and its next
//! deadline with [`Ivr::poll_timeout`] (str0m's pattern: time is an input).
//!
//! # Flow
//!
//! ```text
//!  Start ──(access number)──> Greeting ──PromptFinished──┐   (meanwhile: Attempts
//!    │                                                  ▼    of the caller: the pace)
//!    └──(*44: no greeting)──────────────────────> Number entry  <────────────┐
//!                                                       │ # / 5 s gap        │ try < tries
//!                                  not 7 or 8 digits ───┤ (slowed: 3 s)      │
//!                                                       ▼                    │
//!            Conference / IntroCode ─> not found: RecordFailure ─> Attempts
//!                                                       │ found
//!             NotYetOpen ─> "opens at HH:MM" ─┐         │ (an intro code: RecordIntro)
//!             Ended ──────> "has ended" ──────┼─────────┤ window
//!                                             │         ▼
//!                                             │   Attempts ─> the counts (the pace)
//!          the caller over its limit, or ─────┤         │
//!          the counters unreadable:           │         ▼
//!          "too many, try later"              │    Code entry <─────────────┐
//!                                             │         │ # / 5 s gap       │ try < tries
//!                                             │         │ (slowed: 3 s)     │
//!                                             │         ├─ wrong: RecordFailure ─> Attempts
//!                                             │         ▼ code matches a role
//!             Ended (again, at admission) ────┤   CountCallers ─> Callers (the room's
//!             locked ─────> "locked" ─────────┤         │  occupancy: count and lock)
//!             occupancy ≥ max ─> "full" ──────┤         │ not locked (or a moderator), room left
//!                                             │         ▼
//!       last failed try ─> "invalid" ─────────┤   Admit { conference, role },
//!                                             ▼   then Play(Intro) if any ─> Admitted
//!                              Goodbye ─> PromptFinished ─> Hangup ─> Done
//! ```
//!
//! # Keys
//!
//! - `#` ends an entry. `*` clears the entry being keyed (no try is used; the
//!   caller simply starts over). `A`-`D` are ignored.
//! - **Barge-in**: a key pressed while a prompt plays emits [`Output::StopPrompt`]
//!   and counts as part of the entry. After `StopPrompt` the shell drops every
//!   prompt still queued and does not report `PromptFinished` for them.
//! - A key over the greeting stops it and starts the conference number (a caller
//!   who knows it does not wait for the number prompt).
//! - **Type-ahead**: keys pressed while a lookup or check is pending are kept
//!   (up to an entry's length) and go into the next entry, over its prompt; a
//!   wrong entry drops them, so the caller hears why first. Keys while the call
//!   is ending are dropped.
//!
//! # Timers
//!
//! - **Entry timeout, [`INTER_DIGIT_TIMEOUT`] (5 s).** The clock starts when the
//!   last prompt asking for the entry *finishes* ([`Input::PromptFinished`]), and
//!   restarts at every key (`*` included). It does not run while a prompt plays.
//!   When it fires with an empty entry, the caller stayed silent: that uses a try.
//!   When it fires with keys typed, the entry ends as if `#` had been pressed.
//! - **Prompt guard, [`PROMPT_GUARD`].** If the shell never reports the end of a
//!   prompt, the machine behaves as if it had finished after this long.
//! - **Answer guard, [`ANSWER_TIMEOUT`].** A lookup the shell never answers ends
//!   the call with Goodbye and Hangup rather than holding the line forever
//!   (failure counts that never come say « try again later » first).
//! - **Guard delay, [`GUARD_DELAY`].** On a slowed call, an entry is checked this
//!   long after it is keyed.
//!
//! # Tries and guessing
//!
//! Each step (number, code) has [`TRIES_PER_STEP`] tries; the last failure says
//! why, then Goodbye, then hangs up. An unknown conference number, a number that
//! is not 7 digits, an empty entry and a silent timeout all use a try.
//!
//! Guesses are counted in the store, in windows ([`CALLER_LIMIT`],
//! [`CONFERENCE_LIMIT`]): a conference number that opens nothing, an intro code
//! that opens nothing and a wrong access code count against **the caller** (its
//! caller ID and the trunk it came through, [`CallerSource`]); a wrong access code
//! counts against **the conference** too. Each is a [`Lookup::RecordFailure`],
//! answered with the counts now ([`Answer::Attempts`]); the counts are also read
//! when the call starts and when the conference is found ([`Lookup::Attempts`]).
//! Every lookup goes out as [`Output::Lookup`] and its answer comes back as
//! [`Input::Answer`] ([`crate::app::lookup`]).
//! From the counts the IVR sets the call's **pace**, which only ever tightens:
//!
//! - the caller over its limit (the store keeps it locked for [`LOCKOUT`]): the
//!   guessing source is shut out, the call hears « too many attempts, try again
//!   later » and ends, whatever it keys;
//! - the conference over its limit (kept for [`LOCKOUT`] too), or a caller over its
//!   limit whose caller ID is withheld (shared by every anonymous caller of the
//!   trunk): the call is **slowed**, not refused: each entry is checked only
//!   [`GUARD_DELAY`] after it is keyed, and each step has [`GUARDED_TRIES`] try. A
//!   caller who keys a right code still gets in, so an outsider cannot lock
//!   legitimate callers out;
//! - counts the store cannot give (an error, an answer never comes): fail closed,
//!   « try again later ».
//!
//! # Window, lock, occupancy
//!
//! The access window ([`Schedule::admission`](teleconf_domain::Schedule::admission)) is
//! checked right after the conference is found, so nobody is asked for a code
//! uselessly, and again when the code matches (a caller may have keyed slowly
//! across the planned end). The room's [`Occupancy`], its callers and the
//! moderator's lock, is asked for only when the code matches, just before
//! admission, since the room changes while callers key: locked, it lets in
//! moderators only; full, nobody. Both are the room's own figures, wherever the
//! room is (the node asks the node holding it, issue #16).
//!
//! # Intro codes
//!
//! An 8-digit entry at the conference-number prompt is a one-time
//! [`teleconf_domain::IntroCode`] (not from `*44`): looked up with
//! [`Lookup::IntroCode`]; a code that opens a conference hands the call to
//! the intro recorder ([`Output::RecordIntro`], [`crate::app::intro`]).
//!
//! Wall-clock time is read once, at [`Input::Start`], and advanced with the
//! monotonic `now` of later inputs: the machine never reads a clock.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

use teleconf_domain::{
    AccountId, Admission, CallerRole, CallerSource, ConferenceId, ConferenceNumber,
    ConferencePrompts, IntroCode, Language, Limit,
};
use teleconf_sip::rtp::Digit;

use crate::app::lookup::{Answer, Attempts, ConferenceInfo, IntroTarget, Lookup};
use crate::app::prompts::{Awaited, Prompt};

/// How long the IVR waits for the next key (and for the first key once the
/// prompt asking for an entry has finished). Issue #4: « Inter-digit timeout 5 s ».
pub const INTER_DIGIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Tries for each step (conference number, access code). Issue #4: « 3 tries ».
pub const TRIES_PER_STEP: u8 = 3;

/// Longest a prompt may take before the IVR assumes it has finished.
pub const PROMPT_GUARD: Duration = Duration::from_secs(120);

/// Longest the IVR waits for the shell to answer a lookup or a check.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest kept of an entry; keys beyond are dropped (a conference number is 7
/// digits, an intro code 8, an access code at most 10).
pub const MAX_ENTRY_LEN: usize = 16;

/// Wrong entries (conference numbers, intro codes, access codes) one caller may
/// key in 10 minutes before it is shut out (issue #4: « more than 10 failed codes
/// in 10 minutes from one caller ID … locks »).
pub const CALLER_LIMIT: Limit = Limit {
    max_failures: 10,
    window: TimeDelta::minutes(10),
};

/// Wrong codes one conference may receive in 10 minutes before its callers are
/// slowed (issue #4: « or 30 against one conference »).
pub const CONFERENCE_LIMIT: Limit = Limit {
    max_failures: 30,
    window: CALLER_LIMIT.window,
};

/// How long the store keeps a caller shut out, or a conference's callers slowed,
/// once a limit is reached (issue #4: « locks further attempts for 15 minutes »).
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);

/// On a slowed call, how long after an entry is keyed it is checked.
pub const GUARD_DELAY: Duration = Duration::from_secs(3);

/// On a slowed call, the tries of each step.
pub const GUARDED_TRIES: u8 = 1;

/// Something that happened on the call, stamped with the monotonic `now`.
#[derive(Debug, Clone)]
pub enum Input {
    /// The call is answered: begin.
    Start {
        /// Monotonic time.
        now: Instant,
        /// Wall-clock time at `now`: the machine's only reading of it; later
        /// wall-clock times are `wall_clock + (later now - now)`.
        wall_clock: DateTime<Utc>,
        /// The number's language (fr/en), or the account's for `*44`.
        language: Language,
        /// The number's custom messages; `None` in a field plays the default.
        prompts: ConferencePrompts,
        /// Who calls: its caller ID and the trunk it came through, under which its
        /// wrong entries are counted.
        caller: CallerSource,
        /// `Some(account)` when an IP phone of that account dialled `*44`: no
        /// greeting, and only that account's conferences may be reached.
        star44: Option<AccountId>,
    },
    /// The caller pressed a key.
    Digit(Instant, Digit),
    /// The oldest prompt still playing has finished.
    PromptFinished(Instant),
    /// The deadline given by [`Ivr::poll_timeout`] has come.
    Timeout(Instant),
    /// Answers [`Output::Lookup`]: the conference found for the number keyed, what
    /// an intro code opens, or the failure counts.
    Answer(Instant, Answer),
    /// Answers [`Output::CountCallers`]: the conference's room now.
    Callers(Instant, Occupancy),
}

/// A conference's room as the admission checks it ([`Input::Callers`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Occupancy {
    /// Callers in the room (every node's).
    pub callers: u32,
    /// Locked by a moderator: nobody else may join.
    pub locked: bool,
}

/// What the IVR asks the shell to do, read with [`Ivr::poll_output`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Queue a prompt; prompts play in order and each end is reported with
    /// [`Input::PromptFinished`].
    Play(Prompt),
    /// Stop the prompt playing and drop the queued ones (barge-in); no
    /// `PromptFinished` for them.
    StopPrompt,
    /// Ask the store: the conference of the number keyed ([`Lookup::Conference`]),
    /// what an intro code opens ([`Lookup::IntroCode`]), the failures counted
    /// ([`Lookup::Attempts`]) or one more ([`Lookup::RecordFailure`]); answer with
    /// [`Input::Answer`].
    Lookup(Lookup),
    /// The code opened the intro recorder for this conference: hand the call over
    /// to [`crate::app::intro`] (the IVR's work is over).
    RecordIntro(IntroTarget),
    /// Tell the conference's room's [`Occupancy`] (the node knows, from its room
    /// or the owner's); answer with [`Input::Callers`].
    CountCallers(ConferenceId),
    /// Join the caller to the conference with this role.
    Admit {
        /// Where.
        conference: ConferenceId,
        /// As what, from the code keyed.
        role: CallerRole,
    },
    /// End the call (BYE).
    Hangup,
}

/// Which entry is being collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Number,
    Code,
}

/// How quickly a call's entries are checked, from the counts (only ever tightens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Pace {
    /// At once, [`TRIES_PER_STEP`] tries a step.
    Normal,
    /// After [`GUARD_DELAY`], [`GUARDED_TRIES`] a step.
    Slowed,
}

/// What waits for the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// An entry of this step, keyed before the counts were known.
    Submit(Step),
    /// The conference was found: ask for the code.
    AskCode,
    /// A wrong entry of this step was counted.
    Failed(Step),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before `Start`.
    Idle,
    /// The greeting plays.
    Greeting,
    /// Collecting keys for a step.
    Collecting(Step),
    /// Waiting for `Answer::Conference`.
    FindingConference,
    /// Waiting for `Answer::IntroCode`.
    FindingIntro,
    /// Waiting for `Answer::Attempts`, then doing what is after.
    Counting(After),
    /// A slowed call's entry waits [`GUARD_DELAY`] before it is checked.
    Verifying(Step),
    /// Waiting for `Callers`, the code having opened `role`.
    CheckingOccupancy(CallerRole),
    /// Final prompts play; hang up when they are done.
    Ending,
    /// Admitted: the IVR's work is over (the intro may still be playing).
    Admitted,
    /// Hung up.
    Done,
}

/// The IVR of one call. See the [module documentation](self) for the flow.
#[derive(Debug)]
pub struct Ivr {
    state: State,
    outputs: VecDeque<Output>,
    /// Monotonic and wall-clock time at `Start`.
    started: Option<(Instant, DateTime<Utc>)>,
    language: Language,
    prompts: ConferencePrompts,
    /// Who calls (set at `Start`).
    caller: Option<CallerSource>,
    star44: Option<AccountId>,
    /// Keys of the entry being collected.
    entry: String,
    /// An entry keyed and not yet checked (waiting for the counts or the delay).
    keyed: String,
    /// How entries are checked; `None` until the first counts come.
    pace: Option<Pace>,
    /// Keys typed ahead while a lookup ran: they go into the next entry, as if
    /// keyed over its prompt (a caller who knows the code does not wait).
    ahead: Vec<Digit>,
    /// Failed tries of the current step.
    tries: u8,
    /// Prompts queued and not yet reported finished.
    playing: Awaited,
    /// When the current timer fires.
    deadline: Option<Instant>,
    /// The conference found for the number keyed.
    conference: Option<ConferenceInfo>,
}

impl Default for Ivr {
    fn default() -> Self {
        Self::new()
    }
}

impl Ivr {
    /// An IVR waiting for [`Input::Start`].
    pub fn new() -> Self {
        Self {
            state: State::Idle,
            outputs: VecDeque::new(),
            started: None,
            language: Language::default(),
            prompts: ConferencePrompts::default(),
            caller: None,
            star44: None,
            entry: String::new(),
            keyed: String::new(),
            pace: None,
            ahead: Vec::new(),
            tries: 0,
            playing: Awaited::default(),
            deadline: None,
            conference: None,
        }
    }

    /// The conference found for the number keyed, once it is.
    pub fn conference(&self) -> Option<&ConferenceInfo> {
        self.conference.as_ref()
    }

    /// The language prompts are said in (the number's, or the account's for `*44`).
    pub fn language(&self) -> Language {
        self.language
    }

    /// Whether the IVR is finished: the caller was admitted or hung up.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Admitted | State::Done)
    }

    /// The next thing to do, until `None`.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When to feed [`Input::Timeout`], if a timer runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Feeds one input. Inputs that make no sense in the current state (an
    /// answer nobody asked for, a key while ending) are ignored.
    pub fn handle_input(&mut self, input: Input) {
        match input {
            Input::Start {
                now,
                wall_clock,
                language,
                prompts,
                caller,
                star44,
            } => {
                if self.state != State::Idle {
                    tracing::debug!("ivr: Start ignored, already started");
                    return;
                }
                self.started = Some((now, wall_clock));
                self.language = language;
                // A caller shut out hears so at once; the greeting plays meanwhile.
                self.outputs.push_back(Output::Lookup(Lookup::Attempts {
                    caller: caller.clone(),
                    conference: None,
                }));
                self.caller = Some(caller);
                self.star44 = star44;
                if star44.is_some() {
                    self.prompts = ConferencePrompts::default();
                    self.ask(now, Step::Number);
                } else {
                    self.play(Prompt::Greeting(prompts.greeting));
                    self.prompts = prompts;
                    self.state = State::Greeting;
                    self.deadline = Some(now + PROMPT_GUARD);
                }
            }
            Input::Digit(now, digit) => self.on_digit(now, digit),
            Input::PromptFinished(now) => self.on_prompt_finished(now),
            Input::Timeout(now) => self.on_timeout(now),
            Input::Answer(now, answer) => self.on_answer(now, answer),
            Input::Callers(now, occupancy) => {
                if let State::CheckingOccupancy(role) = self.state {
                    self.on_occupancy(now, occupancy, role);
                }
            }
        }
    }

    /// An answer from the store; one nobody waits for any more is ignored.
    fn on_answer(&mut self, now: Instant, answer: Answer) {
        match answer {
            Answer::Conference(found) => {
                if self.state == State::FindingConference {
                    self.on_conference(now, found);
                }
            }
            Answer::IntroCode(found) => {
                if self.state == State::FindingIntro {
                    match found {
                        Some(target) => {
                            tracing::info!(conference = %target.conference, "ivr: intro recording by phone");
                            self.state = State::Done;
                            self.deadline = None;
                            self.outputs.push_back(Output::RecordIntro(target));
                        }
                        None => self.count_failure(now, Step::Number, None),
                    }
                }
            }
            Answer::Attempts(counts) => self.on_attempts(now, counts.ok()),
            // A new call's lookups are the node's, prompts the call's.
            Answer::Number(_) | Answer::Account(_) | Answer::Prompt(..) => {}
        }
    }

    fn play(&mut self, prompt: Prompt) {
        self.playing.queued();
        self.outputs.push_back(Output::Play(prompt));
    }

    /// Plays the prompt asking for `step` and starts collecting it.
    fn ask(&mut self, now: Instant, step: Step) {
        let prompt = match step {
            Step::Number => Prompt::AskConferenceNumber(self.prompts.conference_number),
            Step::Code => Prompt::AskAccessCode(self.prompts.access_code),
        };
        self.play(prompt);
        self.entry.clear();
        self.state = State::Collecting(step);
        // The entry timer starts when the prompt finishes; until then only the guard runs.
        self.deadline = Some(now + PROMPT_GUARD);
        for digit in std::mem::take(&mut self.ahead) {
            self.on_digit(now, digit);
        }
    }

    /// Says `prompts`, then Goodbye, then hangs up once they have played.
    fn end(&mut self, now: Instant, prompts: &[Prompt]) {
        for prompt in prompts {
            self.play(prompt.clone());
        }
        self.play(Prompt::Goodbye);
        self.state = State::Ending;
        self.deadline = Some(now + PROMPT_GUARD);
    }

    fn hang_up(&mut self) {
        self.outputs.push_back(Output::Hangup);
        self.state = State::Done;
        self.deadline = None;
    }

    /// Wall-clock time at the monotonic `now`.
    fn wall_clock(&self, now: Instant) -> DateTime<Utc> {
        match self.started {
            Some((t0, wall0)) => {
                wall0
                    + TimeDelta::from_std(now.saturating_duration_since(t0))
                        .unwrap_or(TimeDelta::MAX)
            }
            None => DateTime::UNIX_EPOCH,
        }
    }

    fn on_digit(&mut self, now: Instant, digit: Digit) {
        if matches!(digit, Digit::A | Digit::B | Digit::C | Digit::D) {
            return;
        }
        let step = match self.state {
            State::Collecting(step) => step,
            // Keying over the greeting skips it: the number is being keyed.
            State::Greeting => {
                self.entry.clear();
                self.state = State::Collecting(Step::Number);
                Step::Number
            }
            State::FindingConference | State::Counting(_) | State::Verifying(_) => {
                if self.ahead.len() < MAX_ENTRY_LEN {
                    self.ahead.push(digit);
                }
                return;
            }
            _ => return,
        };
        if self.playing.stop() {
            // Barge-in: the caller knows what to key.
            self.outputs.push_back(Output::StopPrompt);
        }
        match digit {
            Digit::Pound => self.submit(now, step),
            Digit::Star => {
                self.entry.clear();
                self.deadline = Some(now + INTER_DIGIT_TIMEOUT);
            }
            _ => {
                if self.entry.len() < MAX_ENTRY_LEN {
                    self.entry.push(digit.as_char());
                }
                self.deadline = Some(now + INTER_DIGIT_TIMEOUT);
            }
        }
    }

    fn on_prompt_finished(&mut self, now: Instant) {
        if !self.playing.finished() {
            return;
        }
        match self.state {
            State::Greeting => self.ask(now, Step::Number),
            State::Collecting(_) => self.deadline = Some(now + INTER_DIGIT_TIMEOUT),
            State::Ending => self.hang_up(),
            _ => {}
        }
    }

    fn on_timeout(&mut self, now: Instant) {
        match self.deadline {
            Some(deadline) if now >= deadline => {}
            _ => return,
        }
        match self.state {
            State::Greeting => {
                self.playing.stop();
                self.ask(now, Step::Number);
            }
            State::Collecting(step) => {
                if self.playing.stop() {
                    // The shell lost track of a prompt: start listening.
                    self.deadline = Some(now + INTER_DIGIT_TIMEOUT);
                } else {
                    // Silence uses a try; a gap after keys ends the entry.
                    self.submit(now, step);
                }
            }
            State::Verifying(step) => self.check(now, step),
            // Counts that never come fail closed, like counts the store cannot give.
            State::Counting(_) => {
                tracing::warn!(
                    waited_for = "the failure counts",
                    "ivr: no answer from the shell in time, ending the call"
                );
                self.end(now, &[Prompt::TooManyAttempts]);
            }
            State::FindingConference | State::FindingIntro | State::CheckingOccupancy(_) => {
                let waited_for = match self.state {
                    State::FindingConference => "the conference of the number keyed",
                    State::FindingIntro => "what the intro code opens",
                    _ => "the callers in the conference",
                };
                tracing::warn!(
                    waited_for,
                    "ivr: no answer from the shell in time, ending the call"
                );
                self.end(now, &[]);
            }
            State::Ending => self.hang_up(),
            State::Idle | State::Admitted | State::Done => self.deadline = None,
        }
    }

    /// The entry of `step` is complete (`#` or the inter-digit timeout): checked
    /// at the call's pace, once the pace is known.
    fn submit(&mut self, now: Instant, step: Step) {
        self.keyed = std::mem::take(&mut self.entry);
        match self.pace {
            None => {
                self.state = State::Counting(After::Submit(step));
                self.deadline = Some(now + ANSWER_TIMEOUT);
            }
            Some(Pace::Slowed) => {
                self.state = State::Verifying(step);
                self.deadline = Some(now + GUARD_DELAY);
            }
            Some(Pace::Normal) => self.check(now, step),
        }
    }

    /// Checks the entry keyed for `step`.
    fn check(&mut self, now: Instant, step: Step) {
        let keyed = std::mem::take(&mut self.keyed);
        match step {
            Step::Number => match keyed.parse::<ConferenceNumber>() {
                Ok(number) => {
                    self.outputs
                        .push_back(Output::Lookup(Lookup::Conference(number)));
                    self.state = State::FindingConference;
                    self.deadline = Some(now + ANSWER_TIMEOUT);
                }
                // Eight digits: a one-time code to record a conference's intro.
                Err(_) => match keyed.parse::<IntroCode>() {
                    Ok(code) if self.star44.is_none() => {
                        self.outputs
                            .push_back(Output::Lookup(Lookup::IntroCode(code)));
                        self.state = State::FindingIntro;
                        self.deadline = Some(now + ANSWER_TIMEOUT);
                    }
                    // Not a guess at anything: a try, not counted.
                    _ => self.failed(now, Step::Number),
                },
            },
            Step::Code => {
                let Some(conference) = &self.conference else {
                    return self.end(now, &[]);
                };
                match conference.codes.role_for(&keyed) {
                    Some(role) => {
                        if let Some(refusal) = self.window_refusal(now) {
                            return self.end(now, &[refusal]);
                        }
                        self.outputs.push_back(Output::CountCallers(conference.id));
                        self.state = State::CheckingOccupancy(role);
                        self.deadline = Some(now + ANSWER_TIMEOUT);
                    }
                    None => {
                        let keyed_at = (conference.id, conference.account);
                        tracing::info!(conference = %keyed_at.0, "ivr: wrong access code");
                        self.count_failure(now, Step::Code, Some(keyed_at));
                    }
                }
            }
        }
    }

    /// A wrong entry of `step` (for `conference`, a code): counted, then the try
    /// fails once the counts are back.
    fn count_failure(
        &mut self,
        now: Instant,
        step: Step,
        conference: Option<(ConferenceId, AccountId)>,
    ) {
        let Some(caller) = self.caller.clone() else {
            return self.end(now, &[]);
        };
        self.outputs
            .push_back(Output::Lookup(Lookup::RecordFailure { caller, conference }));
        self.state = State::Counting(After::Failed(step));
        self.deadline = Some(now + ANSWER_TIMEOUT);
    }

    /// One try of `step` failed: say so and ask again, or end after the last try.
    fn failed(&mut self, now: Instant, step: Step) {
        let invalid = match step {
            Step::Number => Prompt::InvalidConferenceNumber,
            Step::Code => Prompt::InvalidCode,
        };
        // What was typed ahead followed a wrong entry: the caller hears why first.
        self.ahead.clear();
        self.tries += 1;
        let tries = match self.pace {
            Some(Pace::Slowed) => GUARDED_TRIES,
            _ => TRIES_PER_STEP,
        };
        if self.tries >= tries {
            return self.end(now, &[invalid]);
        }
        self.play(invalid);
        self.ask(now, step);
    }

    /// The counts came (`None`: the store could not tell): the caller is shut
    /// out, or the call goes on at the pace they set.
    fn on_attempts(&mut self, now: Instant, counts: Option<Attempts>) {
        if matches!(
            self.state,
            State::Idle | State::Ending | State::Admitted | State::Done
        ) {
            return;
        }
        let identified = self
            .caller
            .as_ref()
            .is_some_and(CallerSource::is_identified);
        let pace = match counts {
            None => None,
            Some(counts) if CALLER_LIMIT.is_exceeded(counts.by_caller) && identified => None,
            Some(counts)
                if CALLER_LIMIT.is_exceeded(counts.by_caller)
                    || CONFERENCE_LIMIT.is_exceeded(counts.by_conference) =>
            {
                Some(Pace::Slowed)
            }
            Some(_) => Some(Pace::Normal),
        };
        let Some(pace) = pace else {
            tracing::info!(?counts, "ivr: too many attempts, or no counts: try later");
            if self.playing.stop() {
                self.outputs.push_back(Output::StopPrompt);
            }
            self.ahead.clear();
            return self.end(now, &[Prompt::TooManyAttempts]);
        };
        if self.pace.is_none_or(|was| was < pace) {
            if pace == Pace::Slowed {
                tracing::info!(?counts, "ivr: guessing: this call is slowed");
            }
            self.pace = Some(pace);
        }
        match self.state {
            State::Counting(After::Submit(step)) => {
                self.entry = std::mem::take(&mut self.keyed);
                self.submit(now, step);
            }
            State::Counting(After::AskCode) => self.ask(now, Step::Code),
            State::Counting(After::Failed(step)) => self.failed(now, step),
            // The start's reading, while the caller keys: the pace is all it sets.
            _ => {}
        }
    }

    /// Reads the counts of the caller and the conference found, then asks for the
    /// code.
    fn check_attempts(&mut self, now: Instant) {
        let (Some(conference), Some(caller)) = (&self.conference, self.caller.clone()) else {
            return self.end(now, &[]);
        };
        self.outputs.push_back(Output::Lookup(Lookup::Attempts {
            caller,
            conference: Some(conference.id),
        }));
        self.state = State::Counting(After::AskCode);
        self.deadline = Some(now + ANSWER_TIMEOUT);
    }

    /// Why the conference refuses callers at `now` by its window, if it does.
    fn window_refusal(&self, now: Instant) -> Option<Prompt> {
        let conference = self.conference.as_ref()?;
        let wall = self.wall_clock(now);
        match conference.schedule.admission(wall) {
            Admission::Open => None,
            Admission::NotYetOpen { opens_at } => Some(Prompt::NotYetOpen {
                opens_at_local: opens_at.with_timezone(&conference.time_zone).time(),
            }),
            Admission::Ended => Some(Prompt::Ended),
        }
    }

    fn on_conference(&mut self, now: Instant, found: Option<ConferenceInfo>) {
        // A *44 caller reaches only their own account's conferences (an IP phone
        // in the SAME account as the conference): another's is as good as unknown.
        let found = found.filter(|c| self.star44.is_none_or(|account| c.account == account));
        let Some(conference) = found else {
            return self.count_failure(now, Step::Number, None);
        };
        self.conference = Some(conference);
        if let Some(refusal) = self.window_refusal(now) {
            return self.end(now, &[refusal]);
        }
        self.tries = 0;
        self.check_attempts(now);
    }

    fn on_occupancy(&mut self, now: Instant, occupancy: Occupancy, role: CallerRole) {
        let Some(conference) = &self.conference else {
            return self.end(now, &[]);
        };
        // A moderator's lock keeps out all but moderators.
        if occupancy.locked && role != CallerRole::Moderator {
            return self.end(now, &[Prompt::Locked]);
        }
        if occupancy.callers >= conference.max_participants {
            return self.end(now, &[Prompt::Full]);
        }
        let (id, intro) = (conference.id, conference.intro);
        tracing::info!(conference = %id, %role, "ivr: caller admitted");
        self.outputs.push_back(Output::Admit {
            conference: id,
            role,
        });
        if let Some(intro) = intro {
            self.play(Prompt::Intro(intro));
        }
        self.state = State::Admitted;
        self.deadline = None;
    }
}

#[cfg(test)]
mod tests;
