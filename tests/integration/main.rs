//! The integration test binary: one binary, one module per area, all against the
//! local AWS emulator that `make test` starts (`AWS_ENDPOINT_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod billing;
mod calls;
mod local_stack;
mod mail;
mod media_files;
mod outage;
mod peers;
mod provisioning;
mod store;
