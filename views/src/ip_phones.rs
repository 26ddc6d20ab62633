//! An IP phone of the account.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use teleconf_domain::{IpPhone, IpPhoneSource};
use utoipa::ToSchema;

use crate::local;

/// An IP phone of the account.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IpPhoneView {
    /// How the phone is recognised: an address (`192.0.2.10`) or a SIP identity
    /// (`sip:desk@pbx.example`), in canonical form.
    #[schema(value_type = String, example = "sip:desk@pbx.example")]
    pub source: IpPhoneSource,
    /// `address` or `sip_identity`.
    pub kind: String,
    /// What the owner calls it; may be empty.
    pub label: String,
    /// Added at, in the account's zone.
    pub added_at: DateTime<FixedOffset>,
}

impl IpPhoneView {
    /// The view of `phone`, times on the wall clock of `tz`.
    pub fn new(phone: &IpPhone, tz: Tz) -> Self {
        Self {
            source: phone.source.clone(),
            kind: phone.source.kind().to_string(),
            label: phone.label.clone(),
            added_at: local(phone.added_at, tz),
        }
    }
}
