//! The accounts' IP phones, for `*44` ([`crate::node::star44`]): this task reads every
//! account's from the store at start and then every
//! [`Config::ip_phones_refresh`](super::Config::ip_phones_refresh), and hands them
//! to the node through the [`Inbox`]. A read that fails changes nothing: the node
//! keeps the phones it knew (none before the first read, so a stranger is never let
//! in), the failure is logged, and the next period reads again.

use std::time::Duration;

use super::Event;
use super::media::Inbox;
use super::services::Services;

/// Reads the IP phones every `every` until the node stops.
pub(super) async fn refresh(services: Services, every: Duration, inbox: Inbox) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match services.ip_phones().await {
            Ok(phones) => {
                if !inbox.send(Event::IpPhones(phones)).await {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "IP phones unreadable: *44 keeps the phones last read");
            }
        }
    }
}
