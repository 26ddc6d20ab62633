//! The node's SIP-over-TCP connections (RFC 3261 §18), sans-IO: how many it
//! holds, from whom, and how long each may stay quiet or take to send one message
//! (issue #13: slow or idle clients must not hold sockets until the descriptors
//! run out, which would also stop calls' RTP ports from binding).
//!
//! - [`Connections`] admits a new connection or refuses it: at most
//!   [`ConnectionLimits::max_total`] at once, at most
//!   [`ConnectionLimits::max_per_source`] from one address.
//! - [`ReadClock`] is one connection's deadline: [`ConnectionLimits::idle`] after
//!   the last whole message or keep-alive while nothing is pending, and
//!   [`ConnectionLimits::message`] after the first byte of a message still
//!   incomplete (a client trickling one message a byte at a time is not idle, but
//!   it is too slow).
//!
//! The shell reads the sockets and the clock and closes what these say to close;
//! the framing is [`crate::message::frame`]'s.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How many connections, and how long each may last without a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections held at once, from everyone.
    pub max_total: usize,
    /// Connections held at once from one address.
    pub max_per_source: usize,
    /// How long a connection may stay without a message or keep-alive.
    pub idle: Duration,
    /// How long one message may take to arrive whole, from its first byte.
    pub message: Duration,
}

impl Default for ConnectionLimits {
    /// 256 connections, 16 per address; 5 minutes idle (a trunk sends RFC 5626
    /// keep-alives every 2 minutes or so); 10 s for one message.
    fn default() -> Self {
        Self {
            max_total: 256,
            max_per_source: 16,
            idle: Duration::from_secs(300),
            message: Duration::from_secs(10),
        }
    }
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The node holds [`ConnectionLimits::max_total`] connections.
    Total,
    /// The address holds [`ConnectionLimits::max_per_source`] connections.
    PerSource,
}

impl Refused {
    /// The reason's name in logs and figures.
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::Total => "total_cap",
            Refused::PerSource => "per_source_cap",
        }
    }
}

/// The connections held, by address.
#[derive(Debug, Clone)]
pub struct Connections {
    limits: ConnectionLimits,
    total: usize,
    by_source: HashMap<IpAddr, usize>,
}

impl Connections {
    /// None held yet.
    pub fn new(limits: ConnectionLimits) -> Self {
        Self {
            limits,
            total: 0,
            by_source: HashMap::new(),
        }
    }

    /// A connection from `source` asks in: held, or refused.
    pub fn open(&mut self, source: IpAddr) -> Result<(), Refused> {
        let source = source.to_canonical();
        if self.total >= self.limits.max_total {
            return Err(Refused::Total);
        }
        let held = self.by_source.entry(source).or_insert(0);
        if *held >= self.limits.max_per_source {
            return Err(Refused::PerSource);
        }
        *held += 1;
        self.total += 1;
        Ok(())
    }

    /// A connection [`open`](Self::open) admitted from `source` closed.
    pub fn close(&mut self, source: IpAddr) {
        let source = source.to_canonical();
        if let Some(held) = self.by_source.get_mut(&source) {
            *held -= 1;
            if *held == 0 {
                self.by_source.remove(&source);
            }
            self.total -= 1;
        }
    }

    /// Connections held.
    pub fn held(&self) -> usize {
        self.total
    }
}

/// Why a connection's clock ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// Nothing came for [`ConnectionLimits::idle`].
    Idle,
    /// A message was still incomplete [`ConnectionLimits::message`] after its
    /// first byte.
    Incomplete,
}

impl Expiry {
    /// The reason's name in logs and figures.
    pub fn as_str(self) -> &'static str {
        match self {
            Expiry::Idle => "idle",
            Expiry::Incomplete => "incomplete_message",
        }
    }
}

/// One connection's read deadline. See the [module documentation](self).
#[derive(Debug, Clone, Copy)]
pub struct ReadClock {
    idle: Duration,
    message: Duration,
    /// The last whole message or keep-alive (or the connection's opening).
    last_whole: Instant,
    /// The first byte of the message still incomplete, if one is.
    partial_since: Option<Instant>,
}

impl ReadClock {
    /// A connection opened at `now`.
    pub fn new(limits: &ConnectionLimits, now: Instant) -> Self {
        Self {
            idle: limits.idle,
            message: limits.message,
            last_whole: now,
            partial_since: None,
        }
    }

    /// Bytes came at `now`; framing them took `whole` messages or keep-alives out,
    /// and left part of one behind when `pending`.
    pub fn on_read(&mut self, now: Instant, whole: usize, pending: bool) {
        if whole > 0 {
            self.last_whole = now;
            self.partial_since = None;
        }
        if pending {
            self.partial_since.get_or_insert(now);
        } else {
            self.partial_since = None;
        }
    }

    /// When the connection is to be closed if nothing more comes, and why.
    pub fn deadline(&self) -> (Instant, Expiry) {
        match self.partial_since {
            Some(since) => (since + self.message, Expiry::Incomplete),
            None => (self.last_whole + self.idle, Expiry::Idle),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            max_total: 3,
            max_per_source: 2,
            idle: Duration::from_secs(60),
            message: Duration::from_secs(5),
        }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn connections_are_capped_per_source_and_in_total_and_freed_on_close() {
        let mut held = Connections::new(limits());
        let (a, b, c) = (ip("192.0.2.1"), ip("192.0.2.2"), ip("192.0.2.3"));
        assert_eq!(held.open(a), Ok(()));
        assert_eq!(held.open(a), Ok(()));
        assert_eq!(held.open(a), Err(Refused::PerSource));
        assert_eq!(
            held.open(ip("::ffff:192.0.2.1")),
            Err(Refused::PerSource),
            "the same address over IPv6"
        );
        assert_eq!(held.open(b), Ok(()));
        assert_eq!(held.open(c), Err(Refused::Total));
        assert_eq!(held.held(), 3);
        held.close(a);
        assert_eq!(held.open(c), Ok(()));
        held.close(ip("198.51.100.1"));
        assert_eq!(
            held.held(),
            3,
            "closing what was never held changes nothing"
        );
    }

    #[test]
    fn a_quiet_connection_expires_idle_and_a_trickled_message_expires_incomplete() {
        let t0 = Instant::now();
        let limits = limits();
        let mut clock = ReadClock::new(&limits, t0);
        assert_eq!(clock.deadline(), (t0 + limits.idle, Expiry::Idle));
        // Half a message at 10 s, a byte every second after: still one message.
        let t1 = t0 + Duration::from_secs(10);
        clock.on_read(t1, 0, true);
        for s in 1..4 {
            clock.on_read(t1 + Duration::from_secs(s), 0, true);
        }
        assert_eq!(clock.deadline(), (t1 + limits.message, Expiry::Incomplete));
        // It completes, and the next one starts in the same read.
        let t2 = t1 + Duration::from_secs(4);
        clock.on_read(t2, 1, true);
        assert_eq!(clock.deadline(), (t2 + limits.message, Expiry::Incomplete));
        let t3 = t2 + Duration::from_secs(1);
        clock.on_read(t3, 1, false);
        assert_eq!(clock.deadline(), (t3 + limits.idle, Expiry::Idle));
    }
}
