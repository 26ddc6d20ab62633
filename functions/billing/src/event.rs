//! What starts a billing run: EventBridge's monthly scheduled event, or an
//! on-demand event (`events/billing-on-demand.json`) naming a month and, optionally,
//! one account.
//!
//! Without a month, each account is billed for the last month that has ended on its
//! own wall clock at the event's time; the monthly rule fires at 12:00 UTC on the 1st
//! (`infra/template.json`), when that is the previous month in every zone from
//! UTC-12 to UTC+14.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use teleconf_domain::{AccountId, YearMonth};

use crate::error::BillingError;

/// A billing run to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingRequest {
    /// The month to bill; `None`: each account's last ended month.
    pub month: Option<YearMonth>,
    /// One account only; `None`: every account.
    pub account: Option<AccountId>,
    /// The run's instant (the event's `time`).
    pub now: DateTime<Utc>,
}

/// The EventBridge envelope, with the fields billing reads.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "detail-type")]
    detail_type: String,
    time: DateTime<Utc>,
    #[serde(default)]
    detail: Detail,
}

/// An on-demand event's detail (a scheduled event's is `{}`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Detail {
    month: Option<String>,
    account_id: Option<String>,
}

/// The `detail-type` of the monthly schedule.
pub const SCHEDULED: &str = "Scheduled Event";
/// The `detail-type` of an on-demand run.
pub const ON_DEMAND: &str = "Billing Requested";

impl BillingRequest {
    /// Reads an EventBridge event.
    pub fn from_event(event: &serde_json::Value) -> Result<Self, BillingError> {
        let envelope: Envelope = serde_json::from_value(event.clone())
            .map_err(|e| BillingError::Event(e.to_string()))?;
        if envelope.detail_type != SCHEDULED && envelope.detail_type != ON_DEMAND {
            return Err(BillingError::Event(format!(
                "detail-type {:?} is neither {SCHEDULED:?} nor {ON_DEMAND:?}",
                envelope.detail_type
            )));
        }
        let month = envelope
            .detail
            .month
            .map(|m| m.parse::<YearMonth>())
            .transpose()
            .map_err(|e| BillingError::Event(e.to_string()))?;
        let account = envelope
            .detail
            .account_id
            .map(|a| a.parse::<AccountId>())
            .transpose()
            .map_err(|e| BillingError::Event(e.to_string()))?;
        Ok(Self {
            month,
            account,
            now: envelope.time,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> serde_json::Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn the_monthly_schedule_bills_every_account_for_its_last_month() {
        let req =
            BillingRequest::from_event(&json(include_str!("../../../events/billing-monthly.json")))
                .unwrap();
        assert_eq!(req.month, None);
        assert_eq!(req.account, None);
        assert_eq!(req.now.to_rfc3339(), "2026-12-01T12:00:00+00:00");
    }

    #[test]
    fn an_on_demand_event_names_a_month_and_an_account() {
        let req = BillingRequest::from_event(&json(include_str!(
            "../../../events/billing-on-demand.json"
        )))
        .unwrap();
        assert_eq!(req.month, Some("2026-11".parse().unwrap()));
        assert!(req.account.is_some());
    }

    #[test]
    fn a_bad_event_is_refused_with_the_reason() {
        for bad in [
            r#"{"detail-type": "Object Created", "time": "2026-12-01T12:00:00Z", "detail": {}}"#,
            r#"{"detail-type": "Billing Requested", "time": "2026-12-01T12:00:00Z", "detail": {"month": "2026-13"}}"#,
            r#"{"detail-type": "Billing Requested", "time": "2026-12-01T12:00:00Z", "detail": {"account_id": "nope"}}"#,
            r#"{"detail-type": "Billing Requested", "time": "2026-12-01T12:00:00Z", "detail": {"months": "2026-11"}}"#,
            r#"{"detail-type": "Scheduled Event"}"#,
        ] {
            assert!(
                matches!(
                    BillingRequest::from_event(&json(bad)),
                    Err(BillingError::Event(_))
                ),
                "{bad}"
            );
        }
    }
}
