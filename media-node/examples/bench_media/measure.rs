//! One step's measure: a window of the callers' frames and the threads' CPU,
//! its figures, and the table at the end.

use std::ops::Range;
use std::time::{Duration, Instant};

use crate::analysis::{analyse, mouth_to_ear, percentile};
use crate::generator::{Command, GeneratorHandle, Progress};
use crate::options::{Options, Path};
use crate::system::{CpuStat, ThreadUsage, UdpDrops, realtime_ns, threads_cpu};
use crate::{DISTURBED_CORES, GENERATOR_LATE_MS, PathRun};

/// What one step measured.
#[derive(Debug, Clone)]
pub(crate) struct StepFigures {
    /// What served the callers.
    path: &'static str,
    participants: usize,
    per_core: f64,
    /// Cores the nodes' threads used.
    pub(crate) node_cores: f64,
    /// Of which the member node's (cascade mode).
    pub(crate) member_cores: f64,
    cpu_per_participant_us: f64,
    /// A conference of 25's share of a core, in %.
    conference_pct: f64,
    pub(crate) gen_cores: f64,
    /// Cores used by other processes (and kernel threads) meanwhile.
    pub(crate) other_cores: f64,
    /// Cores the kernel spent in interrupts and softirqs on the node's CPUs:
    /// work of the node's (the loopback delivery of what it sends) that its
    /// threads' CPU time does not count, but its loop's busy share does.
    node_softirq_cores: f64,
    /// Node threads by name, cores.
    threads: Vec<(String, f64)>,
    /// The kernel's share of the node's threads' time, % (sampled at the
    /// scheduler tick).
    node_system_pct: f64,
    pub(crate) expected: u64,
    pub(crate) lost: u64,
    seq_gaps: u64,
    incomplete: u64,
    callers_losing: usize,
    late_ms: (f64, f64, f64),
    gen_send_p99_ms: f64,
    gen_skipped: u64,
    node_drops: u64,
    gen_drops: u64,
    /// Calls that failed so far (hung up by the node, unanswered, refused).
    calls_failed: usize,
    /// Mouth-to-ear delays of the listeners on the talkers' node, then on the
    /// member node (with markers): p50 and p99 in ms, and how many were measured.
    pub(crate) mouth_to_ear_ms: [(f64, f64, usize); 2],
}

/// What a window measures: `participants` callers of the generator's `rooms`,
/// served by `path`.
pub(crate) struct Window<'a> {
    pub(crate) path: Path,
    pub(crate) generator: &'a GeneratorHandle,
    pub(crate) progress: &'a Progress,
    pub(crate) participants: usize,
    /// The rooms whose callers count (the others were hung up before).
    pub(crate) rooms: Range<usize>,
}

fn measure(options: &Options, window: &Window<'_>) -> anyhow::Result<StepFigures> {
    let Window {
        path,
        generator,
        progress,
        participants,
        ref rooms,
    } = *window;
    generator.send(Command::Record(true))?;
    std::thread::sleep(Duration::from_millis(100));
    let (drops_before, cpu_before, stat_before) =
        (UdpDrops::read()?, threads_cpu()?, CpuStat::read()?);
    let (w0, started) = (realtime_ns(), Instant::now());
    std::thread::sleep(options.measure);
    let (w1, elapsed) = (realtime_ns(), started.elapsed());
    let (cpu_after, stat_after, drops_after) =
        (threads_cpu()?, CpuStat::read()?, UdpDrops::read()?);
    std::thread::sleep(Duration::from_millis(100));
    generator.send(Command::Record(false))?;
    let mut harvest = generator.take()?;
    // Callers of other rooms (hung up before this window) are not counted.
    harvest
        .callers
        .retain(|caller| rooms.contains(&caller.room));
    let calls_failed = progress.failed();

    let seconds = elapsed.as_secs_f64();
    let usage = ThreadUsage::between(&cpu_before, &cpu_after, seconds);
    let node_cores = usage.node;
    let cpu_per_participant_us = node_cores * 1e6 / participants as f64;
    let process_cores = usage.node + usage.generator + usage.main;
    let analysis = analyse(&harvest.callers, w0, w1);
    let delays = mouth_to_ear(&harvest.callers, &harvest.markers);
    let ms = |sorted: &[i64]| {
        (
            percentile(sorted, 0.50) as f64 / 1e6,
            percentile(sorted, 0.99) as f64 / 1e6,
            sorted.len(),
        )
    };
    let mut send_late = harvest.send_late_us.clone();
    send_late.sort_unstable();
    Ok(StepFigures {
        path: path.name(),
        participants,
        per_core: participants as f64 / options.node_cpus.len() as f64,
        node_cores,
        member_cores: usage.member,
        cpu_per_participant_us,
        conference_pct: cpu_per_participant_us * 25.0 / 1e4,
        gen_cores: usage.generator,
        other_cores: (stat_after.busy_cores_since(&stat_before, seconds) - process_cores).max(0.0),
        node_softirq_cores: stat_after.irq_cores_since(&stat_before, &options.node_cpus, seconds),
        threads: usage.node_threads,
        node_system_pct: usage.node_system_pct,
        expected: analysis.expected,
        lost: analysis.lost,
        seq_gaps: analysis.seq_gaps,
        incomplete: analysis.incomplete,
        callers_losing: analysis.callers_losing,
        late_ms: analysis.late_ms,
        gen_send_p99_ms: percentile(&send_late, 0.99) as f64 / 1e3,
        gen_skipped: harvest.skipped_periods,
        node_drops: drops_after.node.saturating_sub(drops_before.node),
        gen_drops: drops_after
            .generator(&harvest.ports)
            .saturating_sub(drops_before.generator(&harvest.ports)),
        calls_failed,
        mouth_to_ear_ms: [ms(&delays.0), ms(&delays.1)],
    })
}

/// [`measure`], again while the window was disturbed ([`StepFigures::disturbance`]:
/// other processes' load, or the generator's own lateness), `--retries` times;
/// the least disturbed window is kept; each window's figures printed.
pub(crate) fn measure_quiet(options: &Options, window: &Window<'_>) -> anyhow::Result<StepFigures> {
    let mut figures = measure(options, window)?;
    figures.print_line();
    for _ in 0..options.retries {
        let Some(why) = figures.disturbance() else {
            break;
        };
        println!("bench_media: {why} in that window: measuring it again");
        std::thread::sleep(Duration::from_secs(5));
        let again = measure(options, window)?;
        again.print_line();
        if again.disturbed_by() < figures.disturbed_by() {
            figures = again;
        }
    }
    if let Some(why) = figures.disturbance() {
        println!("bench_media: warning: {why}: this step is disturbed");
    }
    Ok(figures)
}

impl StepFigures {
    /// What made the window no measure of the node alone, if anything: other
    /// processes' load above [`DISTURBED_CORES`], or the generator sending
    /// its frames later than [`GENERATOR_LATE_MS`] (p99), so that talkers'
    /// frames reached the node after their room's tick.
    fn disturbance(&self) -> Option<String> {
        if self.other_cores > DISTURBED_CORES {
            Some(format!(
                "other processes used {:.2} cores",
                self.other_cores
            ))
        } else if self.gen_send_p99_ms > GENERATOR_LATE_MS {
            Some(format!(
                "the generator sent late (p99 {:.2} ms)",
                self.gen_send_p99_ms
            ))
        } else {
            None
        }
    }

    /// How far past its bounds the window was disturbed (≤ 1: not).
    fn disturbed_by(&self) -> f64 {
        (self.other_cores / DISTURBED_CORES).max(self.gen_send_p99_ms / GENERATOR_LATE_MS)
    }

    /// The CPU per participant-second with the softirq work on the node's
    /// cores besides its threads'.
    fn with_softirq_us(&self) -> f64 {
        (self.node_cores + self.node_softirq_cores) * 1e6 / self.participants as f64
    }

    pub(crate) fn print_line(&self) {
        println!(
            "bench_media: participants={} per_core={:.0} node_cores={:.3} cpu_per_participant_us_per_s={:.0} \
             conference25_pct_core={:.2} expected_frames={} lost={} callers_losing={} seq_gaps={} \
             incomplete_mixes={} p50_late_ms={:.2} p99_late_ms={:.2} max_late_ms={:.2} gen_cores={:.3} \
             gen_p99_send_late_ms={:.2} gen_skipped_periods={} node_socket_drops={} gen_socket_drops={} \
             other_cores={:.3} node_softirq_cores={:.3} calls_failed={} path={}",
            self.participants,
            self.per_core,
            self.node_cores,
            self.cpu_per_participant_us,
            self.conference_pct,
            self.expected,
            self.lost,
            self.callers_losing,
            self.seq_gaps,
            self.incomplete,
            self.late_ms.0,
            self.late_ms.1,
            self.late_ms.2,
            self.gen_cores,
            self.gen_send_p99_ms,
            self.gen_skipped,
            self.node_drops,
            self.gen_drops,
            self.other_cores,
            self.node_softirq_cores,
            self.calls_failed,
            self.path,
        );
        let threads: Vec<String> = self
            .threads
            .iter()
            .map(|(name, cores)| format!("{name}={cores:.3}"))
            .collect();
        println!(
            "bench_media: threads participants={} {} node_system_pct={:.1} path={}",
            self.participants,
            threads.join(" "),
            self.node_system_pct,
            self.path,
        );
        let [local, cascaded] = self.mouth_to_ear_ms;
        if local.2 + cascaded.2 > 0 {
            println!(
                "bench_media: cascade participants={} member_node_cores={:.3} \
                 mouth_to_ear_local_p50_ms={:.2} mouth_to_ear_local_p99_ms={:.2} local_markers={} \
                 mouth_to_ear_cascaded_p50_ms={:.2} mouth_to_ear_cascaded_p99_ms={:.2} cascaded_markers={}",
                self.participants,
                self.member_cores,
                local.0,
                local.1,
                local.2,
                cascaded.0,
                cascaded.1,
                cascaded.2,
            );
        }
    }
}

/// One path's table and result line.
pub(crate) fn print_table(options: &Options, path: Path, run: &PathRun) {
    println!();
    println!("path: {}", path.name());
    println!(
        "| participants per core | node CPU (cores) | CPU per participant | 25-caller conference | frames lost | \
         lateness p50 / p99 / max | incomplete mixes | generator CPU | softirq on the node's core | other load |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in &run.rows {
        println!(
            "| {:.0} | {:.3} | {:.0} µs/s | {:.2} % | {} of {} | {:.2} / {:.2} / {:.2} ms | {} | {:.3} | {:.3} | {:.3} |",
            row.per_core,
            row.node_cores,
            row.cpu_per_participant_us,
            row.conference_pct,
            row.lost,
            row.expected,
            row.late_ms.0,
            row.late_ms.1,
            row.late_ms.2,
            row.incomplete,
            row.gen_cores,
            row.node_softirq_cores,
            row.other_cores,
        );
    }
    if let Some((per_core, why)) = &run.not_joined {
        println!("| {per_core} | not measured: {why} ||||||||");
    }
    // The highest step below the first that lost frames or missed a talker.
    let best = run
        .rows
        .iter()
        .take_while(|row| row.lost == 0 && row.incomplete == 0)
        .last();
    let per_core = best.map_or(0.0, |row| row.per_core);
    let p99 = best.map_or(f64::NAN, |row| row.late_ms.1);
    let conference_pct = best.map_or(f64::NAN, |row| row.conference_pct);
    println!();
    println!(
        "bench_media: result participants_per_core={per_core:.0} goal=4000 ratio={:.2} p99_late_ms={p99:.2} \
         (goal 1.00) conference25_pct_core={conference_pct:.2} (goal 1.50) node_cpus={}{} path={}",
        per_core / 4000.0,
        options.node_cpus.len(),
        if run
            .rows
            .last()
            .is_some_and(|row| row.lost == 0 && row.incomplete == 0)
            && run.not_joined.is_none()
        {
            " (every step passed: the ceiling is higher)"
        } else {
            ""
        },
        path.name(),
    );
}

/// Each node path's CPU per participant-second against the reference bridge's
/// at the same step of the same run (goal: at most 1.5×): their threads' CPU,
/// and with the softirq work on their core besides, which the node causes and
/// the bridge barely does.
pub(crate) fn print_comparison(runs: &[(Path, PathRun)]) {
    let Some((_, reference)) = runs.iter().find(|(path, _)| *path == Path::Reference) else {
        return;
    };
    println!();
    println!(
        "| path | participants per core | CPU per participant | reference bridge | ratio (goal ≤ 1.5) | \
         with the softirq on their core: CPU per participant, reference bridge, ratio |"
    );
    println!("|---|---|---|---|---|---|");
    for (path, run) in runs.iter().filter(|(path, _)| *path != Path::Reference) {
        for row in &run.rows {
            let Some(bridge) = reference
                .rows
                .iter()
                .find(|r| r.participants == row.participants)
            else {
                continue;
            };
            let ratio = row.cpu_per_participant_us / bridge.cpu_per_participant_us;
            let (node_all, bridge_all) = (row.with_softirq_us(), bridge.with_softirq_us());
            let ratio_all = node_all / bridge_all;
            println!(
                "| {} | {:.0} | {:.0} µs/s | {:.0} µs/s | {ratio:.2} | {node_all:.0} µs/s, {bridge_all:.0} µs/s, {ratio_all:.2} |",
                path.name(),
                row.per_core,
                row.cpu_per_participant_us,
                bridge.cpu_per_participant_us,
            );
            println!(
                "bench_media: ratio path={} participants={} cpu_per_participant_us_per_s={:.0} \
                 reference_us_per_s={:.0} ratio={ratio:.2} goal=1.50 \
                 with_softirq_us_per_s={node_all:.0} reference_with_softirq_us_per_s={bridge_all:.0} \
                 ratio_with_softirq={ratio_all:.2}",
                path.name(),
                row.participants,
                row.cpu_per_participant_us,
                bridge.cpu_per_participant_us,
            );
        }
    }
}
