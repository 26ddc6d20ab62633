//! CDR legs in memory: a closed leg stays as first closed.

use async_trait::async_trait;
use teleconf_domain::{AccountId, CallLeg, ConferenceId, NodeId, YearMonth};

use super::MemoryStore;
use crate::error::Result;
use crate::store::CdrStore;

#[async_trait]
impl CdrStore for MemoryStore {
    async fn put_leg(&self, leg: &CallLeg) -> Result<()> {
        let mut s = self.state()?;
        match s.legs.get(&leg.id) {
            Some(stored) if stored.left_at.is_some() => {} // closed legs stay as first closed
            _ => {
                s.legs.insert(leg.id, leg.clone());
            }
        }
        Ok(())
    }

    async fn legs_of_conference(&self, conference: ConferenceId) -> Result<Vec<CallLeg>> {
        Ok(self
            .state()?
            .legs
            .values()
            .filter(|l| l.conference_id == conference)
            .cloned()
            .collect())
    }

    async fn legs_of_month(&self, account: AccountId, month: YearMonth) -> Result<Vec<CallLeg>> {
        let mut legs: Vec<CallLeg> = self
            .state()?
            .legs
            .values()
            .filter(|l| l.account_id == account && l.month == month)
            .cloned()
            .collect();
        legs.sort_by_key(|l| (l.joined_at, l.id));
        Ok(legs)
    }

    async fn open_legs_of_node(&self, node: &NodeId) -> Result<Vec<CallLeg>> {
        let mut legs: Vec<CallLeg> = self
            .state()?
            .legs
            .values()
            .filter(|l| l.left_at.is_none() && l.node.as_ref() == Some(node))
            .cloned()
            .collect();
        legs.sort_by_key(|l| (l.joined_at, l.id));
        Ok(legs)
    }

    async fn close_open_leg(&self, leg: &CallLeg) -> Result<bool> {
        let mut s = self.state()?;
        match s.legs.get_mut(&leg.id) {
            Some(stored) if stored.left_at.is_none() => {
                *stored = leg.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
