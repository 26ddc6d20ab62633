//! The node under test: its runtime on its CPUs, the store seeded with an
//! account, an access number and conferences open now, the shell running over
//! it, and the wait until every caller of a step is admitted.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DurationRound, TimeDelta, Utc};
use tokio::sync::oneshot;

use teleconf_adapters::blobs::MemoryBlobs;
use teleconf_adapters::store::conformance::account_with_owner;
use teleconf_adapters::store::memory::MemoryStore;
use teleconf_adapters::store::{CdrStore, ConferenceStore, NumberStore};
use teleconf_domain::testkit::access_number;
use teleconf_domain::{AccessCodes, CodeChoices, Conference, ConferenceNumber, Language, Schedule};
use teleconf_media_node::shell::stats::Stats;
use teleconf_media_node::shell::{Config, Services, Shell};

use crate::generator::Progress;
use crate::options::Options;
use crate::system::pin_current_thread;
use crate::{NODE_IP, NODE_RTP_PORTS};

/// A node's runtime: one worker per node CPU, every thread pinned to them, its
/// threads named `thread_name`.
pub(crate) fn node_runtime(
    options: &Options,
    thread_name: &str,
) -> anyhow::Result<tokio::runtime::Runtime> {
    let cpus = options.node_cpus.clone();
    let pin = options.pin;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cpus.len())
        .thread_name(thread_name)
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
pub(crate) struct Seeded {
    pub(crate) store: Arc<MemoryStore>,
    pub(crate) access: String,
    pub(crate) conferences: Vec<Conference>,
}

pub(crate) async fn seed(count: usize, size: usize) -> anyhow::Result<Seeded> {
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

/// How a node under test is set up.
pub(crate) struct NodeSetup {
    /// `TELECONF_NODE_ID`.
    pub(crate) id: &'static str,
    /// `TELECONF_RTP_PORTS`.
    pub(crate) rtp_ports: &'static str,
    /// Cascades taken from, and opened to, the other nodes on [`NODE_IP`].
    pub(crate) cascade: bool,
}

/// The single node of the steps.
pub(crate) const ONLY_NODE: NodeSetup = NodeSetup {
    id: "bench-node",
    rtp_ports: NODE_RTP_PORTS,
    cascade: false,
};

/// How long a node under test, its callers hung up, may take to stop (its CDRs
/// written to the in-memory store).
const STOP_LIMIT: Duration = Duration::from_secs(10);

/// The nodes' shared cascade secret (32 bytes).
const CASCADE_SECRET: &str = "bench-media-cascade-secret-32byt";

/// The shell, running on the node's runtime.
pub(crate) struct NodeUnderTest {
    pub(crate) sip: SocketAddr,
    /// The node's counters.
    pub(crate) stats: Arc<Stats>,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), teleconf_media_node::Error>>,
    spool: PathBuf,
}

impl NodeUnderTest {
    /// Starts the shell set up as `setup`, with its RTP on `io` (`TELECONF_MEDIA_IO`).
    pub(crate) async fn start(
        store: Arc<MemoryStore>,
        setup: &NodeSetup,
        io: &str,
    ) -> anyhow::Result<Self> {
        let spool = std::env::temp_dir().join(format!(
            "bench-media-spool-{}-{}",
            std::process::id(),
            setup.id
        ));
        let mut vars = vec![
            ("TELECONF_SIP_ADDR", format!("{NODE_IP}:0")),
            ("TELECONF_NODE_ID", setup.id.to_string()),
            ("TELECONF_RTP_PORTS", setup.rtp_ports.to_string()),
            ("TELECONF_TRUNK_SOURCES", "127.0.0.1".to_string()),
            ("TELECONF_SPOOL_DIR", spool.display().to_string()),
            (
                "TELECONF_RECORDING_DIR",
                spool.join("recordings").display().to_string(),
            ),
            ("TELECONF_MEDIA_IO", io.to_string()),
        ];
        if setup.cascade {
            vars.push(("TELECONF_NODE_SOURCES", NODE_IP.to_string()));
            vars.push(("TELECONF_CASCADE_SECRET", CASCADE_SECRET.to_string()));
        }
        let config = Config::from_vars(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone())
        })?;
        let services = Services::new(store, Arc::new(MemoryBlobs::default()));
        let shell = Shell::bind(config).await?;
        let sip = shell.local_addr();
        let stats = shell.stats();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(shell.run(services, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            sip,
            stats,
            stop,
            task,
            spool,
        })
    }

    /// Stops the node once its callers are gone: it ends as soon as every call
    /// is settled (its transactions' retransmission timers are not waited out),
    /// so anything longer than [`STOP_LIMIT`] is a failure.
    pub(crate) async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        let stopped = match tokio::time::timeout(STOP_LIMIT, self.task).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(error))) => Err(anyhow::anyhow!("the node stopped with {error}")),
            Ok(Err(error)) => Err(anyhow::anyhow!("the node's task failed: {error}")),
            Err(_) => Err(anyhow::anyhow!(
                "the node did not stop in {} s",
                STOP_LIMIT.as_secs()
            )),
        };
        let _ = std::fs::remove_dir_all(&self.spool);
        stopped
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

/// Waits until `participants` callers of `conferences` (indices into
/// [`Seeded::conferences`]) are admitted.
pub(crate) fn wait_until_joined(
    runtime: &tokio::runtime::Runtime,
    seeded: &Seeded,
    conferences: Range<usize>,
    participants: usize,
    progress: &Progress,
    join_rate: f64,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let limit = Duration::from_secs_f64(30.0 + 2.0 * participants as f64 / join_rate);
    let mut last_print = started;
    loop {
        let admitted = runtime.block_on(admitted(
            &seeded.store,
            &seeded.conferences[conferences.clone()],
        ));
        if admitted >= participants {
            eprintln!(
                "bench_media: {participants} callers admitted ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        let failed = progress.failed();
        if failed > 0 || started.elapsed() > limit {
            let reasons = progress.reasons();
            bail!(
                "{admitted} of {participants} callers admitted after {:.0} s, {failed} calls failed, \
                 {} of them refused with 503 ({reasons})",
                started.elapsed().as_secs_f64(),
                progress.shed()
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
