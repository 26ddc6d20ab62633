//! # bench_media: how many callers one core of the media node carries (issue #5)
//!
//! ```sh
//! cargo run --release -p teleconf-media-node --example bench_media -- [OPTIONS]
//! ```
//!
//! Runs the real [`Shell`](teleconf_media_node::shell::Shell) in this process, over an in-memory store seeded with an
//! account, an access number and conferences open now, on a tokio runtime of its own
//! whose threads (`node-rt`, and the `media-loop`, `cdr-spool` and `recorder` threads the shell
//! starts from them) are pinned to the node's CPUs. A load generator (`bench-gen`,
//! one thread) runs on the other CPU and plays every caller:
//!
//! - one SIP socket for all callers, as a trunk: INVITE with a PCMU +
//!   telephone-event offer, ACK, then the conference number and the participant
//!   code keyed by SIP INFO (`application/dtmf-relay`, one key per request);
//! - one RTP socket per conference: from its ACK on, each caller sends 50 pkt/s
//!   (the first [`talkers`](options::Options::talkers) of a conference a tone, the others µ-law
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
//! A window during which other processes used more than [`DISTURBED_CORES`], or
//! the generator sent its frames later than [`GENERATOR_LATE_MS`] (p99), is
//! measured again (`--retries`). The result is the highest step with no frame
//! lost, as participants per core.
//! Each step prints a `bench_media: participants=…` line; the end, a table.
//!
//! With `--cascade`, two nodes instead of the steps: the cost of a participant
//! cascaded from one node to another against a local one, and the mouth-to-ear
//! delay the cascade adds ([`cascade`]).
//!
//! ## Layout
//! - this file: the steps, from the options to the table;
//! - [`options`]: the command line;
//! - [`cascade`]: `--cascade`, an owner and a member node;
//! - [`node_under_test`]: the node's runtime, its seeded store, the wait for a
//!   step's callers to be admitted;
//! - [`generator`]: the load generator's thread, every caller's SIP and RTP;
//! - [`measure`]: one window's figures, and the table;
//! - [`analysis`]: frames lost, lateness, incomplete mixes;
//! - [`system`]: threads' CPU, other processes' load, socket drops, pinning.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use teleconf_domain::Conference;

/// The frame period (ptime 20).
pub(crate) const PERIOD: Duration = Duration::from_millis(20);
pub(crate) const PERIOD_NS: i64 = 20_000_000;
/// Bytes of one 20 ms G.711 frame.
pub(crate) const FRAME: usize = 160;
/// Bytes of an RTP header without CSRCs or extension.
pub(crate) const RTP_HEADER: usize = 12;
/// Messages per `sendmmsg`/`recvmmsg`.
pub(crate) const BATCH: usize = 64;
/// Receive buffer of each generator socket (the kernel caps it at `rmem_max`).
pub(crate) const SOCKET_BUFFER: usize = 1 << 20;
/// The bench nodes' address: a loopback address of their own, so that their RTP
/// ports (a socket's address and port) are never a test's node's (20000-29999
/// on 127.0.0.1) nor one the kernel hands out on 127.0.0.1 (the generator's).
pub(crate) const NODE_IP: &str = "127.0.0.2";
/// The bench nodes' RTP ports, on [`NODE_IP`], below the ephemeral range (a
/// call takes an even one: 6,000 calls).
pub(crate) const NODE_RTP_PORTS: &str = "20000-31999";
/// Margin kept at each end of a window when counting frames, so a frame in flight
/// at the edge is neither counted nor missed.
pub(crate) const EDGE_NS: i64 = 60_000_000;
/// Other processes' load above which a window is disturbed (cores). A quiet
/// machine shows up to ~0.1: kernel threads, and `/proc/stat`'s sampled ticks
/// against the threads' exact run times.
pub(crate) const DISTURBED_CORES: f64 = 0.15;
/// The generator's send lateness (p99, ms) above which a window is disturbed:
/// talkers' frames that left it that late miss their room's tick on any node.
/// On a quiet machine it is about 0.1–0.3 ms.
pub(crate) const GENERATOR_LATE_MS: f64 = 1.0;
/// Name of the generator's thread (the node's threads are the others but main).
pub(crate) const GENERATOR_THREAD: &str = "bench-gen";
/// Settling before a window of the reference bridge: it has no SIP whose
/// transactions must end, only jitter buffers to fill.
const REFERENCE_SETTLE: Duration = Duration::from_secs(5);

mod analysis;
mod cascade;
mod generator;
mod measure;
mod node_under_test;
mod options;
mod reference;
mod system;

use crate::generator::{Bridge, Command, Dial, GeneratorHandle, GeneratorSetup, Progress};
use crate::measure::{StepFigures, Window, measure_quiet, print_comparison, print_table};
use crate::node_under_test::{NodeUnderTest, ONLY_NODE, node_runtime, seed, wait_until_joined};
use crate::options::{Options, Path};
use crate::reference::{ReferenceBridge, Sockets};
use crate::system::pin_current_thread;

fn main() -> anyhow::Result<()> {
    let options = Options::parse()?;
    if options.help {
        println!("{}", Options::USAGE);
        return Ok(());
    }
    // The node's warnings (an IVR that got no answer, the media loop behind its
    // clock) on stderr, so a failed run says why; `RUST_LOG=info` adds each
    // call's life (admitted, its leg closed and the cause).
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|level| level.parse().ok())
        .unwrap_or(tracing::Level::WARN);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .init();
    if options.pin {
        // The main thread and all it spawns but the node's runtime share the
        // generator's CPUs.
        pin_current_thread(&options.gen_cpus).context("pinning the main thread")?;
    }
    if options.cascade {
        return cascade::run(&options);
    }
    println!(
        "bench_media: node on CPU {:?} ({}), generator on CPU {:?}; conferences of {}, {} talkers; \
         50 pkt/s per caller each way; {} s windows after all joined and {} s of settling; paths {}; \
         scheduling {}",
        options.node_cpus,
        if options.pin { "pinned" } else { "not pinned" },
        options.gen_cpus,
        options.size,
        options.talkers,
        options.measure.as_secs_f64(),
        options.settle.as_secs_f64(),
        options
            .paths
            .iter()
            .map(|path| path.name())
            .collect::<Vec<_>>()
            .join(", "),
        system::scheduling(),
    );
    let runtime = node_runtime(&options, "node-rt")?;
    let mut runs = Vec::with_capacity(options.paths.len());
    for &path in &options.paths {
        println!("bench_media: path {}", path.name());
        let run = match path {
            Path::Reference | Path::ReferenceSockets => run_reference(&options, path)?,
            Path::Node(io) => run_node(&options, &runtime, io)?,
        };
        print_table(&options, path, &run);
        runs.push((path, run));
    }
    print_comparison(&runs);
    runtime.shutdown_timeout(Duration::from_secs(2));
    let failed: Vec<String> = runs
        .iter()
        .filter_map(|(path, run)| {
            run.teardown
                .as_ref()
                .map(|why| format!("path {}: {why}", path.name()))
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        anyhow::bail!("after the figures: {}", failed.join("; "))
    }
}

/// Conferences at `per_core` participants per node core.
fn conferences_at(options: &Options, per_core: usize) -> usize {
    (per_core * options.node_cpus.len()).div_ceil(options.size)
}

fn max_conferences(options: &Options) -> usize {
    options
        .steps
        .iter()
        .map(|&step| conferences_at(options, step))
        .max()
        .unwrap_or(0)
}

/// The steps against the node, its RTP on `io`, over a store of its own.
fn run_node(
    options: &Options,
    runtime: &tokio::runtime::Runtime,
    io: &'static str,
) -> anyhow::Result<PathRun> {
    let max_conferences = max_conferences(options);
    let seeded = runtime.block_on(seed(max_conferences, options.size))?;
    let node = runtime.block_on(NodeUnderTest::start(seeded.store.clone(), &ONLY_NODE, io))?;
    let progress = Arc::new(Progress::default());
    let generator = spawn_generator(options, node.sip, None, seeded.access.clone(), &progress)?;
    let run = run_steps(
        options,
        Path::Node(io),
        &generator,
        &progress,
        options.settle,
        |conferences, participants| {
            wait_until_joined(
                runtime,
                &seeded,
                0..conferences,
                participants,
                &progress,
                options.join_rate,
            )
        },
        &seeded.conferences,
    );
    let hung_up = generator.hang_up(&progress);
    generator.stop();
    let stopped = runtime.block_on(node.stop());
    let mut run = run?;
    run.teardown = hung_up.and(stopped).err().map(|error| format!("{error:#}"));
    Ok(run)
}

/// The same steps against the reference bridge (`path`: with one socket, or
/// one per caller): no SIP, every caller streams from the start, and a few
/// seconds fill the jitter buffers.
fn run_reference(options: &Options, path: Path) -> anyhow::Result<PathRun> {
    let structure = if path == Path::ReferenceSockets {
        Sockets::PerCaller(max_conferences(options) * options.size)
    } else {
        Sockets::One
    };
    let bridge = ReferenceBridge::spawn(options.pin.then(|| options.node_cpus.clone()), structure)?;
    let progress = Arc::new(Progress::default());
    let generator = spawn_generator(
        options,
        std::net::SocketAddr::V4(bridge.target().addr),
        Some(bridge.target()),
        String::new(),
        &progress,
    )?;
    let rooms: Vec<Conference> = Vec::new();
    let run = run_steps(
        options,
        path,
        &generator,
        &progress,
        options.settle.min(REFERENCE_SETTLE),
        |_, _| Ok(()),
        &rooms,
    );
    generator.send(Command::HangUp)?;
    generator.stop();
    drop(bridge);
    run
}

/// The generator, calling `node_sip` (or streaming to `bridge`).
fn spawn_generator(
    options: &Options,
    node_sip: std::net::SocketAddr,
    bridge: Option<Bridge>,
    access: String,
    progress: &Arc<Progress>,
) -> anyhow::Result<GeneratorHandle> {
    GeneratorHandle::spawn(GeneratorSetup {
        node_sip,
        bridge,
        access,
        size: options.size,
        talkers: options.talkers,
        slots: max_conferences(options).max(1),
        join_rate: options.join_rate,
        markers: false,
        cpus: options.pin.then(|| options.gen_cpus.clone()),
        progress: progress.clone(),
    })
}

/// What one path measured: its steps, and the step whose callers could not all
/// be admitted (and why).
pub(crate) struct PathRun {
    pub(crate) rows: Vec<StepFigures>,
    pub(crate) not_joined: Option<(usize, String)>,
    /// Why the callers could not all be hung up or the node did not stop, if so:
    /// the figures stand, the run fails.
    pub(crate) teardown: Option<String>,
}

/// Every step, from the options: the new conferences join, `joined` waits for
/// them, the node settles, a window is measured (again when disturbed). Stops
/// at the first step that loses a frame (unless `--keep-going`).
fn run_steps(
    options: &Options,
    path: Path,
    generator: &GeneratorHandle,
    progress: &Progress,
    settle: Duration,
    joined: impl Fn(usize, usize) -> anyhow::Result<()>,
    seeded: &[Conference],
) -> anyhow::Result<PathRun> {
    let mut rows: Vec<StepFigures> = Vec::new();
    let mut added = 0;
    let mut not_joined = None;
    for &per_core in &options.steps {
        let conferences = conferences_at(options, per_core);
        if conferences > added {
            let dials = (added..conferences)
                .map(|index| match seeded.get(index) {
                    Some(conference) => Dial::participant(conference, None),
                    None => Dial::default(),
                })
                .collect();
            generator.send(Command::Add(dials))?;
            added = conferences;
        }
        let participants = conferences * options.size;
        if let Err(error) = joined(conferences, participants) {
            println!("bench_media: step {per_core}/core failed: {error:#}");
            not_joined = Some((per_core, format!("{error:#}")));
            break;
        }
        std::thread::sleep(settle);
        let figures = measure_quiet(
            options,
            &Window {
                path,
                generator,
                progress,
                participants,
                rooms: 0..conferences,
            },
        )?;
        let lossy = figures.lost > 0;
        rows.push(figures);
        if lossy && !options.keep_going {
            break;
        }
    }
    Ok(PathRun {
        rows,
        not_joined,
        teardown: None,
    })
}
