//! # bench_media: how many callers one core of the media node carries (issue #5)
//!
//! ```sh
//! cargo run --release -p teleconf-media-node --example bench_media -- [OPTIONS]
//! ```
//!
//! Runs the real [`Shell`] in this process, over an in-memory store seeded with an
//! account, an access number and conferences open now, on a tokio runtime of its own
//! whose threads (`node-rt`, and the `media-loop`, `cdr-spool` and `recorder` threads the shell
//! starts from them) are pinned to the node's CPUs. A load generator (`bench-gen`,
//! one thread) runs on the other CPU and plays every caller:
//!
//! - one SIP socket for all callers, as a trunk: INVITE with a PCMU +
//!   telephone-event offer, ACK, then the conference number and the participant
//!   code keyed by SIP INFO (`application/dtmf-relay`, one key per request);
//! - one RTP socket per conference: from its ACK on, each caller sends 50 pkt/s
//!   (the first [`Options::talkers`] of a conference a tone, the others µ-law
//!   silence), with `sendmmsg`, and receives with `recvmmsg` and the kernel's
//!   receive timestamps (`SO_TIMESTAMPNS`), so the generator's own wake-ups do not
//!   count as the node's lateness.
//!
//! Steps of increasing participants per node core: each step's new conferences
//! join (at `--join-rate` calls per second), the bench waits until every caller
//! has a CDR leg open in the store (admitted to its room), lets the node settle
//! into its steady state (35 s: the SIP transactions of the join end with Timer J,
//! the entry tones are over), then measures a window:
//!
//! - **node CPU**: the CPU time of the node's threads (`/proc/self/task/*/schedstat`),
//!   told from the generator's by thread name; per participant, and for a
//!   conference of 25;
//! - **frames lost**: per caller, the 20 ms frames of its room's grid in the
//!   window that never arrived (a frame the node did not send, or sent into a full
//!   buffer, is lost; a late one is not);
//! - **lateness**: each frame's arrival against its room's 20 ms grid, anchored on
//!   the earliest frame of the room (the first leg the node serves on time): the
//!   node's tick jitter plus the time to send a whole tick's frames. A constant
//!   offset of a room against the node's clock is not visible from outside;
//! - **incomplete mixes**: frames whose payload is not the whole mix of the
//!   talkers (a talker's frame missed its tick: input lost or late; or a tone or
//!   prompt played to that caller instead of the room);
//! - the generator's own CPU and send lateness, socket drops on both sides, and the
//!   load of other processes, to tell a disturbed run from a slow node.
//!
//! A window during which other processes used more than [`DISTURBED_CORES`] is
//! measured again (`--retries`). The result is the highest step with no frame
//! lost, as participants per core.
//! Each step prints a `bench_media: participants=…` line; the end, a table.

use std::collections::{HashMap, VecDeque};
use std::f64::consts::TAU;
use std::io::{IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsFd, AsRawFd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use chrono::{DurationRound, TimeDelta, Utc};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, ppoll};
use nix::sched::{CpuSet, sched_setaffinity};
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, MultiHeaders, SockaddrIn, recvmmsg, sendmmsg,
    setsockopt, sockopt,
};
use nix::sys::time::TimeSpec;
use nix::unistd::Pid;
use tokio::sync::oneshot;

use teleconf_adapters::blobs::MemoryBlobs;
use teleconf_adapters::store::conformance::account_with_owner;
use teleconf_adapters::store::memory::MemoryStore;
use teleconf_adapters::store::{CdrStore, ConferenceStore, NumberStore};
use teleconf_domain::testkit::access_number;
use teleconf_domain::{
    AccessCodes, CallerRole, CodeChoices, Conference, ConferenceNumber, Language, Schedule,
};
use teleconf_media_node::sdp::Codec;
use teleconf_media_node::shell::{Config, Services, Shell};

/// The frame period (ptime 20).
const PERIOD: Duration = Duration::from_millis(20);
const PERIOD_NS: i64 = 20_000_000;
/// Bytes of one 20 ms G.711 frame.
const FRAME: usize = 160;
/// Bytes of an RTP header without CSRCs or extension.
const RTP_HEADER: usize = 12;
/// Messages per `sendmmsg`/`recvmmsg`.
const BATCH: usize = 64;
/// Receive buffer of each generator socket (the kernel caps it at `rmem_max`).
const SOCKET_BUFFER: usize = 1 << 20;
/// The node's RTP ports: below the ephemeral range the generator's sockets get.
const NODE_RTP_PORTS: &str = "20000-31999";
/// Margin kept at each end of a window when counting frames, so a frame in flight
/// at the edge is neither counted nor missed.
const EDGE_NS: i64 = 60_000_000;
/// Other processes' load above which a window is disturbed (cores). A quiet
/// machine shows up to ~0.1: kernel threads, and `/proc/stat`'s sampled ticks
/// against the threads' exact run times.
const DISTURBED_CORES: f64 = 0.15;
/// Name of the generator's thread (the node's threads are the others but main).
const GENERATOR_THREAD: &str = "bench-gen";

fn main() -> anyhow::Result<()> {
    let options = Options::parse()?;
    if options.help {
        println!("{}", Options::USAGE);
        return Ok(());
    }
    if options.pin {
        // The main thread and all it spawns but the node's runtime share the
        // generator's CPUs.
        pin_current_thread(&options.gen_cpus).context("pinning the main thread")?;
    }
    let node_cores = options.node_cpus.len();
    let conferences_at = |per_core: usize| (per_core * node_cores).div_ceil(options.size);
    let max_conferences = options
        .steps
        .iter()
        .map(|&step| conferences_at(step))
        .max()
        .unwrap_or(0);
    println!(
        "bench_media: node on CPU {:?} ({}), generator on CPU {:?}; conferences of {}, {} talkers; \
         50 pkt/s per caller each way; {} s windows after all joined and {} s of settling",
        options.node_cpus,
        if options.pin { "pinned" } else { "not pinned" },
        options.gen_cpus,
        options.size,
        options.talkers,
        options.measure.as_secs_f64(),
        options.settle.as_secs_f64(),
    );

    let runtime = node_runtime(&options)?;
    let seeded = runtime.block_on(seed(max_conferences, options.size))?;
    let node = runtime.block_on(NodeUnderTest::start(seeded.store.clone()))?;
    let progress = Arc::new(Progress::default());
    let generator = GeneratorHandle::spawn(GeneratorSetup {
        node_sip: node.sip,
        access: seeded.access.clone(),
        size: options.size,
        talkers: options.talkers,
        slots: max_conferences.max(1),
        join_rate: options.join_rate,
        cpus: options.pin.then(|| options.gen_cpus.clone()),
        progress: progress.clone(),
    })?;

    let mut rows: Vec<StepFigures> = Vec::new();
    let mut joined = 0;
    // A step whose callers could not all be admitted, and why.
    let mut not_joined: Option<(usize, String)> = None;
    for &per_core in &options.steps {
        let conferences = conferences_at(per_core);
        if conferences > joined {
            let dials = seeded.conferences[joined..conferences]
                .iter()
                .map(|conference| Dial {
                    number_keys: format!("{}#", conference.number.as_str()),
                    code_keys: format!(
                        "{}#",
                        conference.codes.code(CallerRole::Participant).as_str()
                    ),
                })
                .collect();
            generator.send(Command::Add(dials))?;
            joined = conferences;
        }
        let participants = conferences * options.size;
        if let Err(error) = wait_until_joined(
            &runtime,
            &seeded,
            conferences,
            participants,
            &progress,
            options.join_rate,
        ) {
            println!("bench_media: step {per_core}/core failed: {error:#}");
            not_joined = Some((per_core, format!("{error:#}")));
            break;
        }
        std::thread::sleep(options.settle);
        let mut figures = measure(&options, &generator, participants, &progress)?;
        figures.print_line();
        // A window shared with other processes is measured again (the least
        // disturbed one is kept): their load is the node's and the generator's lost.
        for _ in 0..options.retries {
            if figures.other_cores <= DISTURBED_CORES {
                break;
            }
            println!(
                "bench_media: other processes used {:.2} cores in that window: measuring it again",
                figures.other_cores
            );
            std::thread::sleep(Duration::from_secs(5));
            let again = measure(&options, &generator, participants, &progress)?;
            again.print_line();
            if again.other_cores < figures.other_cores {
                figures = again;
            }
        }
        if figures.other_cores > DISTURBED_CORES {
            println!(
                "bench_media: warning: other processes used {:.2} cores: this step is disturbed",
                figures.other_cores
            );
        }
        let lossy = figures.lost > 0;
        rows.push(figures);
        if lossy && !options.keep_going {
            break;
        }
    }

    print_table(&options, &rows, not_joined.as_ref());
    generator.send(Command::HangUp)?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while progress.live() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    generator.stop();
    runtime.block_on(node.stop());
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}

// ---- options -----------------------------------------------------------------------

/// What to run.
#[derive(Debug, Clone)]
struct Options {
    /// Participants per node core at each step.
    steps: Vec<usize>,
    /// Callers per conference.
    size: usize,
    /// Callers of a conference who send a tone (the others send silence).
    talkers: usize,
    /// The measured window of a step.
    measure: Duration,
    /// Wait between the last admission and the window.
    settle: Duration,
    /// New calls per second.
    join_rate: f64,
    /// The node's CPUs: its runtime gets one worker per CPU.
    node_cpus: Vec<usize>,
    /// The generator's CPUs.
    gen_cpus: Vec<usize>,
    /// Pin the node and the generator to their CPUs.
    pin: bool,
    /// Go on after a step that lost frames.
    keep_going: bool,
    /// Times a disturbed window is measured again.
    retries: usize,
    /// Print the usage.
    help: bool,
}

impl Options {
    const USAGE: &'static str = "\
usage: bench_media [--steps 250,500,750,1000,1500,2000,2500,3000] [--measure-secs 10]
                   [--settle-secs 35] [--join-rate 150] [--size 25] [--talkers 3]
                   [--node-cpus 0] [--gen-cpus 1] [--no-pin] [--keep-going] [--retries 3]
  --steps       participants per node core at each step (rounded up to whole conferences)
  --node-cpus   CPUs of the node (one tokio worker each); --gen-cpus those of the generator
  --keep-going  go on after a step that lost frames (default: stop there)
  --retries     times a window disturbed by other processes is measured again";

    fn parse() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let mut options = Self {
            steps: vec![250, 500, 750, 1000, 1500, 2000, 2500, 3000],
            size: 25,
            talkers: 3,
            measure: Duration::from_secs(10),
            // Steady state: each keyed digit's INFO leaves a server transaction
            // for Timer J (64·T1 = 32 s, RFC 3261 §17.2.2), which the node walks for
            // its deadlines; and the entry tone (250 ms) plays to each caller for
            // everyone who joins after them (6 s for the first of 25).
            settle: Duration::from_secs(35),
            join_rate: 150.0,
            node_cpus: vec![0],
            gen_cpus: vec![if cores > 1 { 1 } else { 0 }],
            pin: cores > 1,
            keep_going: false,
            retries: 3,
            help: false,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .with_context(|| format!("{arg} needs a value\n{}", Self::USAGE))
            };
            match arg.as_str() {
                "--steps" => options.steps = list(&value()?)?,
                "--size" => options.size = value()?.parse()?,
                "--talkers" => options.talkers = value()?.parse()?,
                "--measure-secs" => options.measure = Duration::from_secs_f64(value()?.parse()?),
                "--settle-secs" => options.settle = Duration::from_secs_f64(value()?.parse()?),
                "--join-rate" => options.join_rate = value()?.parse()?,
                "--node-cpus" => options.node_cpus = list(&value()?)?,
                "--gen-cpus" => options.gen_cpus = list(&value()?)?,
                "--no-pin" => options.pin = false,
                "--keep-going" => options.keep_going = true,
                "--retries" => options.retries = value()?.parse()?,
                "--help" | "-h" => options.help = true,
                other => bail!("unknown argument {other}\n{}", Self::USAGE),
            }
        }
        if options.size == 0 || options.talkers > options.size || options.node_cpus.is_empty() {
            bail!("a conference needs callers, at most as many talkers, and the node a CPU");
        }
        if options.measure < Duration::from_secs(1) || options.join_rate <= 0.0 {
            bail!("the window must last at least 1 s and calls must join");
        }
        Ok(options)
    }
}

fn list(value: &str) -> anyhow::Result<Vec<usize>> {
    value
        .split(',')
        .map(|item| item.trim().parse().with_context(|| format!("{item:?}")))
        .collect()
}

fn pin_current_thread(cpus: &[usize]) -> nix::Result<()> {
    let mut set = CpuSet::new();
    for &cpu in cpus {
        set.set(cpu)?;
    }
    // Pid 0: the calling thread; threads it starts inherit the mask.
    sched_setaffinity(Pid::from_raw(0), &set)
}

// ---- the node under test ------------------------------------------------------------

/// The node's runtime: one worker per node CPU, every thread pinned to them.
fn node_runtime(options: &Options) -> anyhow::Result<tokio::runtime::Runtime> {
    let cpus = options.node_cpus.clone();
    let pin = options.pin;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cpus.len())
        .thread_name("node-rt")
        .on_thread_start(move || {
            if pin && let Err(error) = pin_current_thread(&cpus) {
                eprintln!("bench_media: cannot pin a node thread: {error}");
            }
        })
        .enable_all()
        .build()
        .context("the node's runtime")
}

/// The store's content: one account, its access number, conferences open now.
struct Seeded {
    store: Arc<MemoryStore>,
    access: String,
    conferences: Vec<Conference>,
}

async fn seed(count: usize, size: usize) -> anyhow::Result<Seeded> {
    let store = Arc::new(MemoryStore::new());
    let (_, owner) = account_with_owner(store.as_ref()).await;
    let access = access_number(owner.account_id);
    store.create_number(&access).await?;
    let now = Utc::now().duration_trunc(TimeDelta::milliseconds(1))?;
    // Callers are let in from five minutes before the start.
    let start = now + TimeDelta::minutes(1);
    let schedule = Schedule::new(start, start + TimeDelta::hours(12))?;
    let mut conferences = Vec::with_capacity(count);
    while conferences.len() < count {
        let conference = Conference::schedule(
            owner.account_id,
            ConferenceNumber::generate(),
            "Banc d'essai",
            schedule,
            false,
            Language::Fr,
            AccessCodes::from_choices(CodeChoices::default())?,
            owner.id,
            u32::try_from(size)?,
            now,
        )?;
        match store.create_conference(&conference).await {
            Ok(()) => conferences.push(conference),
            Err(teleconf_adapters::Error::Conflict(_)) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Ok(Seeded {
        store,
        access: access.number.as_str().to_string(),
        conferences,
    })
}

/// The shell, running on the node's runtime.
struct NodeUnderTest {
    sip: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), teleconf_media_node::Error>>,
    spool: PathBuf,
}

impl NodeUnderTest {
    async fn start(store: Arc<MemoryStore>) -> anyhow::Result<Self> {
        let spool = std::env::temp_dir().join(format!("bench-media-spool-{}", std::process::id()));
        let vars = [
            ("TELECONF_SIP_ADDR", "127.0.0.1:0".to_string()),
            ("TELECONF_RTP_PORTS", NODE_RTP_PORTS.to_string()),
            ("TELECONF_TRUNK_SOURCES", "127.0.0.1".to_string()),
            ("TELECONF_SPOOL_DIR", spool.display().to_string()),
        ];
        let config = Config::from_vars(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone())
        })?;
        let services = Services::new(store, Arc::new(MemoryBlobs::default()));
        let shell = Shell::bind(config).await?;
        let sip = shell.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(shell.run(services, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            sip,
            stop,
            task,
            spool,
        })
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        match tokio::time::timeout(Duration::from_secs(30), self.task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => eprintln!("bench_media: the node stopped with {error}"),
            Ok(Err(error)) => eprintln!("bench_media: the node's task failed: {error}"),
            Err(_) => eprintln!("bench_media: the node did not stop in 30 s"),
        }
        let _ = std::fs::remove_dir_all(&self.spool);
    }
}

/// Callers with a CDR leg open: admitted to their room.
async fn admitted(store: &MemoryStore, conferences: &[Conference]) -> usize {
    let mut count = 0;
    for conference in conferences {
        if let Ok(legs) = store.legs_of_conference(conference.id).await {
            count += legs.iter().filter(|leg| leg.left_at.is_none()).count();
        }
    }
    count
}

fn wait_until_joined(
    runtime: &tokio::runtime::Runtime,
    seeded: &Seeded,
    conferences: usize,
    participants: usize,
    progress: &Progress,
    join_rate: f64,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let limit = Duration::from_secs_f64(30.0 + 2.0 * participants as f64 / join_rate);
    let mut last_print = started;
    loop {
        let admitted =
            runtime.block_on(admitted(&seeded.store, &seeded.conferences[..conferences]));
        if admitted >= participants {
            eprintln!(
                "bench_media: {participants} callers admitted ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        let failed = progress.failed.load(Ordering::Relaxed);
        if failed > 0 || started.elapsed() > limit {
            let reasons = progress
                .reasons
                .lock()
                .map(|r| r.join("; "))
                .unwrap_or_default();
            bail!(
                "{admitted} of {participants} callers admitted after {:.0} s, {failed} calls failed ({reasons})",
                started.elapsed().as_secs_f64()
            );
        }
        if last_print.elapsed() > Duration::from_secs(5) {
            last_print = Instant::now();
            eprintln!(
                "bench_media: joining: {admitted}/{participants} admitted, {} answered, {} keyed",
                progress.answered.load(Ordering::Relaxed),
                progress.keyed.load(Ordering::Relaxed)
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

// ---- one step's measure ----------------------------------------------------------------

/// What one step measured.
#[derive(Debug, Clone, Default)]
struct StepFigures {
    participants: usize,
    per_core: f64,
    /// Cores the node's threads used.
    node_cores: f64,
    cpu_per_participant_us: f64,
    /// A conference of 25's share of a core, in %.
    conference_pct: f64,
    gen_cores: f64,
    /// Cores used by other processes (and kernel threads) meanwhile.
    other_cores: f64,
    /// Node threads by name, cores.
    threads: Vec<(String, f64)>,
    /// The kernel's share of the node's threads' time, % (sampled at the
    /// scheduler tick).
    node_system_pct: f64,
    expected: u64,
    lost: u64,
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
}

fn measure(
    options: &Options,
    generator: &GeneratorHandle,
    participants: usize,
    progress: &Progress,
) -> anyhow::Result<StepFigures> {
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
    let harvest = generator.take()?;
    let calls_failed = progress.failed.load(Ordering::Relaxed);

    let seconds = elapsed.as_secs_f64();
    let usage = ThreadUsage::between(&cpu_before, &cpu_after, seconds);
    let node_cores = usage.node;
    let cpu_per_participant_us = node_cores * 1e6 / participants as f64;
    let process_cores = usage.node + usage.generator + usage.main;
    let analysis = analyse(&harvest.callers, w0, w1);
    let mut send_late = harvest.send_late_us.clone();
    send_late.sort_unstable();
    Ok(StepFigures {
        participants,
        per_core: participants as f64 / options.node_cpus.len() as f64,
        node_cores,
        cpu_per_participant_us,
        conference_pct: cpu_per_participant_us * 25.0 / 1e4,
        gen_cores: usage.generator,
        other_cores: (stat_after.busy_cores_since(&stat_before, seconds) - process_cores).max(0.0),
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
    })
}

impl StepFigures {
    fn print_line(&self) {
        println!(
            "bench_media: participants={} per_core={:.0} node_cores={:.3} cpu_per_participant_us_per_s={:.0} \
             conference25_pct_core={:.2} expected_frames={} lost={} callers_losing={} seq_gaps={} \
             incomplete_mixes={} p50_late_ms={:.2} p99_late_ms={:.2} max_late_ms={:.2} gen_cores={:.3} \
             gen_p99_send_late_ms={:.2} gen_skipped_periods={} node_socket_drops={} gen_socket_drops={} \
             other_cores={:.3} calls_failed={}",
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
            self.calls_failed,
        );
        let threads: Vec<String> = self
            .threads
            .iter()
            .map(|(name, cores)| format!("{name}={cores:.3}"))
            .collect();
        println!(
            "bench_media: threads participants={} {} node_system_pct={:.1}",
            self.participants,
            threads.join(" "),
            self.node_system_pct,
        );
    }
}

fn print_table(options: &Options, rows: &[StepFigures], not_joined: Option<&(usize, String)>) {
    println!();
    println!(
        "| participants per core | node CPU (cores) | CPU per participant | 25-caller conference | frames lost | \
         lateness p50 / p99 / max | incomplete mixes | generator CPU | other load |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {:.0} | {:.3} | {:.0} µs/s | {:.2} % | {} of {} | {:.2} / {:.2} / {:.2} ms | {} | {:.3} | {:.3} |",
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
            row.other_cores,
        );
    }
    if let Some((per_core, why)) = not_joined {
        println!("| {per_core} | not measured: {why} |||||||");
    }
    // The highest step below the first that lost frames.
    let best = rows.iter().take_while(|row| row.lost == 0).last();
    let per_core = best.map_or(0.0, |row| row.per_core);
    let p99 = best.map_or(f64::NAN, |row| row.late_ms.1);
    let conference_pct = best.map_or(f64::NAN, |row| row.conference_pct);
    println!();
    println!(
        "bench_media: result participants_per_core={per_core:.0} goal=2000 ratio={:.2} p99_late_ms={p99:.2} \
         (goal 1.00) conference25_pct_core={conference_pct:.2} (goal 1.50) node_cpus={}{}",
        per_core / 2000.0,
        options.node_cpus.len(),
        if rows.last().is_some_and(|row| row.lost == 0) && not_joined.is_none() {
            " (every step passed: the ceiling is higher)"
        } else {
            ""
        },
    );
}

// ---- analysis ----------------------------------------------------------------------------

/// One RTP frame received by a caller.
#[derive(Debug, Clone, Copy)]
struct Arrival {
    /// Kernel receive time (CLOCK_REALTIME), ns.
    t_ns: i64,
    seq: u16,
    mix: Mix,
}

/// What a received payload was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mix {
    /// Every talker (what a listener hears).
    Full,
    /// Every talker but one (what a talker hears).
    MinusOne,
    /// Anything else (a talker's frame missed the tick, a prompt, …).
    Other,
}

/// A caller's frames of one window.
#[derive(Debug, Clone)]
struct CallerRecord {
    room: usize,
    talker: bool,
    arrivals: Vec<Arrival>,
}

/// The frame figures of a window.
#[derive(Debug, Clone, Default, PartialEq)]
struct Analysis {
    expected: u64,
    lost: u64,
    seq_gaps: u64,
    incomplete: u64,
    callers_losing: usize,
    /// Lateness p50, p99, max, in ms.
    late_ms: (f64, f64, f64),
}

/// Frames lost and lateness over `[w0, w1)`, per room (see the module doc).
fn analyse(callers: &[CallerRecord], w0: i64, w1: i64) -> Analysis {
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
fn percentile<T: Copy + Default>(sorted: &[T], p: f64) -> T {
    if sorted.is_empty() {
        return T::default();
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

// ---- CPU and socket figures ----------------------------------------------------------------

/// A thread of this process and its CPU time so far.
#[derive(Debug, Clone)]
struct ThreadCpu {
    tid: u32,
    name: String,
    /// Run time (`schedstat`), ns.
    ns: u64,
    /// User and system time (`stat`), sampled in clock ticks.
    ticks: (u64, u64),
}

fn threads_cpu() -> anyhow::Result<Vec<ThreadCpu>> {
    let mut threads = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task")? {
        let path = entry?.path();
        let Some(tid) = path.file_name().and_then(|n| n.to_str()?.parse().ok()) else {
            continue;
        };
        // A thread may end between the listing and the reads.
        let (Ok(name), Ok(schedstat), Ok(stat)) = (
            std::fs::read_to_string(path.join("comm")),
            std::fs::read_to_string(path.join("schedstat")),
            std::fs::read_to_string(path.join("stat")),
        ) else {
            continue;
        };
        // utime and stime are the 14th and 15th fields: the 12th and 13th after the
        // name, which may hold spaces (hence from its closing parenthesis).
        let after_name: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let tick = |i: usize| -> u64 {
            after_name
                .get(i)
                .and_then(|field| field.parse().ok())
                .unwrap_or(0)
        };
        let ns = schedstat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse().ok())
            .unwrap_or(0);
        threads.push(ThreadCpu {
            tid,
            name: name.trim().to_string(),
            ns,
            ticks: (tick(11), tick(12)),
        });
    }
    Ok(threads)
}

/// Cores used between two samples, by owner.
#[derive(Debug, Default)]
struct ThreadUsage {
    node: f64,
    generator: f64,
    main: f64,
    node_threads: Vec<(String, f64)>,
    /// The kernel's share of the node's ticks, %.
    node_system_pct: f64,
}

impl ThreadUsage {
    fn between(before: &[ThreadCpu], after: &[ThreadCpu], seconds: f64) -> Self {
        let main_tid = std::process::id();
        let mut usage = Self::default();
        let mut by_name: Vec<(String, f64)> = Vec::new();
        let (mut user, mut system) = (0, 0);
        for thread in after {
            // A thread started in the window counts from zero.
            let start = before.iter().find(|b| b.tid == thread.tid);
            let ns = start.map_or(0, |b| b.ns);
            let (user_start, system_start) = start.map_or((0, 0), |b| b.ticks);
            let cores = thread.ns.saturating_sub(ns) as f64 / 1e9 / seconds;
            if thread.tid == main_tid {
                usage.main += cores;
            } else if thread.name.starts_with(GENERATOR_THREAD) {
                usage.generator += cores;
            } else {
                usage.node += cores;
                user += thread.ticks.0.saturating_sub(user_start);
                system += thread.ticks.1.saturating_sub(system_start);
                match by_name.iter_mut().find(|(name, _)| *name == thread.name) {
                    Some((_, total)) => *total += cores,
                    None => by_name.push((thread.name.clone(), cores)),
                }
            }
        }
        by_name.sort_by(|a, b| b.1.total_cmp(&a.1));
        usage.node_threads = by_name;
        usage.node_system_pct = system as f64 * 100.0 / (user + system).max(1) as f64;
        usage
    }
}

/// `/proc/stat`: the machine's busy time, in clock ticks. Sampled at the tick, so
/// only a coarse measure (±0.1 core over a window here): enough to see another
/// process at work.
#[derive(Debug, Clone)]
struct CpuStat {
    busy: u64,
}

impl CpuStat {
    /// Clock ticks per second (`USER_HZ`, 100 on Linux).
    const HZ: f64 = 100.0;

    fn read() -> anyhow::Result<Self> {
        let text = std::fs::read_to_string("/proc/stat")?;
        let total = text
            .lines()
            .find_map(|line| line.strip_prefix("cpu "))
            .context("no cpu line in /proc/stat")?;
        let v: Vec<u64> = total
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        // user, nice, system, irq, softirq, steal (not idle, iowait, guests).
        Ok(Self {
            busy: at(0) + at(1) + at(2) + at(5) + at(6) + at(7),
        })
    }

    /// Cores busy on the whole machine since `before`.
    fn busy_cores_since(&self, before: &Self, seconds: f64) -> f64 {
        self.busy.saturating_sub(before.busy) as f64 / Self::HZ / seconds
    }
}

/// Datagrams the kernel dropped on full receive buffers (`/proc/net/udp`).
#[derive(Debug, Clone, Default)]
struct UdpDrops {
    /// On the node's RTP ports.
    node: u64,
    /// By local port, for the generator's sockets.
    by_port: HashMap<u16, u64>,
}

impl UdpDrops {
    fn read() -> anyhow::Result<Self> {
        let text = std::fs::read_to_string("/proc/net/udp")?;
        let (low, high) = NODE_RTP_PORTS
            .split_once('-')
            .map(|(l, h)| (l.parse().unwrap_or(0), h.parse().unwrap_or(0)))
            .unwrap_or((0, 0));
        let mut drops = Self::default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(dropped)) = (fields.get(1), fields.last()) else {
                continue;
            };
            let Some(port) = local
                .split_once(':')
                .and_then(|(_, port)| u16::from_str_radix(port, 16).ok())
            else {
                continue;
            };
            let dropped: u64 = dropped.parse().unwrap_or(0);
            if (low..=high).contains(&port) {
                drops.node += dropped;
            } else {
                *drops.by_port.entry(port).or_default() += dropped;
            }
        }
        Ok(drops)
    }

    fn generator(&self, ports: &[u16]) -> u64 {
        ports.iter().filter_map(|port| self.by_port.get(port)).sum()
    }
}

fn realtime_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

// ---- the load generator ------------------------------------------------------------------

/// What the main thread asks of the generator.
#[derive(Debug)]
enum Command {
    /// Call into these conferences, `size` callers each.
    Add(Vec<Dial>),
    /// Keep (or stop keeping) every frame received.
    Record(bool),
    /// Hand over what was kept.
    Take(mpsc::Sender<Harvest>),
    /// Hang up every call.
    HangUp,
    Stop,
}

/// The keys of a conference.
#[derive(Debug, Clone)]
struct Dial {
    number_keys: String,
    code_keys: String,
}

/// What the generator kept of a window.
#[derive(Debug, Default)]
struct Harvest {
    callers: Vec<CallerRecord>,
    /// How late each room's frames were sent, µs.
    send_late_us: Vec<u32>,
    /// Periods the generator skipped (it fell behind by more than 3 frames).
    skipped_periods: u64,
    /// Its RTP sockets' local ports.
    ports: Vec<u16>,
}

/// Call counts, shared with the main thread.
#[derive(Debug, Default)]
struct Progress {
    invited: AtomicUsize,
    answered: AtomicUsize,
    keyed: AtomicUsize,
    failed: AtomicUsize,
    ended: AtomicUsize,
    /// The first reasons of failed calls.
    reasons: Mutex<Vec<String>>,
}

impl Progress {
    fn live(&self) -> usize {
        self.answered
            .load(Ordering::Relaxed)
            .saturating_sub(self.ended.load(Ordering::Relaxed))
    }

    fn fail(&self, reason: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut reasons) = self.reasons.lock()
            && reasons.len() < 5
        {
            reasons.push(reason);
        }
    }
}

struct GeneratorSetup {
    node_sip: SocketAddr,
    access: String,
    size: usize,
    talkers: usize,
    /// Conferences the 20 ms period is shared among (their sends are spread).
    slots: usize,
    join_rate: f64,
    cpus: Option<Vec<usize>>,
    progress: Arc<Progress>,
}

/// The generator's thread.
struct GeneratorHandle {
    commands: mpsc::Sender<Command>,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

impl GeneratorHandle {
    fn spawn(setup: GeneratorSetup) -> anyhow::Result<Self> {
        let (commands, inbox) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(GENERATOR_THREAD.into())
            .spawn(move || {
                if let Some(cpus) = &setup.cpus {
                    pin_current_thread(cpus)?;
                }
                Generator::new(setup)?.run(&inbox)
            })?;
        Ok(Self { commands, thread })
    }

    fn send(&self, command: Command) -> anyhow::Result<()> {
        self.commands
            .send(command)
            .map_err(|_| anyhow::anyhow!("the generator stopped"))
    }

    fn take(&self) -> anyhow::Result<Harvest> {
        let (reply, harvest) = mpsc::channel();
        self.send(Command::Take(reply))?;
        harvest
            .recv_timeout(Duration::from_secs(10))
            .context("the generator's harvest")
    }

    fn stop(self) {
        let _ = self.commands.send(Command::Stop);
        match self.thread.join() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("bench_media: the generator failed: {error:#}"),
            Err(_) => eprintln!("bench_media: the generator panicked"),
        }
    }
}

/// The payloads callers send, and what they expect back.
struct Frames {
    tone: [u8; FRAME],
    silence: [u8; FRAME],
    /// The mix of every talker.
    full: Vec<u8>,
    /// The mix of every talker but one.
    minus_one: Vec<u8>,
}

impl Frames {
    fn new(talkers: usize) -> Self {
        // 400 Hz at 8 kHz: 8 whole periods per frame, so every frame is the same.
        let pcm: Vec<i16> = (0..FRAME)
            .map(|i| (3000.0 * (TAU * 400.0 * i as f64 / 8000.0).sin()).round() as i16)
            .collect();
        let encode = |samples: &[i16]| {
            let mut out = Vec::with_capacity(FRAME);
            Codec::Pcmu.encode(samples, &mut out);
            out
        };
        let tone = encode(&pcm);
        let mut heard = Vec::with_capacity(FRAME);
        Codec::Pcmu.decode(&tone, &mut heard);
        let times = |n: usize| -> Vec<i16> {
            heard
                .iter()
                .map(|&s| (i32::from(s) * n as i32).clamp(i16::MIN.into(), i16::MAX.into()) as i16)
                .collect()
        };
        let mut frames = Self {
            tone: [0; FRAME],
            silence: [0; FRAME],
            full: encode(&times(talkers)),
            minus_one: encode(&times(talkers.saturating_sub(1))),
        };
        frames.tone.copy_from_slice(&tone);
        frames.silence.copy_from_slice(&encode(&[0; FRAME]));
        frames
    }

    fn classify(&self, payload: &[u8]) -> Mix {
        if payload == self.full.as_slice() {
            Mix::Full
        } else if payload == self.minus_one.as_slice() {
            Mix::MinusOne
        } else {
            Mix::Other
        }
    }
}

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallState {
    Queued,
    Inviting,
    /// Answered: streaming, keys being sent.
    Keying,
    /// Every key acknowledged: streaming.
    Keyed,
    /// Our BYE is out.
    Leaving,
    Ended,
}

/// A request waiting for its final response (retransmitted until then).
struct Pending {
    message: String,
    sent: Instant,
    tries: u32,
}

/// One simulated caller.
struct Caller {
    room: usize,
    talker: bool,
    call_id: String,
    tag: String,
    caller_id: String,
    cseq: u32,
    remote_tag: Option<String>,
    /// The Request-URI of in-dialog requests (the node's Contact).
    target: String,
    state: CallState,
    keys: Vec<char>,
    next_key: usize,
    /// The node's RTP address for this call, from its SDP answer.
    media: Option<SocketAddrV4>,
    seq: u16,
    ts: u32,
    ssrc: u32,
    pending: Option<Pending>,
    arrivals: Vec<Arrival>,
}

/// One conference's RTP socket.
struct RoomLink {
    socket: UdpSocket,
    port: u16,
    callers: Vec<usize>,
    next_send: Instant,
}

/// A datagram read from an RTP socket.
struct Received {
    port: u16,
    t_ns: i64,
    seq: u16,
    mix: Mix,
}

struct Generator {
    node_sip: SocketAddr,
    access: String,
    size: usize,
    talkers: usize,
    sip: UdpSocket,
    sip_local: SocketAddr,
    rooms: Vec<RoomLink>,
    callers: Vec<Caller>,
    by_call_id: HashMap<String, usize>,
    /// Caller by the node's RTP port (`u32::MAX`: none).
    by_node_port: Vec<u32>,
    to_invite: VecDeque<usize>,
    next_invite: Instant,
    invite_gap: Duration,
    to_hang_up: VecDeque<usize>,
    next_retransmit_check: Instant,
    recording: bool,
    send_late_us: Vec<u32>,
    skipped_periods: u64,
    frames: Frames,
    epoch: Instant,
    slots: usize,
    progress: Arc<Progress>,
    send_headers: MultiHeaders<SockaddrIn>,
    recv_headers: MultiHeaders<SockaddrIn>,
    recv_buffers: Vec<[u8; 512]>,
    received: Vec<Received>,
}

impl Generator {
    fn new(setup: GeneratorSetup) -> anyhow::Result<Self> {
        let sip = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        sip.set_nonblocking(true)?;
        setsockopt(&sip, sockopt::RcvBuf, &SOCKET_BUFFER)?;
        let sip_local = sip.local_addr()?;
        Ok(Self {
            node_sip: setup.node_sip,
            access: setup.access,
            size: setup.size,
            talkers: setup.talkers,
            sip,
            sip_local,
            rooms: Vec::new(),
            callers: Vec::new(),
            by_call_id: HashMap::new(),
            by_node_port: vec![u32::MAX; usize::from(u16::MAX) + 1],
            to_invite: VecDeque::new(),
            next_invite: Instant::now(),
            invite_gap: Duration::from_secs_f64(1.0 / setup.join_rate),
            to_hang_up: VecDeque::new(),
            next_retransmit_check: Instant::now(),
            recording: false,
            send_late_us: Vec::new(),
            skipped_periods: 0,
            frames: Frames::new(setup.talkers),
            epoch: Instant::now(),
            slots: setup.slots,
            progress: setup.progress,
            send_headers: MultiHeaders::preallocate(BATCH, None),
            recv_headers: MultiHeaders::preallocate(BATCH, Some(nix::cmsg_space!(TimeSpec))),
            recv_buffers: vec![[0; 512]; BATCH],
            received: Vec::with_capacity(BATCH),
        })
    }

    fn run(mut self, inbox: &mpsc::Receiver<Command>) -> anyhow::Result<()> {
        loop {
            loop {
                match inbox.try_recv() {
                    Ok(Command::Stop) | Err(mpsc::TryRecvError::Disconnected) => return Ok(()),
                    Ok(command) => self.obey(command)?,
                    Err(mpsc::TryRecvError::Empty) => break,
                }
            }
            let now = Instant::now();
            self.place_calls(now);
            self.send_due_rtp(now)?;
            if now >= self.next_retransmit_check {
                self.retransmit(now);
                self.next_retransmit_check = now + Duration::from_millis(100);
            }
            let next_rtp = self.rooms.iter().map(|room| room.next_send).min();
            let mut wake = now + Duration::from_millis(5);
            if let Some(next) = next_rtp {
                wake = wake.min(next);
            }
            if !self.to_invite.is_empty() || !self.to_hang_up.is_empty() {
                wake = wake.min(self.next_invite);
            }
            let ready = self.wait(wake.saturating_duration_since(Instant::now()))?;
            for index in ready {
                if index == 0 {
                    self.drain_sip();
                } else {
                    self.drain_rtp(index - 1)?;
                }
            }
        }
    }

    fn obey(&mut self, command: Command) -> anyhow::Result<()> {
        match command {
            Command::Add(dials) => {
                for dial in dials {
                    self.add_room(&dial)?;
                }
            }
            Command::Record(on) => {
                self.recording = on;
                if on {
                    self.send_late_us.clear();
                    self.skipped_periods = 0;
                }
            }
            Command::Take(reply) => {
                let callers = self
                    .callers
                    .iter_mut()
                    .map(|caller| CallerRecord {
                        room: caller.room,
                        talker: caller.talker,
                        arrivals: std::mem::take(&mut caller.arrivals),
                    })
                    .collect();
                let _ = reply.send(Harvest {
                    callers,
                    send_late_us: std::mem::take(&mut self.send_late_us),
                    skipped_periods: self.skipped_periods,
                    ports: self.rooms.iter().map(|room| room.port).collect(),
                });
            }
            Command::HangUp => {
                self.to_invite.clear();
                self.to_hang_up = (0..self.callers.len())
                    .filter(|&i| {
                        matches!(self.callers[i].state, CallState::Keying | CallState::Keyed)
                    })
                    .collect();
            }
            Command::Stop => {}
        }
        Ok(())
    }

    fn add_room(&mut self, dial: &Dial) -> anyhow::Result<()> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        socket.set_nonblocking(true)?;
        setsockopt(&socket, sockopt::RcvBuf, &SOCKET_BUFFER)?;
        setsockopt(&socket, sockopt::ReceiveTimestampns, &true)?;
        let port = socket.local_addr()?.port();
        let room = self.rooms.len();
        // The rooms' sends are spread over the period, as callers' phases are.
        let phase =
            self.epoch + PERIOD * u32::try_from(room % self.slots)? / u32::try_from(self.slots)?;
        let now = Instant::now();
        let periods = now.saturating_duration_since(phase).as_nanos() / PERIOD.as_nanos() + 1;
        let next_send = phase + PERIOD * u32::try_from(periods)?;
        let keys: Vec<char> = dial
            .number_keys
            .chars()
            .chain(dial.code_keys.chars())
            .collect();
        let mut callers = Vec::with_capacity(self.size);
        for seat in 0..self.size {
            let index = self.callers.len();
            let call_id = format!("bench-{index}@127.0.0.1");
            self.by_call_id.insert(call_id.clone(), index);
            self.callers.push(Caller {
                room,
                talker: seat < self.talkers,
                call_id,
                tag: format!("{index:08x}"),
                caller_id: format!("+1514{:07}", index % 10_000_000),
                cseq: 0,
                remote_tag: None,
                target: format!("sip:{}@{}", self.access, self.node_sip),
                state: CallState::Queued,
                keys: keys.clone(),
                next_key: 0,
                media: None,
                seq: (index as u16).wrapping_mul(7919),
                ts: (index as u32).wrapping_mul(104_729),
                ssrc: 0x5eed_0000 ^ index as u32,
                pending: None,
                arrivals: Vec::new(),
            });
            callers.push(index);
            self.to_invite.push_back(index);
        }
        self.rooms.push(RoomLink {
            socket,
            port,
            callers,
            next_send,
        });
        Ok(())
    }

    // ---- SIP --------------------------------------------------------------------------

    /// A request of `caller`'s dialog (a new CSeq, but for ACK).
    fn request(&mut self, index: usize, method: &str, extra: &str, body: &str) -> String {
        let local = self.sip_local;
        let caller = &mut self.callers[index];
        if method != "ACK" {
            caller.cseq += 1;
        }
        let to_tag = caller
            .remote_tag
            .as_ref()
            .map(|tag| format!(";tag={tag}"))
            .unwrap_or_default();
        let uri = if method == "INVITE" {
            format!("sip:{}@{}", self.access, self.node_sip)
        } else {
            caller.target.clone()
        };
        format!(
            "{method} {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK-{index}-{}{}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:{}@{local}>;tag={}\r\n\
             To: <sip:{}@{}>{to_tag}\r\n\
             Call-ID: {}\r\n\
             CSeq: {} {method}\r\n\
             Contact: <sip:bench@{local}>\r\n\
             {extra}Content-Length: {}\r\n\r\n{body}",
            caller.cseq,
            if method == "ACK" { "-ack" } else { "" },
            caller.caller_id,
            caller.tag,
            self.access,
            self.node_sip,
            caller.call_id,
            caller.cseq,
            body.len(),
        )
    }

    fn send_sip(&self, message: &str) {
        if let Err(error) = self.sip.send_to(message.as_bytes(), self.node_sip) {
            eprintln!("bench_media: SIP send failed: {error}");
        }
    }

    /// Sends a request that waits for a final response.
    fn send_pending(&mut self, index: usize, message: String) {
        self.send_sip(&message);
        self.callers[index].pending = Some(Pending {
            message,
            sent: Instant::now(),
            tries: 1,
        });
    }

    fn place_calls(&mut self, now: Instant) {
        while now >= self.next_invite {
            if let Some(index) = self.to_invite.pop_front() {
                let port = self.rooms[self.callers[index].room].port;
                let sdp = format!(
                    "v=0\r\no=- {index} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                     m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
                     a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
                );
                let invite =
                    self.request(index, "INVITE", "Content-Type: application/sdp\r\n", &sdp);
                self.send_pending(index, invite);
                self.callers[index].state = CallState::Inviting;
                self.progress.invited.fetch_add(1, Ordering::Relaxed);
            } else if let Some(index) = self.to_hang_up.pop_front() {
                if matches!(
                    self.callers[index].state,
                    CallState::Keying | CallState::Keyed
                ) {
                    let bye = self.request(index, "BYE", "", "");
                    self.send_pending(index, bye);
                    self.callers[index].state = CallState::Leaving;
                }
            } else {
                self.next_invite = now;
                return;
            }
            // Hang-ups go four times faster than joins.
            let gap = if self.to_invite.is_empty() {
                self.invite_gap / 4
            } else {
                self.invite_gap
            };
            // After a pause, no burst: at most one call is caught up.
            let floor = now.checked_sub(gap).unwrap_or(now);
            self.next_invite = (self.next_invite + gap).max(floor);
        }
    }

    fn retransmit(&mut self, now: Instant) {
        for index in 0..self.callers.len() {
            let Some(pending) = &mut self.callers[index].pending else {
                continue;
            };
            if now < pending.sent + Duration::from_secs(1) * (1 << pending.tries.min(4)) {
                continue;
            }
            if pending.tries >= 5 {
                let state = self.callers[index].state;
                self.callers[index].pending = None;
                self.end(index);
                self.progress
                    .fail(format!("caller {index}: no answer in state {state:?}"));
                continue;
            }
            pending.tries += 1;
            pending.sent = now;
            let message = pending.message.clone();
            self.send_sip(&message);
        }
    }

    fn end(&mut self, index: usize) {
        let caller = &mut self.callers[index];
        if caller.state != CallState::Ended {
            if matches!(
                caller.state,
                CallState::Keying | CallState::Keyed | CallState::Leaving
            ) {
                self.progress.ended.fetch_add(1, Ordering::Relaxed);
            }
            caller.state = CallState::Ended;
            caller.pending = None;
        }
    }

    fn drain_sip(&mut self) {
        let mut buffer = [0u8; 65_535];
        loop {
            match self.sip.recv_from(&mut buffer) {
                Ok((n, _)) => {
                    let text = String::from_utf8_lossy(&buffer[..n]).into_owned();
                    self.on_sip(&text);
                }
                Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(error) => {
                    eprintln!("bench_media: SIP receive: {error}");
                    return;
                }
            }
        }
    }

    fn on_sip(&mut self, text: &str) {
        let Some(&index) = header(text, "Call-ID").and_then(|id| self.by_call_id.get(id)) else {
            return;
        };
        if let Some(status) = text.strip_prefix("SIP/2.0 ") {
            let status: u16 = status.get(..3).and_then(|s| s.parse().ok()).unwrap_or(0);
            let method = header(text, "CSeq")
                .and_then(|cseq| cseq.split_whitespace().nth(1))
                .unwrap_or_default();
            self.on_response(index, status, method, text);
        } else {
            self.on_request(index, text);
        }
    }

    fn on_response(&mut self, index: usize, status: u16, method: &str, text: &str) {
        let state = self.callers[index].state;
        match (method, status) {
            (_, 100..=199) => {
                // A provisional answer: the INVITE is no longer retransmitted.
                if let Some(pending) = &mut self.callers[index].pending {
                    pending.tries = 0;
                    pending.sent = Instant::now() + Duration::from_secs(60);
                }
            }
            ("INVITE", 200..=299) => {
                if state == CallState::Inviting {
                    let caller = &mut self.callers[index];
                    caller.pending = None;
                    caller.remote_tag = header(text, "To")
                        .and_then(|to| to.split(";tag=").nth(1))
                        .map(|tag| tag.split(';').next().unwrap_or(tag).trim().to_string());
                    if let Some(contact) = header(text, "Contact")
                        .and_then(|c| c.split('<').nth(1))
                        .and_then(|c| c.split('>').next())
                    {
                        caller.target = contact.to_string();
                    }
                    caller.media = sdp_media(text);
                    let Some(media) = caller.media else {
                        self.end(index);
                        self.progress.fail(format!("caller {index}: no SDP answer"));
                        return;
                    };
                    self.by_node_port[usize::from(media.port())] = index as u32;
                    self.callers[index].state = CallState::Keying;
                    self.progress.answered.fetch_add(1, Ordering::Relaxed);
                    let ack = self.request(index, "ACK", "", "");
                    self.send_sip(&ack);
                    self.send_key(index);
                } else if state != CallState::Ended {
                    // The 200 again: our ACK was lost.
                    let ack = self.request(index, "ACK", "", "");
                    self.send_sip(&ack);
                }
            }
            ("INFO", 200..=299) if state == CallState::Keying => {
                let caller = &mut self.callers[index];
                if header(text, "CSeq").and_then(|c| c.split_whitespace().next())
                    != Some(caller.cseq.to_string().as_str())
                {
                    return;
                }
                caller.pending = None;
                caller.next_key += 1;
                if caller.next_key < caller.keys.len() {
                    self.send_key(index);
                } else {
                    caller.state = CallState::Keyed;
                    self.progress.keyed.fetch_add(1, Ordering::Relaxed);
                }
            }
            ("BYE", _) => self.end(index),
            (_, 300..) => {
                self.end(index);
                self.progress.fail(format!(
                    "caller {index}: {method} answered {status} in state {state:?}"
                ));
            }
            _ => {}
        }
    }

    fn on_request(&mut self, index: usize, text: &str) {
        let method = text
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        if method == "ACK" {
            return;
        }
        // Echo the request's Via, From, To, Call-ID and CSeq in a 200.
        let mut response = String::from("SIP/2.0 200 OK\r\n");
        for line in text.lines().take_while(|line| !line.is_empty()) {
            let name = line.split(':').next().unwrap_or_default().trim();
            if ["via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h))
            {
                response.push_str(line);
                response.push_str("\r\n");
            }
        }
        response.push_str("Content-Length: 0\r\n\r\n");
        self.send_sip(&response);
        if method == "BYE" {
            let state = self.callers[index].state;
            self.end(index);
            self.progress.fail(format!(
                "caller {index}: the node hung up in state {state:?}"
            ));
        }
    }

    fn send_key(&mut self, index: usize) {
        let caller = &self.callers[index];
        let Some(&key) = caller.keys.get(caller.next_key) else {
            return;
        };
        let body = format!("Signal={key}\r\nDuration=160\r\n");
        let info = self.request(
            index,
            "INFO",
            "Content-Type: application/dtmf-relay\r\n",
            &body,
        );
        self.send_pending(index, info);
    }

    // ---- RTP ----------------------------------------------------------------------------

    fn send_due_rtp(&mut self, now: Instant) -> anyhow::Result<()> {
        for room in 0..self.rooms.len() {
            let due = self.rooms[room].next_send;
            if due > now {
                continue;
            }
            let late = now - due;
            let mut skipped = 0;
            if late > PERIOD * 3 {
                // Far behind (the machine stalled): skip ahead rather than burst.
                skipped = u32::try_from(late.as_nanos() / PERIOD.as_nanos()).unwrap_or(u32::MAX);
                if self.recording {
                    self.skipped_periods += u64::from(skipped);
                }
            }
            if self.recording {
                self.send_late_us
                    .push(u32::try_from(late.as_micros()).unwrap_or(u32::MAX));
            }
            self.rooms[room].next_send = due + PERIOD * (skipped + 1);
            self.send_room(room, skipped)?;
        }
        Ok(())
    }

    /// Sends one frame for each streaming caller of a room.
    fn send_room(&mut self, room: usize, skipped: u32) -> anyhow::Result<()> {
        let mut packets: Vec<[u8; RTP_HEADER + FRAME]> = Vec::with_capacity(self.size);
        let mut addresses: Vec<Option<SockaddrIn>> = Vec::with_capacity(self.size);
        for &index in &self.rooms[room].callers {
            let caller = &mut self.callers[index];
            let (Some(media), CallState::Keying | CallState::Keyed) = (caller.media, caller.state)
            else {
                continue;
            };
            caller.seq = caller.seq.wrapping_add(1);
            caller.ts = caller.ts.wrapping_add(FRAME as u32 * (skipped + 1));
            let mut packet = [0u8; RTP_HEADER + FRAME];
            packet[0] = 0x80;
            packet[1] = 0; // PCMU
            packet[2..4].copy_from_slice(&caller.seq.to_be_bytes());
            packet[4..8].copy_from_slice(&caller.ts.to_be_bytes());
            packet[8..12].copy_from_slice(&caller.ssrc.to_be_bytes());
            packet[RTP_HEADER..].copy_from_slice(if caller.talker {
                &self.frames.tone
            } else {
                &self.frames.silence
            });
            packets.push(packet);
            addresses.push(Some(SockaddrIn::from(media)));
        }
        let fd = self.rooms[room].socket.as_raw_fd();
        for (packets, addresses) in packets.chunks(BATCH).zip(addresses.chunks(BATCH)) {
            let slices: Vec<[IoSlice<'_>; 1]> = packets.iter().map(|p| [IoSlice::new(p)]).collect();
            let mut sent = 0;
            while sent < slices.len() {
                match sendmmsg(
                    fd,
                    &mut self.send_headers,
                    &slices[sent..],
                    &addresses[sent..],
                    [] as [ControlMessage<'_>; 0],
                    MsgFlags::empty(),
                ) {
                    Ok(results) => {
                        let n = results.count();
                        if n == 0 {
                            break;
                        }
                        sent += n;
                    }
                    Err(Errno::EINTR) => continue,
                    Err(error) => {
                        eprintln!("bench_media: RTP send failed: {error}");
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    fn drain_rtp(&mut self, room: usize) -> anyhow::Result<()> {
        let fd = self.rooms[room].socket.as_raw_fd();
        loop {
            self.received.clear();
            let count = {
                let mut slices: Vec<[IoSliceMut<'_>; 1]> = self
                    .recv_buffers
                    .iter_mut()
                    .map(|buffer| [IoSliceMut::new(&mut buffer[..])])
                    .collect();
                let results = match recvmmsg(
                    fd,
                    &mut self.recv_headers,
                    slices.iter_mut(),
                    MsgFlags::MSG_DONTWAIT,
                    None,
                ) {
                    Ok(results) => results,
                    Err(Errno::EAGAIN | Errno::EINTR) => return Ok(()),
                    Err(Errno::ECONNREFUSED) => continue,
                    Err(error) => return Err(error.into()),
                };
                let mut count = 0;
                for message in results {
                    count += 1;
                    let Some(port) = message.address.map(|a| a.port()) else {
                        continue;
                    };
                    let t_ns = message
                        .cmsgs()
                        .ok()
                        .and_then(|mut cmsgs| {
                            cmsgs.find_map(|cmsg| match cmsg {
                                ControlMessageOwned::ScmTimestampns(ts) => {
                                    Some(ts.tv_sec() * 1_000_000_000 + ts.tv_nsec())
                                }
                                _ => None,
                            })
                        })
                        .unwrap_or_else(realtime_ns);
                    let Some(data) = message.iovs().next() else {
                        continue;
                    };
                    let data = &data[..message.bytes.min(data.len())];
                    if data.len() < RTP_HEADER {
                        continue;
                    }
                    // RFC 3550 §5.1: skip CSRCs and an extension (the node sends neither).
                    let mut start = RTP_HEADER + 4 * usize::from(data[0] & 0x0f);
                    if data[0] & 0x10 != 0 && data.len() >= start + 4 {
                        start += 4 + 4 * usize::from(u16::from_be_bytes([
                            data[start + 2],
                            data[start + 3],
                        ]));
                    }
                    let payload = data.get(start..).unwrap_or_default();
                    self.received.push(Received {
                        port,
                        t_ns,
                        seq: u16::from_be_bytes([data[2], data[3]]),
                        mix: self.frames.classify(payload),
                    });
                }
                count
            };
            if self.recording {
                for received in &self.received {
                    let index = self.by_node_port[usize::from(received.port)];
                    if let Some(caller) = self.callers.get_mut(index as usize) {
                        caller.arrivals.push(Arrival {
                            t_ns: received.t_ns,
                            seq: received.seq,
                            mix: received.mix,
                        });
                    }
                }
            }
            if count < BATCH {
                return Ok(());
            }
        }
    }

    /// Waits for a readable socket (0: SIP, then the rooms) or `timeout`.
    fn wait(&self, timeout: Duration) -> anyhow::Result<Vec<usize>> {
        let mut fds: Vec<PollFd<'_>> = std::iter::once(self.sip.as_fd())
            .chain(self.rooms.iter().map(|room| room.socket.as_fd()))
            .map(|fd| PollFd::new(fd, PollFlags::POLLIN))
            .collect();
        match ppoll(&mut fds, Some(TimeSpec::from_duration(timeout)), None) {
            Ok(_) | Err(Errno::EINTR) => {}
            Err(error) => return Err(error.into()),
        }
        Ok(fds
            .iter()
            .enumerate()
            .filter(|(_, fd)| {
                fd.revents()
                    .is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLERR))
            })
            .map(|(index, _)| index)
            .collect())
    }
}

/// A header's value in a SIP message (full name or compact form; the first one).
fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    let compact = match name {
        "Call-ID" => Some("i"),
        "To" => Some("t"),
        "From" => Some("f"),
        "Contact" => Some("m"),
        "Via" => Some("v"),
        _ => None,
    };
    message
        .lines()
        .skip(1)
        .take_while(|line| !line.is_empty())
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            let key = key.trim();
            (key.eq_ignore_ascii_case(name) || compact.is_some_and(|c| key.eq_ignore_ascii_case(c)))
                .then(|| value.trim())
        })
}

/// The audio address of an SDP answer in a SIP message.
fn sdp_media(message: &str) -> Option<SocketAddrV4> {
    let body = message.split("\r\n\r\n").nth(1)?;
    let ip: Ipv4Addr = body
        .lines()
        .find_map(|line| line.strip_prefix("c=IN IP4 "))
        .and_then(|ip| ip.trim().parse().ok())?;
    let port: u16 = body
        .lines()
        .find_map(|line| line.strip_prefix("m=audio "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|port| port.parse().ok())?;
    Some(SocketAddrV4::new(ip, port))
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
            arrivals,
        }
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

    #[test]
    fn frames_tell_the_whole_mix_from_a_partial_one() {
        let frames = Frames::new(3);
        assert_eq!(frames.classify(&frames.full), Mix::Full);
        assert_eq!(frames.classify(&frames.minus_one), Mix::MinusOne);
        assert_eq!(frames.classify(&frames.silence), Mix::Other);
        assert_ne!(frames.full, frames.minus_one);
    }

    #[test]
    fn sip_headers_and_sdp_are_read() {
        let message = "SIP/2.0 200 OK\r\ni: abc@x\r\nTo: <sip:a@b>;tag=t1\r\nCSeq: 2 INFO\r\n\r\n\
                       v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 20002 RTP/AVP 0 101\r\n";
        assert_eq!(header(message, "Call-ID"), Some("abc@x"));
        assert_eq!(header(message, "CSeq"), Some("2 INFO"));
        assert_eq!(
            sdp_media(message),
            Some(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 20002))
        );
    }
}
