//! One module per resource. Each handler parses the request, calls one use case
//! ([`crate::usecases`]: the permission check, the rules, the store) and maps the
//! result to a view (`teleconf_views`) or an error (`crate::error`).

pub mod accounts;
pub mod activity;
pub mod cdrs;
pub mod conferences;
pub mod controls;
pub mod exports;
pub mod health;
pub mod invitations;
pub mod invoices;
pub mod ip_phones;
pub mod me;
pub mod numbers;
pub mod participants;
pub mod prompts;
pub mod recordings;
pub mod users;
