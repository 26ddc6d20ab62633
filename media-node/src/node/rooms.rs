//! What the calls ask of the node, carried out: SIP and RTP to send, lookups,
//! and the rooms: joins (waiting on the lease's claim when the conference has no
//! room here), the keypad's commands, the callers' audio, leaves, the portal's
//! commands, the live view and the activity feed, the rooms' ticks.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Utc};

use teleconf_domain::{
    AccountId, ActivityKind, CallerRole, ConferenceId, ControlCommand, LegId, LegQuality,
    LiveParticipant, NodeId,
};
use teleconf_sip::sdp::Codec;

use super::call;
use super::{IoOutput, LiveUpdate, MediaOutput, Node, Output, RoomOwner};
use crate::app::CallKey;
use crate::app::cascade::RoomMessage;
use crate::app::ivr::Occupancy;
use crate::app::mixer::FRAME_BYTES;
use crate::app::room::{Control, Effect, Event, Room};

/// What the node knows of a conference's lease.
#[derive(Debug)]
pub(super) enum Lease {
    /// Claimed, no answer yet: these joins wait for it, in order.
    Claiming(Vec<PendingJoin>),
    /// Read for a first caller's admission check, no answer yet (the callers
    /// wait at the [gate](super::gate)).
    Finding,
    /// The room is here: the lease is this node's ([`RoomOwner::Here`]), or
    /// could not be claimed ([`RoomOwner::Unknown`]).
    Held,
    /// The room is here for this node's callers, joined to the owner's room by
    /// this node's cascade ([`super::uplink`]); or, opened by the gate for a
    /// first caller's check, the cascade before the room.
    Member {
        /// The cascade.
        uplink: CallKey,
        /// The owner.
        owner: NodeId,
    },
    /// The room is here while another node holds the lease, with no cascade to
    /// it (none configured, or it failed): a split room; or, the gate's cascade
    /// having failed, the room to be.
    Elsewhere {
        /// The owner.
        owner: NodeId,
    },
}

impl Lease {
    /// Whether this node holds the room: renews (or claims) its lease and takes
    /// its portal commands.
    pub(super) fn is_held(&self) -> bool {
        matches!(self, Lease::Held)
    }
}

/// A member node's caller in a room this node holds (issue #16).
#[derive(Debug)]
pub(super) struct RemoteLeg {
    /// The cascade it came on.
    cascade: CallKey,
    /// Its number on the member.
    leg: u64,
    /// Its CDR leg.
    leg_id: LegId,
    /// Its caller ID.
    caller_id: String,
}

/// A join waiting for its conference's lease.
#[derive(Debug)]
pub(super) struct PendingJoin {
    key: CallKey,
    role: CallerRole,
    codec: Codec,
    account: AccountId,
    record: bool,
}

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
            call::Output::CountCallers(conference) => self.count_callers(now, key, conference),
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
                let join = PendingJoin {
                    key,
                    role,
                    codec,
                    account,
                    record,
                };
                match self.leases.get_mut(&conference) {
                    _ if self.rooms.contains_key(&conference) => {
                        self.enter_room(now, conference, join);
                    }
                    Some(Lease::Claiming(waiting)) => waiting.push(join),
                    // The gate found the owner: the room opens here on its
                    // cascade (or alone, the cascade failed), no claim made.
                    Some(Lease::Member { .. }) => self.enter_room(now, conference, join),
                    Some(Lease::Elsewhere { owner }) => {
                        self.rooms_owned_elsewhere += 1;
                        tracing::warn!(%conference, %owner, "node: room lease held by another node, its cascade failed: room opened here alone");
                        self.enter_room(now, conference, join);
                    }
                    Some(Lease::Finding | Lease::Held) | None => {
                        self.leases.insert(conference, Lease::Claiming(vec![join]));
                        self.io(IoOutput::ClaimRoom(conference));
                    }
                }
            }
            call::Output::JoinCascade {
                leg: _,
                conference,
                codec,
            } => {
                // Checked at its INVITE; the room may have closed since.
                let joined = match self.rooms.get_mut(&conference) {
                    Some(room) if self.leases.get(&conference).is_some_and(Lease::is_held) => room
                        .join_cascade(key, codec)
                        .map_err(|error| tracing::warn!(%error, "node: cascade refused"))
                        .is_ok(),
                    _ => false,
                };
                if joined {
                    tracing::info!(%conference, "node: cascade in the room");
                    hosted.room = Some(conference);
                    // The member's admission checks wait for these.
                    self.tell_figures(now, conference);
                } else {
                    self.feed(now, key, call::Input::HangUp);
                }
            }
            call::Output::Keypad { leg: _, command } => {
                // A member's caller's command is the owner's to carry out.
                let room = hosted.room;
                if let Some(uplink) = room.and_then(|c| self.member_uplink(c)) {
                    let told = RoomMessage::Keypad {
                        leg: key.0,
                        command,
                    };
                    return self.uplink_tell(now, uplink, &told);
                }
                if let Some((conference, effects)) = room.and_then(|c| {
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
                let room = hosted.room.and_then(|c| self.rooms.get_mut(&c));
                push_frame(room, now, key, seq, ts, &payload);
            }
            call::Output::Leave { leg: _ } => self.leave_room(now, key),
            call::Output::Told(told) => self.member_told(now, key, told),
            call::Output::StoreIntro { target, pcm } => {
                self.outputs
                    .push_back(Output::Io(IoOutput::StoreIntro { target, pcm }));
            }
            call::Output::CdrOpen(mut cdr) => {
                cdr.owner_node.clone_from(&hosted.owner);
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
                if let Some(uplink) = self.member_uplink(participant.conference_id) {
                    self.uplink_tell(now, uplink, &joined(key, &participant));
                }
                self.on_line.insert(key, participant);
                self.outputs.push_back(Output::Io(IoOutput::CdrOpen(cdr)));
            }
            call::Output::CdrClose(mut cdr) => {
                cdr.owner_node.clone_from(&hosted.owner);
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

    /// The shell's claim of `conference`'s lease found `owner`: the joins that
    /// waited go in.
    pub(super) fn room_owner(
        &mut self,
        now: Instant,
        wall_clock: DateTime<Utc>,
        conference: ConferenceId,
        owner: RoomOwner,
    ) {
        match self.leases.get(&conference) {
            Some(Lease::Claiming(_)) => {}
            Some(Lease::Elsewhere { .. }) if self.rooms.contains_key(&conference) => {
                return self.take_over(now, wall_clock, conference, owner);
            }
            _ => return,
        }
        let Some(Lease::Claiming(waiting)) = self.leases.remove(&conference) else {
            return;
        };
        // The claim was made for the first waiting call: its span names it.
        let span = waiting
            .first()
            .and_then(|join| self.call_span(join.key))
            .cloned()
            .unwrap_or_else(tracing::Span::none);
        let entered = span.enter();
        let lease = match owner {
            RoomOwner::Here => {
                tracing::info!(%conference, "node: room lease claimed");
                Lease::Held
            }
            RoomOwner::Unknown => {
                self.rooms_unleased += 1;
                tracing::warn!(%conference, "node: room lease not claimable (store unreachable): room opened here, claimed by the heartbeat when the store is back");
                Lease::Held
            }
            RoomOwner::Elsewhere { node, cascade } => {
                match self.open_uplink(now, wall_clock, conference, cascade) {
                    Some(uplink) => {
                        tracing::info!(%conference, owner = %node, %cascade, "node: room lease held by another node: cascade to it");
                        Lease::Member {
                            uplink,
                            owner: node,
                        }
                    }
                    None => {
                        self.rooms_owned_elsewhere += 1;
                        tracing::warn!(%conference, owner = %node, %cascade, "node: room lease held by another node, no cascade to it (none configured, or no port left): room opened here alone");
                        Lease::Elsewhere { owner: node }
                    }
                }
            }
        };
        drop(entered);
        self.leases.insert(conference, lease);
        for join in waiting {
            let span = self.call_span(join.key).cloned();
            let _entered = span.as_ref().map(tracing::Span::enter);
            self.enter_room(now, conference, join);
        }
        if !self.rooms.contains_key(&conference) {
            self.close_lease(conference);
        }
    }

    /// A room here alone while another node held the lease (its cascade
    /// failed, or none was possible) learns from the heartbeat's claim who
    /// holds it now: this node (the owner was lost, or handed the room over) →
    /// the room here is the conference's room; another node → this node
    /// cascades to it.
    fn take_over(
        &mut self,
        now: Instant,
        wall_clock: DateTime<Utc>,
        conference: ConferenceId,
        owner: RoomOwner,
    ) {
        match owner {
            RoomOwner::Here => {
                tracing::info!(%conference, "node: room lease taken over: the room here is the conference's now");
                self.leases.insert(conference, Lease::Held);
            }
            RoomOwner::Elsewhere { node, cascade } => {
                let lease = match self.open_uplink(now, wall_clock, conference, cascade) {
                    Some(uplink) => {
                        tracing::info!(%conference, owner = %node, %cascade, "node: room lease held by another node now: cascade to it");
                        Lease::Member {
                            uplink,
                            owner: node,
                        }
                    }
                    None => Lease::Elsewhere { owner: node },
                };
                self.leases.insert(conference, lease);
            }
            RoomOwner::Unknown => {}
        }
    }

    /// The rooms here alone while another node held their lease: the
    /// heartbeat claims them, to take them over once that lease is gone.
    pub(super) fn rooms_alone(&self) -> impl Iterator<Item = ConferenceId> + '_ {
        self.leases
            .iter()
            .filter(|(conference, lease)| {
                matches!(lease, Lease::Elsewhere { .. }) && self.rooms.contains_key(conference)
            })
            .map(|(conference, _)| *conference)
    }

    /// A draining node hands over each room it holds where no caller of its own
    /// is left: it hangs up the other nodes' cascades (their rooms go on alone,
    /// and one of them claims the lease this node releases as the room closes),
    /// so a drain never waits on other nodes' callers.
    pub(super) fn hand_over(&mut self, now: Instant) {
        if !self.draining {
            return;
        }
        let cascades: Vec<CallKey> = self
            .rooms
            .iter()
            .filter(|(conference, room)| {
                !room.has_callers() && matches!(self.leases.get(conference), Some(Lease::Held))
            })
            .flat_map(|(_, room)| room.cascades())
            .collect();
        for key in cascades {
            tracing::info!(
                leg = key.0,
                "node: draining, no caller of its own left: the room handed over"
            );
            self.feed(now, key, call::Input::HangUp);
        }
    }

    /// The node holding `conference`'s room, as this node knows it.
    fn owner_of(&self, conference: ConferenceId) -> Option<NodeId> {
        match self.leases.get(&conference)? {
            Lease::Held => Some(self.config.node_id.clone()),
            Lease::Member { owner, .. } | Lease::Elsewhere { owner } => Some(owner.clone()),
            Lease::Claiming(_) | Lease::Finding => None,
        }
    }

    /// Puts a call into `conference`'s room here, opening it on its first.
    fn enter_room(&mut self, now: Instant, conference: ConferenceId, join: PendingJoin) {
        let PendingJoin {
            key,
            role,
            codec,
            account,
            record,
        } = join;
        // The recording is the owner's full mix: a member's room records nothing.
        let member = matches!(self.leases.get(&conference), Some(Lease::Member { .. }));
        // A cascade the gate opened, up before the room: in from the start.
        let cascade = self.uplink_up(conference);
        let record = record && !member;
        if record && !self.rooms.contains_key(&conference) {
            self.media(MediaOutput::RecordingStart {
                conference,
                account,
            });
        }
        // A room mixes on its own deadlines, from its first caller's admission:
        // rooms opened at different moments spread the node's work over the 20 ms
        // period.
        let room = self.rooms.entry(conference).or_insert_with(|| {
            let mut room = if member {
                Room::member(account)
            } else {
                Room::new(account, record)
            };
            room.mixer_mut().anchor(now);
            if let Some((uplink, codec)) = cascade
                && let Err(error) = room.join_cascade(uplink, codec)
            {
                tracing::warn!(%error, "node: cascade refused by the room here");
            }
            self.room_deadlines.insert((now, conference));
            room
        });
        match room.join(key, role, codec) {
            Ok(effects) => {
                let owner = self.owner_of(conference);
                if let Some(hosted) = self.calls.get_mut(&key) {
                    hosted.room = Some(conference);
                    hosted.owner = owner;
                }
                // A member's caller is announced by the owner's room, once
                // the member reports it (its CDR leg opened, or the cascade up).
                if !member {
                    self.apply(now, conference, effects);
                }
            }
            Err(error) => tracing::warn!(%error, "node: join refused"),
        }
    }

    /// `conference` has no room here any more: its lease, if this node's, is
    /// released.
    fn close_lease(&mut self, conference: ConferenceId) {
        if let Some(Lease::Held) = self.leases.remove(&conference) {
            self.io(IoOutput::ReleaseRoom(conference));
        }
    }

    pub(super) fn leave_room(&mut self, now: Instant, key: CallKey) {
        let Some(conference) = self
            .calls
            .get_mut(&key)
            .and_then(|hosted| hosted.room.take())
        else {
            // A call that goes while its join waits on the claim never goes in.
            for lease in self.leases.values_mut() {
                if let Lease::Claiming(waiting) = lease {
                    waiting.retain(|join| join.key != key);
                }
            }
            return;
        };
        let uplink = self.member_uplink(conference);
        let member = matches!(self.leases.get(&conference), Some(Lease::Member { .. }));
        if let Some(uplink) = uplink {
            self.uplink_tell(now, uplink, &RoomMessage::Left { leg: key.0 });
        }
        let gone = self.remote_gone(key);
        if let Some(room) = self.rooms.get_mut(&conference) {
            let (stats, mut effects) = room.leave(key);
            if let Some(stats) = stats {
                self.left.insert(key, stats);
            }
            if member {
                // The owner's room says the exit tone.
                effects.clear();
            }
            for remote in gone {
                effects.extend(room.leave(remote).1);
            }
            // The last caller here gone, this node's cascade to the owner goes.
            if !room.has_callers()
                && let Some(&Lease::Member { uplink, .. }) = self.leases.get(&conference)
            {
                self.leases.remove(&conference);
                self.close_uplink(now, uplink);
            }
            self.hand_over(now);
            let Some(room) = self.rooms.get_mut(&conference) else {
                return;
            };
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
                self.close_lease(conference);
            }
            self.apply(now, conference, effects);
        }
    }

    /// Carries out what a change of `conference` asks of its calls (a member
    /// node's caller's through its cascade), tells the shell what the live view
    /// and the activity feed show, and tells the members the room's figures.
    fn apply(&mut self, now: Instant, conference: ConferenceId, effects: Vec<Effect>) {
        for effect in effects {
            let remote = |leg: &CallKey| {
                self.remote_legs
                    .get(leg)
                    .map(|remote| (remote.cascade, remote.leg))
            };
            match effect {
                Effect::Say(leg, prompt) => match remote(&leg) {
                    Some((cascade, leg)) => {
                        self.tell(now, cascade, RoomMessage::Say { leg, prompt });
                    }
                    None => self.feed(now, leg, call::Input::Say(prompt)),
                },
                Effect::Remove(leg) => match remote(&leg) {
                    Some((cascade, leg)) => self.tell(now, cascade, RoomMessage::Remove { leg }),
                    None => self.feed(now, leg, call::Input::Kick),
                },
                Effect::Event(event) => {
                    if let Event::Muted(leg, muted) = event
                        && let Some((cascade, leg)) = remote(&leg)
                    {
                        self.tell(now, cascade, RoomMessage::Mute { leg, muted });
                    }
                    self.publish(conference, event);
                }
            }
        }
        self.tell_figures(now, conference);
    }

    /// Tells `cascade`'s member node `told`.
    fn tell(&mut self, now: Instant, cascade: CallKey, told: RoomMessage) {
        self.feed(now, cascade, call::Input::Tell(told));
    }

    /// Tells each member node in `conference`'s room (held here) the room's
    /// figures, when they changed since last told (a cascade just in: at once).
    fn tell_figures(&mut self, now: Instant, conference: ConferenceId) {
        let Some(room) = self.rooms.get(&conference) else {
            return;
        };
        if !matches!(self.leases.get(&conference), Some(Lease::Held)) {
            return;
        }
        let figures = room.occupancy();
        let cascades: Vec<CallKey> = room.cascades().collect();
        for cascade in cascades {
            if self.figures_told.get(&cascade) == Some(&figures) {
                continue;
            }
            self.figures_told.insert(cascade, figures);
            let Occupancy { callers, locked } = figures;
            self.tell(now, cascade, RoomMessage::Room { callers, locked });
        }
    }

    /// The cascade this node's callers of `conference` reach its owner's room
    /// by, while this node is a member and the cascade is up.
    pub(super) fn member_uplink(&self, conference: ConferenceId) -> Option<CallKey> {
        match self.leases.get(&conference) {
            Some(Lease::Member { uplink, .. })
                if self.uplinks.get(uplink).is_some_and(|u| u.is_up()) =>
            {
                Some(*uplink)
            }
            _ => None,
        }
    }

    /// The cascade is up: this node reports each of its callers in
    /// `conference`'s room to the owner.
    pub(super) fn report_callers(
        &mut self,
        now: Instant,
        conference: ConferenceId,
        uplink: CallKey,
    ) {
        let joins: Vec<RoomMessage> = self
            .on_line
            .iter()
            .filter(|(key, _)| {
                self.calls
                    .get(key)
                    .is_some_and(|hosted| hosted.room == Some(conference))
            })
            .map(|(key, participant)| joined(*key, participant))
            .collect();
        for told in joins {
            self.uplink_tell(now, uplink, &told);
        }
    }

    /// The owner told this member node's room of `conference` this.
    pub(super) fn owner_told(&mut self, now: Instant, conference: ConferenceId, told: RoomMessage) {
        let mine = |node: &Self, leg: u64| {
            let key = CallKey(leg);
            node.calls
                .get(&key)
                .is_some_and(|hosted| hosted.room == Some(conference))
                .then_some(key)
        };
        match told {
            RoomMessage::Say { leg, prompt } => {
                if let Some(key) = mine(self, leg) {
                    self.feed(now, key, call::Input::Say(prompt));
                }
            }
            RoomMessage::Remove { leg } => {
                if let Some(key) = mine(self, leg) {
                    self.feed(now, key, call::Input::Kick);
                }
            }
            RoomMessage::Mute { leg, muted } => {
                let Some(key) = mine(self, leg) else {
                    return;
                };
                // Its audio stops (or starts again) entering the cascade's sum.
                if let Some(room) = self.rooms.get_mut(&conference) {
                    let _ = room.mixer_mut().set_muted(key, muted);
                }
                if let Some(participant) = self.on_line.get_mut(&key) {
                    participant.muted = muted;
                    let update = LiveUpdate::Put(participant.clone());
                    self.outputs.push_back(Output::Io(IoOutput::Live(update)));
                }
            }
            RoomMessage::Room { .. } => {}
            RoomMessage::Joined { .. } | RoomMessage::Left { .. } | RoomMessage::Keypad { .. } => {
                tracing::info!("node: a member's message from the owner, ignored");
            }
        }
    }

    /// The member node on cascade `cascade` told this node's room this.
    fn member_told(&mut self, now: Instant, cascade: CallKey, told: RoomMessage) {
        let Some(conference) = self.calls.get(&cascade).and_then(|hosted| hosted.room) else {
            return;
        };
        let remote = |node: &Self, leg: u64| {
            node.remote_legs
                .iter()
                .find(|(_, remote)| remote.cascade == cascade && remote.leg == leg)
                .map(|(key, _)| *key)
        };
        let effects = match told {
            RoomMessage::Joined {
                leg,
                leg_id,
                role,
                muted,
                caller_id,
            } => {
                if remote(self, leg).is_some() {
                    return;
                }
                let key = CallKey(self.next_leg);
                self.next_leg += 1;
                let Some(room) = self.rooms.get_mut(&conference) else {
                    return;
                };
                let effects = room.join_remote(key, role, muted);
                let lectured = room.is_muted(key) == Some(true) && !muted;
                self.remote_legs.insert(
                    key,
                    RemoteLeg {
                        cascade,
                        leg,
                        leg_id,
                        caller_id,
                    },
                );
                tracing::info!(%conference, leg, %leg_id, "node: a member's caller in the room");
                if lectured {
                    self.tell(now, cascade, RoomMessage::Mute { leg, muted: true });
                }
                effects
            }
            RoomMessage::Left { leg } => {
                let Some(key) = remote(self, leg) else {
                    return;
                };
                self.remote_legs.remove(&key);
                match self.rooms.get_mut(&conference) {
                    Some(room) => room.leave(key).1,
                    None => return,
                }
            }
            RoomMessage::Keypad { leg, command } => {
                let Some(key) = remote(self, leg) else {
                    return;
                };
                match self.rooms.get_mut(&conference) {
                    Some(room) => room.command(key, command),
                    None => return,
                }
            }
            RoomMessage::Say { .. }
            | RoomMessage::Mute { .. }
            | RoomMessage::Remove { .. }
            | RoomMessage::Room { .. } => {
                tracing::info!("node: an owner's message from a member, ignored");
                return;
            }
        };
        self.apply(now, conference, effects);
    }

    /// The remote legs that came on `cascade` (gone with it), forgotten.
    fn remote_gone(&mut self, cascade: CallKey) -> Vec<CallKey> {
        self.figures_told.remove(&cascade);
        let gone: Vec<CallKey> = self
            .remote_legs
            .iter()
            .filter(|(_, remote)| remote.cascade == cascade)
            .map(|(key, _)| *key)
            .collect();
        for key in &gone {
            self.remote_legs.remove(key);
        }
        gone
    }

    /// Carries out a portal command on `conference`'s room.
    pub(super) fn control(
        &mut self,
        now: Instant,
        conference: ConferenceId,
        command: ControlCommand,
    ) {
        let caller = |leg_id: LegId| {
            let remote = || {
                self.remote_legs
                    .iter()
                    .find(|(_, remote)| {
                        remote.leg_id == leg_id
                            && self
                                .calls
                                .get(&remote.cascade)
                                .is_some_and(|hosted| hosted.room == Some(conference))
                    })
                    .map(|(key, _)| *key)
            };
            self.on_line
                .iter()
                .find(|(_, p)| p.leg_id == leg_id && p.conference_id == conference)
                .map(|(key, _)| *key)
                .or_else(remote)
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
        let remote_legs = &self.remote_legs;
        let caller = |on_line: &HashMap<CallKey, LiveParticipant>, leg: CallKey| {
            on_line
                .get(&leg)
                .map(|p| p.caller_id.clone())
                .or_else(|| remote_legs.get(&leg).map(|r| r.caller_id.clone()))
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
            if self.uplinks.contains_key(leg) {
                self.uplink_frame(*leg, frame);
            } else if let Some(hosted) = self.calls.get_mut(leg)
                && let Some((to, bytes)) = hosted.call.frame_from_room(now, frame)
            {
                // Straight from the call to the socket: no call's queue, no
                // deadline looked at again (`Call::frame_from_room`).
                self.outputs.push_back(Output::Media(MediaOutput::SendRtp {
                    from_port: hosted.port,
                    to,
                    bytes,
                }));
            }
        }
        frames.clear();
        self.tick_frames = frames;
    }
}

/// The report of this node's caller `key` joining, to the owner.
fn joined(key: CallKey, participant: &LiveParticipant) -> RoomMessage {
    RoomMessage::Joined {
        leg: key.0,
        leg_id: participant.leg_id,
        role: participant.role,
        muted: participant.muted,
        caller_id: participant.caller_id.clone(),
    }
}

/// Pushes call `key`'s frame into `room`'s mix (`None`: the call is in no room
/// here, the frame is heard by no one).
pub(super) fn push_frame(
    room: Option<&mut Room>,
    now: Instant,
    key: CallKey,
    seq: u16,
    ts: u32,
    payload: &[u8; FRAME_BYTES],
) {
    if let Some(room) = room
        && let Err(error) = room.mixer_mut().push(now, key, seq, ts, payload)
    {
        tracing::debug!(%error, "node: frame refused by the room");
    }
}
