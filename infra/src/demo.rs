//! The demo data `make run` seeds: an account with its owner, its access number and
//! a conference open now, and a provider admin. Seeding again finds them, gives each
//! login a fresh password and opens the conference again, so what is printed always
//! works.

use chrono::{DateTime, Duration, DurationRound, Utc};
use teleconf_core::domain::{
    AccessCodes, Account, CodeChoices, Conference, ConferenceNumber, E164, Email, Language,
    NumberAction, NumberKind, PasswordHash, PhoneNumber, Role, Schedule, User,
};
use teleconf_core::random;
use teleconf_core::store::Store;

use crate::ProvisionError;

/// The demo owner's login.
pub const OWNER_EMAIL: &str = "owner@demo.teleconf.example";
/// The provider admin's login.
pub const PROVIDER_ADMIN_EMAIL: &str = "admin@provider.teleconf.example";
/// The demo account's access number (a softphone dials it at the media node).
pub const ACCESS_NUMBER: &str = "+15145550100";
/// The demo conference's number.
pub const CONFERENCE_NUMBER: &str = "7654321";
/// The demo conference's codes: participant, listener, moderator. Fixed, so the
/// README's walkthrough can name them; a local demo guards nothing.
pub const CODES: [&str; 3] = ["1234", "5678", "9999"];

/// A login to print.
#[derive(Debug, Clone)]
pub struct Login {
    /// Who.
    pub email: Email,
    /// Their fresh password.
    pub password: String,
}

/// The seeded logins, and the conference to call.
#[derive(Debug, Clone)]
pub struct DemoLogins {
    /// The demo account's owner.
    pub owner: Login,
    /// The provider's administrator.
    pub provider_admin: Login,
    /// The demo conference, open from now for 12 hours.
    pub conference: Conference,
    /// Its access number.
    pub access_number: E164,
}

/// Seeds (or refreshes) the demo data.
pub async fn seed(store: &impl Store, now: DateTime<Utc>) -> Result<DemoLogins, ProvisionError> {
    let owner = ensure_user(
        store,
        "Démo Omnivigil",
        OWNER_EMAIL,
        "Olivia Tremblay",
        Role::Owner,
        now,
    )
    .await?;
    let provider_admin = ensure_user(
        store,
        "Fournisseur",
        PROVIDER_ADMIN_EMAIL,
        "Paul Fournier",
        Role::ProviderAdmin,
        now,
    )
    .await?;
    let owner_user = store
        .user_by_email(&owner.email)
        .await?
        .ok_or_else(|| ProvisionError::Demo("the demo owner vanished".into()))?;
    let access_number = ensure_access_number(store, &owner_user, now).await?;
    let conference = ensure_open_conference(store, &owner_user, now).await?;
    Ok(DemoLogins {
        owner,
        provider_admin,
        conference,
        access_number,
    })
}

/// The demo account's access number, routed to conference access, French first.
async fn ensure_access_number(
    store: &impl Store,
    owner: &User,
    now: DateTime<Utc>,
) -> Result<E164, ProvisionError> {
    let e164: E164 = ACCESS_NUMBER.parse()?;
    if store.number(&e164).await?.is_none() {
        store
            .create_number(&PhoneNumber {
                number: e164.clone(),
                account_id: owner.account_id,
                kind: NumberKind::Local,
                greeting_language: Language::Fr,
                filter: true,
                callthru: false,
                notes: "Démo".into(),
                e911_address: String::new(),
                action: NumberAction::ConferenceAccess {
                    prompts: Default::default(),
                },
                display_name: "Démo Omnivigil".into(),
                confidential: false,
                created_at: now,
            })
            .await?;
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

async fn ensure_user(
    store: &impl Store,
    account_name: &str,
    email: &str,
    name: &str,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Login, ProvisionError> {
    let email: Email = email.parse()?;
    let password = fresh_password();
    match store.user_by_email(&email).await? {
        Some(mut user) => {
            user.password = PasswordHash::new(&password)?;
            store.update_user(&user).await?;
        }
        None => {
            let account = Account::new(account_name, now)?;
            store.create_account(&account).await?;
            let user = User::new(account.id, email.clone(), name, role, &password, now)?;
            store.create_user(&user).await?;
        }
    }
    Ok(Login { email, password })
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
    use teleconf_core::store::UserStore;
    use teleconf_core::store::memory::MemoryStore;

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
    }
}
