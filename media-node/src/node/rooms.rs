//! What the calls ask of the node, carried out: SIP and RTP to send, lookups,
//! and the rooms: joins, the keypad's commands, the callers' audio, leaves, the
//! portal's commands, the live view and the activity feed, the rooms' ticks.

use std::collections::HashMap;
use std::time::Instant;

use teleconf_domain::{
    ActivityKind, ConferenceId, ControlCommand, LegId, LegQuality, LiveParticipant,
};

use super::call;
use super::{IoOutput, LiveUpdate, MediaOutput, Node, Output};
use crate::app::CallKey;
use crate::app::room::{Control, Effect, Event, Room};

impl Node {
    pub(super) fn carry_out(&mut self, now: Instant, key: CallKey, output: call::Output) {
        let Some(hosted) = self.calls.get_mut(&key) else {
            return;
        };
        match output {
            call::Output::SendSip { to, bytes } => {
                self.outputs
                    .push_back(Output::Io(IoOutput::SendSip { to, bytes }));
            }
            call::Output::SendRtp { to, bytes } => {
                self.outputs.push_back(Output::Media(MediaOutput::SendRtp {
                    from_port: hosted.port,
                    to,
                    bytes,
                }));
            }
            call::Output::Lookup(lookup) => {
                self.outputs
                    .push_back(Output::Io(IoOutput::Lookup { call: key, lookup }));
            }
            call::Output::CountCallers(conference) => {
                let callers = self.rooms.get(&conference).map_or(0, Room::len);
                let callers = u32::try_from(callers).unwrap_or(u32::MAX);
                hosted.call.handle_input(now, call::Input::Callers(callers));
            }
            call::Output::Join {
                leg: _,
                conference,
                role,
                codec,
                account,
                record,
                ends,
            } => {
                hosted.ends = Some(ends);
                if record && !self.rooms.contains_key(&conference) {
                    self.outputs
                        .push_back(Output::Media(MediaOutput::RecordingStart {
                            conference,
                            account,
                        }));
                }
                // A room mixes on its own deadlines, from its first caller's
                // admission: rooms opened at different moments spread the
                // node's work over the 20 ms period.
                let room = self.rooms.entry(conference).or_insert_with(|| {
                    let mut room = Room::new(account, record);
                    room.mixer_mut().anchor(now);
                    self.room_deadlines.insert((now, conference));
                    room
                });
                match room.join(key, role, codec) {
                    Ok(effects) => {
                        hosted.room = Some(conference);
                        self.apply(now, conference, effects);
                    }
                    Err(error) => tracing::warn!(%error, "node: join refused"),
                }
            }
            call::Output::Keypad { leg: _, command } => {
                if let Some((conference, effects)) = hosted.room.and_then(|c| {
                    self.rooms
                        .get_mut(&c)
                        .map(|room| (c, room.command(key, command)))
                }) {
                    self.apply(now, conference, effects);
                }
            }
            call::Output::ToRoom {
                leg: _,
                seq,
                ts,
                payload,
            } => {
                if let Some(room) = hosted.room.and_then(|c| self.rooms.get_mut(&c))
                    && let Err(error) = room.mixer_mut().push(now, key, seq, ts, &payload)
                {
                    tracing::debug!(%error, "node: frame refused by the room");
                }
            }
            call::Output::Leave { leg: _ } => self.leave_room(now, key),
            call::Output::StoreIntro { target, pcm } => {
                self.outputs
                    .push_back(Output::Io(IoOutput::StoreIntro { target, pcm }));
            }
            call::Output::CdrOpen(cdr) => {
                let muted = hosted
                    .room
                    .and_then(|c| self.rooms.get(&c))
                    .and_then(|room| room.mixer().is_muted(key))
                    .unwrap_or(false);
                let participant = LiveParticipant {
                    leg_id: cdr.id,
                    conference_id: cdr.conference_id,
                    account_id: cdr.account_id,
                    caller_id: cdr.caller_id.clone(),
                    role: cdr.role,
                    joined_at: cdr.joined_at,
                    muted,
                };
                self.outputs
                    .push_back(Output::Io(IoOutput::Live(LiveUpdate::Put(
                        participant.clone(),
                    ))));
                self.on_line.insert(key, participant);
                self.outputs.push_back(Output::Io(IoOutput::CdrOpen(cdr)));
            }
            call::Output::CdrClose(mut cdr) => {
                // The room's figures for the leg, kept when it left (just before).
                if let Some(stats) = self.left.remove(&key) {
                    cdr.quality = Some(LegQuality {
                        packets_received: stats.received,
                        packets_lost: stats.lost,
                        max_jitter_ms: u32::try_from(stats.max_jitter().as_millis())
                            .unwrap_or(u32::MAX),
                    });
                }
                if self.on_line.remove(&key).is_some() {
                    self.outputs
                        .push_back(Output::Io(IoOutput::Live(LiveUpdate::Remove {
                            conference: cdr.conference_id,
                            leg: cdr.id,
                        })));
                }
                self.outputs.push_back(Output::Io(IoOutput::CdrClose(cdr)));
            }
            call::Output::Ended => self.forget(now, key),
        }
    }

    pub(super) fn leave_room(&mut self, now: Instant, key: CallKey) {
        let Some(conference) = self
            .calls
            .get_mut(&key)
            .and_then(|hosted| hosted.room.take())
        else {
            return;
        };
        if let Some(room) = self.rooms.get_mut(&conference) {
            let (stats, effects) = room.leave(key);
            if let Some(stats) = stats {
                self.left.insert(key, stats);
            }
            if room.is_empty() {
                tracing::info!(%conference, "node: room closed");
                if room.records() {
                    self.outputs
                        .push_back(Output::Media(MediaOutput::RecordingStop { conference }));
                }
                if let Some(at) = room.poll_timeout() {
                    self.room_deadlines.remove(&(at, conference));
                }
                self.rooms.remove(&conference);
            }
            self.apply(now, conference, effects);
        }
    }

    /// Carries out what a change of `conference` asks of its calls, and tells
    /// the shell what the live view and the activity feed show.
    fn apply(&mut self, now: Instant, conference: ConferenceId, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Say(leg, prompt) => self.feed(now, leg, call::Input::Say(prompt)),
                Effect::Remove(leg) => self.feed(now, leg, call::Input::Kick),
                Effect::Event(event) => self.publish(conference, event),
            }
        }
    }

    /// Carries out a portal command on `conference`'s room.
    pub(super) fn control(
        &mut self,
        now: Instant,
        conference: ConferenceId,
        command: ControlCommand,
    ) {
        let caller = |leg_id: LegId| {
            self.on_line
                .iter()
                .find(|(_, p)| p.leg_id == leg_id && p.conference_id == conference)
                .map(|(key, _)| *key)
        };
        let control = match command {
            ControlCommand::Mute { leg_id } => caller(leg_id).map(|leg| Control::Mute(leg, true)),
            ControlCommand::Unmute { leg_id } => {
                caller(leg_id).map(|leg| Control::Mute(leg, false))
            }
            ControlCommand::Remove { leg_id } => caller(leg_id).map(Control::Remove),
            ControlCommand::Lock => Some(Control::Lock(true)),
            ControlCommand::Unlock => Some(Control::Lock(false)),
            ControlCommand::MuteAll => Some(Control::Lecture(true)),
            ControlCommand::UnmuteAll => Some(Control::Lecture(false)),
        };
        let effects = match (control, self.rooms.get_mut(&conference)) {
            (Some(control), Some(room)) => room.control(control),
            _ => {
                tracing::info!(%conference, command = command.as_str(), "node: control for no caller or room here");
                return;
            }
        };
        self.apply(now, conference, effects);
    }

    /// A conference event, as a live-view update and an activity entry.
    fn publish(&mut self, conference: ConferenceId, event: Event) {
        let caller = |on_line: &HashMap<CallKey, LiveParticipant>, leg: CallKey| {
            on_line
                .get(&leg)
                .map(|p| p.caller_id.clone())
                .unwrap_or_default()
        };
        let (kind, summary) = match event {
            Event::Muted(leg, muted) => {
                if let Some(participant) = self.on_line.get_mut(&leg) {
                    participant.muted = muted;
                    let update = LiveUpdate::Put(participant.clone());
                    self.outputs.push_back(Output::Io(IoOutput::Live(update)));
                }
                let kind = if muted {
                    ActivityKind::CallerMuted
                } else {
                    ActivityKind::CallerUnmuted
                };
                (kind, caller(&self.on_line, leg))
            }
            Event::Lecture(on) => (
                if on {
                    ActivityKind::LectureModeOn
                } else {
                    ActivityKind::LectureModeOff
                },
                String::new(),
            ),
            Event::Locked(on) => (
                if on {
                    ActivityKind::ConferenceLocked
                } else {
                    ActivityKind::ConferenceUnlocked
                },
                String::new(),
            ),
            Event::RecordingPaused(on) => (
                if on {
                    ActivityKind::RecordingPaused
                } else {
                    ActivityKind::RecordingResumed
                },
                String::new(),
            ),
            Event::Removed(leg) => (ActivityKind::CallerRemoved, caller(&self.on_line, leg)),
        };
        if let Some(account) = self.rooms.get(&conference).and_then(Room::account) {
            self.io(IoOutput::Activity {
                account,
                conference,
                kind,
                summary,
            });
        }
    }

    /// Ticks every room whose deadline has come (catching up when late) and hands
    /// each leg its payload. Only the rooms due are looked at.
    pub(super) fn tick_rooms(&mut self, now: Instant) {
        let mut frames = std::mem::take(&mut self.tick_frames);
        while let Some(&(at, id)) = self.room_deadlines.first()
            && at <= now
        {
            self.room_deadlines.pop_first();
            let Some(room) = self.rooms.get_mut(&id) else {
                continue;
            };
            while let Some(report) = room.mixer_mut().tick(now) {
                self.frames_lost += u64::from(report.skipped_frames) * room.len() as u64;
                frames.extend(room.mixer().outputs().filter_map(|(leg, payload)| {
                    payload.try_into().ok().map(|frame| (leg, frame))
                }));
                if let Some(pcm) = room.recording_frame() {
                    self.outputs
                        .push_back(Output::Media(MediaOutput::RecordFrame {
                            conference: id,
                            pcm: pcm.into(),
                        }));
                }
            }
            if let Some(next) = room.poll_timeout() {
                self.room_deadlines.insert((next, id));
            }
        }
        for (leg, frame) in &frames {
            self.feed(now, *leg, call::Input::FromRoom(frame));
        }
        frames.clear();
        self.tick_frames = frames;
    }
}
