//! Users of an account and their roles. The owner manages an account's users
//! (owner, conference_admin, conference_operator); the provider's administrator
//! manages the provider's own (provider_admin, finance). Nobody removes (or demotes)
//! the last owner, or the provider's last administrator: the store refuses it
//! atomically (two removing each other at once cannot both succeed).
//! A password change ends every session of the user it changes.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use teleconf_adapters::store::{ActivityStore, UserStore};
use teleconf_domain::account::validate_name;
use teleconf_domain::permissions::{Action, decide};
use teleconf_domain::{ActivityKind, Email, Role, User, UserId};
use utoipa::ToSchema;

use super::Caller;
use super::activity::record;
use crate::error::Error;

/// `POST /v1/users` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login, unique across the service.
    #[schema(value_type = String)]
    pub email: Email,
    /// Name.
    pub name: String,
    /// owner, conference_admin or conference_operator; for the provider's
    /// administrator, provider_admin or finance.
    #[schema(value_type = String)]
    pub role: Role,
    /// At least 10 characters.
    pub password: String,
}

/// `PATCH /v1/users/{id}` body: only the fields to change.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    /// New login.
    #[schema(value_type = Option<String>)]
    pub email: Option<Email>,
    /// New name.
    pub name: Option<String>,
    /// New role.
    #[schema(value_type = Option<String>)]
    pub role: Option<Role>,
    /// New password (every session of the user ends).
    pub password: Option<String>,
}

/// `role` for a user of the caller's account: an account's roles for a customer's
/// owner, the provider's roles for the provider's administrator.
fn role_for(caller: &Caller, role: Role) -> Result<Role, Error> {
    if caller.user.role.same_side(role) {
        return Ok(role);
    }
    Err(Error::invalid(
        "role",
        if caller.user.role.is_provider() {
            "the provider's users are provider_admin or finance"
        } else {
            "an account's users are owner, conference_admin or conference_operator"
        },
    ))
}

/// 403 unless the caller manages the users of their account.
fn manager_only(caller: &Caller) -> Result<(), Error> {
    Error::check(
        decide(&caller.actor(), Action::ManageUsers(caller.account.id)),
        "user",
    )
}

/// The user `id` of the caller's account, after the manager-only check.
async fn managed_user<S: UserStore + ?Sized>(
    store: &S,
    caller: &Caller,
    id: &str,
) -> Result<User, Error> {
    let id: UserId = id.parse().map_err(|_| Error::NotFound("user"))?;
    manager_only(caller)?;
    match store.user(id).await? {
        Some(u) if u.account_id == caller.account.id => Ok(u),
        _ => Err(Error::NotFound("user")),
    }
}

/// The account's users (owner; the provider's administrator: the provider's users).
pub async fn list<S: UserStore + ?Sized>(store: &S, caller: &Caller) -> Result<Vec<User>, Error> {
    manager_only(caller)?;
    Ok(store.users(caller.account.id).await?)
}

/// One user.
pub async fn get<S: UserStore + ?Sized>(
    store: &S,
    caller: &Caller,
    id: &str,
) -> Result<User, Error> {
    managed_user(store, caller, id).await
}

/// Adds a user.
pub async fn create<S: UserStore + ActivityStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    body: NewUser,
) -> Result<User, Error> {
    manager_only(caller)?;
    let user = User::new(
        caller.account.id,
        body.email,
        &body.name,
        role_for(caller, body.role)?,
        &body.password,
        now,
    )?;
    store.create_user(&user).await?;
    record(
        store,
        now,
        caller,
        ActivityKind::UserCreated,
        None,
        format!("{} ({})", user.email, user.role.as_str()),
    )
    .await;
    Ok(user)
}

/// Changes a user's e-mail, name, role or password.
pub async fn patch<S: UserStore + ActivityStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    id: &str,
    patch: UserPatch,
) -> Result<User, Error> {
    let mut user = managed_user(store, caller, id).await?;
    if let Some(role) = patch.role {
        user.role = role_for(caller, role)?;
    }
    if let Some(email) = patch.email {
        user.email = email;
    }
    if let Some(name) = patch.name {
        user.name = validate_name("name", &name, 200)?;
    }
    if let Some(password) = patch.password {
        user.change_password(&password)?;
    }
    store.update_user(&user).await?;
    record(
        store,
        now,
        caller,
        ActivityKind::UserUpdated,
        None,
        user.email.to_string(),
    )
    .await;
    Ok(user)
}

/// Removes a user; never the last owner or the provider's last administrator.
pub async fn delete<S: UserStore + ActivityStore + ?Sized>(
    store: &S,
    now: DateTime<Utc>,
    caller: &Caller,
    id: &str,
) -> Result<(), Error> {
    let user = managed_user(store, caller, id).await?;
    store.delete_user(&user).await?;
    record(
        store,
        now,
        caller,
        ActivityKind::UserDeleted,
        None,
        user.email.to_string(),
    )
    .await;
    Ok(())
}
