//! # teleconf-portal (not built yet: issue #8)
//!
//! Will own the customer portal (« Espace client »): server-rendered pages in French
//! and English for conferences, users and roles, access numbers and greetings, CDR
//! logs, recordings, invoices and recent activity, served by the API's router under
//! the same permission matrix (`teleconf_core::permissions`).
//!
//! Until then this crate is only this description.
