//! The non-INVITE client transaction: RFC 3261 §17.1.2, for the BYE and OPTIONS the
//! media node sends.
//!
//! ```text
//!  request sent ─► Trying ─1xx─► Proceeding ─200-699─► Completed ─Timer K─► Terminated
//!                   │  └──────────200-699────────────────────┘
//!                   └─ Timer F (either state) ─► Timeout to the TU ─► Terminated
//! ```
//!
//! Over UDP the request is retransmitted on Timer E: after T1, then doubling up to T2
//! in Trying, every T2 in Proceeding (§17.1.2.2). Timer F (64*T1) gives up. The first
//! final response goes to the TU; Timer K (T4) absorbs its retransmissions. Over a
//! reliable transport (the request's top Via says TCP, TLS, SCTP or WS) the transport
//! does the resending: no Timer E, and Timer K is zero (§17.1.2.2, Table 4).

use std::collections::VecDeque;
use std::time::Instant;

use rsip::{Request, Response, SipMessage};

use super::{Input, Output, Retransmit, Timers, TuEvent, due, earliest};
use crate::message::encode;

/// Where a non-INVITE client transaction stands (RFC 3261 Figure 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// The request is sent and retransmitted; no response yet.
    Trying,
    /// A provisional response came; retransmissions every T2.
    Proceeding,
    /// The final response came; Timer K runs.
    Completed,
    /// Over.
    Terminated,
}

/// A non-INVITE client transaction (RFC 3261 §17.1.2), sans-IO.
#[derive(Debug)]
pub struct ClientTransaction {
    /// The timer base values.
    timers: Timers,
    /// Sent over a reliable transport: never retransmitted.
    reliable: bool,
    /// The request we send.
    request: Request,
    /// The request, printed, for retransmissions.
    printed: Vec<u8>,
    /// The current state.
    state: ClientState,
    /// Timer E.
    retransmit: Option<Retransmit>,
    /// Timer F.
    give_up_at: Option<Instant>,
    /// Timer K.
    completed_until: Option<Instant>,
    /// Outputs not yet polled.
    outputs: VecDeque<Output>,
}

impl ClientTransaction {
    /// Creates the transaction and queues the request for sending at once, with
    /// Timer E (T1) and Timer F (64*T1) started (§17.1.2.2). The request's top Via
    /// must carry a fresh `z9hG4bK` branch (§8.1.1.7): it is the transaction's key.
    pub fn new(now: Instant, request: Request, timers: Timers) -> Self {
        let printed = encode(&request.clone().into());
        let outputs = VecDeque::from([Output::Transmit(printed.clone())]);
        let reliable = sent_reliably(&request);
        Self {
            timers,
            reliable,
            request,
            printed,
            state: ClientState::Trying,
            retransmit: (!reliable).then(|| Retransmit::start(now, &timers)),
            give_up_at: Some(now + timers.sixty_four_t1()),
            completed_until: None,
            outputs,
        }
    }

    /// The request this transaction sends.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The current state.
    pub fn state(&self) -> ClientState {
        self.state
    }

    /// Whether the transaction is over.
    pub fn is_terminated(&self) -> bool {
        self.state == ClientState::Terminated
    }

    /// Handles a response that matched this transaction (§17.1.3): in Trying or
    /// Proceeding a 1xx goes to the TU and moves to Proceeding, a final response goes
    /// to the TU, stops Timers E and F and moves to Completed with Timer K (T4).
    /// Responses in Completed (retransmissions) are absorbed; requests are ignored.
    pub fn handle(&mut self, now: Instant, input: Input) {
        let Input::Receive(SipMessage::Response(response)) = input else {
            return;
        };
        if !matches!(self.state, ClientState::Trying | ClientState::Proceeding) {
            return;
        }
        if response.status_code.code() < 200 {
            self.state = ClientState::Proceeding;
        } else {
            self.state = ClientState::Completed;
            self.retransmit = None;
            self.give_up_at = None;
            // Timer K: T4 for UDP, zero for a reliable transport (§17.1.2.2, Table 4).
            self.completed_until = Some(if self.reliable {
                now
            } else {
                now + self.timers.t4
            });
        }
        self.outputs.push_back(to_tu(response));
    }

    /// Runs the timers due at `now`: Timer F ([`TuEvent::Timeout`], then terminated),
    /// Timer E (retransmit the request), Timer K (terminated).
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            ClientState::Trying | ClientState::Proceeding => {
                if due(self.give_up_at, now) {
                    self.outputs.push_back(Output::ToTu(TuEvent::Timeout));
                    self.terminate();
                    return;
                }
                let (timers, proceeding) = (self.timers, self.state == ClientState::Proceeding);
                let next = |interval| {
                    if proceeding {
                        timers.t2
                    } else {
                        timers.backoff(interval)
                    }
                };
                if let Some(retransmit) = &mut self.retransmit
                    && retransmit.fire(now, next)
                {
                    self.outputs
                        .push_back(Output::Transmit(self.printed.clone()));
                }
            }
            ClientState::Completed if due(self.completed_until, now) => self.terminate(),
            _ => {}
        }
    }

    /// The next output, if any: drain until `None` after every call.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`ClientTransaction::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest([
            self.retransmit.map(|retransmit| retransmit.at),
            self.give_up_at,
            self.completed_until,
        ])
    }

    fn terminate(&mut self) {
        self.state = ClientState::Terminated;
        self.retransmit = None;
        self.give_up_at = None;
        self.completed_until = None;
        self.outputs.push_back(Output::Terminated);
    }
}

/// A response passed up to the TU.
/// Whether `request` goes over a reliable transport, as its top Via says.
fn sent_reliably(request: &Request) -> bool {
    use rsip::headers::ToTypedHeader;
    use rsip::prelude::HeadersExt;
    request
        .via_header()
        .ok()
        .and_then(|via| via.typed().ok())
        .is_some_and(|via| via.transport != rsip::Transport::Udp)
}

fn to_tu(response: Response) -> Output {
    Output::ToTu(TuEvent::Response(response))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::message::response_to;
    use crate::transaction::TransactionKey;
    use crate::transaction::tests::request;

    /// The BYE the media node sends when a caller is hung up on.
    const OUR_BYE: &str = "BYE sip:sipp@127.0.0.1:5061 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-node-bye-1\r\n\
From: <sip:+33100000000@127.0.0.1:5060>;tag=node1\r\n\
To: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001\r\n\
Call-ID: 1-4242@127.0.0.1\r\n\
CSeq: 1 BYE\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n";

    /// (milliseconds since start, output) up to `until`, jumping deadline to deadline.
    fn progress(
        transaction: &mut ClientTransaction,
        start: Instant,
        until: Instant,
    ) -> Vec<(u64, Output)> {
        let mut seen = Vec::new();
        while let Some(deadline) = transaction.poll_timeout().filter(|at| *at <= until) {
            transaction.handle_timeout(deadline);
            let millis = (deadline - start).as_millis() as u64;
            seen.extend(std::iter::from_fn(|| transaction.poll_output()).map(|out| (millis, out)));
        }
        seen
    }

    #[test]
    fn our_bye_is_retransmitted_on_timer_e_and_times_out_on_timer_f() {
        let start = Instant::now();
        let bye = request(OUR_BYE);
        let mut transaction = ClientTransaction::new(start, bye, Timers::default());
        let Some(Output::Transmit(sent)) = transaction.poll_output() else {
            panic!("the BYE is sent at once");
        };
        assert!(sent.starts_with(b"BYE sip:sipp@127.0.0.1:5061 SIP/2.0\r\n"));

        let seen = progress(&mut transaction, start, start + Duration::from_secs(60));
        let retransmitted: Vec<u64> = seen
            .iter()
            .filter(|(_, out)| *out == Output::Transmit(sent.clone()))
            .map(|(at, _)| *at)
            .collect();
        assert_eq!(
            retransmitted,
            [
                500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
            ]
        );
        let end: Vec<_> = seen.iter().skip(retransmitted.len()).cloned().collect();
        assert_eq!(
            end,
            [
                (32_000, Output::ToTu(TuEvent::Timeout)),
                (32_000, Output::Terminated)
            ]
        );
        assert_eq!(transaction.poll_timeout(), None);
    }

    #[test]
    fn a_response_to_our_bye_stops_the_retransmissions() {
        let start = Instant::now();
        let bye = request(OUR_BYE);
        let mut transaction = ClientTransaction::new(start, bye.clone(), Timers::default());
        transaction.poll_output();
        let seen = progress(&mut transaction, start, start + Duration::from_millis(600));
        assert_eq!(seen.len(), 1, "one retransmission at T1");

        let ok = response_to(&bye, 200, None);
        assert_eq!(
            TransactionKey::of_response(&ok),
            TransactionKey::of_request(&bye)
        );
        let at = start + Duration::from_millis(700);
        transaction.handle(at, Input::Receive(ok.clone().into()));
        assert_eq!(transaction.poll_output(), Some(to_tu(ok.clone())));
        assert_eq!(transaction.state(), ClientState::Completed);

        // A retransmitted 200 is absorbed; Timer K (T4) ends the transaction.
        transaction.handle(at, Input::Receive(ok.into()));
        assert_eq!(transaction.poll_output(), None);
        let rest = progress(&mut transaction, start, start + Duration::from_secs(60));
        assert_eq!(rest, [(5_700, Output::Terminated)]);
    }

    #[test]
    fn over_tcp_our_bye_is_never_retransmitted_and_ends_with_its_response() {
        let start = Instant::now();
        let bye = request(&OUR_BYE.replace("SIP/2.0/UDP", "SIP/2.0/TCP"));
        let mut transaction = ClientTransaction::new(start, bye.clone(), Timers::default());
        assert!(matches!(
            transaction.poll_output(),
            Some(Output::Transmit(_))
        ));
        let seen = progress(&mut transaction, start, start + Duration::from_secs(10));
        assert_eq!(seen, [], "no Timer E over a reliable transport");

        let ok = response_to(&bye, 200, None);
        let at = start + Duration::from_secs(10);
        transaction.handle(at, Input::Receive(ok.clone().into()));
        assert_eq!(transaction.poll_output(), Some(to_tu(ok)));
        // Timer K is zero over TCP.
        assert_eq!(transaction.poll_timeout(), Some(at));
        transaction.handle_timeout(at);
        assert_eq!(transaction.poll_output(), Some(Output::Terminated));
    }

    #[test]
    fn over_tcp_an_unanswered_bye_still_times_out_on_timer_f() {
        let start = Instant::now();
        let bye = request(&OUR_BYE.replace("SIP/2.0/UDP", "SIP/2.0/TCP"));
        let mut transaction = ClientTransaction::new(start, bye, Timers::default());
        transaction.poll_output();
        let seen = progress(&mut transaction, start, start + Duration::from_secs(60));
        assert_eq!(
            seen,
            [
                (32_000, Output::ToTu(TuEvent::Timeout)),
                (32_000, Output::Terminated)
            ]
        );
    }

    #[test]
    fn a_provisional_response_slows_retransmissions_to_t2() {
        let start = Instant::now();
        let bye = request(OUR_BYE);
        let mut transaction = ClientTransaction::new(start, bye.clone(), Timers::default());
        transaction.poll_output();
        transaction.handle(start, Input::Receive(response_to(&bye, 100, None).into()));
        assert!(matches!(
            transaction.poll_output(),
            Some(Output::ToTu(TuEvent::Response(_)))
        ));
        let seen = progress(&mut transaction, start, start + Duration::from_secs(9));
        let times: Vec<u64> = seen.iter().map(|(at, _)| *at).collect();
        // The pending T1 retransmission, then every T2.
        assert_eq!(times, [500, 4_500, 8_500]);
    }
}
