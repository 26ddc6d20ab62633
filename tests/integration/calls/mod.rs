//! Calls to a media node running in this process over the emulator's table:
//! the SIP edge over real sockets (UDP and TCP), the store side of the IVR, CDRs
//! written and closed, and a store outage ([`edge`]); then real SIP user agents,
//! sipp and baresip, in a conference ([`sipp_and_baresip`]); CDRs through a store
//! outage and a node killed mid-conference ([`faults`]); the SIP TCP listener's
//! caps and timeouts ([`tcp`]); the accounts' IP phones dialling `*44`
//! ([`star44`]); and calls through the SIP entry, Kamailio, in front of two nodes
//! ([`entry`]), one of them killed mid-conference ([`lost_node`]); one
//! conference over those two nodes, heard whole through the cascade between
//! them ([`cascade`]), and locked on one of them against a first caller on the
//! other ([`cascade_lock`]).

mod cascade;
mod cascade_lock;
pub(crate) mod edge;
mod entry;
mod faults;
mod lost_node;
mod sipp_and_baresip;
mod star44;
mod tcp;
