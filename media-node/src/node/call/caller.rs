//! What the caller meets on the call: keys to the IVR, the intro recorder or the
//! keypad; admission to the conference; the prompts, each waiting for its custom
//! audio for at most [`FETCH_GRACE`].

use std::time::Instant;

use teleconf_domain::{
    CallLeg, CallerRole, ConferenceId, DisconnectCause, Language, LegId, YearMonth,
};
use teleconf_sip::rtp::Digit;

use super::{Admitted, Call, END_WARNING, FETCH_GRACE, Output, Phase, Queued, Stage};
use crate::app::intro::{self, IntroRecorder};
use crate::app::ivr;
use crate::app::keypad::Keypad;
use crate::app::lookup::Lookup;
use crate::app::prompts::{self, Audio, Clip, Prompt};

impl Call {
    /// A key: to the intro recorder, the keypad or the IVR, whichever has the caller.
    pub(super) fn on_digit(&mut self, now: Instant, digit: Digit) {
        let Phase::Connected(line) = &mut self.phase else {
            return;
        };
        match &mut line.stage {
            Stage::Intro(..) => {
                self.feed_intro(now, intro::Input::Digit(now, digit));
            }
            Stage::Admitted(admitted) => {
                if let Some(command) = admitted.keypad.on_digit(now, digit) {
                    tracing::info!(?command, "call: keypad");
                    self.outputs.push_back(Output::Keypad {
                        leg: self.settings.leg,
                        command,
                    });
                }
            }
            Stage::Ivr(_) => self.feed_ivr(now, ivr::Input::Digit(now, digit)),
            // A cascade's keys are its member's callers': the member reads them.
            Stage::Ringing { .. } | Stage::Cascade(_) | Stage::Over(_) => {}
        }
    }

    /// Feeds the IVR, while it has the caller, and carries out what it asks.
    pub(super) fn feed_ivr(&mut self, now: Instant, input: ivr::Input) {
        let Some(Stage::Ivr(ivr)) = self.line_mut().map(|line| &mut line.stage) else {
            return;
        };
        ivr.handle_input(input);
        // All of them first: admission and the intro recorder end the IVR's stage.
        for output in std::iter::from_fn(|| ivr.poll_output()).collect::<Vec<_>>() {
            match output {
                ivr::Output::Play(prompt) => self.queue_prompt(now, prompt),
                ivr::Output::StopPrompt => {
                    if let Some(line) = self.line_mut() {
                        line.speaker.stop();
                    }
                }
                ivr::Output::Admit { conference, role } => self.admit(now, conference, role),
                ivr::Output::RecordIntro(target) => {
                    if let Some(line) = self.line_mut() {
                        line.stage = Stage::Intro(IntroRecorder::start(), target);
                    }
                    self.drive_intro(now);
                }
                ivr::Output::Hangup => self.hang_up(now, DisconnectCause::BridgeHangup),
                ivr::Output::Lookup(lookup) => self.outputs.push_back(Output::Lookup(lookup)),
                ivr::Output::CountCallers(conference) => {
                    self.outputs.push_back(Output::CountCallers(conference));
                }
            }
        }
    }

    /// Carries out what the intro recorder asks.
    fn drive_intro(&mut self, now: Instant) {
        loop {
            let Phase::Connected(line) = &mut self.phase else {
                return;
            };
            let Stage::Intro(recorder, target) = &mut line.stage else {
                return;
            };
            let Some(output) = recorder.poll_output() else {
                return;
            };
            match output {
                intro::Output::Play(prompt) => self.queue_prompt(now, prompt),
                intro::Output::Beep => line
                    .speaker
                    .player
                    .enqueue_parts(vec![Audio::Static(prompts::beep())]),
                intro::Output::PlayAudio(pcm) => {
                    line.speaker.player.enqueue_parts(vec![Audio::Shared(pcm)]);
                }
                intro::Output::StopPrompt => line.speaker.stop(),
                intro::Output::Keep(pcm) => {
                    let target = target.clone();
                    self.outputs.push_back(Output::StoreIntro { target, pcm });
                }
                intro::Output::Hangup => self.hang_up(now, DisconnectCause::BridgeHangup),
            }
        }
    }

    /// Feeds the intro recorder, if it has the call.
    pub(super) fn feed_intro(&mut self, now: Instant, input: intro::Input) -> bool {
        let Some(Stage::Intro(recorder, _)) = self.line_mut().map(|line| &mut line.stage) else {
            return false;
        };
        recorder.handle_input(input);
        self.drive_intro(now);
        true
    }

    /// The IVR admitted the caller: the room, the CDR leg, the keypad.
    fn admit(&mut self, now: Instant, conference: ConferenceId, role: CallerRole) {
        let wall_clock = self.wall_clock(now);
        let Phase::Connected(line) = &mut self.phase else {
            return;
        };
        let found = match (&line.stage, line.negotiated) {
            (Stage::Ivr(ivr), Some(negotiated)) => ivr.conference().cloned().zip(Some(negotiated)),
            _ => None,
        };
        let Some((info, negotiated)) = found else {
            tracing::warn!("call: admitted without a conference or media");
            return self.hang_up(now, DisconnectCause::BridgeHangup);
        };
        let caller = &line.caller;
        let leg = CallLeg {
            id: LegId::new(),
            account_id: info.account,
            conference_id: conference,
            conference_number: info.number.clone(),
            dialled: caller.dialled.clone(),
            caller_id: caller.caller_id.clone(),
            role,
            owner_node: None,
            joined_at: wall_clock,
            month: YearMonth::of(wall_clock, info.time_zone),
            left_at: None,
            cause: None,
            quality: None,
            node: None,
        };
        tracing::info!(leg = %leg.id, %conference, %role, "call: admitted");
        // "Ends in five minutes", said at five minutes before the planned end
        // (nothing is cut: the conference goes on until the last caller leaves).
        let warn_wall = info.schedule.end() - END_WARNING;
        let warn_at = (warn_wall - wall_clock)
            .to_std()
            .ok()
            .filter(|lead| !lead.is_zero())
            .map(|lead| now + lead);
        line.stage = Stage::Admitted(Admitted {
            leg: leg.clone(),
            keypad: Keypad::new(role),
            warn_at,
        });
        self.outputs.push_back(Output::Join {
            leg: self.settings.leg,
            conference,
            role,
            codec: negotiated.codec,
            account: info.account,
            record: info.record,
            ends: now
                + (info.schedule.end() - wall_clock)
                    .to_std()
                    .unwrap_or_default(),
        });
        self.outputs.push_back(Output::CdrOpen(leg));
    }

    /// Says that the conference ends in five minutes, when it is time.
    pub(super) fn warn_of_the_end(&mut self, now: Instant) {
        let Some(Stage::Admitted(admitted)) = self.line_mut().map(|line| &mut line.stage) else {
            return;
        };
        if admitted.warn_at.is_some_and(|at| at <= now) {
            admitted.warn_at = None;
            self.queue_prompt(now, Prompt::EndsSoon);
        }
    }

    /// Queues a prompt as one clip, fetching its custom audio first.
    pub(super) fn queue_prompt(&mut self, now: Instant, prompt: Prompt) {
        let Phase::Connected(line) = &mut self.phase else {
            return;
        };
        let clips = prompts::default_prompt(line.caller.language, &prompt);
        for clip in &clips {
            if let Clip::Custom(id) = clip
                && !line.speaker.fetched.contains_key(id)
                && line.speaker.requested.insert(*id)
            {
                self.outputs.push_back(Output::Lookup(Lookup::Prompt(*id)));
            }
        }
        line.speaker.waiting.push_back(Queued {
            prompt,
            clips,
            give_up_at: now + FETCH_GRACE,
        });
        self.feed_player(now);
    }

    /// Moves the waiting prompts to the player, in order, as their audio arrives
    /// (or their grace runs out: the default then plays instead).
    pub(super) fn feed_player(&mut self, now: Instant) {
        let Some(line) = self.line_mut() else {
            return;
        };
        let language = line.caller.language;
        let speaker = &mut line.speaker;
        while let Some(queued) = speaker.waiting.front() {
            let ready: Option<Vec<Audio>> = queued
                .clips
                .iter()
                .map(|clip| match clip {
                    Clip::Default(pcm) => Some(Audio::Static(pcm)),
                    Clip::Custom(id) => speaker.fetched.get(id).cloned().map(Audio::Shared),
                })
                .collect();
            let parts = match ready {
                Some(parts) => parts,
                None if queued.give_up_at <= now => {
                    tracing::warn!(prompt = ?queued.prompt, "call: custom prompt late, default played");
                    fallback(language, &queued.prompt)
                }
                None => return,
            };
            speaker.player.enqueue_parts(parts);
            speaker.waiting.pop_front();
        }
    }
}

/// The default audio for a prompt whose custom recording did not come in time;
/// nothing for an intro (it has no default), which still ends as a clip.
fn fallback(language: Language, prompt: &Prompt) -> Vec<Audio> {
    let default = match prompt {
        Prompt::Greeting(_) => Prompt::Greeting(None),
        Prompt::AskConferenceNumber(_) => Prompt::AskConferenceNumber(None),
        Prompt::AskAccessCode(_) => Prompt::AskAccessCode(None),
        Prompt::Intro(_) => return Vec::new(),
        other => other.clone(),
    };
    prompts::default_prompt(language, &default)
        .into_iter()
        .filter_map(|clip| match clip {
            Clip::Default(pcm) => Some(Audio::Static(pcm)),
            Clip::Custom(_) => None,
        })
        .collect()
}
