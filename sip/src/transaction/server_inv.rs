//! The INVITE server transaction: RFC 3261 §17.2.1 as updated by RFC 6026 §7.1 and
//! §8.7 (the "Accepted" state).
//!
//! ```text
//!  INVITE ─► Proceeding ──2xx──► Accepted ──Timer L──► Terminated
//!   (100 sent)   │                 (2xx retransmitted until the ACK)
//!                └─300-699─► Completed ──ACK──► Confirmed ──Timer I──► Terminated
//!                            (Timer G)  └─Timer H──► Terminated
//! ```
//!
//! # Where 2xx retransmission lives
//!
//! RFC 3261 §13.3.1.4 makes the UAS *core* retransmit a 2xx (T1, doubling up to T2)
//! until the ACK, and give up after 64*T1; §17.2.1 destroys the transaction as soon
//! as the 2xx is sent. RFC 6026 keeps the transaction alive instead, in an
//! "Accepted" state, for 64*T1 (Timer L), so that retransmitted INVITEs are absorbed
//! rather than taken for new calls, and ACKs are passed up to the TU; it still leaves
//! the retransmission to the core. Here the §13.3.1.4 schedule runs *inside* the
//! Accepted state: the media node's only core is its dialog layer, the schedule and
//! the 64*T1 deadline are the same as Timer L's, and one sans-IO machine with one
//! deadline is simpler to drive and test than two. The ACK for a 2xx (its own
//! transaction, §17.1.1.3, usually with a new branch) is given to
//! [`ServerInviteTransaction::handle`] by whoever matched it to the dialog; it stops
//! the retransmissions and is passed up as [`TuEvent::Request`]. If Timer L fires
//! without an ACK, the TU gets [`TuEvent::AckTimeout`] and ends the call with a BYE
//! (§13.3.1.4).
//!
//! # CANCEL
//!
//! A CANCEL is its own non-INVITE server transaction ([`super::server`]) which the TU
//! answers 200 (§9.2). The TU then finds this transaction through
//! [`super::TransactionKey::cancelled_invite`] and calls
//! [`ServerInviteTransaction::cancel`], which answers the INVITE 487 Request
//! Terminated if no final response was sent yet.

use std::collections::VecDeque;
use std::time::Instant;

use rsip::message::HeadersExt;
use rsip::{Method, Request, Response, SipMessage};

use super::{Input, Output, Retransmit, Timers, TuEvent, due, earliest};
use crate::message::encode;
use crate::message::response_to;

/// Where an INVITE server transaction stands (RFC 3261 Figure 7, RFC 6026 Figure 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerInviteState {
    /// The INVITE is with the TU; provisional responses may have been sent.
    Proceeding,
    /// A 2xx was sent (RFC 6026): retransmitted until the ACK, until Timer L.
    Accepted,
    /// A 300-699 was sent: retransmitted on Timer G until the ACK or Timer H.
    Completed,
    /// The ACK for the non-2xx arrived: Timer I absorbs its retransmissions.
    Confirmed,
    /// Over.
    Terminated,
}

/// An INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §8.7), sans-IO.
#[derive(Debug)]
pub struct ServerInviteTransaction {
    /// The timer base values.
    timers: Timers,
    /// The INVITE that created the transaction.
    invite: Request,
    /// The current state.
    state: ServerInviteState,
    /// The last response sent, printed, resent on a retransmitted INVITE and by
    /// Timer G / the 2xx schedule.
    last_response: Vec<u8>,
    /// The To tag of the last response sent, reused for a 487 after a CANCEL.
    to_tag: Option<String>,
    /// Timer G, or the 2xx retransmission schedule in Accepted.
    retransmit: Option<Retransmit>,
    /// Timer H (Completed) or Timer L (Accepted).
    give_up_at: Option<Instant>,
    /// Timer I (Confirmed).
    confirmed_until: Option<Instant>,
    /// Whether an ACK for our 2xx arrived.
    acked: bool,
    /// Outputs not yet polled.
    outputs: VecDeque<Output>,
}

impl ServerInviteTransaction {
    /// Creates the transaction for a received INVITE: queues a 100 Trying at once
    /// (§17.2.1 allows waiting 200 ms; the media node answers only after an IVR
    /// lookup, so it never waits), then the INVITE for the TU.
    pub fn new(now: Instant, invite: Request, timers: Timers) -> Self {
        let trying = response_to(&invite, 100, None);
        let mut transaction = Self {
            timers,
            invite: invite.clone(),
            state: ServerInviteState::Proceeding,
            last_response: Vec::new(),
            to_tag: None,
            retransmit: None,
            give_up_at: None,
            confirmed_until: None,
            acked: false,
            outputs: VecDeque::new(),
        };
        transaction.send(now, trying);
        transaction
            .outputs
            .push_back(Output::ToTu(TuEvent::Request(invite)));
        transaction
    }

    /// The INVITE that created the transaction.
    pub fn invite(&self) -> &Request {
        &self.invite
    }

    /// The current state.
    pub fn state(&self) -> ServerInviteState {
        self.state
    }

    /// Whether the transaction is over (its [`Output::Terminated`] is queued or
    /// polled).
    pub fn is_terminated(&self) -> bool {
        self.state == ServerInviteState::Terminated
    }

    /// Handles a request that matched this transaction (a retransmitted INVITE, an
    /// ACK) or a response from the TU.
    ///
    /// - A retransmitted INVITE gets the last response again in Proceeding and
    ///   Completed (§17.2.1), and is absorbed in Accepted and Confirmed (RFC 6026).
    /// - An ACK in Completed moves to Confirmed and starts Timer I (absorbed, §17.2.1);
    ///   in Accepted it stops the 2xx retransmissions and goes to the TU (RFC 6026
    ///   §8.7: each ACK, a retransmitted one too, is passed up).
    /// - From the TU, in Proceeding: a 1xx is sent; a 2xx is sent and moves to
    ///   Accepted; a 300-699 is sent and moves to Completed. A 2xx in Accepted (a
    ///   retransmission by the TU) is sent (RFC 6026 §8.7). Anything else is ignored.
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Receive(SipMessage::Request(request)) => self.receive(now, request),
            Input::Receive(SipMessage::Response(_)) => {}
            Input::Respond(response) => self.respond(now, response),
        }
    }

    /// Answers the INVITE 487 Request Terminated, after the TU accepted a CANCEL for
    /// it (RFC 3261 §9.2). Uses the To tag of the last provisional response if it had
    /// one, else `to_tag`. Returns whether the INVITE was still pending; if not, the
    /// CANCEL has no effect (its 200 is still sent, §9.2).
    pub fn cancel(&mut self, now: Instant, to_tag: &str) -> bool {
        if self.state != ServerInviteState::Proceeding {
            return false;
        }
        let tag = self.to_tag.clone().unwrap_or_else(|| to_tag.to_string());
        let terminated = response_to(&self.invite, 487, Some(&tag));
        self.respond(now, terminated);
        true
    }

    /// Runs the timers due at `now`: Timer G (retransmit the non-2xx), Timer H (give
    /// up: [`TuEvent::Timeout`]), the 2xx retransmissions, Timer L (end Accepted,
    /// with [`TuEvent::AckTimeout`] if no ACK came) and Timer I (end Confirmed).
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            ServerInviteState::Completed | ServerInviteState::Accepted => {
                if due(self.give_up_at, now) {
                    if self.state == ServerInviteState::Completed {
                        self.outputs.push_back(Output::ToTu(TuEvent::Timeout));
                    } else if !self.acked {
                        self.outputs.push_back(Output::ToTu(TuEvent::AckTimeout));
                    }
                    self.terminate();
                    return;
                }
                let timers = self.timers;
                if let Some(retransmit) = &mut self.retransmit
                    && retransmit.fire(now, |interval| timers.backoff(interval))
                {
                    self.outputs
                        .push_back(Output::Transmit(self.last_response.clone()));
                }
            }
            ServerInviteState::Confirmed if due(self.confirmed_until, now) => self.terminate(),
            _ => {}
        }
    }

    /// The next output, if any: drain until `None` after every call.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`ServerInviteTransaction::handle_timeout`] must next be called, if ever.
    /// `None` in Proceeding (the TU owes a response, §17.2.1 sets no timer there) and
    /// once terminated.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest([
            self.retransmit.map(|retransmit| retransmit.at),
            self.give_up_at,
            self.confirmed_until,
        ])
    }

    fn receive(&mut self, now: Instant, request: Request) {
        match (request.method, self.state) {
            (Method::Invite, ServerInviteState::Proceeding | ServerInviteState::Completed) => {
                self.outputs
                    .push_back(Output::Transmit(self.last_response.clone()));
            }
            (Method::Ack, ServerInviteState::Completed) => {
                self.state = ServerInviteState::Confirmed;
                self.retransmit = None;
                self.give_up_at = None;
                self.confirmed_until = Some(now + self.timers.t4);
            }
            (Method::Ack, ServerInviteState::Accepted) => {
                self.acked = true;
                self.retransmit = None;
                self.outputs
                    .push_back(Output::ToTu(TuEvent::Request(request)));
            }
            _ => {}
        }
    }

    fn respond(&mut self, now: Instant, response: Response) {
        let code = response.status_code.code();
        match self.state {
            ServerInviteState::Proceeding if code < 200 => self.send(now, response),
            ServerInviteState::Proceeding => {
                self.send(now, response);
                self.retransmit = Some(Retransmit::start(now, &self.timers));
                // Timer L (RFC 6026 §8.7) or Timer H (§17.2.1): both 64*T1.
                self.give_up_at = Some(now + self.timers.sixty_four_t1());
                self.state = if code < 300 {
                    ServerInviteState::Accepted
                } else {
                    ServerInviteState::Completed
                };
            }
            ServerInviteState::Accepted if (200..300).contains(&code) => {
                self.send(now, response);
            }
            _ => {}
        }
    }

    /// Sends `response` and remembers it (and its To tag) for retransmission.
    fn send(&mut self, _now: Instant, response: Response) {
        if let Some(tag) = response
            .to_header()
            .ok()
            .and_then(|to| to.tag().ok().flatten())
        {
            self.to_tag = Some(tag.to_string());
        }
        self.last_response = encode(&response.into());
        self.outputs
            .push_back(Output::Transmit(self.last_response.clone()));
    }

    fn terminate(&mut self) {
        self.state = ServerInviteState::Terminated;
        self.retransmit = None;
        self.give_up_at = None;
        self.confirmed_until = None;
        self.outputs.push_back(Output::Terminated);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use proptest::prelude::*;

    use super::*;
    use crate::transaction::tests::{invite_text, request};

    const T1: Duration = Timers::T1;

    fn ack(to_tag: &str, branch: &str) -> Request {
        request(&format!(
            "ACK sip:+33100000000@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch={branch}\r\n\
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001\r\n\
To: <sip:+33100000000@127.0.0.1:5060>;tag={to_tag}\r\n\
Call-ID: 1-4242@127.0.0.1\r\n\
CSeq: 1 ACK\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n"
        ))
    }

    fn invite() -> Request {
        request(&invite_text())
    }

    /// The outputs queued so far, transmissions shown by their status line.
    fn drain(transaction: &mut ServerInviteTransaction) -> Vec<String> {
        std::iter::from_fn(|| transaction.poll_output())
            .map(|output| match output {
                Output::Transmit(bytes) => {
                    let text = String::from_utf8(bytes).expect("UTF-8");
                    format!("send {}", text.lines().next().unwrap_or_default())
                }
                Output::ToTu(TuEvent::Request(request)) => format!("tu {}", request.method),
                Output::ToTu(TuEvent::Response(response)) => {
                    format!("tu {}", response.status_code.code())
                }
                Output::ToTu(TuEvent::Timeout) => "tu timeout".into(),
                Output::ToTu(TuEvent::AckTimeout) => "tu ack timeout".into(),
                Output::Terminated => "terminated".into(),
            })
            .collect()
    }

    /// Runs the timers due up to `until`, jumping from deadline to deadline, and
    /// returns the outputs with the time (since `start`) they came at.
    fn progress(
        transaction: &mut ServerInviteTransaction,
        start: Instant,
        until: Instant,
    ) -> Vec<(u64, String)> {
        let mut seen = Vec::new();
        while let Some(deadline) = transaction.poll_timeout().filter(|at| *at <= until) {
            transaction.handle_timeout(deadline);
            let millis = (deadline - start).as_millis() as u64;
            seen.extend(drain(transaction).into_iter().map(|out| (millis, out)));
        }
        seen
    }

    fn sent(text: &str) -> String {
        format!("send SIP/2.0 {text}")
    }

    #[test]
    fn an_invite_is_answered_100_trying_at_once() {
        let start = Instant::now();
        let mut transaction = ServerInviteTransaction::new(start, invite(), Timers::default());
        assert_eq!(
            drain(&mut transaction),
            [sent("100 Trying"), "tu INVITE".into()]
        );
        assert_eq!(transaction.poll_timeout(), None);
        assert_eq!(transaction.state(), ServerInviteState::Proceeding);
    }

    #[test]
    fn a_retransmitted_invite_gets_the_last_response_again() {
        let start = Instant::now();
        let mut transaction = ServerInviteTransaction::new(start, invite(), Timers::default());
        drain(&mut transaction);
        transaction.handle(start + T1, Input::Receive(invite().into()));
        assert_eq!(drain(&mut transaction), [sent("100 Trying")]);

        let ringing = response_to(&invite(), 180, Some("node1"));
        transaction.handle(start + T1, Input::Respond(ringing));
        assert_eq!(drain(&mut transaction), [sent("180 Ringing")]);
        transaction.handle(start + T1 * 2, Input::Receive(invite().into()));
        assert_eq!(drain(&mut transaction), [sent("180 Ringing")]);

        let busy = response_to(&invite(), 486, Some("node1"));
        transaction.handle(start + T1 * 3, Input::Respond(busy));
        assert_eq!(drain(&mut transaction), [sent("486 Busy Here")]);
        transaction.handle(start + T1 * 3, Input::Receive(invite().into()));
        assert_eq!(drain(&mut transaction), [sent("486 Busy Here")]);
    }

    #[test]
    fn a_2xx_is_retransmitted_on_timer_g_until_the_ack() {
        let start = Instant::now();
        let mut transaction = ServerInviteTransaction::new(start, invite(), Timers::default());
        drain(&mut transaction);
        let ok = response_to(&invite(), 200, Some("node1"));
        transaction.handle(start, Input::Respond(ok));
        assert_eq!(drain(&mut transaction), [sent("200 OK")]);
        assert_eq!(transaction.state(), ServerInviteState::Accepted);

        // T1, 2T1, 4T1, 8T1 (= T2), then every T2: 0.5, 1.5, 3.5, 7.5, 11.5 s.
        let seen = progress(
            &mut transaction,
            start,
            start + Duration::from_millis(11_500),
        );
        let ok = sent("200 OK");
        assert_eq!(
            seen,
            [
                (500, ok.clone()),
                (1_500, ok.clone()),
                (3_500, ok.clone()),
                (7_500, ok.clone()),
                (11_500, ok.clone())
            ]
        );
        // A retransmitted INVITE is absorbed once accepted (RFC 6026).
        transaction.handle(start + T1 * 24, Input::Receive(invite().into()));
        assert_eq!(drain(&mut transaction), Vec::<String>::new());

        // sipp's ACK for the 2xx carries a new branch: the dialog matched it.
        let at = start + T1 * 24;
        transaction.handle(at, Input::Receive(ack("node1", "z9hG4bK-4242-1-2").into()));
        assert_eq!(drain(&mut transaction), ["tu ACK"]);
        let rest = progress(&mut transaction, start, start + T1 * 100);
        assert_eq!(rest, [(32_000, "terminated".to_string())]);
    }

    #[test]
    fn no_ack_for_a_2xx_tells_the_tu_after_64_t1() {
        let start = Instant::now();
        let mut transaction = ServerInviteTransaction::new(start, invite(), Timers::default());
        drain(&mut transaction);
        transaction.handle(
            start,
            Input::Respond(response_to(&invite(), 200, Some("n"))),
        );
        drain(&mut transaction);
        let seen = progress(&mut transaction, start, start + T1 * 100);
        let (retransmissions, end): (Vec<_>, Vec<_>) = seen
            .into_iter()
            .partition(|(_, out)| *out == sent("200 OK"));
        // 0.5, 1.5, 3.5, 7.5 s then every 4 s up to 31.5 s.
        assert_eq!(retransmissions.len(), 4 + 6);
        assert_eq!(
            end,
            [
                (32_000, "tu ack timeout".to_string()),
                (32_000, "terminated".to_string())
            ]
        );
        assert!(transaction.is_terminated());
        assert_eq!(transaction.poll_timeout(), None);
    }

    #[test]
    fn a_non_2xx_final_is_retransmitted_then_timer_h_gives_up() {
        let start = Instant::now();
        let mut transaction = ServerInviteTransaction::new(start, invite(), Timers::default());
        drain(&mut transaction);
        let not_found = response_to(&invite(), 404, Some("node1"));
        transaction.handle(start, Input::Respond(not_found));
        assert_eq!(drain(&mut transaction), [sent("404 Not Found")]);
        assert_eq!(transaction.state(), ServerInviteState::Completed);

        let seen = progress(&mut transaction, start, start + T1 * 100);
        let times: Vec<u64> = seen
            .iter()
            .filter(|(_, out)| *out == sent("404 Not Found"))
            .map(|(at, _)| *at)
            .collect();
        assert_eq!(
            times,
            [
                500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
            ]
        );
        assert_eq!(
            seen.last().map(|(at, out)| (*at, out.as_str())),
            Some((32_000, "terminated"))
        );
        assert!(seen.contains(&(32_000, "tu timeout".to_string())));
    }

    #[test]
    fn the_ack_for_a_non_2xx_is_absorbed_and_timer_i_ends_the_transaction() {
        let start = Instant::now();
        let mut transaction = ServerInviteTransaction::new(start, invite(), Timers::default());
        drain(&mut transaction);
        transaction.handle(
            start,
            Input::Respond(response_to(&invite(), 488, Some("n"))),
        );
        drain(&mut transaction);
        let seen = progress(&mut transaction, start, start + T1);
        assert_eq!(seen, [(500, sent("488 Not Acceptable Here"))]);

        // The ACK for a non-2xx reuses the INVITE's branch (§17.1.1.3).
        let at = start + Duration::from_millis(700);
        transaction.handle(at, Input::Receive(ack("n", "z9hG4bK-4242-1-0").into()));
        assert_eq!(drain(&mut transaction), Vec::<String>::new());
        assert_eq!(transaction.state(), ServerInviteState::Confirmed);
        transaction.handle(at, Input::Receive(ack("n", "z9hG4bK-4242-1-0").into()));
        transaction.handle(at, Input::Receive(invite().into()));
        assert_eq!(drain(&mut transaction), Vec::<String>::new());

        assert_eq!(transaction.poll_timeout(), Some(at + Timers::T4));
        let rest = progress(&mut transaction, start, start + T1 * 100);
        assert_eq!(rest, [(5_700, "terminated".to_string())]);
    }

    #[test]
    fn cancel_of_a_pending_invite_gets_200_and_the_invite_487() {
        use crate::transaction::{ServerTransaction, TransactionKey};

        let start = Instant::now();
        let mut transaction = ServerInviteTransaction::new(start, invite(), Timers::default());
        drain(&mut transaction);
        let cancel = request(
            &invite_text()
                .replace("INVITE sip:", "CANCEL sip:")
                .replace("1 INVITE", "1 CANCEL"),
        );
        let key = TransactionKey::of_request(&cancel).expect("a key");
        assert_eq!(
            key.cancelled_invite(),
            TransactionKey::of_request(transaction.invite())
        );

        // The TU answers the CANCEL on its own transaction, then cancels the INVITE.
        let at = start + Duration::from_millis(300);
        let mut cancel_transaction = ServerTransaction::new(at, cancel.clone(), Timers::default());
        assert!(matches!(
            cancel_transaction.poll_output(),
            Some(Output::ToTu(TuEvent::Request(_)))
        ));
        cancel_transaction.handle(at, Input::Respond(response_to(&cancel, 200, Some("n1"))));
        let Some(Output::Transmit(ok)) = cancel_transaction.poll_output() else {
            panic!("the CANCEL is answered");
        };
        assert!(ok.starts_with(b"SIP/2.0 200 OK\r\n"));
        assert!(transaction.cancel(at, "n1"));
        assert_eq!(drain(&mut transaction), [sent("487 Request Terminated")]);
        assert_eq!(transaction.state(), ServerInviteState::Completed);

        // Too late: a second CANCEL changes nothing.
        assert!(!transaction.cancel(at, "n1"));
        assert_eq!(drain(&mut transaction), Vec::<String>::new());
    }

    /// One thing that may happen to an INVITE server transaction.
    #[derive(Debug, Clone)]
    enum Step {
        Invite,
        Ack,
        Respond(u16),
        Cancel,
        Wait(u64),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            Just(Step::Invite),
            Just(Step::Ack),
            prop::sample::select(vec![180u16, 183, 200, 404, 486, 603]).prop_map(Step::Respond),
            Just(Step::Cancel),
            (0u64..40_000).prop_map(Step::Wait),
        ]
    }

    proptest! {
        #[test]
        fn an_invite_server_transaction_survives_any_sequence(steps in prop::collection::vec(step(), 0..40)) {
            let timers = Timers::default();
            let start = Instant::now();
            let mut now = start;
            let mut transaction = ServerInviteTransaction::new(now, invite(), timers);
            let mut last_input = now;
            let mut answered = false;
            let mut last_fired = start;
            for step in steps {
                match step {
                    Step::Wait(millis) => now += Duration::from_millis(millis),
                    Step::Invite => transaction.handle(now, Input::Receive(invite().into())),
                    Step::Ack => transaction.handle(now, Input::Receive(ack("n", "z9hG4bK-4242-1-0").into())),
                    Step::Respond(code) => {
                        answered |= code >= 200;
                        transaction.handle(now, Input::Respond(response_to(&invite(), code, Some("n"))));
                    }
                    Step::Cancel => answered |= transaction.cancel(now, "n"),
                }
                if !matches!(step, Step::Wait(_)) {
                    last_input = now;
                }
                while let Some(deadline) = transaction.poll_timeout().filter(|at| *at <= now) {
                    prop_assert!(deadline >= last_fired, "timers only move forward");
                    last_fired = deadline;
                    transaction.handle_timeout(deadline);
                }
                if let Some(deadline) = transaction.poll_timeout() {
                    prop_assert!(deadline > now);
                }
                while transaction.poll_output().is_some() {}
            }
            let limit = last_input + timers.sixty_four_t1() + timers.t4;
            while let Some(deadline) = transaction.poll_timeout() {
                prop_assert!(deadline >= last_fired, "timers only move forward");
                prop_assert!(deadline <= limit, "a deadline beyond 64*T1 + T4");
                last_fired = deadline;
                transaction.handle_timeout(deadline);
            }
            let outputs: Vec<Output> = std::iter::from_fn(|| transaction.poll_output()).collect();
            prop_assert_eq!(transaction.is_terminated(), answered);
            prop_assert!(outputs.iter().filter(|out| **out == Output::Terminated).count() <= 1);
        }
    }
}
