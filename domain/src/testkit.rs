//! Valid entities for tests, each unique where the store wants it unique, so tests
//! may share a table: the unit tests of this crate, the adapters' conformance suite,
//! and every crate's tests through the feature `testkit`. None is stored: storing is
//! the adapters' (`teleconf_adapters::store::conformance`).

#![allow(clippy::unwrap_used, missing_docs)]

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::{
    AccessCodes, AccountId, CallLeg, CallerRole, CodeChoices, Conference, ConferenceNumber, E164,
    Email, IpPhoneSource, Language, LegId, NumberAction, NumberKind, PhoneNumber, Schedule, User,
    YearMonth, random,
};

/// A random, valid, unassigned-looking NANP number.
pub fn unique_e164() -> E164 {
    let d = random::digits(10, true);
    let area = format!(
        "{}{}",
        (b'2' + (d.as_bytes()[0] - b'0') % 8) as char,
        &d[1..3]
    );
    let exchange = format!(
        "{}{}",
        (b'2' + (d.as_bytes()[3] - b'0') % 8) as char,
        &d[4..6]
    );
    format!("+1{area}{exchange}{}", &d[6..10]).parse().unwrap()
}

/// A unique e-mail address.
pub fn unique_email() -> Email {
    format!("user-{}@conformance.example", uuid::Uuid::new_v4().simple())
        .parse()
        .unwrap()
}

/// An access number of `account`, not yet stored.
pub fn access_number(account: AccountId) -> PhoneNumber {
    PhoneNumber {
        number: unique_e164(),
        account_id: account,
        kind: NumberKind::TollFree,
        greeting_language: Language::Fr,
        filter: true,
        callthru: false,
        notes: "Téléconférence".into(),
        e911_address: "290-4765 1re Avenue, QUEBEC, QC G1H 2T3".into(),
        action: NumberAction::ConferenceAccess {
            prompts: Default::default(),
        },
        display_name: "Omnivigil".into(),
        confidential: false,
        created_at: Utc::now(),
    }
}

/// A conference of `owner`'s account starting in an hour, not yet stored.
pub fn conference(owner: &User, number: ConferenceNumber) -> Conference {
    let now = Utc::now()
        .duration_trunc(Duration::milliseconds(1))
        .unwrap();
    let start = now + Duration::hours(1);
    Conference::schedule(
        owner.account_id,
        number,
        "Réunion mensuelle",
        Schedule::new(start, start + Duration::minutes(90)).unwrap(),
        false,
        Language::Fr,
        AccessCodes::from_choices(CodeChoices::default()).unwrap(),
        owner.id,
        25,
        now,
    )
    .unwrap()
}

/// An open leg of `conference`: `caller` admitted with `role` at `joined_at`, billed in
/// the month of Toronto's wall clock; not yet stored.
pub fn leg(
    conference: &Conference,
    caller: &str,
    role: CallerRole,
    joined_at: DateTime<Utc>,
) -> CallLeg {
    CallLeg {
        id: LegId::new(),
        account_id: conference.account_id,
        conference_id: conference.id,
        conference_number: conference.number.clone(),
        dialled: None,
        caller_id: caller.into(),
        role,
        owner_node: None,
        joined_at,
        month: YearMonth::of(joined_at, crate::DEFAULT_TIME_ZONE),
        left_at: None,
        cause: None,
        quality: None,
        node: None,
    }
}

/// A unique IP phone address (in the documentation prefix 2001:db8::/32) and a
/// unique SIP identity.
pub fn unique_ip_phone_sources() -> (IpPhoneSource, IpPhoneSource) {
    let n = uuid::Uuid::new_v4().as_u128();
    let address = std::net::Ipv6Addr::from((0x2001_0db8_u128 << 96) | (n >> 32));
    let address = IpPhoneSource::Address(address.into());
    let identity = format!("sip:desk-{:x}@pbx.example", n as u32)
        .parse()
        .unwrap();
    (address, identity)
}
