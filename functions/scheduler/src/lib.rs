//! # teleconf-scheduler
//!
//! The conference lifecycle as an EventBridge-scheduled Lambda (every minute). Each
//! tick looks at the conferences that may be in play (planned start from
//! [`LOOKBACK`] ago to [`EARLY_ACCESS`] ahead), reads what the media nodes already
//! wrote to the store (the CDR legs: a leg opens at admission and closes when the
//! caller leaves), and writes the transitions due: `scheduled → open` at start − 5 min,
//! `open → running` at the first caller, `→ ended` once nobody is on the line and the
//! planned end has passed ([`teleconf_domain::lifecycle`] has the rules).
//!
//! Each transition is a conditional write from the status before it, so a retried,
//! duplicated or late tick changes nothing twice and never moves a conference back;
//! the tick's instant is the event's `time`, not the clock at handling. The `ended`
//! transition queues the attendance report in the same write: the mailer sends it
//! from the table's stream. The nodes are told nothing: they read the store.
//!
//! ## Layout
//! - [`tick`]: the handler, a free function over the store.
//! - [`error`]: the crate's error type.
//! - `main.rs`: the Lambda runtime, or `--local` for the loop `make run` starts
//!   (`TELECONF_SCHEDULER_INTERVAL_S`, default 60), building the same event.

pub mod error;
pub mod tick;

pub use error::SchedulerError;
pub use teleconf_domain::conference::EARLY_ACCESS;
pub use tick::{Deps, LOOKBACK, SchedulerStore, TickReport, handle, reap, scheduled_event};
