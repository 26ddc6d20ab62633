//! The calls by RTP port: one slot per port of the node's range, so a
//! datagram finds its call by an index, not a map lookup.

use std::ops::Range;

use crate::app::CallKey;

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
