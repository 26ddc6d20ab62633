//! The SIP entry in front of media nodes, as deployed: Kamailio
//! (`infra/kamailio/kamailio.cfg`) on a free loopback port, N `teleconf-media-node`
//! processes on their own SIP ports and RTP blocks heartbeating into a stack's
//! table (and cascading to each other's rooms: they share a cascade secret), and
//! `teleconf-dispatcher-sync` listing them for Kamailio. Each process is killed
//! when the entry is dropped; its directory (the list, the logs) is kept when a
//! test fails. The tests holding an entry take turns (each is five processes
//! or more on a shared machine); each entry's registry is its stack's table, so
//! its list is exactly its own nodes.
//!
//! Calls through a started entry go round robin over its nodes in a fixed order:
//! Kamailio starts with every node listed and the sync, finding them held, does
//! not reload (a reload restarts the round robin at the first node), so the
//! first call lands on one node, the second on the other, the third on the first.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use teleconf_adapters::store::NodeStore;
use teleconf_domain::{E164, NodeHeartbeat, NodeId};
use teleconf_media_node::dispatcher;

use crate::media::node_vars;
use crate::peers::ScratchDir;
use crate::stack::{Stack, built_binary};

/// The nodes' cascade secret.
const CASCADE_SECRET: &str = "the test nodes' cascade secret";

/// Seconds between Kamailio's OPTIONS probes.
const PING_INTERVAL: u32 = 1;

/// Seconds of a recording segment on the nodes: a test that kills a node finds
/// segments in S3 after a few seconds, not minutes.
pub const RECORDING_SEGMENT_SECS: u64 = 2;

/// One media node behind the entry.
#[derive(Debug)]
pub struct EntryNode {
    /// Its name in the registry.
    pub id: NodeId,
    /// Its SIP address.
    pub sip: SocketAddr,
    child: Child,
}

/// The turn of the one entry running at a time.
static TURN: LazyLock<Arc<tokio::sync::Mutex<()>>> = LazyLock::new(Arc::default);

/// Kamailio, its nodes and the dispatcher sync.
#[derive(Debug)]
pub struct SipEntry {
    /// Kamailio's SIP address (UDP and TCP): where callers dial.
    pub sip: SocketAddr,
    /// The nodes, in start order.
    pub nodes: Vec<EntryNode>,
    ctl: String,
    kamailio: Child,
    sync: Child,
    dir: ScratchDir,
    /// Held until the entry is dropped (its processes killed).
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl SipEntry {
    /// Starts `count` nodes over `stack`'s table, the sync and Kamailio, and
    /// returns once Kamailio lists every node as active and probed.
    pub async fn start(stack: &Stack, count: usize) -> anyhow::Result<Self> {
        Self::start_with(stack, count, None).await
    }

    /// As [`SipEntry::start`], the sync reaching DynamoDB at `sync_dynamodb` (a
    /// proxy a test can cut) when given.
    pub async fn start_with(
        stack: &Stack,
        count: usize,
        sync_dynamodb: Option<String>,
    ) -> anyhow::Result<Self> {
        let turn = TURN.clone().lock_owned().await;
        let dir = ScratchDir::new("sip-entry")?;
        let mut nodes = Vec::new();
        for i in 1..=count {
            let spool = dir.join(&format!("spool-{i}"));
            std::fs::create_dir_all(&spool)?;
            let id: NodeId = format!("node-{i}").parse()?;
            let mut child = Command::new(built_binary("teleconf-media-node"))
                .envs(node_vars(&spool))
                .envs(stack.binary_env())
                .env("TELECONF_NODE_ID", id.as_str())
                .env("TELECONF_SIP_ENTRY_SOURCES", "127.0.0.1")
                // The nodes cascade to each other's rooms (issue #16).
                .env("TELECONF_NODE_SOURCES", "127.0.0.1")
                .env("TELECONF_CASCADE_SECRET", CASCADE_SECRET)
                .env("TELECONF_DRAIN_GRACE_SECS", "600")
                .env(
                    "TELECONF_RECORDING_SEGMENT_SECS",
                    RECORDING_SEGMENT_SECS.to_string(),
                )
                .env("RUST_LOG", "info")
                .stdout(Stdio::piped())
                .stderr(std::fs::File::create(dir.join(&format!("node-{i}.log")))?)
                .kill_on_drop(true)
                .spawn()
                .context("starting a media node")?;
            let sip = listening(&mut child).await?;
            nodes.push(EntryNode { id, sip, child });
        }
        let list = dir.join("dispatcher.list");
        let ctl = format!("unix:{}", dir.join("kamailio_ctl").display());
        let mut sync = Command::new(built_binary("teleconf-dispatcher-sync"));
        sync.envs(stack.binary_env());
        if let Some(endpoint) = sync_dynamodb {
            sync.env("AWS_ENDPOINT_URL_DYNAMODB", endpoint);
        }
        let sync = sync
            .env("TELECONF_DISPATCHER_LIST", &list)
            .env("TELECONF_KAMAILIO_CTL", &ctl)
            .env("TELECONF_DISPATCHER_SYNC_SECS", "1")
            .env("RUST_LOG", "info")
            .stdout(std::fs::File::create(dir.join("sync.out"))?)
            .stderr(std::fs::File::create(dir.join("sync.log"))?)
            .kill_on_drop(true)
            .spawn()
            .context("starting teleconf-dispatcher-sync")?;
        // Kamailio starts with every node listed, as the sync will keep it.
        let mut all: Vec<String> = nodes.iter().map(|n| format!("sip:{}", n.sip)).collect();
        all.sort();
        until(&dir, Duration::from_secs(20), || {
            let listed = dispatcher::listed(&std::fs::read_to_string(&list).unwrap_or_default());
            Ok(if listed == all {
                Ok(())
            } else {
                Err(format!("the dispatcher sync lists {listed:?}, not {all:?}"))
            })
        })
        .await?;
        let sip = free_port()?;
        // Its own copy of the config, in its directory: as root Kamailio runs as
        // nobody, who may not enter the checkout (a clone in a private directory).
        let config = dir.join("kamailio.cfg");
        std::fs::copy(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../infra/kamailio/kamailio.cfg"
            ),
            &config,
        )?;
        let mut kamailio = if is_root() {
            // Kamailio as root wants a user: nobody, owning its directory.
            let status = std::process::Command::new("chown")
                .args(["-R", "nobody:nogroup"])
                .arg(dir.path())
                .status()?;
            anyhow::ensure!(status.success(), "chown of {}", dir.path().display());
            let mut command = Command::new("setpriv");
            command.args([
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "kamailio",
            ]);
            command
        } else {
            Command::new("kamailio")
        };
        let kamailio = kamailio
            .arg("-f")
            .arg(&config)
            .args(["-DD", "-E", "-m", "32", "-M", "4"])
            .arg("-w")
            .arg(dir.path())
            .arg("-Y")
            .arg(dir.path())
            .arg("-l")
            .arg(format!("udp:{sip}"))
            .arg("-l")
            .arg(format!("tcp:{sip}"))
            .arg("-A")
            .arg(format!("DS_LIST=\"{}\"", list.display()))
            .arg("-A")
            .arg(format!("PING_INTERVAL={PING_INTERVAL}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("kamailio.log"))?)
            // Stopped by SIGTERM in `drop` (a SIGKILL would leave its workers).
            .spawn()
            .context("starting kamailio (make deps-sip installs it)")?;
        let entry = Self {
            sip,
            nodes,
            ctl,
            kamailio,
            sync,
            dir,
            _turn: turn,
        };
        let all: Vec<SocketAddr> = entry.nodes.iter().map(|n| n.sip).collect();
        entry
            .wait_until_active(&all, Duration::from_secs(30))
            .await?;
        // And the sync has settled: it found them held (or reloaded before any
        // call), so no reload restarts the round robin between a test's calls.
        entry.wait_for_sync(count, Duration::from_secs(20)).await?;
        Ok(entry)
    }

    /// The SIP URI that dials `number` through the entry.
    pub fn uri(&self, number: &E164) -> String {
        format!("sip:{}@{}", number.as_str(), self.sip)
    }

    /// Each node Kamailio holds and its flags (`AP`: active, probed; `IP`:
    /// inactive), as `kamcmd dispatcher.list` says (none when it lists nothing).
    pub fn states(&self) -> anyhow::Result<Vec<(String, String)>> {
        let output = std::process::Command::new("kamcmd")
            .args(["-s", &self.ctl, "dispatcher.list"])
            .output()
            .context("kamcmd")?;
        Ok(dispatcher::held(&String::from_utf8_lossy(&output.stdout)).unwrap_or_default())
    }

    /// The nodes `dispatcher.list` holds now (`sip:…` of each line), sorted.
    pub fn listed(&self) -> Vec<String> {
        dispatcher::listed(
            &std::fs::read_to_string(self.dir.join("dispatcher.list")).unwrap_or_default(),
        )
    }

    /// Waits until the dispatcher sync's last word is that Kamailio holds
    /// `count` nodes.
    async fn wait_for_sync(&self, count: usize, limit: Duration) -> anyhow::Result<()> {
        let settled = format!("dispatcher sync: {count} node(s) listed");
        until(&self.dir, limit, || {
            let said = std::fs::read_to_string(self.dir.join("sync.out")).unwrap_or_default();
            Ok(if said.lines().last() == Some(settled.as_str()) {
                Ok(())
            } else {
                Err(format!("the dispatcher sync never said {settled:?}"))
            })
        })
        .await
    }

    /// Waits until Kamailio holds exactly `nodes`, each active.
    pub async fn wait_until_active(
        &self,
        nodes: &[SocketAddr],
        limit: Duration,
    ) -> anyhow::Result<()> {
        let mut wanted: Vec<(String, String)> = nodes
            .iter()
            .map(|sip| (format!("sip:{sip}"), "AP".to_string()))
            .collect();
        wanted.sort();
        until(&self.dir, limit, || {
            let states = self.states()?;
            Ok(if states == wanted {
                Ok(())
            } else {
                Err(format!("Kamailio holds {states:?}, not {wanted:?}"))
            })
        })
        .await
    }

    /// The registry's heartbeat of node `i`.
    pub async fn heartbeat(&self, stack: &Stack, i: usize) -> Option<NodeHeartbeat> {
        stack
            .store
            .heartbeat(&self.nodes[i].id)
            .await
            .ok()
            .flatten()
    }

    /// Waits until node `i`'s heartbeat satisfies `done`.
    pub async fn wait_for_heartbeat(
        &self,
        stack: &Stack,
        i: usize,
        done: impl Fn(&NodeHeartbeat) -> bool,
        limit: Duration,
    ) -> anyhow::Result<NodeHeartbeat> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let beat = self.heartbeat(stack, i).await;
            if let Some(beat) = beat.as_ref().filter(|b| done(b)) {
                return Ok(beat.clone());
            }
            if tokio::time::Instant::now() >= deadline {
                anyhow::bail!("node {i}'s heartbeat is {beat:?}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Sends node `i` SIGTERM, as ECS does to stop a task.
    pub fn terminate(&self, i: usize) -> anyhow::Result<()> {
        let pid = self.nodes[i].child.id().context("the node has exited")?;
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM {pid}");
        Ok(())
    }

    /// Kills node `i` outright (SIGKILL, `kill -9`): no BYE, no last heartbeat,
    /// no upload; what it left on its disk stays there.
    pub async fn kill(&mut self, i: usize) -> anyhow::Result<()> {
        let child = &mut self.nodes[i].child;
        child.start_kill().context("kill -9 the node")?;
        child.wait().await?;
        Ok(())
    }

    /// Node `i`'s exit status once it exits, or `None` while it runs after `limit`.
    pub async fn exited(&mut self, i: usize, limit: Duration) -> Option<ExitStatus> {
        tokio::time::timeout(limit, self.nodes[i].child.wait())
            .await
            .ok()
            .and_then(Result::ok)
    }

    /// Keeps the entry's directory (the list, the logs) after the test.
    pub fn keep_logs(&self) -> &std::path::Path {
        self.dir.keep();
        self.dir.path()
    }
}

impl Drop for SipEntry {
    fn drop(&mut self) {
        // SIGTERM, not SIGKILL: Kamailio's main process then stops its workers,
        // which a SIGKILL would leave running.
        if let Some(pid) = self.kamailio.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let _ = self.sync.start_kill();
        for node in &mut self.nodes {
            let _ = node.child.start_kill();
        }
    }
}

/// Polls `check` every 100 ms until it says done (`Ok(())`), for at most
/// `limit`; then keeps `dir` and fails with what it last saw.
async fn until(
    dir: &ScratchDir,
    limit: Duration,
    mut check: impl FnMut() -> anyhow::Result<Result<(), String>>,
) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let seen = match check()? {
            Ok(()) => return Ok(()),
            Err(seen) => seen,
        };
        if tokio::time::Instant::now() >= deadline {
            dir.keep();
            anyhow::bail!("{seen} (logs in {})", dir.path().display());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads a node's stdout until it says where it listens.
async fn listening(child: &mut Child) -> anyhow::Result<SocketAddr> {
    let stdout = child.stdout.take().context("its stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let sip = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(addr) = line
                .strip_prefix("media node: sip:")
                .and_then(|rest| rest.split(' ').next())
            {
                return Ok::<_, anyhow::Error>(addr.parse()?);
            }
        }
        anyhow::bail!("the media node exited before it listened")
    })
    .await
    .context("the media node listens in time")??;
    // Its later lines go nowhere; reading them keeps the pipe from filling.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(sip)
}

/// A loopback port free for both UDP and TCP.
fn free_port() -> anyhow::Result<SocketAddr> {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0")?;
        let addr = udp.local_addr()?;
        if TcpListener::bind(addr).is_ok() {
            return Ok(addr);
        }
    }
    anyhow::bail!("no port free for UDP and TCP")
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}
