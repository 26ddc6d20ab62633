//! Opaque identifiers. Each entity has its own type so that a conference id can never
//! be passed where a user id is expected. They are UUIDv7: unique without
//! coordination and sortable by creation time.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Error;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh identifier.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0.as_hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| Error::invalid($what, concat!("not a valid ", $what)))
            }
        }
    };
}

id_type!(
    /// An account: a business customer of the provider (or the provider itself).
    AccountId,
    "account_id"
);
id_type!(
    /// A user of the portal and the API.
    UserId,
    "user_id"
);
id_type!(
    /// A scheduled conference.
    ConferenceId,
    "conference_id"
);
id_type!(
    /// One caller's leg in a conference: the unit of a CDR.
    LegId,
    "leg_id"
);
id_type!(
    /// A stored audio prompt (greeting, intro message).
    PromptId,
    "prompt_id"
);
id_type!(
    /// An entry of an account's activity feed.
    ActivityId,
    "activity_id"
);
id_type!(
    /// A conference recording.
    RecordingId,
    "recording_id"
);

id_type!(
    /// An invitation queued for the mailer.
    InvitationId,
    "invitation_id"
);

id_type!(
    /// A live-view command queued for a conference's media node.
    ControlId,
    "control_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_print_and_parse_back() {
        let id = ConferenceId::new();
        assert_eq!(id.to_string().parse::<ConferenceId>().unwrap(), id);
    }

    #[test]
    fn a_bad_id_names_its_field() {
        let err = "nope".parse::<UserId>().unwrap_err();
        assert!(matches!(err, Error::Invalid { ref field, .. } if field == "user_id"));
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let a = LegId::new();
        let b = LegId::new();
        assert!(a.to_string() < b.to_string());
    }
}
