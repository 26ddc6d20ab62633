//! The non-INVITE server transaction: RFC 3261 §17.2.2.
//!
//! ```text
//!  request ─► Trying ─1xx─► Proceeding ─200-699─► Completed ─Timer J─► Terminated
//!               └──────────200-699───────────────────┘
//! ```
//!
//! Used for the BYE, OPTIONS (the TU answers trunk keep-alives 200 with Allow), INFO
//! and CANCEL requests we receive. A retransmitted request is absorbed in Trying and
//! answered with the last response afterwards; Timer J (64*T1 over UDP) keeps the
//! transaction around to do so.

use std::collections::VecDeque;
use std::time::Instant;

use rsip::{Request, Response, SipMessage};

use super::{Input, Output, Timers, TuEvent, due};
use crate::message::encode;

/// Where a non-INVITE server transaction stands (RFC 3261 Figure 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// The request is with the TU; nothing sent yet.
    Trying,
    /// A provisional response was sent.
    Proceeding,
    /// The final response was sent; Timer J runs.
    Completed,
    /// Over.
    Terminated,
}

/// A non-INVITE server transaction (RFC 3261 §17.2.2), sans-IO.
#[derive(Debug)]
pub struct ServerTransaction {
    /// The timer base values.
    timers: Timers,
    /// The request that created the transaction.
    request: Request,
    /// The current state.
    state: ServerState,
    /// The last response sent, printed, for retransmitted requests.
    last_response: Vec<u8>,
    /// Timer J.
    completed_until: Option<Instant>,
    /// Outputs not yet polled.
    outputs: VecDeque<Output>,
}

impl ServerTransaction {
    /// Creates the transaction for a received request and queues the request for
    /// the TU (§17.2.2: "passed to the TU").
    pub fn new(_now: Instant, request: Request, timers: Timers) -> Self {
        let outputs = VecDeque::from([Output::ToTu(TuEvent::Request(request.clone()))]);
        Self {
            timers,
            request,
            state: ServerState::Trying,
            last_response: Vec::new(),
            completed_until: None,
            outputs,
        }
    }

    /// The request that created the transaction.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The current state.
    pub fn state(&self) -> ServerState {
        self.state
    }

    /// Whether the transaction is over.
    pub fn is_terminated(&self) -> bool {
        self.state == ServerState::Terminated
    }

    /// Handles a retransmitted request (absorbed in Trying, answered with the last
    /// response in Proceeding and Completed, §17.2.2) or the TU's response: a 1xx is
    /// sent in Trying and Proceeding; a final response is sent and moves to Completed
    /// with Timer J; responses after the final one are dropped.
    pub fn handle(&mut self, now: Instant, input: Input) {
        match input {
            Input::Receive(SipMessage::Request(_)) => {
                if matches!(self.state, ServerState::Proceeding | ServerState::Completed) {
                    self.outputs
                        .push_back(Output::Transmit(self.last_response.clone()));
                }
            }
            Input::Receive(SipMessage::Response(_)) => {}
            Input::Respond(response) => self.respond(now, response),
        }
    }

    /// Runs Timer J: in Completed, once due, the transaction terminates.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == ServerState::Completed && due(self.completed_until, now) {
            self.state = ServerState::Terminated;
            self.completed_until = None;
            self.outputs.push_back(Output::Terminated);
        }
    }

    /// The next output, if any: drain until `None` after every call.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`ServerTransaction::handle_timeout`] must next be called: Timer J's
    /// deadline in Completed, else `None`.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.completed_until
    }

    fn respond(&mut self, now: Instant, response: Response) {
        if !matches!(self.state, ServerState::Trying | ServerState::Proceeding) {
            return;
        }
        let provisional = response.status_code.code() < 200;
        self.last_response = encode(&response.into());
        self.outputs
            .push_back(Output::Transmit(self.last_response.clone()));
        if provisional {
            self.state = ServerState::Proceeding;
        } else {
            self.state = ServerState::Completed;
            // Timer J: 64*T1 for UDP (§17.2.2, Table 4).
            self.completed_until = Some(now + self.timers.sixty_four_t1());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rsip::headers::UntypedHeader;

    use super::*;
    use crate::message::response_to;
    use crate::transaction::tests::request;

    const BYE: &str = "BYE sip:+33100000000@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4242-1-5\r\n\
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4242SIPpTag001\r\n\
To: <sip:+33100000000@127.0.0.1:5060>;tag=node1\r\n\
Call-ID: 1-4242@127.0.0.1\r\n\
CSeq: 2 BYE\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n";

    const OPTIONS: &str = "OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK776asdhds\r\n\
From: <sip:ping@10.0.0.9>;tag=ka1\r\n\
To: <sip:127.0.0.1:5060>\r\n\
Call-ID: ka-1@10.0.0.9\r\n\
CSeq: 7 OPTIONS\r\n\
Max-Forwards: 70\r\n\
Content-Length: 0\r\n\r\n";

    fn drain(transaction: &mut ServerTransaction) -> Vec<Output> {
        std::iter::from_fn(|| transaction.poll_output()).collect()
    }

    fn transmitted(outputs: &[Output]) -> Vec<&[u8]> {
        outputs
            .iter()
            .filter_map(|output| match output {
                Output::Transmit(bytes) => Some(bytes.as_slice()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_retransmitted_bye_gets_the_same_200() {
        let start = Instant::now();
        let bye = request(BYE);
        let mut transaction = ServerTransaction::new(start, bye.clone(), Timers::default());
        assert_eq!(
            drain(&mut transaction),
            [Output::ToTu(TuEvent::Request(bye.clone()))]
        );

        // Before the TU answers, a retransmission is absorbed (§17.2.2 Trying).
        transaction.handle(start, Input::Receive(bye.clone().into()));
        assert_eq!(drain(&mut transaction), []);

        let at = start + Duration::from_millis(10);
        transaction.handle(at, Input::Respond(response_to(&bye, 200, None)));
        let first = drain(&mut transaction);
        let [ok] = transmitted(&first)[..] else {
            panic!("one 200 sent: {first:?}");
        };
        assert!(ok.starts_with(b"SIP/2.0 200 OK\r\n"));
        assert!(ok.windows(11).any(|window| window == b"CSeq: 2 BYE"));

        transaction.handle(at + Timers::T1, Input::Receive(bye.clone().into()));
        assert_eq!(drain(&mut transaction), first);
        // A second answer from the TU is dropped.
        transaction.handle(at, Input::Respond(response_to(&bye, 500, None)));
        assert_eq!(drain(&mut transaction), []);
    }

    #[test]
    fn timer_j_ends_a_non_invite_server_transaction() {
        let start = Instant::now();
        let options = request(OPTIONS);
        let mut transaction = ServerTransaction::new(start, options.clone(), Timers::default());
        assert_eq!(transaction.poll_timeout(), None);
        let mut ok = response_to(&options, 200, Some("n2"));
        ok.headers
            .push(rsip::headers::Allow::new("INVITE, ACK, BYE, CANCEL, OPTIONS, INFO").into());
        transaction.handle(start, Input::Respond(ok));
        drain(&mut transaction);
        assert_eq!(transaction.state(), ServerState::Completed);

        let timer_j = start + Timers::T1 * 64;
        assert_eq!(transaction.poll_timeout(), Some(timer_j));
        transaction.handle_timeout(timer_j - Duration::from_millis(1));
        assert_eq!(drain(&mut transaction), []);
        transaction.handle_timeout(timer_j);
        assert_eq!(drain(&mut transaction), [Output::Terminated]);
        assert!(transaction.is_terminated());
        assert_eq!(transaction.poll_timeout(), None);
    }
}
