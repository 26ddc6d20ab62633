//! # teleconf-media-node (not built yet: issue #4)
//!
//! Will own the calls: a long-running service terminating the provider's SIP trunk.
//! Its protocol logic is sans-IO (state machines fed `(now, input)` that return
//! datagrams, timers and events): SIP message codec around `rsip`, RFC 3261
//! transactions and dialogs, SDP offer/answer, RTP (`rtp-rs`) and RFC 4733 DTMF,
//! the IVR (conference number, access code, access window), the 20 ms N-1 mixer,
//! recording and CDR legs. A thin tokio shell owns the sockets, the clock and AWS.
//!
//! Until then this crate is only this description: no binary, so `make run` starts
//! no media node and says so.
