//! The server transaction table: RFC 3261 §17.2.3 matching of received requests to
//! the server transactions they belong to, and §17.2 creation of new ones.
//!
//! One rule goes beyond §17.2.3: the ACK for a 2xx carries a new branch (§17.1.1.3)
//! and so matches no transaction by key; it is routed here to the INVITE transaction
//! of the same Call-ID and CSeq number still in RFC 6026's Accepted state, which
//! stops its 2xx retransmissions and passes the ACK up (see [`super::server_inv`]).

use std::collections::HashMap;
use std::time::Instant;

use rsip::headers::{ToTypedHeader, UntypedHeader};
use rsip::message::HeadersExt;
use rsip::{Method, Request};

use super::server_inv::ServerInviteState;
use super::{
    Input, Output, ServerInviteTransaction, ServerTransaction, Timers, TransactionKey, earliest,
};

/// A server transaction of either kind.
#[derive(Debug)]
pub enum Server {
    /// An INVITE server transaction (§17.2.1).
    Invite(ServerInviteTransaction),
    /// A non-INVITE server transaction (§17.2.2).
    NonInvite(ServerTransaction),
}

impl Server {
    /// Passes `input` to the transaction.
    pub fn handle(&mut self, now: Instant, input: Input) {
        match self {
            Self::Invite(transaction) => transaction.handle(now, input),
            Self::NonInvite(transaction) => transaction.handle(now, input),
        }
    }

    /// The request that created the transaction.
    pub fn request(&self) -> &Request {
        match self {
            Self::Invite(transaction) => transaction.invite(),
            Self::NonInvite(transaction) => transaction.request(),
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Self::Invite(transaction) => transaction.handle_timeout(now),
            Self::NonInvite(transaction) => transaction.handle_timeout(now),
        }
    }

    fn poll_output(&mut self) -> Option<Output> {
        match self {
            Self::Invite(transaction) => transaction.poll_output(),
            Self::NonInvite(transaction) => transaction.poll_output(),
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Self::Invite(transaction) => transaction.poll_timeout(),
            Self::NonInvite(transaction) => transaction.poll_timeout(),
        }
    }

    /// Whether this is an INVITE transaction in Accepted for this Call-ID and CSeq.
    fn awaits_ack(&self, call_id: &str, seq: u32) -> bool {
        let Self::Invite(transaction) = self else {
            return false;
        };
        transaction.state() == ServerInviteState::Accepted
            && dialog_position(transaction.invite()) == Some((call_id.to_string(), seq))
    }
}

/// What became of a received request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// It created this new transaction, which queued the request for the TU.
    New(TransactionKey),
    /// It matched this existing transaction (a retransmission, an ACK).
    Matched(TransactionKey),
    /// It belongs to no transaction and creates none: an ACK matching nothing, or a
    /// request without an RFC 3261 branch. The TU decides (usually: drop it).
    Unmatched(Request),
}

/// The server transactions of one node, by key (§17.2.3).
#[derive(Debug, Default)]
pub struct ServerTransactions {
    /// The timers new transactions get.
    timers: Timers,
    /// The live transactions.
    by_key: HashMap<TransactionKey, Server>,
}

impl ServerTransactions {
    /// An empty table whose transactions run on `timers`.
    pub fn new(timers: Timers) -> Self {
        Self {
            timers,
            by_key: HashMap::new(),
        }
    }

    /// Routes a received request: to the transaction it matches (§17.2.3), to the
    /// Accepted INVITE it acknowledges (ACK for a 2xx), or into a new transaction.
    pub fn receive(&mut self, now: Instant, request: Request) -> Received {
        let Some(key) = TransactionKey::of_request(&request) else {
            return Received::Unmatched(request);
        };
        if let Some(server) = self.by_key.get_mut(&key) {
            server.handle(now, Input::Receive(request.into()));
            return Received::Matched(key);
        }
        if request.method == Method::Ack {
            let Some((call_id, seq)) = dialog_position(&request) else {
                return Received::Unmatched(request);
            };
            let accepted = self
                .by_key
                .iter_mut()
                .find(|(_, server)| server.awaits_ack(&call_id, seq));
            return match accepted {
                Some((key, server)) => {
                    server.handle(now, Input::Receive(request.into()));
                    Received::Matched(key.clone())
                }
                None => Received::Unmatched(request),
            };
        }
        let server = if request.method == Method::Invite {
            Server::Invite(ServerInviteTransaction::new(now, request, self.timers))
        } else {
            Server::NonInvite(ServerTransaction::new(now, request, self.timers))
        };
        self.by_key.insert(key.clone(), server);
        Received::New(key)
    }

    /// The transaction with this key: for the TU to respond through it or, for an
    /// INVITE, to [`ServerInviteTransaction::cancel`] it.
    pub fn get_mut(&mut self, key: &TransactionKey) -> Option<&mut Server> {
        self.by_key.get_mut(key)
    }

    /// Runs every transaction's due timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        for server in self.by_key.values_mut() {
            server.handle_timeout(now);
        }
    }

    /// The next output of any transaction, with its key. A transaction is removed
    /// from the table when its [`Output::Terminated`] is polled.
    pub fn poll_output(&mut self) -> Option<(TransactionKey, Output)> {
        let (key, output) = self
            .by_key
            .iter_mut()
            .find_map(|(key, server)| server.poll_output().map(|output| (key.clone(), output)))?;
        if output == Output::Terminated {
            self.by_key.remove(&key);
        }
        Some((key, output))
    }

    /// The earliest deadline of any transaction.
    pub fn poll_timeout(&self) -> Option<Instant> {
        earliest(self.by_key.values().map(Server::poll_timeout))
    }

    /// Whether an INVITE's final non-2xx is still resent until its ACK comes
    /// (§17.2.1, Completed: Timer G): a refusal that could yet be lost.
    pub fn refusal_unacknowledged(&self) -> bool {
        self.by_key.values().any(|server| {
            matches!(server, Server::Invite(invite) if invite.state() == ServerInviteState::Completed)
        })
    }

    /// How many transactions are live.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether no transaction is live.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

/// A request's Call-ID and CSeq number.
fn dialog_position(request: &Request) -> Option<(String, u32)> {
    let call_id = request.call_id_header().ok()?.value().to_string();
    let seq = request.cseq_header().ok()?.typed().ok()?.seq;
    Some((call_id, seq))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::response_to;
    use crate::transaction::TuEvent;
    use crate::transaction::tests::{invite_text, request};

    #[test]
    fn the_ack_for_a_2xx_reaches_its_accepted_invite_despite_a_new_branch() {
        let start = Instant::now();
        let mut table = ServerTransactions::new(Timers::default());
        let invite = request(&invite_text());
        let Received::New(key) = table.receive(start, invite.clone()) else {
            panic!("a new transaction");
        };
        assert_eq!(
            table.receive(start, invite.clone()),
            Received::Matched(key.clone())
        );
        while table.poll_output().is_some() {}

        let ok = response_to(&invite, 200, Some("node1"));
        let server = table.get_mut(&key).expect("live");
        server.handle(start, Input::Respond(ok));
        while table.poll_output().is_some() {}

        let ack = request(
            &invite_text()
                .replace("INVITE sip:", "ACK sip:")
                .replace("1 INVITE", "1 ACK")
                .replace("z9hG4bK-4242-1-0", "z9hG4bK-4242-1-2"),
        );
        assert_eq!(
            table.receive(start, ack.clone()),
            Received::Matched(key.clone())
        );
        assert_eq!(
            table.poll_output(),
            Some((key.clone(), Output::ToTu(TuEvent::Request(ack.clone()))))
        );
        // Timer L ends the transaction and the table forgets it.
        let timer_l = table.poll_timeout().expect("Timer L");
        table.handle_timeout(timer_l);
        assert_eq!(table.poll_output(), Some((key, Output::Terminated)));
        assert!(table.is_empty());
        assert_eq!(
            table.receive(timer_l, ack.clone()),
            Received::Unmatched(ack)
        );
    }
}
