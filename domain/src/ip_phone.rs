//! An account's IP phones: the callers whose `*44` reaches the account's conference
//! IVR without an access number (seed: « Les utilisateurs ayant un téléphone IP dans
//! le MÊME compte que la conférence peuvent faire *44 »).
//!
//! A phone is known by one of two [`IpPhoneSource`]s:
//! - the **address** its SIP requests come from: a desk phone that calls the media
//!   node directly, or the PBX the account's phones call through;
//! - its **SIP identity** (`sip:desk@pbx.example`), as the provider's trunk asserts it
//!   on the call it hands over: the P-Asserted-Identity (RFC 3325), else the From.
//!
//! One source belongs to one account (the store keeps it unique).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::AccountId;
use crate::account::validate_name;
use crate::error::Error;

/// The API's name of a source, in errors.
const FIELD: &str = "source";

/// A phone's SIP identity, its address of record `sip:user@host`: a user part and a
/// host (a domain, an IPv4 address or a bracketed IPv6 one), without port or
/// parameters. The scheme is not part of it (`sips:` names the same phone), the host
/// is compared without case (RFC 3261 §19.1.4), the user part with.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SipIdentity {
    user: String,
    host: String,
}

impl SipIdentity {
    /// Longest user part.
    pub const MAX_USER: usize = 64;
    /// Longest host (a DNS name's limit).
    pub const MAX_HOST: usize = 253;

    /// The identity `sip:user@host`; refuses a user part outside RFC 3261's
    /// unreserved characters and user-unreserved marks, and a host that is not a
    /// domain name or an IP address.
    pub fn new(user: &str, host: &str) -> Result<Self, Error> {
        let user_ok = !user.is_empty()
            && user.len() <= Self::MAX_USER
            && user
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,".contains(c));
        if !user_ok {
            return Err(Error::invalid(
                FIELD,
                format!(
                    "the user part of a SIP identity is 1 to {} letters, digits or - _ . ! ~ * ' ( ) & = + $ ,",
                    Self::MAX_USER
                ),
            ));
        }
        Ok(Self {
            user: user.to_string(),
            host: host_of(host)?,
        })
    }

    /// The user part (`desk`).
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The host, lower case (`pbx.example`, `192.0.2.7`, `[2001:db8::7]`).
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl fmt::Display for SipIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sip:{}@{}", self.user, self.host)
    }
}

/// A SIP identity's host, lower case: a DNS name (labels of letters, digits and
/// inner hyphens), an IPv4 address or a bracketed IPv6 one.
fn host_of(host: &str) -> Result<String, Error> {
    let host = host.to_ascii_lowercase();
    if host.contains(';') || host.contains('?') {
        return Err(Error::invalid(
            FIELD,
            "a SIP identity has no parameters: sip:user@host",
        ));
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return match inner.parse::<std::net::Ipv6Addr>() {
            Ok(ip) => Ok(format!("[{ip}]")),
            Err(_) => Err(Error::invalid(
                FIELD,
                "the host of a SIP identity is not an IPv6 address",
            )),
        };
    }
    if host.contains(':') {
        return Err(Error::invalid(
            FIELD,
            "a SIP identity has no port: sip:user@host",
        ));
    }
    if let Ok(ip) = host.parse::<std::net::Ipv4Addr>() {
        return Ok(ip.to_string());
    }
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let name = host.strip_suffix('.').unwrap_or(&host);
    if name.is_empty() || name.len() > SipIdentity::MAX_HOST || !name.split('.').all(label_ok) {
        return Err(Error::invalid(
            FIELD,
            "the host of a SIP identity is a domain name or an IP address",
        ));
    }
    Ok(name.to_string())
}

/// How an IP phone is recognised when it dials `*44`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum IpPhoneSource {
    /// The address its SIP requests come from (IPv4-mapped IPv6 is kept as IPv4).
    Address(IpAddr),
    /// Its SIP identity, as the trunk asserts it.
    Identity(SipIdentity),
}

impl IpPhoneSource {
    /// `address` or `sip_identity`, as the API names the kinds.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Address(_) => "address",
            Self::Identity(_) => "sip_identity",
        }
    }
}

impl FromStr for IpPhoneSource {
    type Err = Error;

    /// An IP address (`192.0.2.10`, `2001:db8::10`, `[2001:db8::10]`) or a SIP
    /// identity (`sip:desk@pbx.example`, `sips:` alike).
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::invalid(FIELD, "required"));
        }
        let scheme = s.find(':').map(|i| s[..i].to_ascii_lowercase());
        if let Some(scheme @ ("sip" | "sips")) = scheme.as_deref() {
            let rest = &s[scheme.len() + 1..];
            let Some((user, host)) = rest.split_once('@') else {
                return Err(Error::invalid(
                    FIELD,
                    "a SIP identity is sip:user@host, e.g. sip:desk@pbx.example",
                ));
            };
            return SipIdentity::new(user, host).map(Self::Identity);
        }
        let bare = s
            .strip_prefix('[')
            .and_then(|v| v.strip_suffix(']'))
            .unwrap_or(s);
        let Ok(ip) = bare.parse::<IpAddr>() else {
            return Err(Error::invalid(
                FIELD,
                "an IP phone is an IP address (192.0.2.10) or a SIP identity (sip:desk@pbx.example)",
            ));
        };
        let ip = ip.to_canonical();
        let unusable = ip.is_unspecified()
            || ip.is_multicast()
            || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
        if unusable {
            return Err(Error::invalid(
                FIELD,
                "this address cannot be a phone's (unspecified, broadcast or multicast)",
            ));
        }
        Ok(Self::Address(ip))
    }
}

impl fmt::Display for IpPhoneSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Address(ip) => write!(f, "{ip}"),
            Self::Identity(identity) => write!(f, "{identity}"),
        }
    }
}

impl TryFrom<String> for IpPhoneSource {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<IpPhoneSource> for String {
    fn from(s: IpPhoneSource) -> Self {
        s.to_string()
    }
}

/// An IP phone of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpPhone {
    /// How the phone is recognised; unique across the service.
    pub source: IpPhoneSource,
    /// Its account.
    pub account_id: AccountId,
    /// What the owner calls it (« Salle du conseil »); may be empty.
    #[serde(default)]
    pub label: String,
    /// When the owner added it.
    pub added_at: DateTime<Utc>,
}

impl IpPhone {
    /// Longest label.
    pub const MAX_LABEL: usize = 100;

    /// A phone of `account`; the label is trimmed, and refused when over
    /// [`IpPhone::MAX_LABEL`] characters or holding control characters.
    pub fn new(
        account_id: AccountId,
        source: IpPhoneSource,
        label: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        let label = if label.trim().is_empty() {
            String::new()
        } else {
            validate_name("label", label, Self::MAX_LABEL)?
        };
        Ok(Self {
            source,
            account_id,
            label,
            added_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(s: &str) -> Result<IpPhoneSource, Error> {
        s.parse()
    }

    fn refused_on_source(s: &str) -> String {
        match source(s) {
            Err(Error::Invalid { field, message }) => {
                assert_eq!(field, "source", "{s}");
                message
            }
            other => panic!("{s:?} gave {other:?}"),
        }
    }

    #[test]
    fn an_address_is_read_in_its_canonical_form() {
        assert_eq!(source(" 192.0.2.10 ").unwrap().to_string(), "192.0.2.10");
        assert_eq!(source("2001:DB8::10").unwrap().to_string(), "2001:db8::10");
        assert_eq!(
            source("[2001:db8::10]").unwrap().to_string(),
            "2001:db8::10"
        );
        // The same phone seen over an IPv6 socket is the same source.
        assert_eq!(
            source("::ffff:192.0.2.10").unwrap(),
            source("192.0.2.10").unwrap()
        );
        assert_eq!(source("192.0.2.10").unwrap().kind(), "address");
    }

    #[test]
    fn a_sip_identity_keeps_its_user_and_lowers_its_host() {
        let desk = source("SIPS:Desk.12@PBX.Example").unwrap();
        assert_eq!(desk.to_string(), "sip:Desk.12@pbx.example");
        assert_eq!(desk, source("sip:Desk.12@pbx.example.").unwrap());
        assert_ne!(desk, source("sip:desk.12@pbx.example").unwrap());
        assert_eq!(desk.kind(), "sip_identity");
        assert_eq!(
            source("sip:+15145550123@192.0.2.1").unwrap().to_string(),
            "sip:+15145550123@192.0.2.1"
        );
        assert_eq!(
            source("sip:1001@[2001:DB8::1]").unwrap().to_string(),
            "sip:1001@[2001:db8::1]"
        );
    }

    #[test]
    fn nonsense_is_refused_naming_the_source() {
        for bad in [
            "",
            "   ",
            "desk",
            "0.0.0.0",
            "::",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.300",
            "sip:pbx.example",
            "sip:@pbx.example",
            "sip:desk@",
            "sip:desk@pbx.example:5060",
            "sip:desk@pbx.example;transport=tcp",
            "sip:de sk@pbx.example",
            "sip:desk@-pbx.example",
            "sip:desk@pbx..example",
            "sip:desk@[::g]",
            "tel:+15145550123",
        ] {
            let message = refused_on_source(bad);
            assert!(!message.is_empty());
        }
        let long_user = format!("sip:{}@pbx.example", "d".repeat(65));
        refused_on_source(&long_user);
        let long_host = format!("sip:desk@{}.example", vec!["a".repeat(63); 4].join("."));
        refused_on_source(&long_host);
    }

    #[test]
    fn a_source_is_stored_as_its_text_and_read_back_validated() {
        let phone = IpPhone::new(
            AccountId::new(),
            source("sip:desk@pbx.example").unwrap(),
            "  Salle du conseil ",
            Utc::now(),
        )
        .unwrap();
        assert_eq!(phone.label, "Salle du conseil");
        let json = serde_json::to_value(&phone).unwrap();
        assert_eq!(json["source"], "sip:desk@pbx.example");
        assert_eq!(serde_json::from_value::<IpPhone>(json).unwrap(), phone);
        let mut tampered = serde_json::to_value(&phone).unwrap();
        tampered["source"] = "sip:desk@pbx.example:5060".into();
        assert!(serde_json::from_value::<IpPhone>(tampered).is_err());
    }

    #[test]
    fn a_label_is_optional_and_bounded() {
        let address = source("192.0.2.10").unwrap();
        let account = AccountId::new();
        assert_eq!(
            IpPhone::new(account, address.clone(), " ", Utc::now())
                .unwrap()
                .label,
            ""
        );
        let long = "x".repeat(IpPhone::MAX_LABEL + 1);
        assert!(matches!(
            IpPhone::new(account, address.clone(), &long, Utc::now()),
            Err(Error::Invalid { field, .. }) if field == "label"
        ));
        assert!(IpPhone::new(account, address, "a\u{7}b", Utc::now()).is_err());
    }
}
