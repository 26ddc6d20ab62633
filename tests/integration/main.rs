//! The integration test binary: one binary, one module per area, all against the
//! local AWS emulator that `make test` starts (`AWS_ENDPOINT_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod billing;
mod calls;
mod deployment;
mod emulator;
mod lifecycle;
mod local_stack;
mod mailer;
mod media_files;
mod peer_harness;
mod portal;
mod provisioning;
mod ses_outbox;
mod store;
mod store_outage;
