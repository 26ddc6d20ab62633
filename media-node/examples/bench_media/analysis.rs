//! What the callers received in a window: frames lost, lateness against each
//! room's 20 ms grid, incomplete mixes.

use std::collections::HashMap;
use std::f64::consts::TAU;

use crate::generator::Marker;
use crate::{EDGE_NS, PERIOD_NS};

/// One RTP frame received by a caller.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arrival {
    /// Kernel receive time (CLOCK_REALTIME), ns.
    pub(crate) t_ns: i64,
    pub(crate) seq: u16,
    pub(crate) mix: Mix,
}

/// What a received payload was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mix {
    /// Every talker (what a listener hears).
    Full,
    /// Every talker but one (what a talker hears).
    MinusOne,
    /// Anything else (a talker's frame missed the tick, a prompt, …).
    Other,
}

/// A caller's frames of one window.
#[derive(Debug, Clone)]
pub(crate) struct CallerRecord {
    pub(crate) room: usize,
    pub(crate) talker: bool,
    /// It called its room's member node (cascade mode).
    pub(crate) member: bool,
    pub(crate) arrivals: Vec<Arrival>,
}

/// Longest mouth-to-ear delay looked for: a later mix without the marked talker
/// is not the marker's.
const MOUTH_TO_EAR_MAX_NS: i64 = 200_000_000;

/// Mouth-to-ear delays (ns, sorted) of the listeners on the talkers' node and of
/// those on the member node: for each [`Marker`] and each listener of its room,
/// from the marker's send to the first mix the listener receives without the
/// marked talker (every talker but one: [`Mix::MinusOne`]). A marker whose mix
/// never came is not counted (it shows in frames lost).
pub(crate) fn mouth_to_ear(callers: &[CallerRecord], markers: &[Marker]) -> (Vec<i64>, Vec<i64>) {
    let mut by_room: HashMap<usize, Vec<i64>> = HashMap::new();
    for marker in markers {
        by_room.entry(marker.room).or_default().push(marker.t_ns);
    }
    let (mut local, mut cascaded) = (Vec::new(), Vec::new());
    for caller in callers.iter().filter(|caller| !caller.talker) {
        let Some(sent) = by_room.get(&caller.room) else {
            continue;
        };
        for &t_ns in sent {
            let heard = caller
                .arrivals
                .iter()
                .filter(|a| a.mix == Mix::MinusOne)
                .map(|a| a.t_ns - t_ns)
                .filter(|delay| (0..MOUTH_TO_EAR_MAX_NS).contains(delay))
                .min();
            if let Some(delay) = heard {
                if caller.member {
                    &mut cascaded
                } else {
                    &mut local
                }
                .push(delay);
            }
        }
    }
    local.sort_unstable();
    cascaded.sort_unstable();
    (local, cascaded)
}

/// The frame figures of a window.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Analysis {
    pub(crate) expected: u64,
    pub(crate) lost: u64,
    pub(crate) seq_gaps: u64,
    pub(crate) incomplete: u64,
    pub(crate) callers_losing: usize,
    /// Lateness p50, p99, max, in ms.
    pub(crate) late_ms: (f64, f64, f64),
}

/// Frames lost and lateness over `[w0, w1)`, per room (see the module doc).
pub(crate) fn analyse(callers: &[CallerRecord], w0: i64, w1: i64) -> Analysis {
    let mut rooms: HashMap<usize, Vec<&CallerRecord>> = HashMap::new();
    for caller in callers {
        rooms.entry(caller.room).or_default().push(caller);
    }
    let mut analysis = Analysis::default();
    let mut lateness: Vec<i64> = Vec::new();
    for legs in rooms.values() {
        // Each leg's grid from its sequence numbers: anchor = the earliest
        // `arrival - 20 ms × frames since the first`.
        let grids: Vec<Option<LegGrid>> = legs
            .iter()
            .map(|leg| LegGrid::of(leg.arrivals.iter().filter(|a| a.t_ns >= w0 && a.t_ns < w1)))
            .collect();
        let anchors: Vec<i64> = grids.iter().flatten().map(|grid| grid.anchor).collect();
        let Some((room_anchor, extras)) = room_grid(&anchors, PERIOD_NS) else {
            // No frame at all in the room: every frame of every leg is lost.
            let frames = ((w1 - w0 - 2 * EDGE_NS) / PERIOD_NS).max(0) as u64;
            analysis.expected += frames * legs.len() as u64;
            analysis.lost += frames * legs.len() as u64;
            analysis.callers_losing += legs.len();
            continue;
        };
        // The room's grid points that count: inside the window, away from its edges.
        let first = room_anchor
            + (w0 + EDGE_NS - room_anchor).div_euclid(PERIOD_NS) * PERIOD_NS
            + PERIOD_NS;
        let frames = ((w1 - EDGE_NS - first) / PERIOD_NS).max(0);
        let end = first + frames * PERIOD_NS;
        // A frame is counted in the slot it was due, whatever its lateness under
        // 20 ms: the window's edges sit just before grid points.
        let (from, to) = (first - PERIOD_NS / 40, end - PERIOD_NS / 40);
        let mut extras = extras.into_iter();
        for (leg, grid) in legs.iter().zip(&grids) {
            analysis.expected += frames as u64;
            let Some(grid) = grid else {
                analysis.lost += frames as u64;
                analysis.callers_losing += 1;
                continue;
            };
            let extra = extras.next().unwrap_or(0);
            lateness.extend(grid.lateness.iter().map(|late| late + extra));
            analysis.seq_gaps += grid.seq_gaps;
            let counted = leg
                .arrivals
                .iter()
                .filter(|a| a.t_ns >= from && a.t_ns < to);
            let wanted = if leg.talker { Mix::MinusOne } else { Mix::Full };
            let (mut received, mut incomplete) = (0i64, 0u64);
            for arrival in counted {
                received += 1;
                incomplete += u64::from(arrival.mix != wanted);
            }
            let lost = (frames - received).max(0) as u64;
            analysis.lost += lost;
            analysis.callers_losing += usize::from(lost > 0);
            analysis.incomplete += incomplete;
        }
    }
    lateness.sort_unstable();
    let ms = |ns: i64| ns as f64 / 1e6;
    analysis.late_ms = (
        ms(percentile(&lateness, 0.50)),
        ms(percentile(&lateness, 0.99)),
        ms(lateness.last().copied().unwrap_or(0)),
    );
    analysis
}

/// One leg's frames against its own 20 ms grid.
#[derive(Debug, Clone, PartialEq)]
struct LegGrid {
    /// When its first frame would have arrived had it come as early as its
    /// earliest one (ns).
    anchor: i64,
    /// Each frame's lateness against that grid (ns, ≥ 0).
    lateness: Vec<i64>,
    /// Frames missing from the sequence numbers (sent but never received).
    seq_gaps: u64,
}

impl LegGrid {
    fn of<'a>(arrivals: impl Iterator<Item = &'a Arrival>) -> Option<Self> {
        let mut slots: Vec<(i64, i64)> = Vec::new(); // (arrival, frames since the first)
        let mut seq_gaps = 0;
        let mut last: Option<(u16, i64)> = None;
        for arrival in arrivals {
            let frame = match last {
                None => 0,
                Some((seq, frame)) => {
                    let step = i64::from(arrival.seq.wrapping_sub(seq) as i16);
                    if step <= 0 {
                        continue; // duplicate or reordered: not a new frame
                    }
                    seq_gaps += (step - 1) as u64;
                    frame + step
                }
            };
            last = Some((arrival.seq, frame));
            slots.push((arrival.t_ns, frame));
        }
        let anchor = slots
            .iter()
            .map(|&(t, frame)| t - frame * PERIOD_NS)
            .min()?;
        Some(Self {
            anchor,
            lateness: slots
                .iter()
                .map(|&(t, frame)| t - frame * PERIOD_NS - anchor)
                .collect(),
            seq_gaps,
        })
    }
}

/// A room's grid from its legs' anchors: every leg's frames are due on the same
/// 20 ms grid (one tick serves the room), so the anchors differ by how long after
/// the tick the node sent each leg's frame, modulo the period. Returns the room's
/// anchor (the earliest leg's, as an instant of the grid) and each leg's offset
/// from it, in `0..period`.
fn room_grid(anchors: &[i64], period: i64) -> Option<(i64, Vec<i64>)> {
    let &reference = anchors.first()?;
    // The circular mean of the phases, so legs on both sides of the period's wrap
    // stay together.
    let (sin, cos) = anchors.iter().fold((0.0, 0.0), |(sin, cos), &anchor| {
        let angle = (anchor - reference).rem_euclid(period) as f64 / period as f64 * TAU;
        (sin + angle.sin(), cos + angle.cos())
    });
    let mean = reference + (f64::atan2(sin, cos) / TAU * period as f64).round() as i64;
    let offsets: Vec<i64> = anchors
        .iter()
        .map(|&anchor| (anchor - mean + period / 2).rem_euclid(period) - period / 2)
        .collect();
    let earliest = offsets.iter().copied().min()?;
    Some((
        mean + earliest,
        offsets.iter().map(|offset| offset - earliest).collect(),
    ))
}

/// Nearest-rank percentile of sorted values (0 when empty).
pub(crate) fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;

    fn arrivals(frames: &[(u16, i64)]) -> Vec<Arrival> {
        frames
            .iter()
            .map(|&(seq, t_ns)| Arrival {
                t_ns,
                seq,
                mix: Mix::Full,
            })
            .collect()
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(percentile(&values, 0.50), 50);
        assert_eq!(percentile(&values, 0.99), 99);
        assert_eq!(percentile(&values, 1.0), 100);
        assert_eq!(percentile(&[7i64], 0.99), 7);
        assert_eq!(percentile::<i64>(&[], 0.5), 0);
    }

    #[test]
    fn a_leg_is_late_against_its_earliest_frame_and_sequence_gaps_are_counted() {
        let base = 1_000 * MS;
        // Frames 0, 1, 2, (3 missing), 4, 4 again; frame 2 is 3 ms late.
        let grid = LegGrid::of(
            arrivals(&[
                (10, base + MS),
                (11, base + 20 * MS + MS),
                (12, base + 40 * MS + 4 * MS),
                (14, base + 80 * MS + MS),
                (14, base + 80 * MS + 2 * MS),
            ])
            .iter(),
        )
        .expect("a grid");
        assert_eq!(grid.anchor, base + MS);
        assert_eq!(grid.lateness, vec![0, 0, 3 * MS, 0]);
        assert_eq!(grid.seq_gaps, 1);
    }

    #[test]
    fn a_room_grid_holds_legs_on_both_sides_of_the_period_wrap() {
        // Phases 19.9 ms, 0.1 ms (the next period) and 1.0 ms: the earliest is
        // 19.9, the others 0.2 and 1.1 ms after it.
        let anchors = [
            5 * PERIOD_NS + 19_900_000,
            7 * PERIOD_NS + 100_000,
            PERIOD_NS + MS,
        ];
        let (anchor, extras) = room_grid(&anchors, PERIOD_NS).expect("a grid");
        assert_eq!(anchor.rem_euclid(PERIOD_NS), 19_900_000);
        assert_eq!(extras, vec![0, 200_000, 1_100_000]);
    }

    /// 100 frames of a leg due every 20 ms from `base`, arriving 0.5 ms after
    /// their due time; `late` arrives 15 ms after; `unsent` is never sent (the
    /// sequence goes on without it), `dropped` is sent and lost (a sequence gap).
    fn leg(late: Option<i64>, unsent: Option<i64>, dropped: Option<i64>) -> CallerRecord {
        let base = 1_000_000 * MS;
        let mut seq = 0u16;
        let mut arrivals = Vec::new();
        for n in 0..100 {
            if Some(n) == unsent {
                continue;
            }
            seq += 1;
            if Some(n) == dropped {
                continue;
            }
            let after = if Some(n) == late { 15 * MS } else { MS / 2 };
            arrivals.push(Arrival {
                t_ns: base + n * PERIOD_NS + after,
                seq,
                mix: Mix::Full,
            });
        }
        CallerRecord {
            room: 0,
            talker: false,
            member: false,
            arrivals,
        }
    }

    #[test]
    fn mouth_to_ear_is_from_the_marker_to_the_first_mix_without_its_talker() {
        let base = 1_000_000 * MS;
        let listener = |member: bool, heard_after: i64| CallerRecord {
            room: 0,
            talker: false,
            member,
            arrivals: (0..10)
                .map(|n| Arrival {
                    t_ns: base + n * PERIOD_NS,
                    seq: n as u16,
                    mix: if n * PERIOD_NS == heard_after {
                        Mix::MinusOne
                    } else {
                        Mix::Full
                    },
                })
                .collect(),
        };
        let callers = [
            listener(false, 2 * PERIOD_NS),
            listener(true, 4 * PERIOD_NS),
            // A talker's mixes never count, nor a marker of another room.
            CallerRecord {
                talker: true,
                ..listener(false, PERIOD_NS)
            },
        ];
        let markers = [
            Marker {
                room: 0,
                t_ns: base + PERIOD_NS + 5 * MS,
            },
            Marker {
                room: 1,
                t_ns: base,
            },
        ];
        let (local, cascaded) = mouth_to_ear(&callers, &markers);
        assert_eq!(local, vec![15 * MS]);
        assert_eq!(cascaded, vec![55 * MS]);
    }

    #[test]
    fn a_frame_not_received_is_lost_and_a_late_one_is_not() {
        let (w0, w1) = (1_000_000 * MS, 1_000_000 * MS + 100 * PERIOD_NS);
        // Frames 3 to 95 are counted: 60 ms are left at each end of the window.
        let clean = analyse(&[leg(None, None, None)], w0, w1);
        assert_eq!((clean.lost, clean.expected, clean.late_ms.2), (0, 93, 0.0));
        let late = analyse(&[leg(Some(50), None, None)], w0, w1);
        assert_eq!(late.lost, 0);
        assert!((late.late_ms.2 - 14.5).abs() < 1e-9, "{late:?}");
        let unsent = analyse(&[leg(None, Some(50), None), leg(None, None, None)], w0, w1);
        assert_eq!(
            (unsent.lost, unsent.callers_losing, unsent.seq_gaps),
            (1, 1, 0)
        );
        assert_eq!(unsent.expected, 2 * 93);
        let dropped = analyse(&[leg(None, None, Some(50))], w0, w1);
        assert_eq!((dropped.lost, dropped.seq_gaps), (1, 1));
    }
}
