//! The demo data `make run` seeds: an account with its owner, and a provider admin.
//! Seeding again finds them and gives each a fresh password, so the printed login
//! always works.

use chrono::{DateTime, Utc};
use teleconf_core::domain::{Account, Email, PasswordHash, Role, User};
use teleconf_core::random;
use teleconf_core::store::Store;

use crate::ProvisionError;

/// The demo owner's login.
pub const OWNER_EMAIL: &str = "owner@demo.teleconf.example";
/// The provider admin's login.
pub const PROVIDER_ADMIN_EMAIL: &str = "admin@provider.teleconf.example";

/// A login to print.
#[derive(Debug, Clone)]
pub struct Login {
    /// Who.
    pub email: Email,
    /// Their fresh password.
    pub password: String,
}

/// The seeded logins.
#[derive(Debug, Clone)]
pub struct DemoLogins {
    /// The demo account's owner.
    pub owner: Login,
    /// The provider's administrator.
    pub provider_admin: Login,
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
    Ok(DemoLogins {
        owner,
        provider_admin,
    })
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
