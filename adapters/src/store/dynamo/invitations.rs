//! Invitations queued for the mailer (`CONF#<conference>` / `INVITE#<id>`).

use async_trait::async_trait;
use teleconf_domain::{ConferenceId, Invitation};

use super::item::to_item;
use super::{DynamoStore, Lookup};
use crate::error::Result;
use crate::store::InvitationStore;
use crate::store::keys::{self};

#[async_trait]
impl InvitationStore for DynamoStore {
    async fn queue_invitations(&self, invitations: &[Invitation]) -> Result<()> {
        // A transaction holds at most 100 writes: the API caps a request below that.
        for chunk in invitations.chunks(100) {
            let ops = chunk
                .iter()
                .map(|i| {
                    self.put(
                        to_item(
                            i,
                            "invitation",
                            keys::invitation(i.conference_id, i.id),
                            &[],
                        )?,
                        Some("attribute_not_exists(pk)"),
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            self.transact(ops, &["invitation"]).await?;
        }
        Ok(())
    }

    async fn invitations(&self, conference: ConferenceId) -> Result<Vec<Invitation>> {
        self.query(Lookup::partition(keys::conference(conference).0, "INVITE#"))
            .await
    }
}
