//! # teleconf-mailer (not built yet: issue #6)
//!
//! Will own outgoing mail as a Lambda on the table's DynamoDB stream: confirmation,
//! update and cancellation notices, invitations carrying only the invitee's code,
//! recording-ready and attendance reports, in French or English with an `.ics`
//! attachment, sent exactly once through SES (`teleconf_core::mail`).
//!
//! Until then this crate is only this description: no binary, so nothing pretends
//! to send mail.
