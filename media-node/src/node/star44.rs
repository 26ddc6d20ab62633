//! Who may dial `*44`: an IP phone of an account reaches that account's conference
//! IVR without an access number (seed: « Les utilisateurs ayant un téléphone IP dans
//! le MÊME compte que la conférence peuvent faire *44 »).
//!
//! The accounts' IP phones are an account setting in the store
//! ([`teleconf_domain::ip_phone`]); the shell reads every account's
//! periodically and hands the node an [`IpPhones`] (sans-IO: the node never asks the
//! store whether a stranger is a phone, so a stranger costs no store read). A phone is
//! recognised by:
//! - the address its INVITE comes from (a phone that calls the node directly, or its
//!   PBX), which is then also allowed to send requests at all, as a trunk address is;
//! - or, on a call the trunk hands over, the identity the trunk asserts: the first
//!   SIP URI of P-Asserted-Identity (RFC 3325 §9.1; the trunk is the trust domain),
//!   else the From URI. An identity claimed by anyone else is not believed.

use std::collections::HashMap;
use std::net::IpAddr;

use rsip::headers::UntypedHeader;
use rsip::message::HeadersExt;
use rsip::{Header, Request};
use teleconf_domain::{AccountId, IpPhone, IpPhoneSource, SipIdentity};

/// The Request-URI user part of an IP phone's conference access.
pub const STAR44: &str = "*44";

/// Every account's IP phones, as the shell last read them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpPhones {
    addresses: HashMap<IpAddr, AccountId>,
    identities: HashMap<SipIdentity, AccountId>,
}

impl IpPhones {
    /// Whether `ip` is an IP phone's address (its requests are served).
    pub fn has_address(&self, ip: IpAddr) -> bool {
        self.addresses.contains_key(&ip.to_canonical())
    }

    /// The account of the IP phone that sent `request` from `source`, if it is one:
    /// by its address, or, when `from_trunk`, by the identity the trunk asserts.
    pub fn account_of(
        &self,
        request: &Request,
        source: IpAddr,
        from_trunk: bool,
    ) -> Option<AccountId> {
        if let Some(account) = self.addresses.get(&source.to_canonical()) {
            return Some(*account);
        }
        if !from_trunk {
            return None;
        }
        asserted_identity(request).and_then(|identity| self.identities.get(&identity).copied())
    }

    /// How many phones it knows.
    pub fn len(&self) -> usize {
        self.addresses.len() + self.identities.len()
    }

    /// Whether it knows none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl FromIterator<IpPhone> for IpPhones {
    fn from_iter<I: IntoIterator<Item = IpPhone>>(phones: I) -> Self {
        let mut out = Self::default();
        for phone in phones {
            match phone.source {
                IpPhoneSource::Address(ip) => {
                    out.addresses.insert(ip, phone.account_id);
                }
                IpPhoneSource::Identity(identity) => {
                    out.identities.insert(identity, phone.account_id);
                }
            }
        }
        out
    }
}

/// The caller's identity as the trunk asserts it: P-Asserted-Identity's first SIP
/// URI when the header is there (a `tel:` alone asserts no SIP identity), else From.
fn asserted_identity(request: &Request) -> Option<SipIdentity> {
    let asserted = request.headers.iter().find_map(|header| match header {
        Header::Other(name, value) if name.eq_ignore_ascii_case("P-Asserted-Identity") => {
            Some(value.as_str())
        }
        _ => None,
    });
    match asserted {
        Some(value) => value.split(',').find_map(identity_in),
        None => identity_in(request.from_header().ok()?.value()),
    }
}

/// The identity a name-addr or addr-spec names (RFC 3261 §20.10:
/// `"Desk" <sip:desk@pbx.example:5070;transport=tcp>;tag=1`, `sip:desk@pbx.example`):
/// its user and host, port and parameters aside; `None` for any other scheme. Read
/// here rather than by rsip, which cannot parse a bracketed IPv6 host.
fn identity_in(address: &str) -> Option<SipIdentity> {
    let address = address.trim();
    let uri = match (address.find('<'), address.find('>')) {
        (Some(open), Some(close)) if open < close => &address[open + 1..close],
        // Without brackets, what follows `;` is the header's parameters.
        _ => address.split(';').next()?,
    };
    let (scheme, rest) = uri.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("sip") && !scheme.eq_ignore_ascii_case("sips") {
        return None;
    }
    let rest = rest.split([';', '?']).next()?;
    let (userinfo, hostport) = rest.rsplit_once('@')?;
    let user = userinfo.split(':').next()?;
    let host = match hostport.strip_prefix('[') {
        Some(v6) => &hostport[..v6.find(']')? + 2],
        None => hostport.split(':').next()?,
    };
    SipIdentity::new(user, host).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn phone(account: AccountId, source: &str) -> IpPhone {
        IpPhone::new(account, source.parse().unwrap(), "", Utc::now()).unwrap()
    }

    /// The phones when `account` has one, known by `source`.
    fn only(account: AccountId, source: &str) -> IpPhones {
        [phone(account, source)].into_iter().collect()
    }

    fn invite(headers: &str) -> Request {
        let text = format!(
            "INVITE sip:*44@192.0.2.1:5060 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-1\r\n\
             {headers}\
             To: <sip:*44@192.0.2.1>\r\n\
             Call-ID: 1@test\r\n\
             CSeq: 1 INVITE\r\n\
             Content-Length: 0\r\n\r\n"
        );
        Request::try_from(text.as_str()).unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_phone_is_known_by_its_address_from_anywhere() {
        let account = AccountId::new();
        let phones = only(account, "192.0.2.10");
        let request = invite("From: <sip:anyone@elsewhere.example>;tag=1\r\n");
        assert!(phones.has_address(ip("192.0.2.10")));
        assert!(
            phones.has_address(ip("::ffff:192.0.2.10")),
            "seen over IPv6"
        );
        assert_eq!(
            phones.account_of(&request, ip("192.0.2.10"), false),
            Some(account)
        );
        assert_eq!(phones.account_of(&request, ip("192.0.2.11"), false), None);
        assert!(!phones.has_address(ip("192.0.2.11")));
    }

    #[test]
    fn an_identity_is_believed_only_from_the_trunk() {
        let account = AccountId::new();
        let phones = only(account, "sip:desk@pbx.example");
        let from = invite("From: \"Desk\" <sip:desk@PBX.example:5070;transport=udp>;tag=1\r\n");
        let trunk = ip("198.51.100.1");
        assert_eq!(phones.account_of(&from, trunk, true), Some(account));
        assert_eq!(phones.account_of(&from, trunk, false), None);
        assert!(!phones.has_address(trunk));
        let other = invite("From: <sip:lobby@pbx.example>;tag=1\r\n");
        assert_eq!(phones.account_of(&other, trunk, true), None);
        // An addr-spec without brackets (its `;tag` is the header's), and a password.
        for from in [
            "From: sip:desk@pbx.example;tag=1\r\n",
            "From: <sip:desk:secret@pbx.example>;tag=1\r\n",
        ] {
            assert_eq!(
                phones.account_of(&invite(from), trunk, true),
                Some(account),
                "{from}"
            );
        }
    }

    #[test]
    fn the_asserted_identity_overrides_the_from() {
        let account = AccountId::new();
        let phones = only(account, "sip:desk@pbx.example");
        let trunk = ip("198.51.100.1");
        let asserted = invite(
            "P-Asserted-Identity: <tel:+15145550123>, \"Desk\" <sips:desk@pbx.example>\r\n\
             From: <sip:anonymous@anonymous.invalid>;tag=1\r\n",
        );
        assert_eq!(phones.account_of(&asserted, trunk, true), Some(account));
        // The trunk asserts someone else: the From claiming the phone is not believed.
        let spoofed = invite(
            "P-Asserted-Identity: <sip:stranger@pbx.example>\r\n\
             From: <sip:desk@pbx.example>;tag=1\r\n",
        );
        assert_eq!(phones.account_of(&spoofed, trunk, true), None);
        let tel_only = invite(
            "P-Asserted-Identity: tel:+15145550123\r\n\
             From: <sip:desk@pbx.example>;tag=1\r\n",
        );
        assert_eq!(phones.account_of(&tel_only, trunk, true), None);
    }

    #[test]
    fn an_ipv6_host_is_matched_in_brackets() {
        let account = AccountId::new();
        let phones = only(account, "sip:1001@[2001:db8::1]");
        let request = invite("From: <sip:1001@[2001:DB8::1]>;tag=1\r\n");
        assert_eq!(
            phones.account_of(&request, ip("198.51.100.1"), true),
            Some(account)
        );
    }
}
