//! An access number and what a call to it does.

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use teleconf_domain::{
    AccountId, ConferencePrompts, E164, Language, NumberAction, NumberKind, PhoneNumber, PromptId,
};
use utoipa::ToSchema;

use crate::local;

/// The three messages of the conference action, as prompt ids (null: the default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptsBody {
    /// « Msg d'accueil général ».
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub greeting: Option<PromptId>,
    /// « Msg téléconférence désirée ».
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub conference_number: Option<PromptId>,
    /// « Msg code d'accès ».
    #[schema(value_type = Option<String>)]
    #[serde(default)]
    pub access_code: Option<PromptId>,
}

/// What a call to the number does (in a view, and in a request body).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ActionBody {
    /// « Accéder Téléconférences ».
    ConferenceAccess {
        /// Custom prompts.
        #[serde(default)]
        prompts: PromptsBody,
    },
    /// Not routed to conferences.
    None,
}

impl From<ActionBody> for NumberAction {
    fn from(a: ActionBody) -> Self {
        match a {
            ActionBody::ConferenceAccess { prompts } => NumberAction::ConferenceAccess {
                prompts: ConferencePrompts {
                    greeting: prompts.greeting,
                    conference_number: prompts.conference_number,
                    access_code: prompts.access_code,
                },
            },
            ActionBody::None => NumberAction::None,
        }
    }
}

impl From<&NumberAction> for ActionBody {
    fn from(a: &NumberAction) -> Self {
        match a {
            NumberAction::ConferenceAccess { prompts } => ActionBody::ConferenceAccess {
                prompts: PromptsBody {
                    greeting: prompts.greeting,
                    conference_number: prompts.conference_number,
                    access_code: prompts.access_code,
                },
            },
            NumberAction::None => ActionBody::None,
        }
    }
}

/// An access number.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NumberView {
    /// E.164.
    #[schema(value_type = String, example = "+18883806331")]
    pub number: E164,
    /// As people read it: (888) 380-6331.
    pub national: String,
    /// Its account.
    #[schema(value_type = String)]
    pub account_id: AccountId,
    /// local or toll_free.
    #[schema(value_type = String)]
    pub kind: NumberKind,
    /// fr or en.
    #[schema(value_type = String)]
    pub greeting_language: Language,
    /// « Filtrer ».
    pub filter: bool,
    /// « Numéro de Callthru? ».
    pub callthru: bool,
    /// Notes.
    pub notes: String,
    /// « Service 911 » address.
    pub e911_address: String,
    /// « Action ».
    pub action: ActionBody,
    /// « Nom affiché ».
    pub display_name: String,
    /// « Confidentiel ».
    pub confidential: bool,
    /// Configured at, in the account's zone.
    pub created_at: DateTime<FixedOffset>,
}

impl NumberView {
    /// The view of `n`, times on the wall clock of `tz`.
    pub fn new(n: &PhoneNumber, tz: Tz) -> Self {
        Self {
            number: n.number.clone(),
            national: n.number.national(),
            account_id: n.account_id,
            kind: n.kind,
            greeting_language: n.greeting_language,
            filter: n.filter,
            callthru: n.callthru,
            notes: n.notes.clone(),
            e911_address: n.e911_address.clone(),
            action: ActionBody::from(&n.action),
            display_name: n.display_name.clone(),
            confidential: n.confidential,
            created_at: local(n.created_at, tz),
        }
    }
}
