//! Usage pricing, in exact decimal money (never floating point).
//!
//! The seed: « Le frais d'utilisation est de 0.09 $/minute par participant ». Each
//! leg's time on the line is rounded **up** to the plan's increment (60 s by default:
//! every started minute is billed), the billable seconds of a group of legs are
//! added as integers, and money appears once per group: `rate × seconds / 60`,
//! rounded to the cent half away from zero. Adding integers and rounding once
//! means a line's amount does not depend on the order or the grouping of its legs.

use rust_decimal::{Decimal, RoundingStrategy};

use crate::Plan;

/// A leg's billable seconds: its length rounded up to a whole multiple of
/// `increment_secs`. A zero-length leg (a caller who never got in) is free.
pub fn billable_seconds(duration_ms: u64, increment_secs: u32) -> u64 {
    let step_ms = u64::from(increment_secs.max(1)) * 1_000;
    duration_ms.div_ceil(step_ms) * u64::from(increment_secs.max(1))
}

/// Money to the cent, half away from zero (how an invoice rounds).
pub fn to_cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The price of `seconds` billable seconds at `rate_per_minute`, to the cent.
pub fn price(seconds: u64, rate_per_minute: Decimal) -> Decimal {
    to_cents(rate_per_minute * Decimal::from(seconds) / Decimal::from(60))
}

/// Usage of a group of legs (a conference's month, an account's month).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Legs counted.
    pub legs: u64,
    /// Their billable seconds.
    pub billable_seconds: u64,
}

impl Usage {
    /// Counts one leg of `duration_ms` under `plan`.
    pub fn add_leg(&mut self, duration_ms: u64, plan: &Plan) {
        self.legs += 1;
        self.billable_seconds += billable_seconds(duration_ms, plan.increment_secs());
    }

    /// Billable minutes, possibly fractional with a sub-minute increment.
    pub fn billable_minutes(&self) -> Decimal {
        Decimal::from(self.billable_seconds) / Decimal::from(60)
    }

    /// What the usage costs under `plan`, to the cent.
    pub fn amount(&self, plan: &Plan) -> Decimal {
        price(self.billable_seconds, plan.rate_per_minute())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::dec;

    fn plan(rate: Decimal, increment: u32) -> Plan {
        Plan::new(25, rate, increment, Decimal::ZERO).unwrap()
    }

    /// The table: legs of 0 s, 1 s, 59 s, 60 s, 61 s and 3 h under
    /// increments of 1, 6, 30 and 60 s, at the seed's 0.09 $/min.
    #[test]
    fn every_leg_length_under_every_increment_bills_as_the_table_says() {
        #[rustfmt::skip]
        let cases: &[(u64, u32, u64, Decimal)] = &[
            // leg s, increment s, billable s, amount at 0.09 $/min
            (0,      1,  0,      dec!(0.00)),
            (1,      1,  1,      dec!(0.00)),  // 0.0015
            (59,     1,  59,     dec!(0.09)),  // 0.0885
            (60,     1,  60,     dec!(0.09)),
            (61,     1,  61,     dec!(0.09)),  // 0.0915
            (10_800, 1,  10_800, dec!(16.20)),
            (0,      6,  0,      dec!(0.00)),
            (1,      6,  6,      dec!(0.01)),  // 0.009
            (59,     6,  60,     dec!(0.09)),
            (60,     6,  60,     dec!(0.09)),
            (61,     6,  66,     dec!(0.10)),  // 0.099
            (10_800, 6,  10_800, dec!(16.20)),
            (0,      30, 0,      dec!(0.00)),
            (1,      30, 30,     dec!(0.05)),  // 0.045, half away from zero
            (59,     30, 60,     dec!(0.09)),
            (60,     30, 60,     dec!(0.09)),
            (61,     30, 90,     dec!(0.14)),  // 0.135
            (10_800, 30, 10_800, dec!(16.20)),
            (0,      60, 0,      dec!(0.00)),
            (1,      60, 60,     dec!(0.09)),
            (59,     60, 60,     dec!(0.09)),
            (60,     60, 60,     dec!(0.09)),
            (61,     60, 120,    dec!(0.18)),
            (10_800, 60, 10_800, dec!(16.20)),
        ];
        for &(secs, inc, billable, amount) in cases {
            let p = plan(dec!(0.09), inc);
            assert_eq!(
                billable_seconds(secs * 1_000, inc),
                billable,
                "{secs} s at {inc} s"
            );
            let mut u = Usage::default();
            u.add_leg(secs * 1_000, &p);
            assert_eq!(u.amount(&p), amount, "{secs} s at {inc} s");
        }
    }

    #[test]
    fn a_rate_is_applied_to_the_rounded_seconds_exactly() {
        #[rustfmt::skip]
        let cases: &[(Decimal, u64, Decimal)] = &[
            // rate $/min, billable s, amount
            (dec!(0.09),   120,    dec!(0.18)),
            (dec!(0.12),   120,    dec!(0.24)),
            (dec!(0.05),   120,    dec!(0.10)),
            (dec!(0.0775), 120,    dec!(0.16)),  // 0.155
            (dec!(0.0775), 60,     dec!(0.08)),  // 0.0775
            (dec!(0),      10_800, dec!(0.00)),
            (dec!(1.99),   10_800, dec!(358.20)),
        ];
        for &(rate, secs, amount) in cases {
            assert_eq!(price(secs, rate), amount, "{secs} s at {rate}");
        }
    }

    #[test]
    fn legs_round_up_to_the_increment() {
        #[rustfmt::skip]
        let cases: &[(u64, u32, u64)] = &[
            // duration ms, increment s, billable s
            (0,       60, 0),
            (1_000,   60, 60),
            (59_000,  60, 60),
            (60_000,  60, 60),
            (60_001,  60, 120),
            (61_000,  60, 120),
            (0,        1, 0),
            (1,        1, 1),
            (1_000,    1, 1),
            (61_000,   1, 61),
            (61_000,   6, 66),
            (61_000,  30, 90),
            (10_800_000, 60, 10_800),
        ];
        for &(ms, inc, want) in cases {
            assert_eq!(billable_seconds(ms, inc), want, "{ms} ms at {inc} s");
        }
    }

    #[test]
    fn one_leg_costs_what_the_seed_says() {
        #[rustfmt::skip]
        let cases: &[(u64, u32, Decimal)] = &[
            (0,      60, dec!(0.00)),
            (1_000,  60, dec!(0.09)),
            (60_000, 60, dec!(0.09)),
            (61_000, 60, dec!(0.18)),
            (1_000,   1, dec!(0.00)), // 0.0015
            (60_000,  1, dec!(0.09)),
            (61_000,  1, dec!(0.09)), // 0.0915
            (10_800_000, 60, dec!(16.20)), // 3 h
        ];
        for &(ms, inc, want) in cases {
            let mut u = Usage::default();
            u.add_leg(ms, &plan(dec!(0.09), inc));
            assert_eq!(u.amount(&plan(dec!(0.09), inc)), want, "{ms} ms at {inc} s");
        }
    }

    #[test]
    fn sums_are_exact_to_the_cent() {
        // 1,000 one-second legs at per-second billing: 1,000 s = $1.50 exactly, which
        // rounding each leg to the cent ($0.00 each) would have lost.
        let p = plan(dec!(0.09), 1);
        let mut u = Usage::default();
        for _ in 0..1_000 {
            u.add_leg(1_000, &p);
        }
        assert_eq!(u.amount(&p), dec!(1.50));
        assert_eq!(u.billable_minutes(), dec!(1000) / dec!(60));

        // A rate that does not divide evenly: 7¢/min for 1 s = 0.11666…¢ → 0.00; for 50 s → 5.833…¢ → 0.06.
        assert_eq!(price(1, dec!(0.07)), dec!(0.00));
        assert_eq!(price(50, dec!(0.07)), dec!(0.06));
        // Half a cent rounds away from zero: 0.09 × 10 s / 60 = 0.015.
        assert_eq!(price(10, dec!(0.09)), dec!(0.02));
    }

    #[test]
    fn grouping_does_not_change_the_total() {
        let p = plan(dec!(0.09), 60);
        let durations = [0u64, 1_000, 59_999, 60_000, 61_000, 3_600_000, 7];
        let mut all = Usage::default();
        for &d in &durations {
            all.add_leg(d, &p);
        }
        let mut a = Usage::default();
        let mut b = Usage::default();
        for (i, &d) in durations.iter().enumerate() {
            if i % 2 == 0 {
                a.add_leg(d, &p)
            } else {
                b.add_leg(d, &p)
            }
        }
        assert_eq!(
            a.billable_seconds + b.billable_seconds,
            all.billable_seconds
        );
        assert_eq!(all.legs, 7);
        assert_eq!(
            all.amount(&p),
            dec!(0.09) * Decimal::from(all.billable_seconds / 60)
        );
    }

    #[test]
    fn a_rate_change_prices_the_same_seconds_differently() {
        let mut u = Usage::default();
        u.add_leg(61_000, &plan(dec!(0.09), 60));
        assert_eq!(u.amount(&plan(dec!(0.09), 60)), dec!(0.18));
        assert_eq!(u.amount(&plan(dec!(0.12), 60)), dec!(0.24));
    }
}
