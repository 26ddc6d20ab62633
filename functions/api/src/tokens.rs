//! Signed expiring tokens (JWT, HS256) that carry the user's token version
//! (signing out or changing the password moves it, which ends every older token).

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use jwt::{SignWithKey, VerifyWithKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use teleconf_domain::{User, UserId};

use crate::error::{ApiError, ApiResult};

/// How long a token is accepted.
pub const TOKEN_LIFETIME: Duration = Duration::hours(12);
/// Signs and checks tokens (JWT, HS256) with one secret.
pub struct Tokens {
    key: Hmac<Sha256>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokens(…)")
    }
}

/// What a token says.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    /// The user.
    sub: String,
    /// Issued at (Unix seconds).
    iat: i64,
    /// Expires at (Unix seconds).
    exp: i64,
    /// The user's token version when it was issued ([`User::token_version`]).
    #[serde(default)]
    ver: u32,
}

/// Who a valid token names: the user, and the token version it was issued under
/// (compared with the user's, read anyway for the request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSubject {
    /// The user.
    pub user: UserId,
    /// Their token version when it was issued.
    pub version: u32,
}

impl Tokens {
    /// Shortest secret accepted: 256 bits for HS256.
    pub const MIN_SECRET_LEN: usize = 32;

    /// Tokens signed with `secret`.
    pub fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(format!(
                "the token secret needs at least {} bytes",
                Self::MIN_SECRET_LEN
            ));
        }
        let key = Hmac::<Sha256>::new_from_slice(secret).map_err(|e| e.to_string())?;
        Ok(Self { key })
    }

    /// A token for `user` (at their current token version), valid from `now` for
    /// [`TOKEN_LIFETIME`].
    pub fn issue(&self, user: &User, now: DateTime<Utc>) -> ApiResult<(String, DateTime<Utc>)> {
        let expires = now + TOKEN_LIFETIME;
        let claims = Claims {
            sub: user.id.to_string(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
            ver: user.token_version,
        };
        let token = claims.sign_with_key(&self.key).map_err(|e| {
            tracing::error!(error = %e, "token signing failed");
            ApiError::from(teleconf_adapters::Error::Store(
                "token signing failed".into(),
            ))
        })?;
        Ok((token, expires))
    }

    /// Who a token names, if it is ours (signature and `alg` checked) and not
    /// expired at `now`. Whether its version is still the user's is for the caller
    /// to check, with the user it reads.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Option<TokenSubject> {
        let claims: Claims = token.verify_with_key(&self.key).ok()?;
        if claims.exp <= now.timestamp() {
            return None;
        }
        Some(TokenSubject {
            user: claims.sub.parse().ok()?,
            version: claims.ver,
        })
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(&[7u8; 32]).unwrap()
    }

    fn user() -> User {
        User::new(
            teleconf_domain::AccountId::new(),
            "olivia@example.com".parse().unwrap(),
            "Olivia",
            teleconf_domain::Role::Owner,
            "correct horse battery",
            Utc::now(),
        )
        .unwrap()
    }

    #[test]
    fn a_token_names_its_user_and_version_until_it_expires() {
        let mut user = user();
        user.revoke_tokens();
        let now = Utc::now();
        let (token, expires) = tokens().issue(&user, now).unwrap();
        let subject = Some(TokenSubject {
            user: user.id,
            version: 1,
        });
        assert_eq!(tokens().verify(&token, now), subject);
        assert_eq!(
            tokens().verify(&token, expires - Duration::seconds(1)),
            subject
        );
        assert_eq!(tokens().verify(&token, expires), None);
    }

    #[test]
    fn a_token_signed_with_another_secret_or_tampered_is_refused() {
        let (token, _) = tokens().issue(&user(), Utc::now()).unwrap();
        assert_eq!(
            Tokens::new(&[8u8; 32]).unwrap().verify(&token, Utc::now()),
            None
        );
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(tokens().verify(&tampered, Utc::now()), None);
        assert_eq!(tokens().verify("not a token", Utc::now()), None);
    }

    #[test]
    fn an_unsigned_alg_none_token_is_refused() {
        // {"alg":"none"} . {"sub":<a user>,"iat":0,"exp":<far future>} . (no signature)
        let b64 = |s: &str| {
            const T: &[u8; 64] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let bytes = s.as_bytes();
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let n = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
                for i in 0..=chunk.len() {
                    out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
                }
            }
            out
        };
        let claims = format!(r#"{{"sub":"{}","iat":0,"exp":4102444800}}"#, UserId::new());
        let forged = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
        assert_eq!(tokens().verify(&forged, Utc::now()), None);
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert!(Tokens::new(b"short").is_err());
    }
}
