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
    /// Token signing secret (`TELECONF_TOKEN_SECRET`, at least 32 bytes). Required
    /// under Lambda; locally a random one per process when unset (tokens then last
    /// until the API restarts).
    pub token_secret: Option<Vec<u8>>,
}

impl Config {
    /// Reads the environment.
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let listen = match var("TELECONF_API_ADDR") {
            Some(addr) => Some(
                addr.parse()
                    .map_err(|e| anyhow::anyhow!("TELECONF_API_ADDR={addr:?}: {e}"))?,
            ),
            None => None,
        };
        let token_secret = var("TELECONF_TOKEN_SECRET").map(String::into_bytes);
        if listen.is_none() && token_secret.is_none() {
            anyhow::bail!("TELECONF_TOKEN_SECRET is required under Lambda");
        }
        Ok(Self {
            aws: AwsSettings::from_env()?,
            listen,
            token_secret,
        })
    }
}
