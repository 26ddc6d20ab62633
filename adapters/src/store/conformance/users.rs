//! Users: one e-mail each across the service, an account never without an owner,
//! a token version that never goes back.

use chrono::Utc;
use teleconf_domain::testkit::unique_email;
use teleconf_domain::{Account, Role, User};

use super::account_with_owner;
use crate::error::Error;
use crate::store::Store;

pub async fn an_email_belongs_to_one_user_and_moves_with_it(store: &impl Store) {
    let (account, owner) = account_with_owner(store).await;
    let now = Utc::now();
    let clash = User::new(
        account.id,
        owner.email.clone(),
        "Someone Else",
        Role::ConferenceOperator,
        "another long password",
        now,
    )
    .unwrap();
    assert!(matches!(
        store.create_user(&clash).await,
        Err(Error::Conflict("email"))
    ));
    assert!(store.user(clash.id).await.unwrap().is_none());

    let operator = User::new(
        account.id,
        unique_email(),
        "Oscar Operator",
        Role::ConferenceOperator,
        "another long password",
        now,
    )
    .unwrap();
    store.create_user(&operator).await.unwrap();

    // Taking the owner's e-mail is refused and changes nothing.
    let mut stolen = operator.clone();
    stolen.email = owner.email.clone();
    assert!(matches!(
        store.update_user(&stolen).await,
        Err(Error::Conflict("email"))
    ));
    assert_eq!(
        store.user_by_email(&owner.email).await.unwrap().unwrap().id,
        owner.id
    );
    assert_eq!(
        store.user(operator.id).await.unwrap().unwrap().email,
        operator.email
    );

    // A new e-mail moves the login and frees the old one.
    let mut moved = operator.clone();
    moved.email = unique_email();
    store.update_user(&moved).await.unwrap();
    assert_eq!(
        store.user_by_email(&moved.email).await.unwrap().unwrap().id,
        operator.id
    );
    assert!(
        store
            .user_by_email(&operator.email)
            .await
            .unwrap()
            .is_none()
    );

    store.delete_user(&moved).await.unwrap();
    assert!(store.user(operator.id).await.unwrap().is_none());
    assert!(store.user_by_email(&moved.email).await.unwrap().is_none());
    let reuse = User::new(
        account.id,
        moved.email.clone(),
        "Reuse",
        Role::ConferenceAdmin,
        "another long password",
        now,
    )
    .unwrap();
    store.create_user(&reuse).await.unwrap();
}

pub async fn an_account_keeps_its_last_owner(store: &impl Store) {
    let (account, first) = account_with_owner(store).await;
    let now = Utc::now();
    let second = User::new(
        account.id,
        unique_email(),
        "Second Owner",
        Role::Owner,
        "a long enough password",
        now,
    )
    .unwrap();
    store.create_user(&second).await.unwrap();

    // Demoting one of two owners is fine; demoting the last is refused.
    let mut demoted = second.clone();
    demoted.role = Role::ConferenceAdmin;
    store.update_user(&demoted).await.unwrap();
    let mut last = first.clone();
    last.role = Role::ConferenceOperator;
    assert!(matches!(
        store.update_user(&last).await,
        Err(Error::Conflict("last_owner"))
    ));
    assert!(matches!(
        store.delete_user(&first).await,
        Err(Error::Conflict("last_owner"))
    ));
    assert_eq!(
        store.user(first.id).await.unwrap().unwrap().role,
        Role::Owner
    );

    // Promoted again, either owner may go, but not both.
    let mut promoted = demoted.clone();
    promoted.role = Role::Owner;
    store.update_user(&promoted).await.unwrap();
    store.delete_user(&first).await.unwrap();
    assert!(matches!(
        store.delete_user(&promoted).await,
        Err(Error::Conflict("last_owner"))
    ));
    // Other users come and go freely.
    let operator = User::new(
        account.id,
        unique_email(),
        "Op",
        Role::ConferenceOperator,
        "a long enough password",
        now,
    )
    .unwrap();
    store.create_user(&operator).await.unwrap();
    store.delete_user(&operator).await.unwrap();
}

pub async fn the_provider_keeps_its_last_administrator(store: &impl Store) {
    let now = Utc::now();
    let provider = Account::new("Fournisseur", now).unwrap();
    store.create_account(&provider).await.unwrap();
    let user = |role, name: &str| {
        User::new(
            provider.id,
            unique_email(),
            name,
            role,
            "a long enough password",
            now,
        )
        .unwrap()
    };
    let admin = user(Role::ProviderAdmin, "Paula Provider");
    let finance = user(Role::Finance, "Fanny Finance");
    store.create_user(&admin).await.unwrap();
    store.create_user(&finance).await.unwrap();
    assert!(matches!(
        store.delete_user(&admin).await,
        Err(Error::Conflict("last_owner"))
    ));
    let mut demoted = admin.clone();
    demoted.role = Role::Finance;
    assert!(matches!(
        store.update_user(&demoted).await,
        Err(Error::Conflict("last_owner"))
    ));
    // The finance user goes freely; a second administrator lets the first go.
    store.delete_user(&finance).await.unwrap();
    let second = user(Role::ProviderAdmin, "Pierre Provider");
    store.create_user(&second).await.unwrap();
    store.delete_user(&admin).await.unwrap();
}

pub async fn a_users_token_version_never_goes_back(store: &impl Store) {
    let (_, owner) = account_with_owner(store).await;
    let stale = owner.clone();
    let mut signed_out = owner.clone();
    signed_out.revoke_tokens();
    store.update_user(&signed_out).await.unwrap();
    // A copy read before the sign-out, written back, would revive its tokens.
    let mut renamed = stale.clone();
    renamed.name = "Olivia Renamed".into();
    assert!(matches!(
        store.update_user(&renamed).await,
        Err(Error::Conflict("user"))
    ));
    let stored = store.user(owner.id).await.unwrap().unwrap();
    assert_eq!(stored.token_version, signed_out.token_version);
    assert_eq!(stored.name, owner.name);
    // A copy of the current version is written as usual.
    let mut renamed = stored.clone();
    renamed.name = "Olivia Renamed".into();
    store.update_user(&renamed).await.unwrap();
    assert_eq!(store.user(owner.id).await.unwrap().unwrap(), renamed);
}
