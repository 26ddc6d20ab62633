//! `--cascade`: what a cascaded participant costs against a local one, and the
//! mouth-to-ear delay the cascade adds (issue #16).
//!
//! Two real shells run in this process over one in-memory store (the room
//! leases and CDR legs they share, as nodes share the table): the **owner** and
//! the **member**, each on a runtime of its own pinned to the node CPUs, with the
//! cascade secret set and each other's address (127.0.0.2) as node sources. The
//! cascade between them is the real one: a signed SIP INVITE and RTP on
//! loopback. The member's threads are named [`MEMBER_THREADS`]`…` to tell their
//! CPU time from the owner's.
//!
//! Two phases of the first step's participants (`--steps`, default 500 per node
//! core), each joined, settled and measured like a step of the main bench:
//!
//! 1. **local**: every caller of every conference calls the owner;
//! 2. **cascade**: as many callers of other conferences, the first half of
//!    each (its talkers among them, invited first, so the owner claims the room)
//!    on the owner, the second half on the member, which cascades to the owner.
//!    That the owner held every room is checked in the CDR legs (`owner_node`)
//!    and the nodes' counters (no room split, no cascade refused).
//!
//! Figures: each node's CPU per participant-second of the callers who called it;
//! the mouth-to-ear delay from a talker's frame sent by the generator to the
//! first mix containing it received by a listener, p50 and p99: the first talker
//! of each room leaves out its tone for one frame every 500 ms (a marker) and
//! the first frame a listener receives without that talker is its mix. The
//! delay the cascade adds is the cascade phase's member listeners' against its
//! owner listeners': the same talkers' frames through the same jitter buffers on
//! the owner. (A jitter buffer's delay grows by a frame at each late frame, up
//! to its depth, and never shrinks: the two phases' delays differ by their
//! history.)

use std::time::Duration;

use anyhow::{Context as _, bail};
use std::sync::Arc;

use teleconf_adapters::store::CdrStore;
use teleconf_domain::NodeId;

use crate::conferences_at;
use crate::generator::{Command, Dial, GeneratorHandle, GeneratorSetup, Progress};
use crate::measure::{StepFigures, Window, measure_quiet};
use crate::node_under_test::{
    NodeSetup, NodeUnderTest, Seeded, node_runtime, seed, wait_until_joined,
};
use crate::options::{Options, Path};
use crate::system::{MEMBER_THREADS, label_node_threads};

/// The node that holds the rooms (its RTP ports and the member's are halves of
/// [`crate::NODE_RTP_PORTS`]).
const OWNER: NodeSetup = NodeSetup {
    id: "bench-owner",
    rtp_ports: "20000-25999",
    cascade: true,
};

/// The node whose callers cascade to the owner's rooms.
const MEMBER: NodeSetup = NodeSetup {
    id: "bench-member",
    rtp_ports: "26000-31999",
    cascade: true,
};

pub(crate) fn run(options: &Options) -> anyhow::Result<()> {
    let per_core = options.steps.first().copied().unwrap_or(500);
    let conferences = conferences_at(options, per_core);
    let io = options
        .node_io()
        .context("--cascade needs a node path (io_uring or epoll)")?;
    let participants = conferences * options.size;
    let on_member = options.size - options.size.div_ceil(2);
    println!(
        "bench_media: cascade: owner and member nodes on CPU {:?} ({}), generator on CPU {:?}; \
         {participants} participants in {conferences} conferences of {} ({} talkers, on the owner), \
         all on the owner, then {} of each on the member; {} s windows after {} s of settling; \
         RTP on {io}",
        options.node_cpus,
        if options.pin { "pinned" } else { "not pinned" },
        options.gen_cpus,
        options.size,
        options.talkers,
        on_member,
        options.measure.as_secs_f64(),
        options.settle.as_secs_f64(),
    );

    // The member first: its threads are the only node threads when they are named.
    let member_runtime = node_runtime(options, &format!("{MEMBER_THREADS}node-rt"))?;
    let seeded = member_runtime.block_on(seed(2 * conferences, options.size))?;
    let member =
        member_runtime.block_on(NodeUnderTest::start(seeded.store.clone(), &MEMBER, io))?;
    label_node_threads(MEMBER_THREADS)?;
    let owner_runtime = node_runtime(options, "node-rt")?;
    let owner = owner_runtime.block_on(NodeUnderTest::start(seeded.store.clone(), &OWNER, io))?;

    let progress = Arc::new(Progress::default());
    let generator = GeneratorHandle::spawn(GeneratorSetup {
        node_sip: owner.sip,
        bridge: None,
        access: seeded.access.clone(),
        size: options.size,
        talkers: options.talkers,
        slots: conferences.max(1),
        join_rate: options.join_rate,
        markers: true,
        cpus: options.pin.then(|| options.gen_cpus.clone()),
        progress: progress.clone(),
    })?;

    let phases = (|| -> anyhow::Result<[StepFigures; 2]> {
        let phase = |rooms: std::ops::Range<usize>, member_sip| -> anyhow::Result<StepFigures> {
            let dials = seeded.conferences[rooms.clone()]
                .iter()
                .map(|conference| Dial::participant(conference, member_sip))
                .collect();
            // Each phase's calls are judged on their own failures.
            progress.begin_phase();
            generator.send(Command::Add(dials))?;
            wait_until_joined(
                &owner_runtime,
                &seeded,
                rooms.clone(),
                participants,
                &progress,
                options.join_rate,
            )?;
            check_owner(&owner_runtime, &seeded, rooms.clone(), [&owner, &member])?;
            std::thread::sleep(options.settle);
            measure_quiet(
                options,
                &Window {
                    path: Path::Node(io),
                    generator: &generator,
                    progress: &progress,
                    participants,
                    rooms,
                },
            )
        };
        let local = phase(0..conferences, None)?;
        generator.hang_up(&progress)?;
        let cascaded = phase(conferences..2 * conferences, Some(member.sip))?;
        Ok([local, cascaded])
    })();
    match &phases {
        Ok([local, cascaded]) => {
            print_table(participants, on_member * conferences, local, cascaded)
        }
        Err(error) => println!("bench_media: cascade not measured: {error:#}"),
    }

    let hung_up = generator.hang_up(&progress);
    generator.stop();
    // Each node stops once its calls are settled: both at once.
    let (owner_stopped, member_stopped) =
        owner_runtime.block_on(async { tokio::join!(owner.stop(), member.stop()) });
    owner_runtime.shutdown_timeout(Duration::from_secs(2));
    member_runtime.shutdown_timeout(Duration::from_secs(2));
    phases?;
    hung_up?;
    owner_stopped.context("the owner")?;
    member_stopped.context("the member")
}

/// The owner held every room of `rooms` (no open leg names another node as its
/// room's), and neither node opened a room alone while the other held its lease
/// nor refused a cascade: the member's callers are in the owner's rooms.
fn check_owner(
    runtime: &tokio::runtime::Runtime,
    seeded: &Seeded,
    rooms: std::ops::Range<usize>,
    nodes: [&NodeUnderTest; 2],
) -> anyhow::Result<()> {
    let owner: NodeId = OWNER.id.parse().context("the owner's id")?;
    let mut elsewhere = 0;
    for conference in &seeded.conferences[rooms] {
        let legs = runtime.block_on(seeded.store.legs_of_conference(conference.id))?;
        elsewhere += legs
            .iter()
            .filter(|leg| {
                leg.left_at.is_none() && leg.owner_node.as_ref().is_some_and(|node| *node != owner)
            })
            .count();
    }
    if elsewhere > 0 {
        bail!("{elsewhere} callers are in a room the owner does not hold");
    }
    for node in nodes {
        let figures = node.stats.read();
        if figures.rooms_owned_elsewhere > 0 || figures.cascades_refused > 0 {
            bail!(
                "{} rooms split from their owner's, {} cascades refused",
                figures.rooms_owned_elsewhere,
                figures.cascades_refused
            );
        }
    }
    Ok(())
}

fn print_table(participants: usize, on_member: usize, local: &StepFigures, cascaded: &StepFigures) {
    let on_owner = participants - on_member;
    let us = |cores: f64, callers: usize| cores * 1e6 / callers.max(1) as f64;
    let delay = |(p50, p99, n): (f64, f64, usize)| format!("{p50:.2} / {p99:.2} ms ({n})");
    let local_owner = local.node_cores - local.member_cores;
    let cascade_owner = cascaded.node_cores - cascaded.member_cores;
    println!();
    println!(
        "| layout | node | its callers | node CPU (cores) | CPU per participant-second | \
         mouth-to-ear p50 / p99 (markers) | frames lost | other load |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    println!(
        "| all local | owner | {participants} | {local_owner:.3} | {:.0} µs/s | {} | {} of {} | {:.3} |",
        us(local_owner, participants),
        delay(local.mouth_to_ear_ms[0]),
        local.lost,
        local.expected,
        local.other_cores,
    );
    println!(
        "| cascade | owner | {on_owner} | {cascade_owner:.3} | {:.0} µs/s | {} | {} of {} | {:.3} |",
        us(cascade_owner, on_owner),
        delay(cascaded.mouth_to_ear_ms[0]),
        cascaded.lost,
        cascaded.expected,
        cascaded.other_cores,
    );
    println!(
        "| cascade | member | {on_member} | {:.3} | {:.0} µs/s | {} | | |",
        cascaded.member_cores,
        us(cascaded.member_cores, on_member),
        delay(cascaded.mouth_to_ear_ms[1]),
    );
    println!(
        "| cascade | both | {participants} | {:.3} | {:.0} µs/s | | | |",
        cascaded.node_cores,
        us(cascaded.node_cores, participants),
    );
    let local_us = us(local_owner, participants);
    println!();
    println!(
        "bench_media: cascade result local_us_per_participant_s={local_us:.0} \
         owner_us_per_participant_s={:.0} member_us_per_participant_s={:.0} \
         both_us_per_participant_s={:.0} added_pct={:.1} mouth_to_ear_local_p50_ms={:.2} \
         mouth_to_ear_local_p99_ms={:.2} mouth_to_ear_cascaded_p50_ms={:.2} \
         mouth_to_ear_cascaded_p99_ms={:.2} added_p50_ms={:.2} added_p99_ms={:.2}",
        us(cascade_owner, on_owner),
        us(cascaded.member_cores, on_member),
        us(cascaded.node_cores, participants),
        (us(cascaded.node_cores, participants) / local_us - 1.0) * 100.0,
        cascaded.mouth_to_ear_ms[0].0,
        cascaded.mouth_to_ear_ms[0].1,
        cascaded.mouth_to_ear_ms[1].0,
        cascaded.mouth_to_ear_ms[1].1,
        cascaded.mouth_to_ear_ms[1].0 - cascaded.mouth_to_ear_ms[0].0,
        cascaded.mouth_to_ear_ms[1].1 - cascaded.mouth_to_ear_ms[0].1,
    );
}
