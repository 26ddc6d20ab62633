//! The API binary's configuration, read once in `main`.

use std::net::SocketAddr;

use teleconf_core::aws::AwsSettings;

/// How the API runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// AWS resources.
    pub aws: AwsSettings,
    /// Local listener (`TELECONF_API_ADDR`); `None` under Lambda.
    pub listen: Option<SocketAddr>,
}

impl Config {
    /// Reads the environment.
    pub fn from_env() -> anyhow::Result<Self> {
        let listen = match std::env::var("TELECONF_API_ADDR") {
            Ok(addr) if !addr.trim().is_empty() => Some(
                addr.parse()
                    .map_err(|e| anyhow::anyhow!("TELECONF_API_ADDR={addr:?}: {e}"))?,
            ),
            _ => None,
        };
        Ok(Self {
            aws: AwsSettings::from_env()?,
            listen,
        })
    }
}
