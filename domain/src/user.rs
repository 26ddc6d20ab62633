//! Users of the portal and API, their roles and credentials.

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{
    PasswordHash as PhcString, PasswordHasher, PasswordVerifier, SaltString,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::{AccountId, UserId};

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

    /// True for the role that manages its account's users: an account's owner, the
    /// provider's administrator. An account always keeps one (the store refuses to
    /// remove or demote the last).
    pub fn manages_users(self) -> bool {
        matches!(self, Role::Owner | Role::ProviderAdmin)
    }

    /// The roles a user of the same side may be given: an account's roles for an
    /// account's user, the provider's roles for a provider's user.
    pub fn same_side(self, other: Role) -> bool {
        self.is_provider() == other.is_provider()
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
            .map_err(|e| Error::Internal(e.to_string()))?;
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| Error::Internal(format!("password hashing failed: {e}")))?;
        Ok(Self(hash.to_string()))
    }

    /// A hash of no one's password, with the parameters [`PasswordHash::new`] uses: a
    /// login for an unknown e-mail verifies against it, so that it costs what a wrong
    /// password costs and the answer's timing does not tell which e-mails exist.
    pub fn dummy() -> Self {
        Self(DUMMY_HASH.to_string())
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

/// argon2id of a random password thrown away, with argon2's default parameters
/// (m=19456 KiB, t=2, p=1): those of every hash [`PasswordHash::new`] makes (a test
/// checks they stay equal).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$MemmILxoJr/POUOY/w8Krg$z6pQb9NsjmowvdgP/EyVJcXuqMiEG2M3Exo9qHJtzes";

/// The user whose password `password` is, if `user` is known and it is; an unknown
/// user costs one verification too ([`PasswordHash::dummy`]). `verify` is
/// [`PasswordHash::verify`] (a test counts its calls).
pub fn authenticate<'u>(
    user: Option<&'u User>,
    password: &str,
    verify: impl Fn(&PasswordHash, &str) -> bool,
) -> Option<&'u User> {
    match user {
        Some(user) => verify(&user.password, password).then_some(user),
        None => {
            verify(&PasswordHash::dummy(), password);
            None
        }
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
    /// The version every token of the user carries: a token of an older version is
    /// refused. It moves on sign-out and on a password change, so both end every
    /// session the user had; it never goes back (the store refuses a write that
    /// would lower it).
    #[serde(default)]
    pub token_version: u32,
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
            name: crate::account::validate_name("name", name, 200)?,
            role,
            password: PasswordHash::new(password)?,
            created_at: now,
            token_version: 0,
        })
    }

    /// Sets a new password and ends every session of the old one.
    pub fn change_password(&mut self, password: &str) -> Result<(), Error> {
        self.password = PasswordHash::new(password)?;
        self.revoke_tokens();
        Ok(())
    }

    /// Ends every session: tokens issued until now are refused.
    pub fn revoke_tokens(&mut self) {
        self.token_version = self.token_version.wrapping_add(1);
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

    /// An owner whose password is "correct horse battery".
    fn olivia() -> User {
        User::new(
            crate::AccountId::new(),
            "olivia@example.com".parse().unwrap(),
            "Olivia",
            Role::Owner,
            "correct horse battery",
            Utc::now(),
        )
        .unwrap()
    }

    #[test]
    fn a_password_change_or_a_revocation_moves_the_token_version() {
        let mut user = olivia();
        assert_eq!(user.token_version, 0);
        user.revoke_tokens();
        assert_eq!(user.token_version, 1);
        user.change_password("another long password").unwrap();
        assert_eq!(user.token_version, 2);
        assert!(user.password.verify("another long password"));
        // A refused password changes nothing.
        assert!(user.change_password("short").is_err());
        assert_eq!(user.token_version, 2);
    }

    #[test]
    fn a_user_stored_before_token_versions_reads_as_version_zero() {
        let json = r#"{"id":"0190a1b2-c3d4-7e5f-8a6b-4f3a9b21c0de","account_id":"0190a1b2-c3d4-7e5f-8a6b-4f3a9b21c0df",
            "email":"a@example.com","name":"A","role":"owner","password":"x","created_at":"2026-01-01T00:00:00Z"}"#;
        let user: User = serde_json::from_str(json).unwrap();
        assert_eq!(user.token_version, 0);
    }

    #[test]
    fn an_unknown_email_costs_one_password_verification_too() {
        use std::cell::Cell;
        let calls = Cell::new(0);
        let counting = |hash: &PasswordHash, password: &str| {
            calls.set(calls.get() + 1);
            hash.verify(password)
        };
        assert!(authenticate(None, "any password at all", counting).is_none());
        assert_eq!(calls.get(), 1, "an unknown e-mail skipped the hash");

        let user = olivia();
        assert!(authenticate(Some(&user), "wrong password!", counting).is_none());
        assert_eq!(
            authenticate(Some(&user), "correct horse battery", counting).map(|u| u.id),
            Some(user.id)
        );
        assert_eq!(calls.get(), 3);
    }

    #[test]
    fn the_dummy_hash_has_the_parameters_of_a_real_one() {
        let real = PasswordHash::new("correct horse battery").unwrap();
        let params = |h: &PasswordHash| {
            let phc = PhcString::new(&h.0).unwrap();
            (
                phc.algorithm.to_string(),
                phc.version,
                phc.params.to_string(),
                phc.hash.map(|o| o.len()),
            )
        };
        assert_eq!(params(&PasswordHash::dummy()), params(&real));
        assert!(!PasswordHash::dummy().verify(""));
    }

    #[test]
    fn provider_roles_are_told_apart() {
        assert!(Role::ProviderAdmin.is_provider() && Role::Finance.is_provider());
        assert!(!Role::Owner.is_provider());
    }
}
