//! Lifecycles and queued mail in memory, each transition once from its status.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use teleconf_domain::{
    AccountId, Conference, ConferenceId, ConferenceStatus, Lifecycle, QueuedMail, QueuedMailKind,
};

use super::MemoryStore;
use crate::error::Result;
use crate::store::LifecycleStore;

#[async_trait]
impl LifecycleStore for MemoryStore {
    async fn conferences_starting(
        &self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Conference>> {
        let mut found: Vec<Conference> = self
            .state()?
            .conferences
            .values()
            .filter(|c| c.account_id == account)
            .filter(|c| (from..=to).contains(&c.schedule.start()))
            .cloned()
            .collect();
        found.sort_by_key(|c| (c.schedule.start(), c.id));
        Ok(found)
    }

    async fn lifecycle(&self, conference: ConferenceId) -> Result<Option<Lifecycle>> {
        Ok(self.state()?.lifecycles.get(&conference).cloned())
    }

    async fn queued_mail(
        &self,
        conference: ConferenceId,
        kind: QueuedMailKind,
    ) -> Result<Option<QueuedMail>> {
        Ok(self.state()?.queued_mail.get(&(conference, kind)).cloned())
    }

    async fn advance_lifecycle(
        &self,
        from: ConferenceStatus,
        next: &Lifecycle,
        mail: Option<&QueuedMail>,
    ) -> Result<bool> {
        let mut s = self.state()?;
        let current = s
            .lifecycles
            .get(&next.conference_id)
            .map_or(ConferenceStatus::Scheduled, |l| l.status);
        if current != from {
            return Ok(false);
        }
        if let Some(mail) = mail {
            if s.queued_mail.contains_key(&(mail.conference_id, mail.kind)) {
                return Ok(false);
            }
            s.queued_mail
                .insert((mail.conference_id, mail.kind), mail.clone());
        }
        s.lifecycles.insert(next.conference_id, next.clone());
        Ok(true)
    }
}
