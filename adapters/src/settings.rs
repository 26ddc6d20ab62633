//! The settings a process reads from its environment that more than one binary
//! shares and that are not AWS's ([`crate::aws::AwsSettings`]): the provider's
//! [`Branding`].

use teleconf_domain::messages::Branding;

use crate::error::{Error, Result};

/// The provider's branding from `TELECONF_PROVIDER_NAME`, `TELECONF_SUPPORT_PHONE`
/// and `TELECONF_SUPPORT_EMAIL` read through `var`; the seed's for each one unset.
pub fn branding(var: impl Fn(&str) -> Option<String>) -> Result<Branding> {
    let seed = Branding::default();
    let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
    Ok(Branding {
        provider_name: set("TELECONF_PROVIDER_NAME").unwrap_or(seed.provider_name),
        support_phone: set("TELECONF_SUPPORT_PHONE").unwrap_or(seed.support_phone),
        support_email: match set("TELECONF_SUPPORT_EMAIL") {
            Some(e) => e.parse().map_err(|_| {
                Error::Config("TELECONF_SUPPORT_EMAIL is not an e-mail address".into())
            })?,
            None => seed.support_email,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_branding_is_configured_by_the_environment_or_is_the_seeds() {
        assert_eq!(branding(|_| None).unwrap(), Branding::default());
        let b = branding(|name| match name {
            "TELECONF_PROVIDER_NAME" => Some("Télé & Cie".into()),
            "TELECONF_SUPPORT_EMAIL" => Some("aide@tele.example".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(b.provider_name, "Télé & Cie");
        assert_eq!(b.support_email.as_str(), "aide@tele.example");
        assert_eq!(b.support_phone, Branding::default().support_phone);
        assert!(branding(|name| (name == "TELECONF_SUPPORT_EMAIL").then(|| "x".into())).is_err());
    }
}
