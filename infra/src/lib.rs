//! # teleconf-infra
//!
//! The deployable description of the service (`infra/template.json`, a SAM
//! template) and the code that provisions the same resources on a local AWS
//! emulator, idempotently.
//!
//! ## Layout
//! - [`template`]: reads the template's table definition (keys, indexes, stream).
//! - [`provision`]: creates the table, the bucket and the SES sender identity when
//!   missing, and waits until they are usable.
//! - [`demo`]: the demo account, owner and provider admin `make run` signs in with.
//! - `bin/teleconf-provision`: the command `make run` and the tests call.

pub mod demo;
pub mod provision;
pub mod template;

/// What can go wrong provisioning.
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// The template is not what the provisioning expects.
    #[error("infra/template.json: {0}")]
    Template(String),
    /// An AWS call failed.
    #[error(transparent)]
    Aws(#[from] teleconf_adapters::Error),
    /// A demo entity broke a domain rule.
    #[error(transparent)]
    Domain(#[from] teleconf_domain::Error),
    /// A resource did not become ready in time.
    #[error("{0} did not become ready in time")]
    NotReady(String),
    /// The demo data could not be seeded.
    #[error("demo data: {0}")]
    Demo(String),
}
