//! Users in memory: one e-mail per user across the service, an account never
//! without an owner.

use async_trait::async_trait;
use teleconf_domain::{AccountId, Email, User, UserId};

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::store::UserStore;

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        let mut s = self.state()?;
        if s.emails.contains_key(&user.email) {
            return Err(Error::Conflict("email"));
        }
        if s.users.contains_key(&user.id) {
            return Err(Error::Conflict("user"));
        }
        s.emails.insert(user.email.clone(), user.id);
        s.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn user(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.state()?.users.get(&id).cloned())
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let s = self.state()?;
        Ok(s.emails.get(email).and_then(|id| s.users.get(id)).cloned())
    }

    async fn users(&self, account: AccountId) -> Result<Vec<User>> {
        Ok(self
            .state()?
            .users
            .values()
            .filter(|u| u.account_id == account)
            .cloned()
            .collect())
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        let mut s = self.state()?;
        let stored = s.users.get(&user.id).ok_or(Error::NotFound("user"))?;
        let old_email = stored.email.clone();
        if stored.role.manages_users()
            && !user.role.manages_users()
            && s.owners(user.account_id) <= 1
        {
            return Err(Error::Conflict("last_owner"));
        }
        if user.token_version < stored.token_version {
            return Err(Error::Conflict("user"));
        }
        if old_email != user.email {
            if s.emails.contains_key(&user.email) {
                return Err(Error::Conflict("email"));
            }
            s.emails.remove(&old_email);
            s.emails.insert(user.email.clone(), user.id);
        }
        s.users.insert(user.id, user.clone());
        Ok(())
    }

    async fn delete_user(&self, user: &User) -> Result<()> {
        let mut s = self.state()?;
        let last_owner = s
            .users
            .get(&user.id)
            .is_some_and(|u| u.role.manages_users())
            && s.owners(user.account_id) <= 1;
        if last_owner {
            return Err(Error::Conflict("last_owner"));
        }
        if let Some(old) = s.users.remove(&user.id) {
            s.emails.remove(&old.email);
        }
        Ok(())
    }
}
