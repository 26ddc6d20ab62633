//! Access numbers: the permanent local or toll-free numbers an account's callers dial
//! (the seed's « Programmation d'un numéro d'accès » form).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::{AccountId, E164, Language, PromptId};

/// Local or toll-free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberKind {
    /// A local number.
    Local,
    /// A toll-free number (« sans frais »).
    TollFree,
}

/// The three messages of the « Accéder Téléconférences » action; `None` plays the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConferencePrompts {
    /// « Msg d'accueil général ».
    pub greeting: Option<PromptId>,
    /// « Msg téléconférence désirée »: asks for the conference number.
    pub conference_number: Option<PromptId>,
    /// « Msg code d'accès »: asks for the access code.
    pub access_code: Option<PromptId>,
}

/// What a call to the number does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum NumberAction {
    /// « Accéder Téléconférences »: the conference IVR, with its three messages.
    ConferenceAccess {
        /// Custom prompts, or the defaults.
        #[serde(default)]
        prompts: ConferencePrompts,
    },
    /// The number exists on the trunk but is not (or no longer) routed to conferences.
    None,
}

/// An access number of an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhoneNumber {
    /// The number, unique across the service.
    pub number: E164,
    /// The account it is assigned to.
    pub account_id: AccountId,
    /// Local or toll-free.
    pub kind: NumberKind,
    /// Language the IVR greets callers in (« Langue d'accueil »).
    pub greeting_language: Language,
    /// « Filtrer »: required for conference access.
    pub filter: bool,
    /// « Numéro de Callthru? ».
    pub callthru: bool,
    /// Free notes.
    pub notes: String,
    /// « Service 911 »: civic address registered for emergency calls.
    pub e911_address: String,
    /// What the call does.
    pub action: NumberAction,
    /// « Nom affiché »: caller name shown.
    pub display_name: String,
    /// « Confidentiel ».
    pub confidential: bool,
    /// When it was configured.
    pub created_at: DateTime<Utc>,
}

impl PhoneNumber {
    /// A number the provider assigns to an account: routed to conferences with the
    /// default messages, filtered, greeting callers in `language`. The owner
    /// configures the rest (the 911 address first) in the access-number form.
    pub fn assigned(
        number: E164,
        account_id: AccountId,
        kind: NumberKind,
        language: Language,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            number,
            account_id,
            kind,
            greeting_language: language,
            filter: true,
            callthru: false,
            notes: String::new(),
            e911_address: String::new(),
            action: NumberAction::ConferenceAccess {
                prompts: ConferencePrompts::default(),
            },
            display_name: String::new(),
            confidential: false,
            created_at: now,
        }
    }

    /// Checks the rules the seed's form states: the E911 address is required, and
    /// the conference action requires « Filtrer ».
    pub fn validate(&self) -> Result<(), Error> {
        if self.e911_address.trim().is_empty() {
            return Err(Error::invalid(
                "e911_address",
                "the 911 service address is required",
            ));
        }
        if matches!(self.action, NumberAction::ConferenceAccess { .. }) && !self.filter {
            return Err(Error::invalid(
                "filter",
                "a conference access number must be filtered",
            ));
        }
        for (field, value, max) in [
            ("notes", &self.notes, 1000),
            ("e911_address", &self.e911_address, 300),
            ("display_name", &self.display_name, 15),
        ] {
            if value.chars().count() > max {
                return Err(Error::invalid(field, format!("at most {max} characters")));
            }
        }
        Ok(())
    }

    /// The conference prompts, when the number leads to conferences.
    pub fn conference_prompts(&self) -> Option<&ConferencePrompts> {
        match &self.action {
            NumberAction::ConferenceAccess { prompts } => Some(prompts),
            NumberAction::None => None,
        }
    }

    /// Of an account's numbers, those that lead to conferences, as a confirmation
    /// lists them: toll-free first (the one to give callers from afar), then by number.
    pub fn for_conferences(numbers: Vec<PhoneNumber>) -> Vec<PhoneNumber> {
        let mut numbers: Vec<PhoneNumber> = numbers
            .into_iter()
            .filter(|n| n.conference_prompts().is_some())
            .collect();
        numbers.sort_by_key(|n| (n.kind != NumberKind::TollFree, n.number.clone()));
        numbers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::access_number;

    #[test]
    fn conference_access_requires_filter() {
        let mut n = access_number(AccountId::new());
        assert!(n.validate().is_ok());
        n.filter = false;
        assert!(matches!(n.validate(), Err(Error::Invalid { ref field, .. }) if field == "filter"));
        n.action = NumberAction::None;
        assert!(n.validate().is_ok());
    }

    #[test]
    fn the_911_address_is_required() {
        let mut n = access_number(AccountId::new());
        n.e911_address = "  ".into();
        assert!(
            matches!(n.validate(), Err(Error::Invalid { ref field, .. }) if field == "e911_address")
        );
    }

    #[test]
    fn the_action_serializes_with_its_type() {
        let n = access_number(AccountId::new());
        let v = serde_json::to_value(&n.action).unwrap();
        assert_eq!(v["type"], "conference_access");
        assert!(v["prompts"]["greeting"].is_null());
    }
}
