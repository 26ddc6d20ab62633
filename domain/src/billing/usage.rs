//! The pricing and aggregation core: a pure function over a stream of CDR legs.
//!
//! [`UsageMeter`] takes legs one at a time (any order, any number) and keeps, per
//! conference, the legs counted and their billable seconds under each plan the
//! account had; [`UsageMeter::finish`] prices each conference once per plan
//! ([`price`]) and returns the month's [`MonthUsage`], sorted by conference
//! number. Legs still open are counted apart and never billed: they are billed once
//! closed, as late legs ([`super::invoice`]). Integers only on the hot path; money
//! appears once per conference and plan.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::pricing::{billable_seconds, price};
use crate::{Account, CallLeg, ConferenceId, ConferenceNumber, Plan};

/// One conference's usage in a month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConferenceUsage {
    /// The conference.
    pub conference_id: ConferenceId,
    /// Its number.
    pub conference_number: ConferenceNumber,
    /// Closed legs counted.
    pub legs: u64,
    /// Their billable seconds.
    pub billable_seconds: u64,
    /// Their price, to the cent (each plan's share rounded once).
    pub amount: Decimal,
    /// The rate per participant-minute they were priced at; `None` when the plan
    /// changed during the month and its legs were priced at two rates.
    pub rate_per_minute: Option<Decimal>,
}

/// A month of an account's legs, priced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MonthUsage {
    /// One entry per conference with a closed leg, by conference number.
    pub conferences: Vec<ConferenceUsage>,
    /// Legs still on the line (not billed yet).
    pub open_legs: u64,
}

impl MonthUsage {
    /// Closed legs counted.
    pub fn legs(&self) -> u64 {
        self.conferences.iter().map(|c| c.legs).sum()
    }

    /// Their billable seconds.
    pub fn billable_seconds(&self) -> u64 {
        self.conferences.iter().map(|c| c.billable_seconds).sum()
    }

    /// Their price.
    pub fn amount(&self) -> Decimal {
        self.conferences.iter().map(|c| c.amount).sum()
    }
}

/// The plans an account had, oldest first, each with the instant it ended.
#[derive(Debug, Clone)]
struct Timeline<'a> {
    /// `(until, plan)` for each past plan, then `(None, current plan)`.
    plans: Vec<(Option<DateTime<Utc>>, &'a Plan)>,
}

impl<'a> Timeline<'a> {
    fn of(account: &'a Account) -> Self {
        let mut plans: Vec<_> = account
            .plan_history
            .iter()
            .map(|p| (Some(p.until), &p.plan))
            .collect();
        plans.push((None, &account.plan));
        Self { plans }
    }

    /// Index of the plan in force at `at` (the same rule as [`Account::plan_at`]).
    fn index_at(&self, at: DateTime<Utc>) -> usize {
        if self.plans.len() == 1 {
            return 0;
        }
        self.plans
            .iter()
            .position(|(until, _)| until.is_none_or(|u| at < u))
            .unwrap_or(self.plans.len() - 1)
    }
}

/// What is kept per conference while legs stream in.
#[derive(Debug)]
struct Tally {
    number: ConferenceNumber,
    /// Legs under each plan of the timeline.
    legs: Vec<u64>,
    /// Billable seconds under each plan of the timeline.
    seconds: Vec<u64>,
}

/// Meters legs into a [`MonthUsage`].
#[derive(Debug)]
pub struct UsageMeter<'a> {
    timeline: Timeline<'a>,
    /// Each plan's increment, in seconds.
    increments: Vec<u32>,
    tallies: HashMap<ConferenceId, Tally>,
    open_legs: u64,
}

impl<'a> UsageMeter<'a> {
    /// A meter pricing with `account`'s plans (each leg with the plan in force when it
    /// started).
    pub fn new(account: &'a Account) -> Self {
        let timeline = Timeline::of(account);
        let increments = timeline
            .plans
            .iter()
            .map(|(_, p)| p.increment_secs())
            .collect();
        Self {
            timeline,
            increments,
            tallies: HashMap::new(),
            open_legs: 0,
        }
    }

    /// Counts one leg.
    pub fn add(&mut self, leg: &CallLeg) {
        let Some(duration_ms) = leg.duration_ms() else {
            self.open_legs += 1;
            return;
        };
        let plan = self.timeline.index_at(leg.joined_at);
        let seconds = billable_seconds(duration_ms, self.increments[plan]);
        let plans = self.increments.len();
        let tally = self
            .tallies
            .entry(leg.conference_id)
            .or_insert_with(|| Tally {
                number: leg.conference_number.clone(),
                legs: vec![0; plans],
                seconds: vec![0; plans],
            });
        tally.legs[plan] += 1;
        tally.seconds[plan] += seconds;
    }

    /// Counts every leg of `legs`.
    pub fn add_all<'l>(&mut self, legs: impl IntoIterator<Item = &'l CallLeg>) {
        for leg in legs {
            self.add(leg);
        }
    }

    /// Prices each conference and returns the month, sorted by conference number
    /// (then id, should two conferences ever share a number across time).
    pub fn finish(self) -> MonthUsage {
        let mut conferences: Vec<ConferenceUsage> = self
            .tallies
            .into_iter()
            .map(|(conference_id, t)| {
                let plans = || {
                    t.legs
                        .iter()
                        .zip(&t.seconds)
                        .zip(&self.timeline.plans)
                        .filter(|((legs, _), _)| **legs > 0)
                        .map(|((_, &s), (_, plan))| (s, plan.rate_per_minute()))
                };
                let first_rate = plans().next().map(|(_, rate)| rate);
                ConferenceUsage {
                    conference_id,
                    amount: plans().map(|(s, rate)| price(s, rate)).sum(),
                    rate_per_minute: first_rate
                        .filter(|first| plans().all(|(_, rate)| rate == *first)),
                    billable_seconds: t.seconds.iter().sum(),
                    legs: t.legs.iter().sum(),
                    conference_number: t.number,
                }
            })
            .collect();
        conferences.sort_by(|a, b| {
            (a.conference_number.as_str(), a.conference_id)
                .cmp(&(b.conference_number.as_str(), b.conference_id))
        });
        MonthUsage {
            conferences,
            open_legs: self.open_legs,
        }
    }
}

/// The month of `legs` for `account`, in one call.
pub fn meter<'l>(account: &Account, legs: impl IntoIterator<Item = &'l CallLeg>) -> MonthUsage {
    let mut meter = UsageMeter::new(account);
    meter.add_all(legs);
    meter.finish()
}

/// A closed participant leg of `conference` (`number`), joined at `joined` and
/// `duration_ms` long, in the month of the join on `account`'s clock: what the media
/// node writes, for tests and benchmarks.
#[cfg(any(test, feature = "testkit"))]
pub fn synthetic_leg(
    account: &Account,
    conference: ConferenceId,
    number: ConferenceNumber,
    joined: DateTime<Utc>,
    duration_ms: i64,
) -> CallLeg {
    use crate::{CallerRole, DisconnectCause, LegId, YearMonth};
    let mut leg = CallLeg {
        id: LegId::new(),
        account_id: account.id,
        conference_id: conference,
        conference_number: number,
        dialled: None,
        caller_id: "+15145550100".into(),
        role: CallerRole::Participant,
        owner_node: None,
        joined_at: joined,
        month: YearMonth::of(joined, account.time_zone),
        left_at: None,
        cause: None,
        quality: None,
        node: None,
    };
    leg.close(
        joined + chrono::Duration::milliseconds(duration_ms),
        DisconnectCause::CallerHangup,
    );
    leg
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;
    use rust_decimal::dec;

    /// A closed leg of `conference` joined at `at`, `ms` long.
    pub(crate) fn leg(
        account: &Account,
        conference: (ConferenceId, &str),
        at: DateTime<Utc>,
        ms: i64,
    ) -> CallLeg {
        let number = conference.1.parse().expect("a 7-digit number");
        synthetic_leg(account, conference.0, number, at, ms)
    }

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn legs_are_summed_per_conference_and_sorted_by_number() {
        let account = Account::new("Omnivigil", at(1, 0)).unwrap();
        let a = (ConferenceId::new(), "7654321");
        let b = (ConferenceId::new(), "1234567");
        let legs = [
            leg(&account, a, at(2, 14), 61_000),
            leg(&account, b, at(3, 14), 1_000),
            leg(&account, a, at(2, 15), 3 * 3_600_000),
            leg(&account, b, at(3, 15), 0),
        ];
        let mut open = leg(&account, a, at(4, 9), 0);
        open.left_at = None;
        let usage = meter(&account, legs.iter().chain([&open]));
        assert_eq!(usage.open_legs, 1);
        assert_eq!(usage.conferences.len(), 2);
        let (first, second) = (&usage.conferences[0], &usage.conferences[1]);
        assert_eq!(first.conference_number.as_str(), "1234567");
        assert_eq!((first.legs, first.billable_seconds), (2, 60));
        assert_eq!(first.amount, dec!(0.09));
        assert_eq!((second.legs, second.billable_seconds), (2, 120 + 10_800));
        assert_eq!(second.amount, dec!(16.38));
        assert_eq!(usage.amount(), dec!(16.47));
        assert_eq!(usage.legs(), 4);
        assert_eq!(first.rate_per_minute, Some(dec!(0.09)));
        assert_eq!(second.rate_per_minute, Some(dec!(0.09)));
    }

    #[test]
    fn each_leg_is_priced_with_the_plan_in_force_when_it_started() {
        let mut account = Account::new("Omnivigil", at(1, 0)).unwrap();
        account.change_plan(
            Plan::new(25, dec!(0.12), 30, Decimal::ZERO).unwrap(),
            at(15, 0),
        );
        let c = (ConferenceId::new(), "7654321");
        let legs = [
            // Before the change: whole minutes at 0.09: 120 s → 0.18.
            leg(&account, c, at(14, 23), 61_000),
            // After: 30 s steps at 0.12: 90 s → 0.18.
            leg(&account, c, at(15, 1), 61_000),
        ];
        let usage = meter(&account, &legs);
        assert_eq!(usage.conferences[0].billable_seconds, 210);
        assert_eq!(usage.conferences[0].amount, dec!(0.36));
        // Two rates: no one rate to show.
        assert_eq!(usage.conferences[0].rate_per_minute, None);
        // A conference called only after the change shows the new rate.
        let later = (ConferenceId::new(), "1234567");
        let usage = meter(&account, &[leg(&account, later, at(16, 9), 1_000)]);
        assert_eq!(usage.conferences[0].rate_per_minute, Some(dec!(0.12)));
    }

    #[test]
    fn the_order_of_the_legs_does_not_change_the_result() {
        let account = Account::new("Omnivigil", at(1, 0)).unwrap();
        let confs: Vec<_> = (0..5)
            .map(|i| (ConferenceId::new(), format!("{}", 1_000_000 + i)))
            .collect();
        let legs: Vec<CallLeg> = (0..200)
            .map(|i| {
                let c = &confs[i % 5];
                leg(&account, (c.0, &c.1), at(2, 0), (i as i64) * 7_919)
            })
            .collect();
        let forward = meter(&account, &legs);
        let backward = meter(&account, legs.iter().rev());
        assert_eq!(forward, backward);
    }
}
