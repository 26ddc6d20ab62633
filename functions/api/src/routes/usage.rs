//! The running estimate of the current month: the account's usage so far, priced
//! with the plan by `core::billing` exactly as an invoice prices it (legs still on
//! the line count up to now). Taxes are left to the issued invoice.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, FixedOffset};
use rust_decimal::Decimal;
use serde::Serialize;
use teleconf_core::billing::Usage;
use teleconf_core::domain::{ConferenceId, YearMonth};
use teleconf_core::permissions::{Action, decide};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::Caller;
use crate::routes::invoices::InvoiceLineView;
use crate::routes::local;
use crate::state::AppState;

/// The month so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageEstimate {
    /// The month, YYYY-MM, in the account's zone.
    pub month: String,
    /// Computed at, in the account's zone.
    pub as_of: DateTime<FixedOffset>,
    /// Currency (the plan's rates are in USD).
    pub currency: String,
    /// One line per conference with usage, by conference number.
    pub lines: Vec<InvoiceLineView>,
    /// Sum of the lines.
    #[schema(value_type = String)]
    pub usage_amount: Decimal,
    /// The plan's monthly fee.
    #[schema(value_type = String)]
    pub plan_fee: Decimal,
    /// Usage and fee, before taxes.
    #[schema(value_type = String)]
    pub subtotal: Decimal,
}

/// The running estimate of the current month (owner).
#[utoipa::path(get, path = "/v1/usage", tag = "invoices", responses((status = 200, body = UsageEstimate), (status = 403, body = ErrorBody)))]
pub async fn current_usage(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<UsageEstimate>> {
    ApiError::check(
        decide(&caller.actor(), Action::ViewInvoices(caller.account.id)),
        "invoice",
    )?;
    let now = state.now();
    let tz = caller.account.time_zone;
    let plan = &caller.account.plan;
    let month = YearMonth::of(now, tz);
    let mut by_conference: BTreeMap<ConferenceId, Usage> = BTreeMap::new();
    for leg in state.store.legs_of_month(caller.account.id, month).await? {
        let ms = leg.duration_ms().unwrap_or_else(|| {
            u64::try_from((now - leg.joined_at).num_milliseconds()).unwrap_or(0)
        });
        by_conference
            .entry(leg.conference_id)
            .or_default()
            .add_leg(ms, plan);
    }
    let conferences = state.store.conferences(caller.account.id).await?;
    let mut lines: Vec<InvoiceLineView> = by_conference
        .iter()
        .map(|(id, usage)| {
            let conference = conferences.iter().find(|c| c.id == *id);
            InvoiceLineView {
                conference_number: conference.map(|c| c.number.to_string()),
                description: conference
                    .map(|c| c.description.clone())
                    .unwrap_or_else(|| id.to_string()),
                legs: usage.legs,
                billable_minutes: usage.billable_minutes(),
                amount: usage.amount(plan),
            }
        })
        .collect();
    lines.sort_by(|a, b| a.conference_number.cmp(&b.conference_number));
    let usage_amount: Decimal = lines.iter().map(|l| l.amount).sum();
    Ok(Json(UsageEstimate {
        month: month.to_string(),
        as_of: local(now, tz),
        currency: "USD".into(),
        usage_amount,
        plan_fee: plan.monthly_fee(),
        subtotal: usage_amount + plan.monthly_fee(),
        lines,
    }))
}
