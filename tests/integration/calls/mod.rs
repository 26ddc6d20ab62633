//! Calls to a media node running in this process over the emulator's table:
//! the SIP edge over real sockets (UDP and TCP), the store side of the IVR, CDRs
//! written and closed, and a store outage ([`edge`]); then real SIP user agents,
//! sipp and baresip, in a conference ([`real_peers`]); and CDRs through a store
//! outage and a node killed mid-conference ([`faults`]).

pub(crate) mod edge;
mod faults;
mod real_peers;
