//! The mailer's configuration, read once in `main`.

use std::time::Duration;

use teleconf_adapters::Result;
use teleconf_adapters::aws::AwsSettings;
use teleconf_adapters::settings::{self, Env, invalid};
use teleconf_domain::messages::Branding;

/// How the mailer runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Table, bucket, verified sender.
    pub aws: AwsSettings,
    /// The provider's name, support line and address (`TELECONF_PROVIDER_NAME`,
    /// `TELECONF_SUPPORT_PHONE`, `TELECONF_SUPPORT_EMAIL`).
    pub branding: Branding,
    /// The portal's address, for links in mail (`TELECONF_PORTAL_URL`).
    pub portal_url: String,
    /// Attempts at one mail before it is dead-lettered (`TELECONF_MAIL_MAX_ATTEMPTS`,
    /// default 5: below the stream trigger's 5 retries + 1 in `infra/template.json`,
    /// so the handler dead-letters before Lambda gives up on the record).
    pub max_attempts: u32,
    /// How long a claim on a mail holds before another worker may take it over (the
    /// holder crashed): 2 minutes, well over one SES call.
    pub lease: chrono::Duration,
    /// The local loop's pause between two reads of an idle stream
    /// (`TELECONF_STREAM_POLL_MS`, default 1000).
    pub poll_interval: Duration,
}

impl Config {
    /// Reads the configuration through `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let env = Env::new(&var);
        const MAX_ATTEMPTS: &str = "TELECONF_MAIL_MAX_ATTEMPTS";
        let max_attempts = env.parse_or(MAX_ATTEMPTS, 5)?;
        if !(1..=100).contains(&max_attempts) {
            return Err(invalid(
                MAX_ATTEMPTS,
                &max_attempts.to_string(),
                "must be 1 to 100",
            ));
        }
        const PORTAL_URL: &str = "TELECONF_PORTAL_URL";
        let portal_url = env.required(PORTAL_URL)?;
        if !(portal_url.starts_with("https://") || portal_url.starts_with("http://")) {
            return Err(invalid(
                PORTAL_URL,
                &portal_url,
                "must be an http(s) address",
            ));
        }
        Ok(Self {
            aws: AwsSettings::from_vars(&var)?,
            branding: settings::branding(&var)?,
            portal_url: portal_url.trim_end_matches('/').to_string(),
            max_attempts,
            lease: chrono::Duration::minutes(2),
            poll_interval: Duration::from_millis(env.parse_or("TELECONF_STREAM_POLL_MS", 1000)?),
        })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_vars(settings::process_env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(extra: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let mut pairs = vec![
            ("TELECONF_TABLE", "t"),
            ("TELECONF_BUCKET", "b"),
            ("TELECONF_MAIL_FROM", "conferences@teleconf.example"),
            ("TELECONF_PORTAL_URL", "https://portal.example/"),
        ];
        pairs.extend_from_slice(extra);
        settings::lookup_in(&pairs)
    }

    #[test]
    fn defaults_and_a_portal_without_trailing_slash() {
        let c = Config::from_vars(base(&[])).unwrap();
        assert_eq!(c.portal_url, "https://portal.example");
        assert_eq!(c.max_attempts, 5);
        assert_eq!(c.branding, Branding::default());
    }

    #[test]
    fn bad_settings_are_named() {
        for (name, value) in [
            ("TELECONF_MAIL_MAX_ATTEMPTS", "0"),
            ("TELECONF_MAIL_MAX_ATTEMPTS", "many"),
            ("TELECONF_PORTAL_URL", "portal.example"),
            ("TELECONF_STREAM_POLL_MS", "-1"),
        ] {
            let err = Config::from_vars(base(&[(name, value)])).unwrap_err();
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
    }
}
