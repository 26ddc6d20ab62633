//! Call scenarios on a simulated clock: a `Call` plays the shell (answers
//! lookups from a fixture, counts prompts) and records every output.

use chrono::NaiveTime;
use proptest::prelude::*;
use teleconf_domain::PromptId;

use super::*;
use crate::app::lookup::Unavailable;
use crate::testkit::{self, LISTENER, MODERATOR, NUMBER, PARTICIPANT, utc};

fn intro_prompt() -> PromptId {
    "0190a3c4-0000-7000-8000-000000000001"
        .parse()
        .expect("a prompt id")
}

/// The sample conference, 09:30 to 11:00 Toronto (EDT, UTC-4): 13:30 to 15:00 UTC.
fn seed_conference() -> ConferenceInfo {
    testkit::seed_conference(Some(intro_prompt()))
}

/// The caller ID every call of these scenarios presents.
const CALLER_ID: &str = "+15145550100";

/// The trunk the calls come through.
fn trunk() -> std::net::IpAddr {
    "198.51.100.7".parse().expect("an address")
}

/// The shell's side of a call, answering from fixtures.
struct Call {
    ivr: Ivr,
    now: Instant,
    conference: ConferenceInfo,
    caller_id: &'static str,
    /// The store's counts (failures by the caller, against the conference), kept
    /// up to date by each failure recorded; `None`: the store cannot be read.
    attempts: Option<(u32, u32)>,
    occupancy: Occupancy,
    /// The intro code the shell knows, and what it opens.
    intro: Option<IntroTarget>,
    /// Prompts queued and not yet reported finished.
    playing: usize,
    /// Every output, in order.
    log: Vec<Output>,
}

impl Call {
    fn new() -> Self {
        Self {
            ivr: Ivr::new(),
            now: Instant::now(),
            conference: seed_conference(),
            caller_id: CALLER_ID,
            attempts: Some((0, 0)),
            occupancy: Occupancy {
                callers: 3,
                locked: false,
            },
            intro: None,
            playing: 0,
            log: Vec::new(),
        }
    }

    /// Answers the call at wall-clock `wall`.
    fn start(mut self, wall: DateTime<Utc>, star44: Option<AccountId>) -> Self {
        self.feed(Input::Start {
            now: self.now,
            wall_clock: wall,
            language: Language::Fr,
            prompts: ConferencePrompts::default(),
            caller: CallerSource::new(trunk(), self.caller_id),
            star44,
        });
        self
    }

    /// During the window, through an access number.
    fn during_the_window() -> Self {
        Self::new().start(utc(13, 40), None)
    }

    fn feed(&mut self, input: Input) {
        self.ivr.handle_input(input);
        while let Some(out) = self.ivr.poll_output() {
            let answer = match &out {
                Output::Play(_) => {
                    self.playing += 1;
                    None
                }
                Output::StopPrompt => {
                    self.playing = 0;
                    None
                }
                Output::Lookup(Lookup::Conference(n)) => Some(Input::Answer(
                    self.now,
                    Answer::Conference(
                        (*n == self.conference.number).then(|| self.conference.clone()),
                    ),
                )),
                Output::Lookup(Lookup::Attempts { conference, .. }) => {
                    Some(self.counts(conference.is_some()))
                }
                Output::Lookup(Lookup::RecordFailure { conference, .. }) => {
                    if let Some((by_caller, by_conference)) = &mut self.attempts {
                        *by_caller += 1;
                        *by_conference += u32::from(conference.is_some());
                    }
                    Some(self.counts(conference.is_some()))
                }
                Output::CountCallers(_) => Some(Input::Callers(self.now, self.occupancy)),
                Output::Lookup(Lookup::IntroCode(code)) => Some(Input::Answer(
                    self.now,
                    Answer::IntroCode(self.intro.clone().filter(|target| target.code == *code)),
                )),
                Output::Lookup(lookup) => panic!("not the IVR's lookup: {lookup:?}"),
                Output::RecordIntro(_) => None,
                Output::Admit { .. } | Output::Hangup => None,
            };
            self.log.push(out);
            if let Some(answer) = answer {
                self.ivr.handle_input(answer);
            }
        }
    }

    /// The store's answer: the counts (the conference's once it is known).
    fn counts(&self, of_a_conference: bool) -> Input {
        let counts = self
            .attempts
            .map(|(by_caller, by_conference)| Attempts {
                by_caller,
                by_conference: if of_a_conference { by_conference } else { 0 },
            })
            .ok_or(Unavailable);
        Input::Answer(self.now, Answer::Attempts(counts))
    }

    /// The wrong entries recorded: by whom, and for which conference.
    fn failures_recorded(&self) -> Vec<(CallerSource, Option<(ConferenceId, AccountId)>)> {
        self.log
            .iter()
            .filter_map(|o| match o {
                Output::Lookup(Lookup::RecordFailure { caller, conference }) => {
                    Some((caller.clone(), *conference))
                }
                _ => None,
            })
            .collect()
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// Lets every queued prompt play to its end (3 s each).
    fn play_out(&mut self) {
        while self.playing > 0 {
            self.playing -= 1;
            self.advance(Duration::from_secs(3));
            self.feed(Input::PromptFinished(self.now));
        }
    }

    /// Keys `keys`, 300 ms apart.
    fn key(&mut self, keys: &str) {
        for c in keys.chars() {
            self.advance(Duration::from_millis(300));
            let digit = Digit::from_char(c).expect("a key");
            self.feed(Input::Digit(self.now, digit));
        }
    }

    /// Keys `keys` at once, leaving every lookup unanswered (logged only).
    fn key_unanswered(&mut self, keys: &str) {
        for c in keys.chars() {
            let digit = Digit::from_char(c).expect("a key");
            self.ivr.handle_input(Input::Digit(self.now, digit));
        }
        while let Some(out) = self.ivr.poll_output() {
            self.log.push(out);
        }
    }

    /// Lets prompts play, then keys `keys`.
    fn answer(&mut self, keys: &str) {
        self.play_out();
        self.key(keys);
    }

    /// Jumps to the pending deadline and fires it.
    fn time_out(&mut self) {
        let deadline = self.ivr.poll_timeout().expect("a timer runs");
        self.now = self.now.max(deadline);
        self.feed(Input::Timeout(self.now));
    }

    fn said(&self) -> Vec<Prompt> {
        self.log
            .iter()
            .filter_map(|o| match o {
                Output::Play(p) => Some(p.clone()),
                _ => None,
            })
            .collect()
    }

    fn admitted_as(&self) -> Option<CallerRole> {
        self.log.iter().find_map(|o| match o {
            Output::Admit { role, .. } => Some(*role),
            _ => None,
        })
    }

    fn hung_up(&self) -> bool {
        self.log.contains(&Output::Hangup)
    }

    /// Number keyed and accepted: the code prompt is queued.
    fn at_the_code_prompt() -> Self {
        let mut call = Self::during_the_window();
        call.answer(&format!("{NUMBER}#"));
        assert_eq!(call.said().last(), Some(&Prompt::AskAccessCode(None)));
        call
    }
}

#[test]
fn a_caller_keys_number_and_code_and_is_admitted_as_participant() {
    let mut call = Call::at_the_code_prompt();
    call.answer(&format!("{PARTICIPANT}#"));
    assert_eq!(call.admitted_as(), Some(CallerRole::Participant));
    assert_eq!(
        call.said()[..3],
        [
            Prompt::Greeting(None),
            Prompt::AskConferenceNumber(None),
            Prompt::AskAccessCode(None)
        ]
    );
    assert!(!call.hung_up());
    assert!(call.ivr.is_finished());
    assert_eq!(call.ivr.poll_timeout(), None);
}

#[test]
fn the_listener_code_admits_a_listener() {
    let mut call = Call::at_the_code_prompt();
    call.answer(&format!("{LISTENER}#"));
    assert_eq!(call.admitted_as(), Some(CallerRole::Listener));
}

#[test]
fn the_moderator_code_admits_a_moderator() {
    let mut call = Call::at_the_code_prompt();
    call.answer(&format!("{MODERATOR}#"));
    assert_eq!(call.admitted_as(), Some(CallerRole::Moderator));
}

#[test]
fn three_wrong_codes_say_goodbye_and_hang_up() {
    let mut call = Call::at_the_code_prompt();
    for _ in 0..3 {
        call.answer("11111#");
    }
    assert!(!call.hung_up(), "the goodbye plays before the BYE");
    call.play_out();
    assert!(call.hung_up());
    assert_eq!(call.admitted_as(), None);
    let said = call.said();
    assert_eq!(
        said[said.len() - 2..],
        [Prompt::InvalidCode, Prompt::Goodbye]
    );
    assert_eq!(
        said.iter().filter(|p| **p == Prompt::InvalidCode).count(),
        3
    );
    let keyed_at = Some((call.conference.id, call.conference.account));
    assert_eq!(
        call.failures_recorded(),
        vec![(CallerSource::new(trunk(), CALLER_ID), keyed_at); 3],
        "each wrong code counted against the caller and the conference"
    );
}

#[test]
fn three_unknown_conference_numbers_say_goodbye_and_hang_up() {
    let mut call = Call::during_the_window();
    call.answer("1234567#");
    call.answer("42#");
    call.answer("7654321#");
    call.play_out();
    assert!(call.hung_up());
    let said = call.said();
    assert_eq!(
        said.iter()
            .filter(|p| **p == Prompt::InvalidConferenceNumber)
            .count(),
        3
    );
    assert_eq!(said.last(), Some(&Prompt::Goodbye));
    assert!(!said.contains(&Prompt::AskAccessCode(None)));
}

#[test]
fn silence_after_the_prompt_times_out_and_counts_as_a_try() {
    let mut call = Call::during_the_window();
    call.play_out();
    let finished = call.now;
    assert_eq!(
        call.ivr.poll_timeout(),
        Some(finished + INTER_DIGIT_TIMEOUT)
    );
    call.time_out();
    assert_eq!(
        call.said()[2..],
        [
            Prompt::InvalidConferenceNumber,
            Prompt::AskConferenceNumber(None)
        ]
    );
    call.play_out();
    call.time_out();
    call.play_out();
    call.time_out();
    call.play_out();
    assert!(call.hung_up());
}

#[test]
fn an_inter_digit_gap_of_five_seconds_ends_the_entry() {
    let mut call = Call::during_the_window();
    call.answer(NUMBER);
    let last_key = call.now;
    assert_eq!(
        call.ivr.poll_timeout(),
        Some(last_key + INTER_DIGIT_TIMEOUT)
    );
    // Just before the deadline nothing happens.
    call.feed(Input::Timeout(
        last_key + INTER_DIGIT_TIMEOUT - Duration::from_millis(1),
    ));
    assert!(
        !call
            .log
            .iter()
            .any(|o| matches!(o, Output::Lookup(Lookup::Conference(_))))
    );
    call.time_out();
    assert!(call.log.contains(&Output::Lookup(Lookup::Conference(
        NUMBER.parse().expect("a number")
    ))));
    assert_eq!(call.said().last(), Some(&Prompt::AskAccessCode(None)));
}

#[test]
fn a_conference_not_yet_open_says_its_opening_time_and_hangs_up() {
    // 13:00 UTC is 09:00 in Toronto; the 09:30 conference opens at 09:25.
    let mut call = Call::new().start(utc(13, 0), None);
    call.answer(&format!("{NUMBER}#"));
    assert_eq!(
        call.said()[2..],
        [
            Prompt::NotYetOpen {
                opens_at_local: NaiveTime::from_hms_opt(9, 25, 0).expect("a time")
            },
            Prompt::Goodbye
        ]
    );
    call.play_out();
    assert!(call.hung_up());
    assert!(
        !call.log.iter().any(|o| matches!(
            o,
            Output::Lookup(Lookup::Attempts {
                conference: Some(_),
                ..
            })
        )),
        "nobody is asked for a code"
    );
}

#[test]
fn an_ended_conference_says_so_and_hangs_up() {
    let mut call = Call::new().start(utc(15, 1), None);
    call.answer(&format!("{NUMBER}#"));
    assert_eq!(call.said()[2..], [Prompt::Ended, Prompt::Goodbye]);
    call.play_out();
    assert!(call.hung_up());
}

#[test]
fn a_window_that_closes_while_the_code_is_keyed_refuses_at_admission() {
    let mut call = Call::new().start(utc(14, 59), None);
    call.answer(&format!("{NUMBER}#"));
    call.play_out();
    call.advance(Duration::from_secs(70));
    call.key(&format!("{PARTICIPANT}#"));
    assert_eq!(call.admitted_as(), None);
    assert_eq!(
        call.said()[call.said().len() - 2..],
        [Prompt::Ended, Prompt::Goodbye]
    );
}

#[test]
fn a_full_conference_says_so_and_hangs_up() {
    let mut call = Call::at_the_code_prompt();
    call.occupancy.callers = 25;
    call.answer(&format!("{PARTICIPANT}#"));
    assert_eq!(call.admitted_as(), None);
    assert_eq!(
        call.said()[call.said().len() - 2..],
        [Prompt::Full, Prompt::Goodbye]
    );
    call.play_out();
    assert!(call.hung_up());
}

#[test]
fn a_locked_conference_says_so_to_all_but_moderators_and_hangs_up() {
    let mut call = Call::new();
    call.occupancy.locked = true;
    let mut call = call.start(utc(13, 40), None);
    call.answer(&format!("{NUMBER}#"));
    call.answer(&format!("{PARTICIPANT}#"));
    assert_eq!(call.said()[3..], [Prompt::Locked, Prompt::Goodbye]);
    call.play_out();
    assert!(call.hung_up());
    assert_eq!(call.admitted_as(), None);

    let mut moderator = Call::new();
    moderator.occupancy.locked = true;
    let mut moderator = moderator.start(utc(13, 40), None);
    moderator.answer(&format!("{NUMBER}#"));
    moderator.answer(&format!("{MODERATOR}#"));
    assert_eq!(moderator.admitted_as(), Some(CallerRole::Moderator));
}

#[test]
fn a_caller_over_its_limit_is_shut_out_at_once_and_its_right_code_does_not_open() {
    let mut call = Call::new();
    call.attempts = Some((10, 0));
    let mut call = call.start(utc(13, 40), None);
    assert_eq!(
        call.said(),
        [
            Prompt::Greeting(None),
            Prompt::TooManyAttempts,
            Prompt::Goodbye
        ],
        "said as soon as the counts come, over the greeting"
    );
    assert!(call.log.contains(&Output::StopPrompt));
    call.key(&format!("{NUMBER}#{PARTICIPANT}#"));
    call.play_out();
    assert!(call.hung_up());
    assert_eq!(call.admitted_as(), None);
    assert!(
        !call
            .log
            .iter()
            .any(|o| matches!(o, Output::Lookup(Lookup::Conference(_)))),
        "a shut-out caller learns nothing, not even which numbers exist"
    );
    // One below the limit is still let in.
    let mut call = Call::new();
    call.attempts = Some((9, 0));
    let mut call = call.start(utc(13, 40), None);
    call.answer(&format!("{NUMBER}#"));
    call.answer(&format!("{PARTICIPANT}#"));
    assert_eq!(call.admitted_as(), Some(CallerRole::Participant));
}

#[test]
fn counters_the_store_cannot_read_refuse_the_call_with_try_later() {
    let mut call = Call::new();
    call.attempts = None;
    let mut call = call.start(utc(13, 40), None);
    call.answer(&format!("{NUMBER}#{PARTICIPANT}#"));
    call.play_out();
    assert!(call.hung_up());
    assert_eq!(call.admitted_as(), None);
    assert_eq!(
        call.said()[1..],
        [Prompt::TooManyAttempts, Prompt::Goodbye],
        "never read as no failures"
    );
}

#[test]
fn counts_that_never_come_refuse_the_call_with_try_later() {
    let mut call = Call::at_the_code_prompt();
    call.play_out();
    call.key("11111");
    // The wrong code's count is never answered.
    call.key_unanswered("#");
    assert!(matches!(
        call.log.last(),
        Some(Output::Lookup(Lookup::RecordFailure { .. }))
    ));
    call.time_out();
    assert_eq!(
        call.said()[call.said().len() - 2..],
        [Prompt::TooManyAttempts, Prompt::Goodbye]
    );
}

#[test]
fn wrong_conference_numbers_and_intro_codes_count_against_the_caller() {
    let mut call = Call::during_the_window();
    call.answer("1234567#");
    call.answer("24681357#");
    call.answer("42#");
    assert_eq!(
        call.failures_recorded(),
        vec![(CallerSource::new(trunk(), CALLER_ID), None); 2],
        "an unknown number and an unknown intro code; 42 guesses nothing"
    );
    assert_eq!(call.attempts, Some((2, 0)));
}

#[test]
fn a_caller_reaching_its_limit_on_a_wrong_number_is_shut_out() {
    let mut call = Call::new();
    call.attempts = Some((9, 0));
    let mut call = call.start(utc(13, 40), None);
    call.answer("1234567#");
    assert_eq!(
        call.said()[call.said().len() - 2..],
        [Prompt::TooManyAttempts, Prompt::Goodbye]
    );
    call.play_out();
    assert!(call.hung_up());
}

#[test]
fn a_conference_over_its_limit_slows_its_callers_and_still_lets_a_right_code_in() {
    let mut call = Call::new();
    call.attempts = Some((0, 30));
    let mut call = call.start(utc(13, 40), None);
    call.answer(&format!("{NUMBER}#"));
    assert_eq!(call.said().last(), Some(&Prompt::AskAccessCode(None)));
    call.answer(&format!("{PARTICIPANT}#"));
    assert_eq!(call.admitted_as(), None, "checked only after the delay");
    assert_eq!(call.ivr.poll_timeout(), Some(call.now + GUARD_DELAY));
    call.time_out();
    assert_eq!(call.admitted_as(), Some(CallerRole::Participant));

    // A wrong code there gets one try, after the delay.
    let mut call = Call::new();
    call.attempts = Some((0, 30));
    let mut call = call.start(utc(13, 40), None);
    call.answer(&format!("{NUMBER}#"));
    call.answer("11111#");
    call.time_out();
    assert_eq!(
        call.said()[call.said().len() - 2..],
        [Prompt::InvalidCode, Prompt::Goodbye]
    );
    call.play_out();
    assert!(call.hung_up());
}

#[test]
fn a_withheld_caller_id_over_its_limit_is_slowed_not_shut_out() {
    let mut call = Call::new();
    call.caller_id = "anonymous";
    call.attempts = Some((10, 0));
    let mut call = call.start(utc(13, 40), None);
    assert!(!call.said().contains(&Prompt::TooManyAttempts));
    call.answer(&format!("{NUMBER}#"));
    call.time_out();
    call.answer(&format!("{PARTICIPANT}#"));
    call.time_out();
    assert_eq!(
        call.admitted_as(),
        Some(CallerRole::Participant),
        "anonymous callers share one counter: an outsider must not lock them out"
    );
}

#[test]
fn a_caller_locked_out_between_two_tries_is_stopped() {
    let mut call = Call::at_the_code_prompt();
    call.answer("11111#");
    call.attempts = Some((9, 1));
    call.answer("22222#");
    assert_eq!(
        call.said()[call.said().len() - 3..],
        [
            Prompt::AskAccessCode(None),
            Prompt::TooManyAttempts,
            Prompt::Goodbye
        ]
    );
}

#[test]
fn star44_skips_the_greeting() {
    let account = AccountId::new();
    let mut call = Call::new();
    call.conference.account = account;
    let mut call = call.start(utc(13, 40), Some(account));
    assert_eq!(call.said(), [Prompt::AskConferenceNumber(None)]);
    call.answer(&format!("{NUMBER}#"));
    call.answer(&format!("{PARTICIPANT}#"));
    assert_eq!(call.admitted_as(), Some(CallerRole::Participant));
}

#[test]
fn star44_cannot_reach_another_accounts_conference() {
    let mut call = Call::new().start(utc(13, 40), Some(AccountId::new()));
    call.answer(&format!("{NUMBER}#"));
    assert_eq!(call.said().last(), Some(&Prompt::AskConferenceNumber(None)));
    assert!(call.said().contains(&Prompt::InvalidConferenceNumber));
}

#[test]
fn the_intro_message_is_played_after_admission() {
    let mut call = Call::at_the_code_prompt();
    call.answer(&format!("{PARTICIPANT}#"));
    let admit = call
        .log
        .iter()
        .position(|o| matches!(o, Output::Admit { .. }))
        .expect("admitted");
    assert_eq!(
        call.log[admit + 1..],
        [Output::Play(Prompt::Intro(intro_prompt()))]
    );
}

#[test]
fn no_intro_is_played_when_the_conference_has_none() {
    let mut call = Call::new();
    call.conference.intro = None;
    let mut call = call.start(utc(13, 40), None);
    call.answer(&format!("{NUMBER}#"));
    call.answer(&format!("{PARTICIPANT}#"));
    assert!(matches!(call.log.last(), Some(Output::Admit { .. })));
}

#[test]
fn digits_during_a_prompt_barge_in() {
    let mut call = Call::during_the_window();
    // The greeting ends; the number prompt starts and is still playing.
    call.playing -= 1;
    call.feed(Input::PromptFinished(call.now));
    assert_eq!(call.playing, 1, "the number prompt plays");
    call.key(&format!("{NUMBER}#"));
    let stop = call
        .log
        .iter()
        .position(|o| *o == Output::StopPrompt)
        .expect("the prompt stopped");
    assert!(matches!(
        call.log[stop + 1..].first(),
        Some(Output::Lookup(Lookup::Conference(_)))
    ));
    assert_eq!(
        call.log
            .iter()
            .filter(|o| **o == Output::StopPrompt)
            .count(),
        1
    );
    assert_eq!(call.said().last(), Some(&Prompt::AskAccessCode(None)));
}

#[test]
fn keys_over_the_greeting_skip_it_and_are_the_number() {
    let mut call = Call::during_the_window();
    call.key(&format!("{NUMBER}#"));
    assert!(call.log.contains(&Output::StopPrompt));
    assert!(!call.said().contains(&Prompt::AskConferenceNumber(None)));
    assert_eq!(call.said().last(), Some(&Prompt::AskAccessCode(None)));
}

#[test]
fn keys_typed_ahead_while_the_conference_is_looked_up_go_into_the_code() {
    let mut call = Call::during_the_window();
    call.play_out();
    // The number and the code at once, before the lookup is answered.
    call.key_unanswered(&format!("{NUMBER}#{PARTICIPANT}#"));
    assert!(
        call.log
            .iter()
            .any(|o| matches!(o, Output::Lookup(Lookup::Conference(_))))
    );
    assert_eq!(call.admitted_as(), None);
    let found = Input::Answer(call.now, Answer::Conference(Some(call.conference.clone())));
    call.feed(found);
    assert_eq!(call.admitted_as(), Some(CallerRole::Participant));
}

#[test]
fn keys_typed_ahead_of_a_wrong_number_are_dropped() {
    let mut call = Call::during_the_window();
    call.play_out();
    call.key_unanswered(&format!("7777777#{PARTICIPANT}#"));
    call.feed(Input::Answer(call.now, Answer::Conference(None)));
    assert_eq!(call.said().last(), Some(&Prompt::AskConferenceNumber(None)));
    assert!(call.said().contains(&Prompt::InvalidConferenceNumber));
    call.answer(&format!("{NUMBER}#"));
    assert_eq!(call.said().last(), Some(&Prompt::AskAccessCode(None)));
}

#[test]
fn star_clears_the_entry() {
    let mut call = Call::during_the_window();
    call.answer(&format!("999*{NUMBER}#"));
    assert_eq!(call.said().last(), Some(&Prompt::AskAccessCode(None)));
    assert!(!call.said().contains(&Prompt::InvalidConferenceNumber));
}

#[test]
fn a_shell_that_never_answers_a_lookup_ends_the_call() {
    let mut call = Call::during_the_window();
    call.conference.number = "7777777".parse().expect("a number");
    call.play_out();
    call.key(NUMBER);
    // Answer nothing: feed the IVR directly.
    call.ivr.handle_input(Input::Digit(call.now, Digit::Pound));
    assert!(matches!(
        call.ivr.poll_output(),
        Some(Output::Lookup(Lookup::Conference(_)))
    ));
    call.time_out();
    call.play_out();
    assert!(call.hung_up());
}

#[test]
fn the_limits_match_the_issue() {
    assert_eq!(CALLER_LIMIT.max_failures, 10);
    assert_eq!(CALLER_LIMIT.window.num_minutes(), 10);
    assert_eq!(CONFERENCE_LIMIT.max_failures, 30);
    assert_eq!(CONFERENCE_LIMIT.window.num_minutes(), 10);
    assert_eq!(LOCKOUT, Duration::from_secs(15 * 60));
    assert_eq!(GUARD_DELAY, Duration::from_secs(3));
    assert_eq!(GUARDED_TRIES, 1);
}

/// One thing a caller or the network does.
#[derive(Debug, Clone)]
enum Step {
    Key(char),
    Keys(String),
    PromptFinished,
    Timeout,
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    let key = prop::sample::select("0123456789*#ABCD".chars().collect::<Vec<_>>());
    let entry = prop::sample::select(vec![
        format!("{NUMBER}#"),
        format!("{PARTICIPANT}#"),
        format!("{LISTENER}#"),
        "11111#".to_string(),
        "1234567#".to_string(),
    ]);
    prop_oneof![
        4 => key.prop_map(Step::Key),
        3 => entry.prop_map(Step::Keys),
        3 => Just(Step::PromptFinished),
        2 => Just(Step::Timeout),
        1 => (0u64..8000).prop_map(Step::Wait),
    ]
}

proptest! {
    #[test]
    fn any_sequence_ends_in_admit_or_hangup_without_a_wrong_admission(
        steps in prop::collection::vec(step(), 0..80),
        wall_minutes in 0i64..(24 * 60),
        occupancy in 0u32..30,
        attempts in (0u32..12, 0u32..32),
    ) {
        let mut call = Call::new();
        call.occupancy.callers = occupancy;
        call.attempts = Some(attempts);
        let mut call = call.start(utc(0, wall_minutes), None);
        let mut keyed = String::new();
        for step in steps {
            match step {
                Step::Key(c) => {
                    keyed.push(c);
                    call.key(&c.to_string());
                }
                Step::Keys(s) => {
                    keyed.push_str(&s);
                    call.key(&s);
                }
                Step::PromptFinished => {
                    call.playing = call.playing.saturating_sub(1);
                    call.feed(Input::PromptFinished(call.now));
                }
                Step::Timeout => {
                    if let Some(deadline) = call.ivr.poll_timeout() {
                        call.now = call.now.max(deadline);
                        call.feed(Input::Timeout(call.now));
                    }
                }
                Step::Wait(ms) => call.advance(Duration::from_millis(ms)),
            }
        }
        // Nothing more from the caller: timers alone must end the call.
        let mut fired = 0;
        while let Some(deadline) = call.ivr.poll_timeout() {
            prop_assert!(fired < 40, "still running after {fired} timeouts");
            call.now = call.now.max(deadline);
            call.feed(Input::Timeout(call.now));
            fired += 1;
        }
        prop_assert!(call.ivr.is_finished());
        let admits = call.log.iter().filter(|o| matches!(o, Output::Admit { .. })).count();
        let hangups = call.log.iter().filter(|o| **o == Output::Hangup).count();
        prop_assert_eq!(admits + hangups, 1, "exactly one ending: {:?}", call.log);
        if let Some(role) = call.admitted_as() {
            let code = call.conference.codes.code(role).as_str().to_string();
            prop_assert!(keyed.contains(&code), "admitted as {role} without keying its code");
            prop_assert!(occupancy < 25);
            let (by_caller, _) = call.attempts.unwrap_or_default();
            prop_assert!(by_caller < 10, "a caller over its limit is never admitted");
        }
    }
}

#[test]
fn an_intro_code_at_the_number_prompt_hands_the_call_to_the_intro_recorder() {
    let mut call = Call::new();
    let target = IntroTarget {
        code: "24681357".parse().expect("an intro code"),
        conference: call.conference.id,
        account: call.conference.account,
    };
    call.intro = Some(target.clone());
    let mut call = call.start(utc(13, 40), None);
    call.answer("24681357#");
    assert_eq!(call.log.last(), Some(&Output::RecordIntro(target)));
    assert_eq!(call.ivr.poll_timeout(), None, "the IVR's work is over");
    assert_eq!(call.admitted_as(), None);
}

#[test]
fn an_unknown_intro_code_counts_as_a_wrong_number() {
    let mut call = Call::during_the_window();
    call.answer("24681357#");
    assert!(call.said().contains(&Prompt::InvalidConferenceNumber));
    assert_eq!(call.said().last(), Some(&Prompt::AskConferenceNumber(None)));
    assert!(!call.log.iter().any(|o| matches!(o, Output::RecordIntro(_))));
}
