//! # teleconf-core
//!
//! The domain of the teleconference service and its adapters to AWS. The domain
//! half does no I/O: values valid by construction and the rules as pure functions,
//! unit-tested beside their code. The adapter half talks to DynamoDB, S3 and SES,
//! each behind a narrow trait with an in-memory twin for tests.
//!
//! ## Layout
//! - [`domain`]: the nouns: accounts and plans, users and roles, access numbers,
//!   conferences with their schedule and codes, CDR legs, activity.
//! - [`permissions`]: the one matrix of who may do what to which conference.
//! - [`billing`]: CDR legs priced in exact decimal money, invoices with late-leg
//!   adjustments and taxes, their CSVs, and the invoice mails.
//! - [`store`]: persistence traits, the DynamoDB single-table design (documented
//!   there), the in-memory store, and the conformance suite both must pass.
//! - [`spreadsheet`]: every CSV the service writes, its cells safe to open in a
//!   spreadsheet (no formula runs; numbers stay numbers).
//! - [`blobs`]: prompts, recordings and exports in S3.
//! - [`mail`]: outgoing e-mail through SES.
//! - [`audio`]: WAV reading and writing, G.711 µ-law/A-law, prompt normalisation
//!   to 8 kHz mono.
//! - [`messages`]: what the product says, in French and English (the confirmation).
//! - [`aws`]: settings from the environment and the SDK clients, emulator-aware.
//! - [`process`]: logging and the shutdown signal, shared by the binaries.
//! - [`error`]: the crate's error type.

pub mod audio;
pub mod aws;
pub mod billing;
pub mod blobs;
pub mod domain;
pub mod error;
pub mod mail;
pub mod messages;
pub mod permissions;
pub mod process;
pub mod random;
pub mod spreadsheet;
pub mod store;

pub use error::{Error, Result};
