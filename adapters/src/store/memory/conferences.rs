//! Conferences in memory, each conference number taken once.

use async_trait::async_trait;
use teleconf_domain::{AccountId, Conference, ConferenceId, ConferenceNumber};

use super::MemoryStore;
use crate::error::{Error, Result};
use crate::store::ConferenceStore;

#[async_trait]
impl ConferenceStore for MemoryStore {
    async fn create_conference(&self, conference: &Conference) -> Result<()> {
        let mut s = self.state()?;
        if s.conference_numbers.contains_key(&conference.number) {
            return Err(Error::Conflict("conference_number"));
        }
        if s.conferences.contains_key(&conference.id) {
            return Err(Error::Conflict("conference"));
        }
        s.conference_numbers
            .insert(conference.number.clone(), conference.id);
        s.conferences.insert(conference.id, conference.clone());
        Ok(())
    }

    async fn conference(&self, id: ConferenceId) -> Result<Option<Conference>> {
        Ok(self.state()?.conferences.get(&id).cloned())
    }

    async fn conference_by_number(&self, number: &ConferenceNumber) -> Result<Option<Conference>> {
        let s = self.state()?;
        Ok(s.conference_numbers
            .get(number)
            .and_then(|id| s.conferences.get(id))
            .cloned())
    }

    async fn conferences(&self, account: AccountId) -> Result<Vec<Conference>> {
        let mut list: Vec<Conference> = self
            .state()?
            .conferences
            .values()
            .filter(|c| c.account_id == account)
            .cloned()
            .collect();
        list.sort_by_key(|c| (c.schedule.start(), c.id));
        Ok(list)
    }

    async fn update_conference(&self, conference: &Conference) -> Result<()> {
        let mut s = self.state()?;
        match s.conferences.get_mut(&conference.id) {
            Some(slot) if slot.number == conference.number => {
                *slot = conference.clone();
                Ok(())
            }
            // The number is fixed at creation, as on DynamoDB.
            _ => Err(Error::NotFound("conference")),
        }
    }

    async fn delete_conference(&self, conference: &Conference) -> Result<()> {
        let mut s = self.state()?;
        if let Some(old) = s.conferences.remove(&conference.id) {
            s.conference_numbers.remove(&old.number);
        }
        Ok(())
    }
}
