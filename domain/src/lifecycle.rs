//! A conference's life as the scheduler records it: `scheduled → open → running →
//! ended`, each step written once, and what the store tells about the callers.
//!
//! The rules (seed: « L'accès est ouvert 5 minutes avant l'heure de début »,
//! « La téléconférence prend fin une fois que tous les participants ont quitté (pas
//! de kick out) », « Aucun accès n'est accepté après l'heure de fin planifiée »):
//!
//! - **open** at start − 5 min ([`Schedule::opens_at`]);
//! - **running** once the first caller is admitted: the media node opens a CDR leg at
//!   admission, so the first leg's join time is the moment;
//! - **ended** once nobody is on the line *and* nobody may join any more: the planned end
//!   has passed and every leg is closed. A conference whose callers all hang up before
//!   the end stays running (the node still admits callers until the planned end, and one
//!   who dropped may call back); one still talking at its end ends when its last caller
//!   leaves; one nobody joined ends at its planned end (`open → ended`).
//!
//! [`Lifecycle::steps`] is pure: given what the store shows now it returns the
//! transitions due, in order, each with the instant it happened (not the instant it
//! was noticed). The scheduler writes them one by one, each conditional on the status
//! before it, so a duplicated or late invocation writes nothing twice and never moves
//! a conference backwards.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{AccountId, CallLeg, ConferenceId, ConferenceStatus, Schedule};

/// What the store shows of a conference's callers, summarised from its CDR legs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Callers {
    /// When the first caller was admitted; `None` if nobody has been.
    pub first_join: Option<DateTime<Utc>>,
    /// Legs still open (callers on the line).
    pub on_the_line: usize,
    /// When the last closed leg left.
    pub last_leave: Option<DateTime<Utc>>,
}

impl Callers {
    /// The summary of a conference's legs.
    pub fn from_legs(legs: &[CallLeg]) -> Self {
        Self {
            first_join: legs.iter().map(|l| l.joined_at).min(),
            on_the_line: legs.iter().filter(|l| l.left_at.is_none()).count(),
            last_leave: legs.iter().filter_map(|l| l.left_at).max(),
        }
    }
}

/// The recorded life of one conference (absent from the store while `scheduled`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Its account.
    pub account_id: AccountId,
    /// Where it is now.
    pub status: ConferenceStatus,
    /// When access opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_at: Option<DateTime<Utc>>,
    /// When the first caller was admitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_at: Option<DateTime<Utc>>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
}

/// One transition, with the instant it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// The status before.
    pub from: ConferenceStatus,
    /// The status after.
    pub to: ConferenceStatus,
    /// When it happened.
    pub at: DateTime<Utc>,
}

impl Lifecycle {
    /// A conference not yet opened.
    pub fn scheduled(conference_id: ConferenceId, account_id: AccountId) -> Self {
        Self {
            conference_id,
            account_id,
            status: ConferenceStatus::Scheduled,
            opened_at: None,
            running_at: None,
            ended_at: None,
        }
    }

    /// The transitions due at `now`, in order (none when the status is current).
    pub fn steps(&self, schedule: &Schedule, callers: Callers, now: DateTime<Utc>) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut status = self.status;
        while let Some((to, at)) = next(status, schedule, callers, now) {
            steps.push(Step {
                from: status,
                to,
                at,
            });
            status = to;
        }
        steps
    }

    /// This lifecycle after `step` (which must start from its status).
    pub fn after(&self, step: Step) -> Self {
        debug_assert_eq!(self.status, step.from);
        let mut next = self.clone();
        next.status = step.to;
        match step.to {
            ConferenceStatus::Scheduled => {}
            ConferenceStatus::Open => next.opened_at = Some(step.at),
            ConferenceStatus::Running => next.running_at = Some(step.at),
            ConferenceStatus::Ended => next.ended_at = Some(step.at),
        }
        next
    }
}

/// The one transition due from `status`, if any.
fn next(
    status: ConferenceStatus,
    schedule: &Schedule,
    callers: Callers,
    now: DateTime<Utc>,
) -> Option<(ConferenceStatus, DateTime<Utc>)> {
    let closed = now > schedule.end() && callers.on_the_line == 0;
    match status {
        // A caller seen before the window (a node's clock ahead) still opens it first.
        ConferenceStatus::Scheduled => (now >= schedule.opens_at() || callers.first_join.is_some())
            .then(|| (ConferenceStatus::Open, schedule.opens_at())),
        ConferenceStatus::Open => match callers.first_join {
            Some(first) => Some((ConferenceStatus::Running, first)),
            None if closed => Some((ConferenceStatus::Ended, schedule.end())),
            None => None,
        },
        ConferenceStatus::Running => closed.then(|| {
            let at = callers
                .last_leave
                .map_or(schedule.end(), |l| l.max(schedule.end()));
            (ConferenceStatus::Ended, at)
        }),
        ConferenceStatus::Ended => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConferenceStatus::{Ended, Open, Running, Scheduled};
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 6, h, m, 0).unwrap()
    }

    /// 09:30 to 11:00.
    fn schedule() -> Schedule {
        Schedule::new(at(9, 30), at(11, 0)).unwrap()
    }

    fn fresh() -> Lifecycle {
        Lifecycle::scheduled(ConferenceId::new(), AccountId::new())
    }

    fn statuses(steps: &[Step]) -> Vec<ConferenceStatus> {
        steps.iter().map(|s| s.to).collect()
    }

    fn on_line(first: DateTime<Utc>, n: usize) -> Callers {
        Callers {
            first_join: Some(first),
            on_the_line: n,
            last_leave: None,
        }
    }

    #[test]
    fn nothing_happens_before_the_window() {
        assert!(
            fresh()
                .steps(&schedule(), Callers::default(), at(9, 24))
                .is_empty()
        );
    }

    #[test]
    fn access_opens_five_minutes_before_the_start() {
        let steps = fresh().steps(&schedule(), Callers::default(), at(9, 25));
        assert_eq!(
            steps,
            vec![Step {
                from: Scheduled,
                to: Open,
                at: at(9, 25)
            }]
        );
    }

    #[test]
    fn the_first_caller_makes_it_running_at_their_join() {
        let open = fresh().after(Step {
            from: Scheduled,
            to: Open,
            at: at(9, 25),
        });
        let steps = open.steps(&schedule(), on_line(at(9, 27), 1), at(9, 28));
        assert_eq!(statuses(&steps), vec![Running]);
        assert_eq!(steps[0].at, at(9, 27));
    }

    #[test]
    fn an_empty_room_before_the_end_keeps_running() {
        let callers = Callers {
            first_join: Some(at(9, 27)),
            on_the_line: 0,
            last_leave: Some(at(9, 40)),
        };
        let running = Lifecycle {
            status: Running,
            ..fresh()
        };
        assert!(running.steps(&schedule(), callers, at(10, 0)).is_empty());
        let steps = running.steps(&schedule(), callers, at(11, 1));
        assert_eq!(statuses(&steps), vec![Ended]);
        assert_eq!(steps[0].at, at(11, 0), "ended at the planned end");
    }

    #[test]
    fn a_conference_is_never_cut_and_ends_when_its_last_caller_leaves() {
        let running = Lifecycle {
            status: Running,
            ..fresh()
        };
        assert!(
            running
                .steps(&schedule(), on_line(at(9, 27), 2), at(12, 0))
                .is_empty()
        );
        let left = Callers {
            first_join: Some(at(9, 27)),
            on_the_line: 0,
            last_leave: Some(at(12, 10)),
        };
        let steps = running.steps(&schedule(), left, at(12, 11));
        assert_eq!(statuses(&steps), vec![Ended]);
        assert_eq!(steps[0].at, at(12, 10));
    }

    #[test]
    fn nobody_came_ends_at_the_planned_end() {
        let steps = fresh().steps(&schedule(), Callers::default(), at(11, 0));
        assert_eq!(statuses(&steps), vec![Open], "the end itself is still open");
        let steps = fresh().steps(&schedule(), Callers::default(), at(11, 1));
        assert_eq!(statuses(&steps), vec![Open, Ended]);
        assert_eq!(steps[1].at, at(11, 0));
    }

    #[test]
    fn a_scheduler_that_was_down_catches_up_in_order() {
        let callers = Callers {
            first_join: Some(at(9, 31)),
            on_the_line: 0,
            last_leave: Some(at(10, 45)),
        };
        let steps = fresh().steps(&schedule(), callers, at(13, 0));
        assert_eq!(statuses(&steps), vec![Open, Running, Ended]);
        assert_eq!(
            steps.iter().map(|s| s.at).collect::<Vec<_>>(),
            vec![at(9, 25), at(9, 31), at(11, 0)]
        );
        let mut life = fresh();
        for s in steps {
            life = life.after(s);
        }
        assert_eq!(life.status, Ended);
        assert_eq!(life.opened_at, Some(at(9, 25)));
        assert_eq!(life.running_at, Some(at(9, 31)));
        assert_eq!(life.ended_at, Some(at(11, 0)));
    }

    #[test]
    fn an_ended_conference_never_moves_again() {
        let ended = Lifecycle {
            status: Ended,
            ..fresh()
        };
        assert!(
            ended
                .steps(&schedule(), on_line(at(9, 27), 3), at(10, 0))
                .is_empty()
        );
    }

    #[test]
    fn callers_are_summarised_from_the_legs() {
        assert_eq!(Callers::from_legs(&[]), Callers::default());
    }
}
