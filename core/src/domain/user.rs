//! Users of the portal and API, their roles and credentials.

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash as PhcString, PasswordHasher, PasswordVerifier, SaltString,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{AccountId, UserId};
use crate::error::Error;

/// What a user may do. Account roles act within their account; provider roles act
/// on the provider's side (accounts, plans, finance) and see no customer conference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Users, numbers, invoices, and everything a conference administrator does.
    Owner,
    /// Lists, creates, modifies, sees logs and recordings of every conference of the account.
    ConferenceAdmin,
    /// Sees the whole list and creates; modifies and sees logs/recordings only of
    /// the conferences they created.
    ConferenceOperator,
    /// The provider's administrator: accounts, plans, limits, rates.
    ProviderAdmin,
    /// The provider's finance team: billing exports.
    Finance,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Owner,
        Role::ConferenceAdmin,
        Role::ConferenceOperator,
        Role::ProviderAdmin,
        Role::Finance,
    ];

    /// True for the provider's own roles.
    pub fn is_provider(self) -> bool {
        matches!(self, Role::ProviderAdmin | Role::Finance)
    }

    /// The API's name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::ConferenceAdmin => "conference_admin",
            Role::ConferenceOperator => "conference_operator",
            Role::ProviderAdmin => "provider_admin",
            Role::Finance => "finance",
        }
    }
}

/// A lower-cased e-mail address (the login; unique across the service).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Email {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim().to_lowercase();
        let bad = || Error::invalid("email", "not a valid e-mail address");
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        let ok = !local.is_empty()
            && local.len() <= 64
            && s.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && !s.chars().any(|c| {
                c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
            });
        if ok { Ok(Email(s)) } else { Err(bad()) }
    }
}

impl TryFrom<String> for Email {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

/// An argon2id hash in PHC string form; the password itself is never stored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Shortest password accepted.
    pub const MIN_LEN: usize = 10;

    /// Hashes a new password (argon2id, default parameters, random salt); refuses a
    /// password shorter than [`Self::MIN_LEN`] characters.
    pub fn new(password: &str) -> Result<Self, Error> {
        if password.chars().count() < Self::MIN_LEN {
            return Err(Error::invalid(
                "password",
                format!("a password has at least {} characters", Self::MIN_LEN),
            ));
        }
        let salt = SaltString::encode_b64(&crate::random::bytes::<16>())
            .map_err(|e| Error::Store(e.to_string()))?;
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| Error::Store(format!("password hashing failed: {e}")))?;
        Ok(Self(hash.to_string()))
    }

    /// True when `password` is the one hashed.
    pub fn verify(&self, password: &str) -> bool {
        PhcString::new(&self.0)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false)
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(…)")
    }
}

/// A person who signs in to the portal or the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Identity.
    pub id: UserId,
    /// The account the user belongs to (provider users belong to the provider's account).
    pub account_id: AccountId,
    /// Login, unique across the service.
    pub email: Email,
    /// Display name.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// Credentials.
    pub password: PasswordHash,
    /// When the user was added.
    pub created_at: DateTime<Utc>,
}

impl User {
    /// A new user; validates the name and hashes the password.
    pub fn new(
        account_id: AccountId,
        email: Email,
        name: &str,
        role: Role,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        Ok(Self {
            id: UserId::new(),
            account_id,
            email,
            name: crate::domain::account::validate_name("name", name, 200)?,
            role,
            password: PasswordHash::new(password)?,
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            "  Alice@Example.COM ".parse::<Email>().unwrap().as_str(),
            "alice@example.com"
        );
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@example",
            "a b@example.com",
            "alice@exa..mple.com",
            "alice@example.com.",
        ] {
            assert!(bad.parse::<Email>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_password_verifies_only_itself() {
        let h = PasswordHash::new("correct horse battery").unwrap();
        assert!(h.verify("correct horse battery"));
        assert!(!h.verify("correct horse battery "));
        assert!(!format!("{h:?}").contains("argon2"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(
            PasswordHash::new("short"),
            Err(Error::Invalid { .. })
        ));
    }

    #[test]
    fn provider_roles_are_told_apart() {
        assert!(Role::ProviderAdmin.is_provider() && Role::Finance.is_provider());
        assert!(!Role::Owner.is_provider());
    }
}
