//! Conferences: what is scheduled, when callers may join, and its life.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::{AccessCodes, AccountId, ConferenceId, ConferenceNumber, Language, PromptId, UserId};

/// How long before the planned start callers are let in (seed: « Les accès sont
/// acceptés 5 minutes avant l'heure de début planifiée »).
pub const EARLY_ACCESS: Duration = Duration::minutes(5);

/// The longest conference that may be scheduled.
pub const MAX_LENGTH: Duration = Duration::hours(24);

/// The planned start and end, end after start, at most [`MAX_LENGTH`] apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ScheduleRaw", into = "ScheduleRaw")]
pub struct Schedule {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Schedule {
    /// A schedule; refuses an end not after the start, or a conference over 24 h.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, Error> {
        if end <= start {
            return Err(Error::invalid("end", "the end must come after the start"));
        }
        if end - start > MAX_LENGTH {
            return Err(Error::invalid("end", "a conference lasts at most 24 hours"));
        }
        Ok(Self { start, end })
    }

    /// The planned start.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The planned end: no one joins after it.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// When callers are first let in: five minutes before the start.
    pub fn opens_at(&self) -> DateTime<Utc> {
        self.start - EARLY_ACCESS
    }

    /// Whether a caller arriving at `now` is let in: from five minutes before the start
    /// up to and including the planned end (seed: « Aucun accès n'est accepté après
    /// l'heure de fin planifiée »).
    pub fn admission(&self, now: DateTime<Utc>) -> Admission {
        if now < self.opens_at() {
            Admission::NotYetOpen {
                opens_at: self.opens_at(),
            }
        } else if now > self.end {
            Admission::Ended
        } else {
            Admission::Open
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ScheduleRaw {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl TryFrom<ScheduleRaw> for Schedule {
    type Error = Error;
    fn try_from(r: ScheduleRaw) -> Result<Self, Error> {
        Schedule::new(r.start, r.end)
    }
}

impl From<Schedule> for ScheduleRaw {
    fn from(s: Schedule) -> Self {
        ScheduleRaw {
            start: s.start,
            end: s.end,
        }
    }
}

/// Whether a caller may join now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Let them in.
    Open,
    /// Too early; the IVR says when it opens.
    NotYetOpen {
        /// Five minutes before the start.
        opens_at: DateTime<Utc>,
    },
    /// The planned end has passed.
    Ended,
}

/// Where a conference is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConferenceStatus {
    /// Before the access window.
    Scheduled,
    /// In the access window, nobody on the line yet.
    Open,
    /// At least one caller is on the line.
    Running,
    /// Over: the last caller left, or the end passed with nobody in.
    Ended,
}

impl ConferenceStatus {
    /// The status at `now` given how many callers are on the line and whether the
    /// conference was already declared ended.
    ///
    /// A conference with callers is running whatever the clock says: it is never cut
    /// at its planned end, it ends when the last caller leaves (seed: « pas de kick out »).
    pub fn at(schedule: &Schedule, now: DateTime<Utc>, live_callers: u32, ended: bool) -> Self {
        if live_callers > 0 {
            return ConferenceStatus::Running;
        }
        if ended {
            return ConferenceStatus::Ended;
        }
        match schedule.admission(now) {
            Admission::NotYetOpen { .. } => ConferenceStatus::Scheduled,
            Admission::Open => ConferenceStatus::Open,
            Admission::Ended => ConferenceStatus::Ended,
        }
    }
}

/// A scheduled conference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conference {
    /// Identity.
    pub id: ConferenceId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// The 7-digit number callers key, unique across the service.
    pub number: ConferenceNumber,
    /// « Description »: the name shown in the mail and the portal.
    pub description: String,
    /// Planned start and end.
    pub schedule: Schedule,
    /// Whether the mix is recorded.
    pub record: bool,
    /// The intro message played to each admitted caller.
    pub intro_prompt: Option<PromptId>,
    /// Language of the confirmation and of the conference's announcements.
    pub language: Language,
    /// One code per role.
    pub codes: AccessCodes,
    /// Who scheduled it (operators may change only their own).
    pub created_by: UserId,
    /// Callers it may hold at once, from the account's plan when created.
    pub max_participants: u32,
    /// Set once the conference is over; it never reopens.
    pub ended_at: Option<DateTime<Utc>>,
    /// When it was scheduled.
    pub created_at: DateTime<Utc>,
}

impl Conference {
    /// Checks the description (required, ≤ 200 characters).
    pub fn validate_description(description: &str) -> Result<String, Error> {
        crate::account::validate_name("description", description, 200)
    }

    /// A new conference starting no earlier than `now`.
    #[allow(clippy::too_many_arguments)]
    pub fn schedule(
        account_id: AccountId,
        number: ConferenceNumber,
        description: &str,
        schedule: Schedule,
        record: bool,
        language: Language,
        codes: AccessCodes,
        created_by: UserId,
        max_participants: u32,
        now: DateTime<Utc>,
    ) -> Result<Self, Error> {
        if schedule.start() < now {
            return Err(Error::invalid("start", "the start cannot be in the past"));
        }
        Ok(Self {
            id: ConferenceId::new(),
            account_id,
            number,
            description: Self::validate_description(description)?,
            schedule,
            record,
            intro_prompt: None,
            language,
            codes,
            created_by,
            max_participants,
            ended_at: None,
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 6, h, m, s).unwrap()
    }

    /// The seed's example: 09:30 to 11:00.
    fn seed_schedule() -> Schedule {
        Schedule::new(at(9, 30, 0), at(11, 0, 0)).unwrap()
    }

    #[test]
    fn four_minutes_fifty_nine_before_start_is_accepted() {
        assert_eq!(seed_schedule().admission(at(9, 25, 1)), Admission::Open);
    }

    #[test]
    fn exactly_five_minutes_before_start_is_accepted() {
        assert_eq!(seed_schedule().admission(at(9, 25, 0)), Admission::Open);
    }

    #[test]
    fn five_minutes_one_second_before_start_is_refused_with_the_opening_time() {
        assert_eq!(
            seed_schedule().admission(at(9, 24, 59)),
            Admission::NotYetOpen {
                opens_at: at(9, 25, 0)
            }
        );
    }

    #[test]
    fn the_planned_end_itself_is_still_accepted() {
        assert_eq!(seed_schedule().admission(at(11, 0, 0)), Admission::Open);
    }

    #[test]
    fn one_second_after_end_is_refused() {
        assert_eq!(seed_schedule().admission(at(11, 0, 1)), Admission::Ended);
    }

    #[test]
    fn a_conference_running_past_its_end_is_not_cut() {
        let s = seed_schedule();
        for late in [at(11, 0, 1), at(13, 0, 0), at(23, 59, 59)] {
            assert_eq!(
                ConferenceStatus::at(&s, late, 1, false),
                ConferenceStatus::Running
            );
        }
        assert_eq!(
            ConferenceStatus::at(&s, at(13, 0, 0), 0, false),
            ConferenceStatus::Ended
        );
    }

    #[test]
    fn the_status_follows_the_window_and_the_callers() {
        let s = seed_schedule();
        assert_eq!(
            ConferenceStatus::at(&s, at(9, 0, 0), 0, false),
            ConferenceStatus::Scheduled
        );
        assert_eq!(
            ConferenceStatus::at(&s, at(9, 26, 0), 0, false),
            ConferenceStatus::Open
        );
        assert_eq!(
            ConferenceStatus::at(&s, at(9, 31, 0), 3, false),
            ConferenceStatus::Running
        );
        // Declared ended (the last caller left) stays ended even inside the window.
        assert_eq!(
            ConferenceStatus::at(&s, at(10, 0, 0), 0, true),
            ConferenceStatus::Ended
        );
    }

    #[test]
    fn end_must_follow_start_within_a_day() {
        assert!(
            matches!(Schedule::new(at(10, 0, 0), at(10, 0, 0)), Err(Error::Invalid { ref field, .. }) if field == "end")
        );
        assert!(Schedule::new(at(10, 0, 0), at(9, 0, 0)).is_err());
        assert!(Schedule::new(at(0, 0, 0), at(0, 0, 0) + Duration::hours(24)).is_ok());
        assert!(Schedule::new(at(0, 0, 0), at(0, 0, 1) + Duration::hours(24)).is_err());
    }

    #[test]
    fn a_stored_schedule_is_revalidated() {
        let bad = r#"{"start":"2026-06-06T11:00:00Z","end":"2026-06-06T10:00:00Z"}"#;
        assert!(serde_json::from_str::<Schedule>(bad).is_err());
    }
}
