//! The account's IP phones (owner): the sources whose `*44` reaches the account's
//! conference IVR. One source belongs to one account (the store refuses a second).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use teleconf_adapters::store::{ActivityStore, IpPhoneStore};
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{ActivityKind, IpPhone, IpPhoneSource};
use utoipa::ToSchema;

use super::Caller;
use super::activity::record;
use crate::error::Error;

/// `POST /v1/ip-phones` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIpPhone {
    /// The address its SIP requests come from (`192.0.2.10`, `2001:db8::10`), or its
    /// SIP identity (`sip:desk@pbx.example`). Read here, so that a refusal says
    /// only what is wrong with it.
    #[schema(example = "192.0.2.10")]
    pub source: String,
    /// What to call it (« Salle du conseil »), up to 100 characters.
    #[serde(default)]
    pub label: String,
}

fn owner_only(caller: &Caller) -> Result<(), Error> {
    Error::check(
        decide(&caller.actor(), Action::ManageIpPhones(caller.account.id)),
        "ip_phone",
    )
}

/// The account's IP phones (owner).
pub async fn list<S: IpPhoneStore + ?Sized>(
    store: &S,
    caller: &Caller,
) -> Result<Vec<IpPhone>, Error> {
    owner_only(caller)?;
    Ok(store.ip_phones(caller.account.id).await?)
}

/// Adds an IP phone (owner).
pub async fn add<S: IpPhoneStore + ActivityStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    body: NewIpPhone,
) -> Result<IpPhone, Error> {
    owner_only(caller)?;
    let source: IpPhoneSource = body.source.parse()?;
    let phone = IpPhone::new(caller.account.id, source, &body.label, now)?;
    store.add_ip_phone(&phone).await?;
    record(
        store,
        now,
        caller,
        ActivityKind::IpPhoneAdded,
        None,
        phone.source.to_string(),
    )
    .await;
    Ok(phone)
}

/// Removes the IP phone `source` (owner).
pub async fn remove<S: IpPhoneStore + ActivityStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    source: &str,
) -> Result<(), Error> {
    owner_only(caller)?;
    let source: IpPhoneSource = source.parse().map_err(|_| Error::NotFound("ip_phone"))?;
    store.remove_ip_phone(caller.account.id, &source).await?;
    record(
        store,
        now,
        caller,
        ActivityKind::IpPhoneRemoved,
        None,
        source.to_string(),
    )
    .await;
    Ok(())
}
