//! The portal's live-view commands (mute a caller, remove one, lock, mute all):
//! the API queues them in the store under their conference; this task fetches,
//! every [`POLL`], those of the conferences the node holds (the media loop
//! publishes the list), hands each to the node through the [`Inbox`] in the order
//! given, and takes it off the queue. A command older than [`STALE`] is dropped:
//! "mute that caller" is worth doing now, not after an outage.

use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use teleconf_domain::ConferenceId;

use super::Event;
use super::media::Inbox;
use super::services::Services;

/// How often the queue is read.
pub(super) const POLL: Duration = Duration::from_secs(1);
/// How old a command may be and still be carried out.
const STALE: chrono::TimeDelta = chrono::TimeDelta::minutes(2);

/// Fetches the commands of the conferences in `held` until the node stops.
pub(super) async fn fetch(
    services: Services,
    held: watch::Receiver<Vec<ConferenceId>>,
    inbox: Inbox,
) {
    let mut every = tokio::time::interval(POLL);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        every.tick().await;
        let conferences = held.borrow().clone();
        for conference in conferences {
            let controls = match services.pending_controls(conference).await {
                Ok(controls) => controls,
                Err(error) => {
                    tracing::warn!(%conference, %error, "portal commands unreadable");
                    continue;
                }
            };
            for control in controls {
                if Utc::now() - control.issued_at > STALE {
                    tracing::info!(%conference, command = control.command.as_str(), "stale portal command dropped");
                } else if !inbox
                    .send(Event::Control {
                        conference,
                        command: control.command,
                    })
                    .await
                {
                    return;
                }
                if let Err(error) = services.ack_control(conference, control.id).await {
                    tracing::warn!(%conference, %error, "portal command not taken off its queue");
                }
            }
        }
    }
}
