//! The call's SIP: requests through the server transactions and the dialog, the
//! INVITE answered or refused, CANCEL, re-INVITE, the ACK's answer, the hold
//! probe, and the end of the call: our BYE, once the dialog allows it.

use std::net::SocketAddr;
use std::time::Instant;

use rsip::{Request, Response};

use teleconf_domain::{CallerSource, DisconnectCause};
use teleconf_sip::dialog::{Dialog, DialogState, InDialog};
use teleconf_sip::message::response_to;
use teleconf_sip::rtp::{self, DtmfReceiver, MediaSource};
use teleconf_sip::sdp::{self, Negotiated, SdpError};
use teleconf_sip::transaction::{
    self, ClientTransaction, MAGIC_COOKIE, Received, Server, TransactionKey, TuEvent,
};

use super::{Bye, Call, Caller, Line, Output, Phase, Speaker, Stage};
use crate::app::cascade::{self, RoomMessage};
use crate::app::ivr;

impl Call {
    pub(super) fn receive_request(&mut self, now: Instant, request: Request) {
        match self.servers.receive(now, request) {
            Received::New(_) | Received::Matched(_) => {}
            Received::Unmatched(request) => {
                tracing::debug!(method = %request.method, "call: request matches no transaction, dropped");
            }
        }
        self.drain_servers(now);
    }

    pub(super) fn receive_response(&mut self, now: Instant, response: Response) {
        let Some(line) = self.line_mut() else {
            return;
        };
        let key = TransactionKey::of_response(&response);
        let ours = |transaction: &ClientTransaction| {
            key.is_some() && key == TransactionKey::of_request(transaction.request())
        };
        if let Some(probe) = line.probe.as_mut().filter(|probe| ours(probe)) {
            probe.handle(now, transaction::Input::Receive(response.into()));
            return self.drain_probe(now);
        }
        if let Some(info) = line.told.iter_mut().find(|info| ours(info)) {
            info.handle(now, transaction::Input::Receive(response.into()));
            return self.drain_told();
        }
        if let Stage::Over(Bye::Sent(bye)) = &mut line.stage {
            bye.handle(now, transaction::Input::Receive(response.into()));
        }
        self.drain_bye(now);
    }

    /// Asks, by an in-dialog OPTIONS, whether a held call's dialog still stands.
    pub(super) fn send_probe(&mut self, now: Instant) {
        let Phase::Connected(line) = &mut self.phase else {
            return;
        };
        line.probes_sent += 1;
        let branch = format!(
            "{MAGIC_COOKIE}{}-probe{}",
            self.settings.local_tag, line.probes_sent
        );
        let options = line.dialog.options(&self.settings.via_host, &branch);
        line.probe = Some(ClientTransaction::new(now, options, self.settings.timers));
        self.drain_probe(now);
    }

    /// A cascade leg tells the member `message`, by an INFO in the dialog.
    pub(super) fn tell(&mut self, now: Instant, message: &RoomMessage) {
        let Phase::Connected(line) = &mut self.phase else {
            return;
        };
        if !matches!(line.stage, Stage::Cascade(_)) {
            return;
        }
        line.told_sent += 1;
        let branch = format!(
            "{MAGIC_COOKIE}{}-told{}",
            self.settings.local_tag, line.told_sent
        );
        let info = line.dialog.info(
            &self.settings.via_host,
            &branch,
            cascade::ROOM_CONTENT_TYPE,
            message.encode(),
        );
        line.told
            .push(ClientTransaction::new(now, info, self.settings.timers));
        self.drain_told();
    }

    /// Sends what the INFOs to the member transmit, and forgets those done (a
    /// member that answers none is caught by the RTP timeout).
    pub(super) fn drain_told(&mut self) {
        let Some(line) = self.line_mut() else {
            return;
        };
        let send = pump_infos(&mut line.told);
        for bytes in send {
            self.send_sip(bytes);
        }
    }

    /// Sends what the probe transmits; a 481 or 408, or no answer, ends the call
    /// (RFC 5057 §5.2); any other answer says the dialog stands.
    pub(super) fn drain_probe(&mut self, now: Instant) {
        let Some(probe) = self.line_mut().and_then(|line| line.probe.as_mut()) else {
            return;
        };
        for output in std::iter::from_fn(|| probe.poll_output()).collect::<Vec<_>>() {
            match output {
                transaction::Output::Transmit(bytes) => self.send_sip(bytes),
                transaction::Output::ToTu(TuEvent::Response(response))
                    if matches!(response.status_code.code(), 408 | 481) =>
                {
                    tracing::info!(
                        status = response.status_code.code(),
                        "call: the held call's dialog is gone"
                    );
                    self.hang_up(now, DisconnectCause::TransactionFailure);
                }
                transaction::Output::ToTu(TuEvent::Timeout) => {
                    tracing::info!("call: no answer to our OPTIONS on hold");
                    self.hang_up(now, DisconnectCause::TransactionFailure);
                }
                transaction::Output::Terminated => {
                    if let Some(line) = self.line_mut() {
                        line.probe = None;
                    }
                }
                transaction::Output::ToTu(_) => {}
            }
        }
    }

    /// Sends what the server transactions transmit and handles what they pass up.
    pub(super) fn drain_servers(&mut self, now: Instant) {
        while let Some((key, output)) = self.servers.poll_output() {
            match output {
                transaction::Output::Transmit(bytes) => self.send_sip(bytes),
                transaction::Output::ToTu(TuEvent::Request(request)) => {
                    self.on_request(now, key, request);
                }
                transaction::Output::ToTu(TuEvent::AckTimeout) => {
                    tracing::info!("call: no ACK for our 200");
                    if let Some(line) = self.line_mut() {
                        line.dialog.confirm();
                    }
                    self.hang_up(now, DisconnectCause::TransactionFailure);
                }
                transaction::Output::ToTu(TuEvent::Timeout) => {
                    // No ACK for a non-2xx final: the call was already over.
                    self.finish(now, DisconnectCause::TransactionFailure);
                }
                transaction::Output::ToTu(TuEvent::Response(_)) => {}
                transaction::Output::Terminated => {}
            }
        }
    }

    pub(super) fn drain_bye(&mut self, now: Instant) {
        let Some(Stage::Over(Bye::Sent(bye))) = self.line_mut().map(|line| &mut line.stage) else {
            return;
        };
        for output in std::iter::from_fn(|| bye.poll_output()).collect::<Vec<_>>() {
            match output {
                transaction::Output::Transmit(bytes) => self.send_sip(bytes),
                transaction::Output::ToTu(TuEvent::Timeout) => {
                    tracing::info!("call: no answer to our BYE");
                    self.finish(now, DisconnectCause::TransactionFailure);
                }
                _ => {}
            }
        }
    }

    fn respond(&mut self, now: Instant, key: &TransactionKey, response: Response) {
        if let Some(server) = self.servers.get_mut(key) {
            server.handle(now, transaction::Input::Respond(response));
        }
    }

    /// A request the transaction layer passed up.
    fn on_request(&mut self, now: Instant, key: TransactionKey, request: Request) {
        if matches!(self.phase, Phase::Invited(_)) && request.method == rsip::Method::Invite {
            return self.on_invite(now, key, request);
        }
        if request.method == rsip::Method::Cancel {
            return self.on_cancel(now, &key, &request);
        }
        let Some(dialog) = self
            .line_mut()
            .map(|line| &mut line.dialog)
            .filter(|dialog| dialog.matches(&request))
        else {
            let status = if request.method == rsip::Method::Ack {
                return;
            } else if request.method == rsip::Method::Options {
                200
            } else {
                481
            };
            let response = response_to(&request, status, Some(&self.settings.local_tag));
            return self.respond(now, &key, response);
        };
        match dialog.classify(&request) {
            InDialog::Ack { sdp } => self.on_ack(now, sdp),
            InDialog::Bye { response } => {
                self.respond(now, &key, response);
                tracing::info!("call: the caller hung up");
                self.finish(now, DisconnectCause::CallerHangup);
            }
            InDialog::Info {
                content_type,
                body,
                response,
            } if content_type.as_deref() == Some(cascade::ROOM_CONTENT_TYPE) => {
                let cascade =
                    matches!(self.line().map(|line| &line.stage), Some(Stage::Cascade(_)));
                match RoomMessage::decode(&body) {
                    Ok(message) if cascade => {
                        self.respond(now, &key, response);
                        self.outputs.push_back(Output::Told(message));
                    }
                    Ok(_) => {
                        tracing::info!("call: a room message outside a cascade, refused");
                        self.respond(
                            now,
                            &key,
                            response_to(&request, 403, Some(&self.settings.local_tag)),
                        );
                    }
                    Err(error) => {
                        tracing::warn!(%error, "call: unreadable room message");
                        let refusal = response_to(&request, 400, Some(&self.settings.local_tag));
                        self.respond(now, &key, cascade::unreadable(refusal, &error));
                    }
                }
            }
            InDialog::Info {
                content_type,
                body,
                response,
            } => {
                self.respond(now, &key, response);
                if let Some(digit) =
                    rtp::digit_from_info(content_type.as_deref().unwrap_or(""), &body)
                {
                    self.on_digit(now, digit);
                }
            }
            InDialog::Options { response } | InDialog::Reject { response } => {
                self.respond(now, &key, response);
            }
            InDialog::ReInvite { sdp } => self.on_reinvite(now, &key, &request, sdp),
            InDialog::Absorbed => {}
        }
        self.drain_servers(now);
    }

    /// The initial INVITE: a dialog and our SDP, then ringing or the answer at
    /// once; or a refusal (400 for an INVITE that cannot make a dialog or an
    /// unreadable offer, 488 for one we cannot answer).
    fn on_invite(&mut self, now: Instant, key: TransactionKey, invite: Request) {
        let Phase::Invited(caller) = std::mem::replace(&mut self.phase, Phase::Ended) else {
            return;
        };
        let dialog = match Dialog::accept(
            &invite,
            &self.settings.local_tag,
            &self.settings.local_contact,
        ) {
            Ok(dialog) => dialog,
            Err(error) => {
                tracing::info!(%error, "call: INVITE refused");
                return self.refuse(now, caller, &key, &invite, 400);
            }
        };
        let mut awaiting_answer = false;
        let mut negotiated = None;
        let body = String::from_utf8_lossy(&invite.body).into_owned();
        let sdp = if invite.body.is_empty() {
            // RFC 3261 §13.2.1: our offer in the 200, the answer in the ACK.
            awaiting_answer = true;
            sdp::offer(&caller.local_media)
        } else {
            match sdp::parse(&body).and_then(|offer| sdp::answer(&offer, &caller.local_media)) {
                Ok((answer, agreed)) => {
                    negotiated = Some(agreed);
                    answer
                }
                Err(error) => {
                    tracing::info!(%error, "call: offer refused");
                    let status = if matches!(error, SdpError::Malformed(_)) {
                        400
                    } else {
                        488
                    };
                    return self.refuse(now, caller, &key, &invite, status);
                }
            }
        };
        let answer_at = now + self.settings.answer_after;
        if answer_at > now {
            self.respond(now, &key, dialog.answer(&invite, 180, None));
        }
        let mut line = Line {
            caller: *caller,
            invite: key,
            dialog,
            negotiated: None,
            awaiting_answer,
            dtmf: None,
            last_rtp: None,
            last_heard: None,
            probe: None,
            told: Vec::new(),
            told_sent: 0,
            probes_sent: 0,
            rtp_seq: 0,
            last_sent_ts: None,
            speaker: Speaker::default(),
            stage: Stage::Ringing {
                at: answer_at,
                answer: sdp,
            },
        };
        if let Some(negotiated) = negotiated {
            line.agree(&mut self.media, negotiated);
        }
        self.phase = Phase::Connected(Box::new(line));
        if answer_at <= now {
            self.answer(now);
        }
    }

    /// Sends the 200 for the initial INVITE and starts the IVR.
    pub(super) fn answer(&mut self, now: Instant) {
        let Phase::Connected(line) = &mut self.phase else {
            return;
        };
        let Stage::Ringing { answer: sdp, .. } = &mut line.stage else {
            return;
        };
        let sdp = std::mem::take(sdp);
        // The IVR takes the caller once the 200 is out; a cascade goes straight
        // into its room (its INVITE carried an offer: the node checked).
        line.stage = match line.caller.cascade {
            Some(conference) => Stage::Cascade(conference),
            None => Stage::Ivr(Box::default()),
        };
        let Some(Server::Invite(transaction)) = self.servers.get_mut(&line.invite) else {
            return;
        };
        let ok = line.dialog.answer(transaction.invite(), 200, Some(&sdp));
        transaction.handle(now, transaction::Input::Respond(ok));
        line.last_rtp = Some(now);
        line.last_heard = Some(now);
        if let Stage::Cascade(conference) = line.stage {
            match line.negotiated {
                Some(negotiated) => self.outputs.push_back(Output::JoinCascade {
                    leg: self.settings.leg,
                    conference,
                    codec: negotiated.codec,
                }),
                None => {
                    tracing::warn!("call: cascade without media");
                    self.hang_up(now, DisconnectCause::BridgeHangup);
                }
            }
            return;
        }
        let caller = &line.caller;
        let start = ivr::Input::Start {
            now,
            wall_clock: caller.wall_clock(now),
            language: caller.language,
            prompts: caller.prompts.clone(),
            caller: CallerSource::new(caller.origin, &caller.caller_id),
            star44: caller.star44,
        };
        self.feed_ivr(now, start);
    }

    fn refuse(
        &mut self,
        now: Instant,
        caller: Box<Caller>,
        key: &TransactionKey,
        invite: &Request,
        status: u16,
    ) {
        self.phase = Phase::Refused(caller);
        let response = response_to(invite, status, Some(&self.settings.local_tag));
        self.respond(now, key, response);
    }

    fn on_cancel(&mut self, now: Instant, key: &TransactionKey, cancel: &Request) {
        let tag = self.settings.local_tag.clone();
        let cancelled = match key
            .cancelled_invite()
            .and_then(|invite| self.servers.get_mut(&invite))
        {
            Some(Server::Invite(invite)) => invite.cancel(now, &tag),
            _ => false,
        };
        // RFC 3261 §9.2: the CANCEL itself is answered 200 either way.
        self.respond(now, key, response_to(cancel, 200, Some(&tag)));
        if cancelled {
            tracing::info!("call: cancelled before the answer");
            self.finish(now, DisconnectCause::CallerHangup);
        }
        self.drain_servers(now);
    }

    /// The ACK for our 2xx: the answer to our offer when it carries one, and the
    /// BYE a hang-up before it was waiting for.
    fn on_ack(&mut self, now: Instant, sdp: Option<String>) {
        let Phase::Connected(line) = &mut self.phase else {
            return;
        };
        let mut unusable = false;
        if let Some(body) = sdp.filter(|_| line.awaiting_answer) {
            match sdp::parse(&body)
                .and_then(|answer| sdp::accept_answer(&sdp::SUPPORTED_CODECS, &answer))
            {
                Ok(negotiated) => line.agree(&mut self.media, negotiated),
                Err(error) => {
                    tracing::info!(%error, "call: unusable answer in the ACK");
                    unusable = true;
                }
            }
        }
        if unusable || matches!(line.stage, Stage::Over(Bye::AfterAck)) {
            self.hang_up(now, DisconnectCause::BridgeHangup);
        }
    }

    fn on_reinvite(
        &mut self,
        now: Instant,
        key: &TransactionKey,
        request: &Request,
        sdp: Option<String>,
    ) {
        let Phase::Connected(line) = &mut self.phase else {
            return;
        };
        // Our SDP changes with each answer: bump the o= version (RFC 3264 §8).
        line.caller.local_media.version += 1;
        let local_media = line.caller.local_media;
        let (status, body) = match sdp {
            None => {
                line.awaiting_answer = true;
                (200, Some(sdp::offer(&local_media)))
            }
            Some(offer) => {
                match sdp::parse(&offer).and_then(|offer| sdp::answer(&offer, &local_media)) {
                    Ok((answer, negotiated)) => {
                        line.agree(&mut self.media, negotiated);
                        (200, Some(answer))
                    }
                    Err(error) => {
                        tracing::info!(%error, "call: re-offer refused");
                        (488, None)
                    }
                }
            }
        };
        let response = line
            .dialog
            .answer_reinvite(request, status, body.as_deref());
        self.respond(now, key, response);
    }

    /// The bridge ends the call: close the CDR now, BYE once the dialog allows it.
    pub(super) fn hang_up(&mut self, now: Instant, cause: DisconnectCause) {
        let Phase::Connected(line) = &mut self.phase else {
            return self.finish(now, cause);
        };
        let state = line.dialog.state();
        if line.bye().is_some() || state == DialogState::Terminated {
            return self.finish(now, cause);
        }
        if state != DialogState::Confirmed {
            // RFC 3261 §15: no BYE before the ACK (or its timeout).
            self.finish(now, cause);
            return self.set_bye(Bye::AfterAck);
        }
        let branch = format!("{MAGIC_COOKIE}{}-bye", self.settings.local_tag);
        let bye = line.dialog.bye(&self.settings.via_host, &branch);
        let bye = ClientTransaction::new(now, bye, self.settings.timers);
        self.finish(now, cause);
        self.set_bye(Bye::Sent(Box::new(bye)));
        self.drain_bye(now);
    }

    /// The call is over: stop the IVR and the prompts, close the CDR leg.
    pub(super) fn finish(&mut self, now: Instant, cause: DisconnectCause) {
        let wall_clock = self.wall_clock(now);
        let Phase::Connected(line) = &mut self.phase else {
            return;
        };
        let stage = std::mem::replace(&mut line.stage, Stage::Over(Bye::NotNeeded));
        line.speaker.stop();
        match stage {
            Stage::Admitted(admitted) => {
                let mut leg = admitted.leg;
                leg.close(wall_clock, cause);
                tracing::info!(leg = %leg.id, ?cause, "call: leg closed");
                self.outputs.push_back(Output::Leave {
                    leg: self.settings.leg,
                });
                self.outputs.push_back(Output::CdrClose(leg));
            }
            Stage::Cascade(conference) => {
                tracing::info!(%conference, ?cause, "call: cascade closed");
                self.outputs.push_back(Output::Leave {
                    leg: self.settings.leg,
                });
            }
            Stage::Over(bye) => line.stage = Stage::Over(bye),
            Stage::Ringing { .. } | Stage::Ivr(_) | Stage::Intro(..) => {}
        }
    }

    /// What is left of an ended call: our BYE, sent or waiting for the ACK.
    fn set_bye(&mut self, bye: Bye) {
        if let Some(line) = self.line_mut() {
            line.stage = Stage::Over(bye);
        }
    }

    /// Sends SIP to the caller (where its INVITE came from).
    pub(super) fn send_sip(&mut self, bytes: Vec<u8>) {
        if let Some(to) = self.caller().map(|caller| caller.source) {
            self.outputs.push_back(Output::SendSip { to, bytes });
        }
    }
}

impl Line {
    /// What SDP agreed: the DTMF receiver on its telephone-event type, the media
    /// source expected from its address.
    pub(super) fn agree(&mut self, media: &mut MediaSource, negotiated: Negotiated) {
        self.awaiting_answer = false;
        if self.dtmf.as_ref().map(DtmfReceiver::payload_type) != negotiated.telephone_event {
            self.dtmf = negotiated.telephone_event.map(DtmfReceiver::new);
        }
        tracing::debug!(codec = ?negotiated.codec, remote = ?negotiated.remote, "call: media negotiated");
        media.expect(negotiated.source.map(SocketAddr::V4));
        self.negotiated = Some(negotiated);
    }
}

/// What the INFOs `infos` transmit now; those done are forgotten (an INFO
/// never answered is logged: the cascade's RTP timeout ends a dialog gone).
pub(in crate::node) fn pump_infos(infos: &mut Vec<ClientTransaction>) -> Vec<Vec<u8>> {
    let mut send = Vec::new();
    for info in infos.iter_mut() {
        while let Some(output) = info.poll_output() {
            match output {
                transaction::Output::Transmit(bytes) => send.push(bytes),
                transaction::Output::ToTu(TuEvent::Timeout) => {
                    tracing::warn!("no answer to our INFO on the cascade");
                }
                _ => {}
            }
        }
    }
    infos.retain(|info| !info.is_terminated());
    send
}
