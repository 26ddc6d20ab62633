//! The demo data `make run` seeds: an account (a customer since before last month,
//! with last month's calls, so that `make bill` for last month issues its invoice),
//! its owner, the access number the provider assigned it and a conference open now;
//! and the provider's administrator and finance user. Seeding again finds them, gives
//! each login a fresh password (which ends the sessions of the old one) and opens the
//! conference again, so what is printed always works.

use chrono::{DateTime, Duration, DurationRound, Utc};
use teleconf_adapters::store::Store;
use teleconf_domain::random;
use teleconf_domain::{
    AccessCodes, Account, CallLeg, CallerRole, CodeChoices, Conference, ConferenceNumber,
    DisconnectCause, E164, Email, Language, LegId, NumberKind, PhoneNumber, Province, Role,
    Schedule, User, YearMonth,
};

use crate::ProvisionError;

/// The demo owner's login.
pub const OWNER_EMAIL: &str = "owner@demo.teleconf.example";
/// The provider admin's login.
pub const PROVIDER_ADMIN_EMAIL: &str = "admin@provider.teleconf.example";
/// The provider's finance user's login (reads the monthly exports).
pub const FINANCE_EMAIL: &str = "finance@provider.teleconf.example";
/// The demo account's access number (a softphone dials it at the media node).
pub const ACCESS_NUMBER: &str = "+15145550100";
/// The demo conference's number.
pub const CONFERENCE_NUMBER: &str = "7654321";
/// The demo conference's codes: participant, listener, moderator. Fixed, so the
/// README's walkthrough can name them; a local demo guards nothing.
pub const CODES: [&str; 3] = ["1234", "5678", "9999"];
/// Last month's calls to the demo conference: who called, in which role, and for
/// how long (seconds), on the 10th at 14:00 on the account's clock.
pub const LAST_MONTHS_CALLS: [(&str, CallerRole, i64); 3] = [
    ("+15145550111", CallerRole::Moderator, 45 * 60),
    ("+15145550122", CallerRole::Participant, 42 * 60 + 5),
    ("+14165550133", CallerRole::Listener, 38 * 60 + 20),
];

/// A login to print.
#[derive(Debug, Clone)]
pub struct Login {
    /// Who.
    pub email: Email,
    /// Their fresh password.
    pub password: String,
}

/// The seeded logins, the conference to call and the month to bill.
#[derive(Debug, Clone)]
pub struct DemoLogins {
    /// The demo account's owner.
    pub owner: Login,
    /// The provider's administrator.
    pub provider_admin: Login,
    /// The provider's finance user.
    pub finance: Login,
    /// The demo conference, open from now for 12 hours.
    pub conference: Conference,
    /// Its access number.
    pub access_number: E164,
    /// Last month on the demo account's clock: its calls are there, ready to bill.
    pub last_month: YearMonth,
}

/// Seeds (or refreshes) the demo data.
pub async fn seed(store: &impl Store, now: DateTime<Utc>) -> Result<DemoLogins, ProvisionError> {
    let tz = teleconf_domain::DEFAULT_TIME_ZONE;
    let last_month = YearMonth::of(now, tz).previous();
    // A customer since the start of the month before last: billed for last month.
    let customer_since = last_month.previous().start_in(tz);
    let demo = ensure_account(store, "Démo Omnivigil", OWNER_EMAIL, customer_since).await?;
    let (owner, owner_user) = ensure_user(
        store,
        &demo,
        OWNER_EMAIL,
        "Olivia Tremblay",
        Role::Owner,
        now,
    )
    .await?;
    let provider = ensure_account(store, "Fournisseur", PROVIDER_ADMIN_EMAIL, now).await?;
    let (provider_admin, _) = ensure_user(
        store,
        &provider,
        PROVIDER_ADMIN_EMAIL,
        "Paul Fournier",
        Role::ProviderAdmin,
        now,
    )
    .await?;
    let (finance, _) = ensure_user(
        store,
        &provider,
        FINANCE_EMAIL,
        "Francine Finances",
        Role::Finance,
        now,
    )
    .await?;
    let access_number = ensure_access_number(store, &demo, now).await?;
    let conference = ensure_open_conference(store, &owner_user, now).await?;
    ensure_last_months_calls(store, &demo, &conference, &access_number, last_month).await?;
    Ok(DemoLogins {
        owner,
        provider_admin,
        finance,
        conference,
        access_number,
        last_month,
    })
}

/// The account the user `email` belongs to, a customer since `since` at the latest;
/// a new account `name` (in Québec) when there is no such user yet.
async fn ensure_account(
    store: &impl Store,
    name: &str,
    email: &str,
    since: DateTime<Utc>,
) -> Result<Account, ProvisionError> {
    let email: Email = email.parse()?;
    if let Some(user) = store.user_by_email(&email).await? {
        let mut account = store
            .account(user.account_id)
            .await?
            .ok_or_else(|| ProvisionError::Demo(format!("the account of {email} vanished")))?;
        if account.created_at > since {
            account.created_at = since;
            store.update_account(&account).await?;
        }
        return Ok(account);
    }
    let mut account = Account::new(name, since)?;
    account.province = Some(Province::Qc);
    store.create_account(&account).await?;
    Ok(account)
}

/// The user `email` of `account` with a fresh password: the login, and the user.
async fn ensure_user(
    store: &impl Store,
    account: &Account,
    email: &str,
    name: &str,
    role: Role,
    now: DateTime<Utc>,
) -> Result<(Login, User), ProvisionError> {
    let email: Email = email.parse()?;
    let password = fresh_password();
    let user = match store.user_by_email(&email).await? {
        Some(mut user) => {
            user.change_password(&password)?;
            store.update_user(&user).await?;
            user
        }
        None => {
            let user = User::new(account.id, email.clone(), name, role, &password, now)?;
            store.create_user(&user).await?;
            user
        }
    };
    Ok((Login { email, password }, user))
}

/// The number the provider assigned the demo account, as its owner configured it:
/// routed to conference access, French first.
async fn ensure_access_number(
    store: &impl Store,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<E164, ProvisionError> {
    let e164: E164 = ACCESS_NUMBER.parse()?;
    if store.number(&e164).await?.is_none() {
        let mut number = PhoneNumber::assigned(
            e164.clone(),
            account.id,
            NumberKind::Local,
            Language::Fr,
            now,
        );
        number.notes = "Démo".into();
        number.e911_address = "290-4765 1re Avenue, QUEBEC, QC G1H 2T3".into();
        number.display_name = "Démo Omnivigil".into();
        number.validate()?;
        store.create_number(&number).await?;
    }
    Ok(e164)
}

/// The demo conference, (re)scheduled to be open from now for 12 hours.
async fn ensure_open_conference(
    store: &impl Store,
    owner: &User,
    now: DateTime<Utc>,
) -> Result<Conference, ProvisionError> {
    let number: ConferenceNumber = CONFERENCE_NUMBER.parse()?;
    let start = now.duration_trunc(Duration::minutes(1)).unwrap_or(now) + Duration::minutes(1);
    let schedule = Schedule::new(start, start + Duration::hours(12))?;
    let [participant, listener, moderator] = CODES.map(|code| code.parse().ok());
    let codes = AccessCodes::from_choices(CodeChoices {
        participant,
        listener,
        moderator,
    })?;
    match store.conference_by_number(&number).await? {
        Some(mut conference) => {
            conference.schedule = schedule;
            conference.codes = codes;
            conference.ended_at = None;
            store.update_conference(&conference).await?;
            Ok(conference)
        }
        None => {
            let conference = Conference::schedule(
                owner.account_id,
                number,
                "Conférence de démonstration",
                schedule,
                false,
                Language::Fr,
                codes,
                owner.id,
                25,
                now,
            )?;
            store.create_conference(&conference).await?;
            Ok(conference)
        }
    }
}

/// [`LAST_MONTHS_CALLS`] as closed CDR legs of the demo conference, once: a month
/// that has legs already is left as it is.
async fn ensure_last_months_calls(
    store: &impl Store,
    account: &Account,
    conference: &Conference,
    dialled: &E164,
    month: YearMonth,
) -> Result<(), ProvisionError> {
    if !store.legs_of_month(account.id, month).await?.is_empty() {
        return Ok(());
    }
    let joined = month.start_in(account.time_zone) + Duration::days(9) + Duration::hours(14);
    for (i, (caller_id, role, secs)) in LAST_MONTHS_CALLS.into_iter().enumerate() {
        let joined_at = joined + Duration::seconds(i64::try_from(i).unwrap_or(0) * 20);
        let mut leg = CallLeg {
            id: LegId::new(),
            account_id: account.id,
            conference_id: conference.id,
            conference_number: conference.number.clone(),
            dialled: Some(dialled.clone()),
            caller_id: caller_id.to_string(),
            role,
            owner_node: None,
            joined_at,
            month: YearMonth::of(joined_at, account.time_zone),
            left_at: None,
            cause: None,
            quality: None,
            node: None,
        };
        leg.close(
            joined_at + Duration::seconds(secs),
            DisconnectCause::CallerHangup,
        );
        store.put_leg(&leg).await?;
    }
    Ok(())
}

/// Twelve characters from an alphabet without look-alikes (no 0/O, 1/l/I).
fn fresh_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    random::bytes::<12>()
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use teleconf_adapters::billing::statement::draft_invoice;
    use teleconf_adapters::store::memory::MemoryStore;
    use teleconf_adapters::store::{AccountStore, CdrStore, UserStore};
    use teleconf_domain::billing::invoice::LATE_LEG_MONTHS;

    #[tokio::test]
    async fn seeding_twice_keeps_one_user_each_and_the_new_password_works() {
        let store = MemoryStore::new();
        let first = seed(&store, Utc::now()).await.unwrap();
        let second = seed(&store, Utc::now()).await.unwrap();
        let owner = store
            .user_by_email(&second.owner.email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(owner.role, Role::Owner);
        assert!(owner.password.verify(&second.owner.password));
        assert!(
            !owner.password.verify(&first.owner.password)
                || first.owner.password == second.owner.password
        );
        assert_eq!(store.users(owner.account_id).await.unwrap().len(), 1);
        let admin = store
            .user_by_email(&second.provider_admin.email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(admin.role, Role::ProviderAdmin);
        let finance = store
            .user_by_email(&second.finance.email)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(finance.role, Role::Finance);
        assert!(finance.password.verify(&second.finance.password));
        // The finance user is the provider's, beside its administrator.
        assert_eq!(finance.account_id, admin.account_id);
        assert_eq!(store.users(admin.account_id).await.unwrap().len(), 2);
        // Last month's calls are seeded once.
        assert_eq!(
            store
                .legs_of_month(owner.account_id, second.last_month)
                .await
                .unwrap()
                .len(),
            LAST_MONTHS_CALLS.len()
        );
    }

    #[tokio::test]
    async fn the_demo_account_has_an_invoice_to_issue_for_last_month() {
        let store = MemoryStore::new();
        let now = Utc::now();
        let demo = seed(&store, now).await.unwrap();
        let owner = store
            .user_by_email(&demo.owner.email)
            .await
            .unwrap()
            .unwrap();
        let account = store.account(owner.account_id).await.unwrap().unwrap();
        let tz = account.time_zone;
        assert_eq!(demo.last_month, YearMonth::of(now, tz).previous());
        // Billed for last month: a customer from before it started, and it has ended.
        assert!(account.created_at < demo.last_month.start_in(tz));
        assert!(demo.last_month.end_in(tz) <= now);
        let (invoice, legs) =
            draft_invoice(&store, &account, demo.last_month, now, LATE_LEG_MONTHS)
                .await
                .unwrap();
        assert_eq!(legs.len(), 3);
        assert!(legs.iter().all(|l| l.month == demo.last_month));
        // 45 + 43 + 39 whole minutes at $0.09; TPS and TVQ in Québec.
        assert_eq!(invoice.lines.len(), 1);
        assert_eq!(invoice.lines[0].billable_seconds, 127 * 60);
        assert_eq!(invoice.usage_amount.to_string(), "11.43");
        assert_eq!(invoice.taxes.len(), 2);
        assert_eq!(invoice.lines[0].description, "Conférence de démonstration");
    }

    #[tokio::test]
    async fn a_demo_account_seeded_this_month_becomes_a_customer_since_before_last_month() {
        let store = MemoryStore::new();
        let now = Utc::now();
        // What an earlier seed left: the account created now.
        let account = Account::new("Démo Omnivigil", now).unwrap();
        store.create_account(&account).await.unwrap();
        let owner = User::new(
            account.id,
            OWNER_EMAIL.parse().unwrap(),
            "Olivia",
            Role::Owner,
            "a long enough password",
            now,
        )
        .unwrap();
        store.create_user(&owner).await.unwrap();
        let demo = seed(&store, now).await.unwrap();
        let account = store.account(account.id).await.unwrap().unwrap();
        assert!(account.created_at < demo.last_month.start_in(account.time_zone));
    }
}
