//! A conference running on this node, its room (the domain's `Conference` is the
//! scheduled one, in the store): its [`Mixer`], who joined in what order, the lock
//! and lecture mode, and what the keypad's [`Command`]s do (issue #5). Sans-IO
//! and pure: each change returns the [`Effect`]s the node carries out on the
//! calls (a prompt or tone to a caller, a caller to remove).
//!
//! - **Joining**: the first caller hears « you are the first caller »; when
//!   others are in, they hear the entry tone. A participant joining in lecture
//!   mode joins muted.
//! - **Leaving**: those still in hear the exit tone.
//! - **Muting**: `*6` mutes or unmutes oneself (not in lecture mode: a muted
//!   participant stays muted until the moderator lifts it). `*5` mutes every
//!   participant (moderators go on being heard) or unmutes them, except those
//!   who had muted themselves.
//! - **Lock**: `*7`; a locked conference turns new callers away with « this
//!   conference is locked » (the node tells the IVR).
//! - **Removing**: `*9` removes the caller who joined last, the moderator
//!   pressing it aside.
//! - **Recording**: a conference that records tells each caller it admits
//!   (« this conference is recorded »); its recording is the room's full mix,
//!   what a listener hears (prompts and tones are said to one caller at a time
//!   and are never in it); `*8` pauses and resumes it.
//! - **Cascades** ([`Room::join_cascade`], issue #16): another node's leg into
//!   this room, carrying the sum of that node's talking callers; the mixer
//!   takes it as one talker (it hears the room's N−1 mix, never itself). It is
//!   no caller: not counted, not announced, no tone when it comes or goes, not
//!   muted by lecture mode, never the last caller `*9` removes; the room stays
//!   open while one is in.
//! - **Remote legs** ([`Room::join_remote`], issue #16): a member node's
//!   callers, held here by the owner as callers like any other (counted,
//!   announced, told they are the first, muted by lecture mode, removed by
//!   `*9`), their mute state kept here and their audio mixed on the member (it
//!   comes on the cascade); what the room decides for them the node sends to
//!   the member.
//! - **From the portal** ([`Room::control`]): a moderator of the account
//!   mutes or unmutes one caller (who is told), removes one, locks or unlocks,
//!   mutes all participants or lifts it: the keypad's rules, nobody's keys.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use teleconf_domain::{AccountId, CallerRole};
use teleconf_sip::sdp::Codec;

use crate::app::CallKey;
use crate::app::ivr::Occupancy;
use crate::app::keypad::Command;
use crate::app::mixer::{LegStats, Mixer, MixerError};
use crate::app::prompts::Prompt;

/// What a change asks of the calls, and what it tells the live view.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Say this to that caller.
    Say(CallKey, Prompt),
    /// Hang up on that caller: a moderator removed them.
    Remove(CallKey),
    /// Something the live view and the activity feed show.
    Event(Event),
}

/// A change in a running conference, for the live view and the activity feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// That caller is now muted (`true`) or heard again.
    Muted(CallKey, bool),
    /// Lecture mode on or off.
    Lecture(bool),
    /// Locked or unlocked.
    Locked(bool),
    /// Recording paused or resumed.
    RecordingPaused(bool),
    /// A moderator removed that caller.
    Removed(CallKey),
}

/// A moderator's command from the portal's live view (the keypad's, aimed at a
/// caller by leg rather than by order of arrival).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Mute (`true`) or unmute that caller.
    Mute(CallKey, bool),
    /// Hang up on that caller.
    Remove(CallKey),
    /// Lock (`true`) or unlock the conference.
    Lock(bool),
    /// Mute all participants (`true`) or lift it.
    Lecture(bool),
}

/// A conference running on the node.
#[derive(Debug, Default)]
pub struct Room {
    mixer: Mixer,
    /// Legs in, oldest first, with their roles.
    order: Vec<(CallKey, CallerRole)>,
    /// Other nodes' cascade legs in.
    cascades: HashSet<CallKey>,
    /// Member nodes' callers in (their audio comes on a cascade), and whether
    /// each is muted.
    remote: HashMap<CallKey, bool>,
    /// Legs that muted themselves.
    self_muted: HashSet<CallKey>,
    locked: bool,
    lecture: bool,
    /// `Some(paused)` while the conference records.
    recording: Option<bool>,
    /// Its account (for the activity feed).
    account: Option<AccountId>,
    /// A member's room (issue #16): the conference's first caller is in the
    /// owner's room, so nobody here is told they are the first.
    member: bool,
}

impl Room {
    /// An empty conference of `account`, recording when `record`.
    pub fn new(account: AccountId, record: bool) -> Self {
        Self {
            recording: record.then_some(false),
            account: Some(account),
            ..Self::default()
        }
    }

    /// A member node's room of `account`'s conference, joined to the owner's
    /// room by a cascade: it never records (the owner's mix is the recording)
    /// and tells nobody they are the first caller.
    pub fn member(account: AccountId) -> Self {
        Self {
            member: true,
            ..Self::new(account, false)
        }
    }

    /// Its account.
    pub fn account(&self) -> Option<AccountId> {
        self.account
    }

    /// Whether it records (paused or not).
    pub fn records(&self) -> bool {
        self.recording.is_some()
    }

    /// The frame to record after a tick: the full mix, unless not recording or
    /// paused.
    pub fn recording_frame(&self) -> Option<&[i16]> {
        (self.recording == Some(false)).then(|| self.mixer.last_mix())
    }

    /// Its mixer.
    pub fn mixer(&self) -> &Mixer {
        &self.mixer
    }

    /// Its mixer, to push frames and tick.
    pub fn mixer_mut(&mut self) -> &mut Mixer {
        &mut self.mixer
    }

    /// Callers in.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// The other nodes' cascade legs in.
    pub fn cascades(&self) -> impl Iterator<Item = CallKey> + '_ {
        self.cascades.iter().copied()
    }

    /// Whether a caller of this node's is in (cascades and remote callers aside).
    pub fn has_callers(&self) -> bool {
        self.order
            .iter()
            .any(|(key, _)| !self.remote.contains_key(key))
    }

    /// Nobody is in: no caller, no cascade.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty() && self.cascades.is_empty()
    }

    /// Locked by a moderator: new callers are turned away.
    pub fn is_locked(&self) -> bool {
        self.locked
    }

    /// Its callers (every node's) and its lock, as an admission checks them.
    pub fn occupancy(&self) -> Occupancy {
        Occupancy {
            callers: u32::try_from(self.order.len()).unwrap_or(u32::MAX),
            locked: self.locked,
        }
    }

    /// When the room's next tick is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.mixer.poll_timeout()
    }

    /// A caller comes in.
    pub fn join(
        &mut self,
        leg: CallKey,
        role: CallerRole,
        codec: Codec,
    ) -> Result<Vec<Effect>, MixerError> {
        self.mixer.join(leg, role, codec)?;
        if self.lecture && role == CallerRole::Participant {
            self.mixer.set_muted(leg, true)?;
        }
        Ok(self.admit(leg, role))
    }

    /// A member node's caller comes in, muted or not there (see the module
    /// documentation); in lecture mode a participant is muted.
    pub fn join_remote(&mut self, leg: CallKey, role: CallerRole, muted: bool) -> Vec<Effect> {
        if self.role(leg).is_some() {
            return Vec::new();
        }
        if muted {
            self.self_muted.insert(leg);
        }
        let lectured = self.lecture && role == CallerRole::Participant;
        self.remote.insert(leg, muted || lectured);
        self.admit(leg, role)
    }

    /// Whether that caller is muted (a local one in the mixer, a remote one here).
    pub fn is_muted(&self, leg: CallKey) -> Option<bool> {
        match self.remote.get(&leg) {
            Some(muted) => Some(*muted),
            None => self.mixer.is_muted(leg),
        }
    }

    fn set_muted(&mut self, leg: CallKey, muted: bool) {
        match self.remote.get_mut(&leg) {
            Some(remote) => *remote = muted,
            None => {
                let _ = self.mixer.set_muted(leg, muted);
            }
        }
    }

    /// A caller admitted: the announcements, its place in the order.
    fn admit(&mut self, leg: CallKey, role: CallerRole) -> Vec<Effect> {
        let mut effects = Vec::new();
        if self.records() {
            effects.push(Effect::Say(leg, Prompt::Recorded));
        }
        if self.order.is_empty() {
            if !self.member {
                effects.push(Effect::Say(leg, Prompt::FirstCaller));
            }
        } else {
            effects.extend(self.others(leg, Prompt::EntryTone));
        }
        self.order.push((leg, role));
        effects
    }

    /// Another node's cascade comes in: one talker, no caller (see the module
    /// documentation).
    pub fn join_cascade(&mut self, leg: CallKey, codec: Codec) -> Result<(), MixerError> {
        // A moderator's seat in the mixer: heard, and lecture mode leaves it be
        // (the member mutes its own callers).
        self.mixer.join(leg, CallerRole::Moderator, codec)?;
        self.cascades.insert(leg);
        Ok(())
    }

    /// A caller goes (hung up, removed, dropped): its reception figures, and
    /// what the others hear.
    pub fn leave(&mut self, leg: CallKey) -> (Option<LegStats>, Vec<Effect>) {
        let stats = if self.remote.remove(&leg).is_some() {
            None
        } else {
            let Ok(stats) = self.mixer.leave(leg) else {
                return (None, Vec::new());
            };
            if self.cascades.remove(&leg) {
                return (Some(stats), Vec::new());
            }
            Some(stats)
        };
        self.order.retain(|(key, _)| *key != leg);
        self.self_muted.remove(&leg);
        (stats, self.others(leg, Prompt::ExitTone))
    }

    /// Carries out `command` keyed by `leg`.
    pub fn command(&mut self, leg: CallKey, command: Command) -> Vec<Effect> {
        let Some(role) = self.role(leg) else {
            return Vec::new();
        };
        let say = |prompt| vec![Effect::Say(leg, prompt)];
        match command {
            Command::Help => say(Prompt::KeypadHelp(role)),
            Command::Count => say(Prompt::Callers(self.occupancy().callers)),
            Command::MuteSelf => {
                if role == CallerRole::Listener {
                    return Vec::new();
                }
                if self.lecture && role == CallerRole::Participant {
                    return say(Prompt::Muted(true));
                }
                let muted = !self.is_muted(leg).unwrap_or(false);
                self.set_muted(leg, muted);
                if muted {
                    self.self_muted.insert(leg);
                } else {
                    self.self_muted.remove(&leg);
                }
                vec![
                    Effect::Say(leg, Prompt::Muted(muted)),
                    Effect::Event(Event::Muted(leg, muted)),
                ]
            }
            Command::LectureMode if role == CallerRole::Moderator => {
                let on = !self.lecture;
                let mut effects = vec![Effect::Say(leg, Prompt::AllMuted(on))];
                effects.extend(self.set_lecture(on));
                effects
            }
            Command::Lock if role == CallerRole::Moderator => {
                let on = !self.locked;
                let mut effects = vec![Effect::Say(leg, Prompt::ConferenceLocked(on))];
                effects.extend(self.set_locked(on));
                effects
            }
            Command::RecordingPause if role == CallerRole::Moderator => match &mut self.recording {
                Some(paused) => {
                    *paused = !*paused;
                    vec![
                        Effect::Say(leg, Prompt::RecordingPaused(*paused)),
                        Effect::Event(Event::RecordingPaused(*paused)),
                    ]
                }
                None => Vec::new(),
            },
            Command::RemoveLast if role == CallerRole::Moderator => {
                match self.order.iter().rev().find(|(key, _)| *key != leg) {
                    Some(&(last, _)) => vec![
                        Effect::Event(Event::Removed(last)),
                        Effect::Remove(last),
                        Effect::Say(leg, Prompt::CallerRemoved(true)),
                    ],
                    None => say(Prompt::CallerRemoved(false)),
                }
            }
            // The keypad gives these to moderators only.
            Command::LectureMode
            | Command::Lock
            | Command::RecordingPause
            | Command::RemoveLast => Vec::new(),
        }
    }

    /// Carries out a moderator's `control` from the portal. What is already so
    /// (locking a locked conference, muting a muted caller) changes nothing and
    /// says nothing; a caller no longer in is ignored.
    pub fn control(&mut self, control: Control) -> Vec<Effect> {
        match control {
            Control::Mute(leg, muted) => {
                let Some(role) = self.role(leg) else {
                    return Vec::new();
                };
                // A listener is never heard; in lecture mode a participant stays muted.
                let lectured = self.lecture && role == CallerRole::Participant;
                if role == CallerRole::Listener
                    || (lectured && !muted)
                    || self.is_muted(leg) == Some(muted)
                {
                    return Vec::new();
                }
                self.set_muted(leg, muted);
                // Kept as the caller's own mute: lecture mode ending does not lift it.
                if muted {
                    self.self_muted.insert(leg);
                } else {
                    self.self_muted.remove(&leg);
                }
                vec![
                    Effect::Say(leg, Prompt::Muted(muted)),
                    Effect::Event(Event::Muted(leg, muted)),
                ]
            }
            Control::Remove(leg) if self.role(leg).is_some() => {
                vec![Effect::Event(Event::Removed(leg)), Effect::Remove(leg)]
            }
            Control::Remove(_) => Vec::new(),
            Control::Lock(on) if on != self.locked => self.set_locked(on),
            Control::Lecture(on) if on != self.lecture => self.set_lecture(on),
            Control::Lock(_) | Control::Lecture(_) => Vec::new(),
        }
    }

    /// Lecture mode on or off: participants muted, or back to their own choice.
    fn set_lecture(&mut self, on: bool) -> Vec<Effect> {
        self.lecture = on;
        let mut effects = vec![Effect::Event(Event::Lecture(on))];
        let participants: Vec<CallKey> = self
            .order
            .iter()
            .filter(|(_, role)| *role == CallerRole::Participant)
            .map(|(key, _)| *key)
            .collect();
        for key in participants {
            let muted = on || self.self_muted.contains(&key);
            if self.is_muted(key) != Some(muted) {
                self.set_muted(key, muted);
                effects.push(Effect::Event(Event::Muted(key, muted)));
            }
        }
        effects
    }

    fn set_locked(&mut self, on: bool) -> Vec<Effect> {
        self.locked = on;
        vec![Effect::Event(Event::Locked(on))]
    }

    fn role(&self, leg: CallKey) -> Option<CallerRole> {
        self.order
            .iter()
            .find(|(key, _)| *key == leg)
            .map(|(_, role)| *role)
    }

    /// `prompt` to everybody in but `leg`.
    fn others(&self, leg: CallKey, prompt: Prompt) -> Vec<Effect> {
        self.order
            .iter()
            .filter(|(key, _)| *key != leg)
            .map(|(key, _)| Effect::Say(*key, prompt.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: CallerRole = CallerRole::Participant;
    const L: CallerRole = CallerRole::Listener;
    const M: CallerRole = CallerRole::Moderator;

    fn conference(roles: &[CallerRole]) -> Room {
        let mut conference = Room::new(AccountId::new(), false);
        for (i, role) in roles.iter().enumerate() {
            conference
                .join(CallKey(i as u64), *role, Codec::Pcmu)
                .expect("joins");
        }
        conference
    }

    fn muted(conference: &Room, leg: u64) -> bool {
        conference
            .mixer()
            .is_muted(CallKey(leg))
            .expect("in the room")
    }

    #[test]
    fn the_portal_mutes_one_caller_who_is_told_and_a_listener_is_left_alone() {
        let mut conference = conference(&[M, P, L]);
        assert_eq!(
            conference.control(Control::Mute(CallKey(1), true)),
            [
                Effect::Say(CallKey(1), Prompt::Muted(true)),
                Effect::Event(Event::Muted(CallKey(1), true))
            ]
        );
        assert!(muted(&conference, 1));
        assert_eq!(conference.control(Control::Mute(CallKey(1), true)), []);
        assert_eq!(conference.control(Control::Mute(CallKey(2), false)), []);
        assert_eq!(
            conference.control(Control::Mute(CallKey(9), true)),
            [],
            "not in"
        );
        // Lecture mode on and off leaves the portal's mute in place.
        conference.control(Control::Lecture(true));
        conference.control(Control::Lecture(false));
        assert!(muted(&conference, 1));
        conference.control(Control::Mute(CallKey(1), false));
        assert!(!muted(&conference, 1));
    }

    #[test]
    fn the_portal_locks_mutes_all_and_removes_like_the_keypad_without_prompts() {
        let mut conference = conference(&[M, P, P]);
        assert_eq!(
            conference.control(Control::Lock(true)),
            [Effect::Event(Event::Locked(true))]
        );
        assert!(conference.is_locked());
        assert_eq!(
            conference.control(Control::Lock(true)),
            [],
            "already locked"
        );
        let effects = conference.control(Control::Lecture(true));
        assert_eq!(effects[0], Effect::Event(Event::Lecture(true)));
        assert!(muted(&conference, 1) && muted(&conference, 2) && !muted(&conference, 0));
        assert_eq!(
            conference.control(Control::Mute(CallKey(1), false)),
            [],
            "lecture mode keeps participants muted"
        );
        assert_eq!(
            conference.control(Control::Remove(CallKey(2))),
            [
                Effect::Event(Event::Removed(CallKey(2))),
                Effect::Remove(CallKey(2))
            ]
        );
    }

    #[test]
    fn a_cascade_is_heard_but_neither_counted_announced_nor_removed_and_keeps_the_room_open() {
        let mut room = conference(&[M]);
        room.join_cascade(CallKey(9), Codec::Pcmu).unwrap();
        assert_eq!(room.len(), 1, "not a caller");
        assert_eq!(
            room.command(CallKey(0), Command::RemoveLast),
            [Effect::Say(CallKey(0), Prompt::CallerRemoved(false))],
            "*9 never removes a cascade"
        );
        room.command(CallKey(0), Command::LectureMode);
        assert!(!muted(&room, 9), "lecture mode leaves the cascade heard");
        let effects = room.join(CallKey(1), P, Codec::Pcmu).unwrap();
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::Say(CallKey(9), _))),
            "no tone to a cascade: {effects:?}"
        );
        room.leave(CallKey(0));
        room.leave(CallKey(1));
        assert!(!room.is_empty(), "the cascade keeps the room open");
        assert_eq!(room.leave(CallKey(9)).1, [], "no exit tone for a cascade");
        assert!(room.is_empty());
    }

    #[test]
    fn a_remote_caller_is_counted_announced_muted_by_lecture_mode_and_removable() {
        let mut room = conference(&[M]);
        assert_eq!(
            room.join_remote(CallKey(7), P, false),
            [Effect::Say(CallKey(0), Prompt::EntryTone)]
        );
        assert_eq!(room.len(), 2, "counted");
        assert_eq!(
            room.command(CallKey(7), Command::Count),
            [Effect::Say(CallKey(7), Prompt::Callers(2))]
        );
        let effects = room.command(CallKey(0), Command::LectureMode);
        assert!(effects.contains(&Effect::Event(Event::Muted(CallKey(7), true))));
        assert_eq!(room.is_muted(CallKey(7)), Some(true));
        assert_eq!(
            room.command(CallKey(0), Command::RemoveLast),
            [
                Effect::Event(Event::Removed(CallKey(7))),
                Effect::Remove(CallKey(7)),
                Effect::Say(CallKey(0), Prompt::CallerRemoved(true))
            ]
        );
        assert_eq!(
            room.leave(CallKey(7)),
            (None, vec![Effect::Say(CallKey(0), Prompt::ExitTone)])
        );
        assert_eq!(room.len(), 1);
    }

    #[test]
    fn in_a_members_room_nobody_is_told_they_are_the_first_caller() {
        let mut room = Room::member(AccountId::new());
        assert_eq!(room.join(CallKey(0), P, Codec::Pcmu).unwrap(), []);
        assert_eq!(
            room.join(CallKey(1), P, Codec::Pcmu).unwrap(),
            [Effect::Say(CallKey(0), Prompt::EntryTone)]
        );
        assert!(!room.records());
    }

    #[test]
    fn the_first_caller_is_told_and_the_next_ones_are_announced_by_a_tone() {
        let mut conference = Room::new(AccountId::new(), false);
        assert_eq!(
            conference.join(CallKey(0), M, Codec::Pcmu).unwrap(),
            [Effect::Say(CallKey(0), Prompt::FirstCaller)]
        );
        assert_eq!(
            conference.join(CallKey(1), P, Codec::Pcma).unwrap(),
            [Effect::Say(CallKey(0), Prompt::EntryTone)]
        );
        let effects = conference.join(CallKey(2), L, Codec::Pcmu).unwrap();
        assert_eq!(effects.len(), 2);
        assert!(!effects.contains(&Effect::Say(CallKey(2), Prompt::EntryTone)));
        let (stats, effects) = conference.leave(CallKey(0));
        assert!(stats.is_some());
        assert_eq!(
            effects,
            [
                Effect::Say(CallKey(1), Prompt::ExitTone),
                Effect::Say(CallKey(2), Prompt::ExitTone)
            ]
        );
        assert_eq!(conference.len(), 2);
        assert_eq!(
            conference.leave(CallKey(0)),
            (None, Vec::new()),
            "gone already"
        );
    }

    #[test]
    fn a_participant_mutes_and_unmutes_itself_and_a_listener_cannot() {
        let mut conference = conference(&[P, L]);
        assert_eq!(
            conference.command(CallKey(0), Command::MuteSelf),
            [
                Effect::Say(CallKey(0), Prompt::Muted(true)),
                Effect::Event(Event::Muted(CallKey(0), true))
            ]
        );
        assert!(muted(&conference, 0));
        assert_eq!(
            conference.command(CallKey(0), Command::MuteSelf),
            [
                Effect::Say(CallKey(0), Prompt::Muted(false)),
                Effect::Event(Event::Muted(CallKey(0), false))
            ]
        );
        assert!(!muted(&conference, 0));
        assert!(conference.command(CallKey(1), Command::MuteSelf).is_empty());
    }

    #[test]
    fn lecture_mode_mutes_participants_not_moderators_and_lifting_it_keeps_self_mutes() {
        let mut conference = conference(&[M, P, P]);
        conference.command(CallKey(2), Command::MuteSelf);
        assert_eq!(
            conference.command(CallKey(0), Command::LectureMode),
            [
                Effect::Say(CallKey(0), Prompt::AllMuted(true)),
                Effect::Event(Event::Lecture(true)),
                Effect::Event(Event::Muted(CallKey(1), true))
            ],
            "leg 2 was muted already"
        );
        assert!(!muted(&conference, 0), "the moderator is still heard");
        assert!(muted(&conference, 1) && muted(&conference, 2));
        // A participant cannot unmute itself in lecture mode; a newcomer joins muted.
        assert_eq!(
            conference.command(CallKey(1), Command::MuteSelf),
            [Effect::Say(CallKey(1), Prompt::Muted(true))]
        );
        assert!(muted(&conference, 1));
        conference.join(CallKey(3), P, Codec::Pcmu).unwrap();
        assert!(muted(&conference, 3));
        // Lifted: everyone speaks again but the one who muted itself.
        assert_eq!(
            conference.command(CallKey(0), Command::LectureMode),
            [
                Effect::Say(CallKey(0), Prompt::AllMuted(false)),
                Effect::Event(Event::Lecture(false)),
                Effect::Event(Event::Muted(CallKey(1), false)),
                Effect::Event(Event::Muted(CallKey(3), false))
            ]
        );
        assert!(!muted(&conference, 1) && !muted(&conference, 3));
        assert!(muted(&conference, 2));
    }

    #[test]
    fn only_a_moderator_locks_and_the_lock_toggles() {
        let mut conference = conference(&[M, P]);
        assert!(conference.command(CallKey(1), Command::Lock).is_empty());
        assert!(!conference.is_locked());
        assert_eq!(
            conference.command(CallKey(0), Command::Lock),
            [
                Effect::Say(CallKey(0), Prompt::ConferenceLocked(true)),
                Effect::Event(Event::Locked(true))
            ]
        );
        assert!(conference.is_locked());
        conference.command(CallKey(0), Command::Lock);
        assert!(!conference.is_locked());
    }

    #[test]
    fn remove_last_takes_the_latest_caller_but_never_the_moderator_pressing_it() {
        let mut conference = conference(&[P, M, L]);
        assert_eq!(
            conference.command(CallKey(1), Command::RemoveLast),
            [
                Effect::Event(Event::Removed(CallKey(2))),
                Effect::Remove(CallKey(2)),
                Effect::Say(CallKey(1), Prompt::CallerRemoved(true))
            ]
        );
        conference.leave(CallKey(2));
        conference.leave(CallKey(0));
        assert_eq!(
            conference.command(CallKey(1), Command::RemoveLast),
            [Effect::Say(CallKey(1), Prompt::CallerRemoved(false))]
        );
    }

    #[test]
    fn count_and_help_answer_the_caller_in_its_role() {
        let mut conference = conference(&[M, P, L]);
        assert_eq!(
            conference.command(CallKey(2), Command::Count),
            [Effect::Say(CallKey(2), Prompt::Callers(3))]
        );
        assert_eq!(
            conference.command(CallKey(1), Command::Help),
            [Effect::Say(CallKey(1), Prompt::KeypadHelp(P))]
        );
        assert!(conference.command(CallKey(9), Command::Help).is_empty());
    }

    #[test]
    fn a_recording_conference_says_so_and_a_moderator_pauses_and_resumes_it() {
        let mut conference = Room::new(AccountId::new(), true);
        assert_eq!(
            conference.join(CallKey(0), M, Codec::Pcmu).unwrap(),
            [
                Effect::Say(CallKey(0), Prompt::Recorded),
                Effect::Say(CallKey(0), Prompt::FirstCaller)
            ]
        );
        conference.join(CallKey(1), P, Codec::Pcmu).unwrap();
        assert!(conference.recording_frame().is_some());
        assert!(
            conference
                .command(CallKey(1), Command::RecordingPause)
                .is_empty()
        );
        assert_eq!(
            conference.command(CallKey(0), Command::RecordingPause),
            [
                Effect::Say(CallKey(0), Prompt::RecordingPaused(true)),
                Effect::Event(Event::RecordingPaused(true))
            ]
        );
        assert!(
            conference.recording_frame().is_none(),
            "paused: nothing recorded"
        );
        conference.command(CallKey(0), Command::RecordingPause);
        assert!(conference.recording_frame().is_some());

        let mut unrecorded = Room::new(AccountId::new(), false);
        unrecorded.join(CallKey(0), M, Codec::Pcmu).unwrap();
        assert!(
            unrecorded
                .command(CallKey(0), Command::RecordingPause)
                .is_empty()
        );
        assert!(unrecorded.recording_frame().is_none());
    }
}
