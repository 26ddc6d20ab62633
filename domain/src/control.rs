//! Commands a moderator gives a running conference from the portal's live view: the
//! same controls the keypad gives (issue #5: `*5` mute all, `*7` lock, `*9` remove),
//! plus muting one caller. The portal queues them in the store under the
//! conference; the media node that holds the conference takes them from the queue,
//! applies them and acknowledges each one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::{AccountId, ConferenceId, ControlId, LegId, UserId};

/// What to do to the conference or one of its callers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum ControlCommand {
    /// Stop hearing one caller.
    Mute {
        /// The caller's leg.
        leg_id: LegId,
    },
    /// Hear one caller again.
    Unmute {
        /// The caller's leg.
        leg_id: LegId,
    },
    /// Hang up on one caller.
    Remove {
        /// The caller's leg.
        leg_id: LegId,
    },
    /// New callers (but moderators) are refused (`*7`).
    Lock,
    /// New callers are admitted again.
    Unlock,
    /// Mute every participant: lecture mode (`*5`).
    MuteAll,
    /// End lecture mode.
    UnmuteAll,
}

impl ControlCommand {
    /// The command's name, as in the API (`mute`, `mute_all`…).
    pub fn as_str(self) -> &'static str {
        match self {
            ControlCommand::Mute { .. } => "mute",
            ControlCommand::Unmute { .. } => "unmute",
            ControlCommand::Remove { .. } => "remove",
            ControlCommand::Lock => "lock",
            ControlCommand::Unlock => "unlock",
            ControlCommand::MuteAll => "mute_all",
            ControlCommand::UnmuteAll => "unmute_all",
        }
    }

    /// The command named `name`, aimed at `leg` when it acts on one caller. A
    /// per-caller command without a leg, or a conference-wide one with a leg, is
    /// refused naming the field at fault.
    pub fn parse(name: &str, leg: Option<LegId>) -> Result<Self> {
        let needs_leg = |make: fn(LegId) -> Self| {
            leg.map(make).ok_or_else(|| {
                Error::invalid("leg_id", "this command acts on one caller: name its leg")
            })
        };
        let whole = |command: Self| match leg {
            None => Ok(command),
            Some(_) => Err(Error::invalid(
                "leg_id",
                "this command acts on the whole conference: name no leg",
            )),
        };
        match name {
            "mute" => needs_leg(|leg_id| ControlCommand::Mute { leg_id }),
            "unmute" => needs_leg(|leg_id| ControlCommand::Unmute { leg_id }),
            "remove" => needs_leg(|leg_id| ControlCommand::Remove { leg_id }),
            "lock" => whole(ControlCommand::Lock),
            "unlock" => whole(ControlCommand::Unlock),
            "mute_all" => whole(ControlCommand::MuteAll),
            "unmute_all" => whole(ControlCommand::UnmuteAll),
            _ => Err(Error::invalid(
                "command",
                "command is mute, unmute, remove, lock, unlock, mute_all or unmute_all",
            )),
        }
    }

    /// The caller the command acts on, if it acts on one.
    pub fn leg(self) -> Option<LegId> {
        match self {
            ControlCommand::Mute { leg_id }
            | ControlCommand::Unmute { leg_id }
            | ControlCommand::Remove { leg_id } => Some(leg_id),
            _ => None,
        }
    }
}

/// A command queued for a conference, waiting for its media node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConferenceControl {
    /// Identity; time-ordered, so the queue is read in the order commands were given.
    pub id: ControlId,
    /// The conference.
    pub conference_id: ConferenceId,
    /// Its account.
    pub account_id: AccountId,
    /// What to do.
    pub command: ControlCommand,
    /// The moderator who gave it.
    pub issued_by: UserId,
    /// When.
    pub issued_at: DateTime<Utc>,
}

impl ConferenceControl {
    /// A new command for `conference` of `account`, given by `by` at `at`.
    pub fn new(
        conference_id: ConferenceId,
        account_id: AccountId,
        command: ControlCommand,
        issued_by: UserId,
        issued_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: ControlId::new(),
            conference_id,
            account_id,
            command,
            issued_by,
            issued_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_parses_back_from_its_name() {
        let leg = LegId::new();
        for command in [
            ControlCommand::Mute { leg_id: leg },
            ControlCommand::Unmute { leg_id: leg },
            ControlCommand::Remove { leg_id: leg },
            ControlCommand::Lock,
            ControlCommand::Unlock,
            ControlCommand::MuteAll,
            ControlCommand::UnmuteAll,
        ] {
            assert_eq!(
                ControlCommand::parse(command.as_str(), command.leg()).unwrap(),
                command
            );
        }
    }

    #[test]
    fn a_per_caller_command_needs_a_leg_and_a_conference_command_refuses_one() {
        let err = ControlCommand::parse("mute", None).unwrap_err();
        assert!(matches!(err, Error::Invalid { ref field, .. } if field == "leg_id"));
        let err = ControlCommand::parse("lock", Some(LegId::new())).unwrap_err();
        assert!(matches!(err, Error::Invalid { ref field, .. } if field == "leg_id"));
        let err = ControlCommand::parse("explode", None).unwrap_err();
        assert!(matches!(err, Error::Invalid { ref field, .. } if field == "command"));
    }

    #[test]
    fn a_command_serialises_with_its_name_and_leg() {
        let leg = LegId::new();
        let json = serde_json::to_value(ControlCommand::Remove { leg_id: leg }).unwrap();
        assert_eq!(json["command"], "remove");
        assert_eq!(json["leg_id"], leg.to_string());
        assert_eq!(
            serde_json::to_value(ControlCommand::MuteAll).unwrap(),
            serde_json::json!({"command": "mute_all"})
        );
    }
}
