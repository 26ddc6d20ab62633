//! # teleconf-tests support
//!
//! What the integration tests share: a provisioned stack on the local AWS emulator,
//! the one reader of the emulator's captured mail, and a TCP proxy that can cut a
//! client off from the emulator and reconnect it.
//!
//! ## Layout
//! - [`api`]: the HTTPS API's router in process over the stack, and a world of
//!   accounts, users and conferences built through it.
//! - [`stack`]: settings, clients and a provisioned table/bucket per test process.
//! - [`outbox`]: mail the emulator captured (moto's `/moto-api/data.json`,
//!   LocalStack's `/_aws/ses`), raw MIME parsed.
//! - [`deployment`]: `infra/template.json` translated and created as stacks in an
//!   emulator of its own that enforces IAM; the functions' binaries run under the
//!   Lambda runtime API, and the media node, with the settings and roles the stack holds.
//! - [`event_pattern`]: an event source mapping's `FilterCriteria`, evaluated.
//! - [`lambdas`]: the scheduler's ticks and the mailer over the table's real stream.
//! - [`proxy`]: a switchable TCP forwarder, for outage tests.
//! - [`peers`]: real SIP peers (sipp, baresip) for end-to-end calls, tone WAVs and
//!   the frequency analysis of what a caller heard.
//! - [`media`]: a media node in the test process, and a conference open now to call.
//! - [`browser`]: headless Chromium through chromedriver (installed when missing),
//!   the portal served on loopback, screenshots into `portal/screenshots/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod api;
pub mod browser;
pub mod deployment;
pub mod event_pattern;
pub mod lambdas;
pub mod media;
pub mod outbox;
pub mod peers;
pub mod proxy;
pub mod sip_entry;
pub mod stack;
