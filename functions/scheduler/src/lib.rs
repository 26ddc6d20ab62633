//! # teleconf-scheduler (not built yet: issue #6)
//!
//! Will own the conference lifecycle as an EventBridge-scheduled Lambda (every
//! minute): `scheduled → open` at start − 5 min, `running` on the first caller,
//! `ended` when the last caller leaves or the end passes with nobody in, each
//! transition written once by a conditional write; and queuing the mails due at
//! those moments. Locally, `make run` will run the same handler in a loop.
//!
//! Until then this crate is only this description: no binary, so nothing pretends
//! to schedule anything.
