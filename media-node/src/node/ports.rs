//! The node's RTP ports: which call holds each ([`PortIndex`], one slot per
//! port of the range, so a datagram finds its call by an index, not a map
//! lookup), and which a new call may draw ([`FreePorts`]: at random, and not one
//! whose call ended less than [`PORT_REST`] ago).

use std::collections::VecDeque;
use std::ops::Range;
use std::time::{Duration, Instant};

use crate::app::CallKey;

/// How long a port rests after its call ends before a new call draws it while
/// others are ready. The ended call's last packets (a trunk or phone still
/// sending after the BYE, packets in flight) would otherwise reach the new
/// call, and as they come from the trunk's media host they would latch its
/// media source: the new caller heard nothing and keyed in vain. With random
/// draws, a busy node (50 calls ending a second over 3,000 free ports) would
/// give one new call in 60 a port released within the second.
pub(super) const PORT_REST: Duration = Duration::from_secs(10);

/// The even ports of the range no call holds (RFC 3550 §11: the odd one above
/// is RTCP's): those ready, drawn at random so that a call's port cannot be
/// guessed, and those resting, oldest first.
#[derive(Debug)]
pub(super) struct FreePorts {
    ready: Vec<u16>,
    resting: VecDeque<(Instant, u16)>,
}

impl FreePorts {
    /// Every even port of `range`, ready.
    pub(super) fn new(range: &Range<u16>) -> Self {
        Self {
            ready: range.clone().filter(|port| port % 2 == 0).collect(),
            resting: VecDeque::new(),
        }
    }

    /// A port for a new call at `now`: one drawn at random from those ready,
    /// or, with none ready, the one resting longest rather than a refusal.
    /// `None`: every port is held.
    pub(super) fn take(&mut self, now: Instant) -> Option<u16> {
        while let Some(&(since, port)) = self.resting.front() {
            if now.saturating_duration_since(since) < PORT_REST {
                break;
            }
            self.resting.pop_front();
            self.ready.push(port);
        }
        if self.ready.is_empty() {
            return self.resting.pop_front().map(|(_, port)| port);
        }
        let draw = u32::from_be_bytes(teleconf_domain::random::bytes());
        let index = usize::try_from(draw).unwrap_or(0) % self.ready.len();
        Some(self.ready.swap_remove(index))
    }

    /// `port`'s call ended at `now`: it rests.
    pub(super) fn release(&mut self, now: Instant, port: u16) {
        self.resting.push_back((now, port));
    }

    /// `port` was taken but never used (no call was set up on it): ready again.
    pub(super) fn put_back(&mut self, port: u16) {
        self.ready.push(port);
    }

    /// How many ports no call holds, resting or not.
    pub(super) fn len(&self) -> usize {
        self.ready.len() + self.resting.len()
    }
}

/// Which call holds each port of the range.
#[derive(Debug)]
pub(super) struct PortIndex {
    first: u16,
    slots: Vec<Option<CallKey>>,
}

impl PortIndex {
    /// No port held in `range`.
    pub(super) fn new(range: &Range<u16>) -> Self {
        Self {
            first: range.start,
            slots: vec![None; range.len()],
        }
    }

    fn slot(&self, port: u16) -> Option<usize> {
        let index = usize::from(port.checked_sub(self.first)?);
        (index < self.slots.len()).then_some(index)
    }

    /// `port` is now `call`'s. A port outside the range is never held.
    pub(super) fn insert(&mut self, port: u16, call: CallKey) {
        if let Some(index) = self.slot(port) {
            self.slots[index] = Some(call);
        }
    }

    /// `port` is nobody's.
    pub(super) fn remove(&mut self, port: u16) {
        if let Some(index) = self.slot(port) {
            self.slots[index] = None;
        }
    }

    /// The call holding `port`, if any.
    pub(super) fn get(&self, port: u16) -> Option<CallKey> {
        self.slot(port).and_then(|index| self.slots[index])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_released_port_is_not_drawn_again_before_its_rest_while_another_is_ready() {
        let start = Instant::now();
        let mut free = FreePorts::new(&(20_000..20_004));
        assert_eq!(free.len(), 2);
        let first = free.take(start).expect("a port");
        free.release(start, first);
        // However the draws fall, the other port comes while `first` rests.
        let second = free.take(start + PORT_REST / 2).expect("a port");
        assert_ne!(second, first);
        free.release(start + PORT_REST / 2, second);
        assert_eq!(free.take(start + PORT_REST), Some(first), "rested");
        assert_eq!(free.len(), 1);
    }

    #[test]
    fn with_no_port_ready_the_one_resting_longest_is_taken_rather_than_refusing() {
        let start = Instant::now();
        let mut free = FreePorts::new(&(20_000..20_004));
        let a = free.take(start).expect("a port");
        let b = free.take(start).expect("a port");
        assert_eq!(free.take(start), None, "every port held");
        free.release(start, b);
        free.release(start + Duration::from_secs(1), a);
        assert_eq!(free.take(start + Duration::from_secs(2)), Some(b));
        assert_eq!(free.take(start + Duration::from_secs(2)), Some(a));
        assert_eq!(free.len(), 0);
    }

    #[test]
    fn a_port_put_back_unused_is_ready_at_once() {
        let start = Instant::now();
        let mut free = FreePorts::new(&(20_000..20_002));
        let port = free.take(start).expect("a port");
        free.put_back(port);
        assert_eq!(free.take(start), Some(port));
    }

    #[test]
    fn only_the_even_ports_of_the_range_are_free() {
        let start = Instant::now();
        let mut free = FreePorts::new(&(20_001..20_006));
        let mut ports: Vec<u16> = std::iter::from_fn(|| free.take(start)).collect();
        ports.sort_unstable();
        assert_eq!(ports, [20_002, 20_004]);
    }

    #[test]
    fn a_port_finds_the_call_that_holds_it_until_released() {
        let mut ports = PortIndex::new(&(20_000..20_010));
        ports.insert(20_000, CallKey(1));
        ports.insert(20_009, CallKey(2));
        assert_eq!(ports.get(20_000), Some(CallKey(1)));
        assert_eq!(ports.get(20_009), Some(CallKey(2)));
        assert_eq!(ports.get(20_002), None);
        ports.remove(20_000);
        assert_eq!(ports.get(20_000), None);
        assert_eq!(ports.get(20_009), Some(CallKey(2)));
    }

    #[test]
    fn a_port_outside_the_range_is_held_by_no_call() {
        let mut ports = PortIndex::new(&(20_000..20_010));
        ports.insert(19_999, CallKey(1));
        ports.insert(20_010, CallKey(2));
        assert_eq!(ports.get(19_999), None);
        assert_eq!(ports.get(20_010), None);
        assert_eq!(ports.get(0), None);
        assert_eq!(ports.get(u16::MAX), None);
        ports.remove(u16::MAX);
    }
}
