//! The account's IP phones (owner): the sources whose `*44` reaches the account's
//! conference IVR (seed: « un téléphone IP dans le MÊME compte que la conférence »).
//! A source is the address the phone's SIP requests come from, or its SIP identity
//! as the trunk asserts it; one source belongs to one account (409 otherwise). The
//! media nodes read the list within `TELECONF_IP_PHONES_REFRESH_SECS`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{ActivityKind, IpPhone, IpPhoneSource};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::routes::{local, record};
use crate::state::AppState;

/// An IP phone of the account.
#[derive(Debug, Serialize, ToSchema)]
pub struct IpPhoneView {
    /// How the phone is recognised: an address (`192.0.2.10`) or a SIP identity
    /// (`sip:desk@pbx.example`), in canonical form.
    #[schema(value_type = String, example = "sip:desk@pbx.example")]
    pub source: IpPhoneSource,
    /// `address` or `sip_identity`.
    pub kind: &'static str,
    /// What the owner calls it; may be empty.
    pub label: String,
    /// Added at, in the account's zone.
    pub added_at: DateTime<FixedOffset>,
}

impl IpPhoneView {
    fn new(phone: &IpPhone, caller: &Caller) -> Self {
        Self {
            source: phone.source.clone(),
            kind: phone.source.kind(),
            label: phone.label.clone(),
            added_at: local(phone.added_at, caller.account.time_zone),
        }
    }
}

/// `POST /v1/ip-phones` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIpPhone {
    /// The address its SIP requests come from (`192.0.2.10`, `2001:db8::10`), or its
    /// SIP identity (`sip:desk@pbx.example`). Read in the handler, so that a refusal
    /// says only what is wrong with it.
    #[schema(example = "192.0.2.10")]
    pub source: String,
    /// What to call it (« Salle du conseil »), up to 100 characters.
    #[serde(default)]
    pub label: String,
}

fn owner_only(caller: &Caller) -> ApiResult<()> {
    ApiError::check(
        decide(&caller.actor(), Action::ManageIpPhones(caller.account.id)),
        "ip_phone",
    )
}

/// Lists the account's IP phones (owner).
#[utoipa::path(get, path = "/v1/ip-phones", tag = "ip-phones", responses((status = 200, body = [IpPhoneView]), (status = 403, body = ErrorBody)))]
pub async fn list_ip_phones(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<IpPhoneView>>> {
    owner_only(&caller)?;
    let phones = state.store.ip_phones(caller.account.id).await?;
    Ok(Json(
        phones
            .iter()
            .map(|p| IpPhoneView::new(p, &caller))
            .collect(),
    ))
}

/// Adds an IP phone whose `*44` reaches the account's conferences (owner); 409 when
/// this or another account has the source already.
#[utoipa::path(post, path = "/v1/ip-phones", tag = "ip-phones", request_body = NewIpPhone,
    responses((status = 201, body = IpPhoneView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn add_ip_phone(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<NewIpPhone>,
) -> ApiResult<(StatusCode, Json<IpPhoneView>)> {
    owner_only(&caller)?;
    let source: IpPhoneSource = body.source.parse()?;
    let phone = IpPhone::new(caller.account.id, source, &body.label, state.now())?;
    state.store.add_ip_phone(&phone).await?;
    record(
        &state,
        &caller,
        ActivityKind::IpPhoneAdded,
        None,
        phone.source.to_string(),
    )
    .await;
    Ok((StatusCode::CREATED, Json(IpPhoneView::new(&phone, &caller))))
}

/// Removes an IP phone (owner): its `*44` is refused once the media nodes have
/// read the list again.
#[utoipa::path(delete, path = "/v1/ip-phones/{source}", tag = "ip-phones", params(("source" = String, Path, description = "the source, percent-encoded")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_ip_phone(
    State(state): State<AppState>,
    caller: Caller,
    Path(source): Path<String>,
) -> ApiResult<StatusCode> {
    owner_only(&caller)?;
    let source: IpPhoneSource = source
        .parse()
        .map_err(|_| ApiError::not_found("ip_phone"))?;
    state
        .store
        .remove_ip_phone(caller.account.id, &source)
        .await?;
    record(
        &state,
        &caller,
        ActivityKind::IpPhoneRemoved,
        None,
        source.to_string(),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
