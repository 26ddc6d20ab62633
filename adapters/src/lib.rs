//! # teleconf-adapters
//!
//! The adapters of the teleconference service to AWS and to the process it runs
//! in: persistence, files, mail, settings, logs. The domain it stores and sends is
//! `teleconf-domain`, which does no I/O; each adapter is a narrow trait with an
//! AWS implementation and an in-memory twin for tests.
//!
//! ## Layout
//! - [`store`]: persistence traits, the DynamoDB single-table design (documented
//!   there), the in-memory store, and the conformance suite both must pass.
//! - [`billing`]: what billing reads from the store: a month's invoice drafted from
//!   its legs, and the invoice mails read back once it is issued.
//! - [`blobs`]: prompts, recordings and exports in S3.
//! - [`mail`]: outgoing e-mail through SES.
//! - [`aws`]: settings from the environment and the SDK clients, emulator-aware.
//! - [`settings`]: reading settings from the environment, one rule and one message
//!   for every binary's variables; the provider's branding.
//! - [`process`]: logging, the shutdown signal and the wall clock, shared by the
//!   binaries.
//! - [`error`]: the crate's error type, wrapping the domain's.

pub mod aws;
pub mod billing;
pub mod blobs;
pub mod error;
pub mod mail;
pub mod process;
pub mod settings;
pub mod store;

pub use error::{Error, Result};
