//! An account's IP phones, whose `*44` reaches its conferences
//! ([`teleconf_domain::ip_phone`]). Each phone is one item keyed by its source
//! (`IPPHONE#<source>` / `IPPHONE`): creating it with `attribute_not_exists(pk)`
//! makes a source belong to one account across the service. The account lists its
//! phones through the by-account index (`gsi1sk = IPPHONE#<source>`), and the media
//! nodes read every account's at once through `gsi2pk = IPPHONES` (their directory
//! of who may dial `*44`).

use async_trait::async_trait;

use crate::error::Result;
use teleconf_domain::{AccountId, IpPhone, IpPhoneSource};

/// The IP phones of every account.
#[async_trait]
pub trait IpPhoneStore: Send + Sync {
    /// Adds a phone; `Conflict("source")` if an account (this one included) has
    /// that source already.
    async fn add_ip_phone(&self, phone: &IpPhone) -> Result<()>;
    /// The account's phones, by source.
    async fn ip_phones(&self, account: AccountId) -> Result<Vec<IpPhone>>;
    /// Removes the account's phone; `NotFound("ip_phone")` when the account has none
    /// with that source (another account's is not touched).
    async fn remove_ip_phone(&self, account: AccountId, source: &IpPhoneSource) -> Result<()>;
    /// Every account's phones: the media nodes' directory of `*44` callers.
    async fn all_ip_phones(&self) -> Result<Vec<IpPhone>>;
}
