//! A media node in the test process, on free loopback ports, over a stack's table
//! and bucket; and a conference open now to call.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration as StdDuration;

use chrono::{Duration, DurationRound, Utc};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use teleconf_adapters::blobs::S3Blobs;
use teleconf_adapters::store::conformance::account_with_owner;
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_adapters::store::{ConferenceStore, NumberStore};
use teleconf_domain::testkit::access_number;
use teleconf_domain::{
    AccessCodes, CallerRole, CodeChoices, Conference, ConferenceNumber, E164, Language,
    PhoneNumber, Schedule, User,
};
use teleconf_media_node::shell::stats::Stats;
use teleconf_media_node::shell::{Config, Services, Shell};

use crate::stack::{Stack, built_binary};

/// RTP ports each node of this process gets (its own block: nodes run at once).
/// The blocks lie in 20000–29999: below the system's ephemeral ports (32768 on),
/// which any socket bound to port 0 may take, and apart from baresip's RTP ports
/// (10000–19999) and the ports the peers' harness picks (30000 on). A process
/// starts at a block of its own drawing, so test processes that run at once seldom
/// share one (a test that sends to every port of its node's block must reach no
/// other process's node).
const PORTS_PER_NODE: u16 = 200;

/// A node's settings: loopback, a free SIP port, its own RTP block, `spool`,
/// the accounts' IP phones read every second (a test sees a change at once),
/// and its RTP on io_uring (`TELECONF_MEDIA_IO` of the test's environment picks
/// another path for the whole run: `epoll`).
pub fn node_vars(spool: &Path) -> [(&'static str, String); 7] {
    static NEXT_BLOCK: std::sync::OnceLock<AtomicU16> = std::sync::OnceLock::new();
    let first = || AtomicU16::new((uuid::Uuid::new_v4().as_u128() % 50) as u16);
    let block = NEXT_BLOCK
        .get_or_init(first)
        .fetch_add(1, Ordering::Relaxed)
        % 50;
    let low = 20_000 + block * PORTS_PER_NODE;
    [
        ("TELECONF_SPOOL_DIR", spool.display().to_string()),
        (
            "TELECONF_RECORDING_DIR",
            spool.join("recordings").display().to_string(),
        ),
        ("TELECONF_SIP_ADDR", "127.0.0.1:0".to_string()),
        (
            "TELECONF_RTP_PORTS",
            format!("{low}-{}", low + PORTS_PER_NODE - 1),
        ),
        ("TELECONF_TRUNK_SOURCES", "127.0.0.1".to_string()),
        ("TELECONF_IP_PHONES_REFRESH_SECS", "1".to_string()),
        (
            "TELECONF_MEDIA_IO",
            std::env::var("TELECONF_MEDIA_IO").unwrap_or_else(|_| "io_uring".to_string()),
        ),
    ]
}

/// The `teleconf-media-node` binary as a process of its own (a test can SIGKILL
/// it), over a stack's table and bucket; killed when dropped.
#[derive(Debug)]
pub struct NodeProcess {
    /// Its SIP address.
    pub sip: SocketAddr,
    child: Child,
}

impl NodeProcess {
    /// Starts the binary `cargo build` put beside this test binary, with its CDR
    /// spool in `spool`, and waits until it listens.
    pub async fn start(stack: &Stack, spool: &Path) -> Self {
        let mut child = Command::new(built_binary("teleconf-media-node"))
            .envs(node_vars(spool))
            .envs(stack.binary_env())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the media node starts");
        let stdout = child.stdout.take().expect("its stdout");
        let mut lines = BufReader::new(stdout).lines();
        let sip = tokio::time::timeout(StdDuration::from_secs(20), async {
            while let Some(line) = lines.next_line().await.expect("its output") {
                if let Some(addr) = line
                    .strip_prefix("media node: sip:")
                    .and_then(|rest| rest.split(' ').next())
                {
                    return addr.parse().expect("a SIP address");
                }
            }
            panic!("the media node exited before it listened");
        })
        .await
        .expect("the media node listens in time");
        Self { sip, child }
    }

    /// The SIP URI that dials `number` at this node.
    pub fn uri(&self, number: &E164) -> String {
        format!("sip:{}@{}", number.as_str(), self.sip)
    }

    /// SIGKILL: no drain, no last write.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("the node is killed");
    }
}

/// A running media node; stopped when dropped.
#[derive(Debug)]
pub struct MediaNode {
    /// Its SIP address (UDP and TCP).
    pub sip: SocketAddr,
    /// Its RTP ports (it uses the even ones).
    pub rtp_ports: std::ops::Range<u16>,
    /// What it refused or dropped, by reason.
    pub stats: Arc<Stats>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl MediaNode {
    /// Starts a node serving `stack`'s table and bucket, trusting loopback.
    pub async fn start(stack: &Stack) -> Self {
        let store = DynamoStore::new(stack.clients.dynamodb.clone(), &stack.settings.table);
        Self::start_with(stack, store).await
    }

    /// Starts a node over `store` (e.g. one behind a [`Proxy`](crate::proxy::Proxy)).
    pub async fn start_with(stack: &Stack, store: DynamoStore) -> Self {
        Self::start_configured(stack, store, &[]).await
    }

    /// Starts a node over `stack`'s table with `settings` (environment variables
    /// of `teleconf_media_node::shell::config`) over the test defaults.
    pub async fn start_with_settings(stack: &Stack, settings: &[(&str, &str)]) -> Self {
        let store = DynamoStore::new(stack.clients.dynamodb.clone(), &stack.settings.table);
        Self::start_configured(stack, store, settings).await
    }

    async fn start_configured(
        stack: &Stack,
        store: DynamoStore,
        settings: &[(&str, &str)],
    ) -> Self {
        let spool = std::env::temp_dir().join(format!("teleconf-spool-{}", uuid::Uuid::new_v4()));
        let vars = node_vars(&spool);
        let config = Config::from_vars(|name| {
            settings
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_string())
                .or_else(|| {
                    vars.iter()
                        .find(|(key, _)| *key == name)
                        .map(|(_, value)| value.clone())
                })
        })
        .expect("a valid node configuration");
        let rtp_ports = config.rtp_ports.clone();
        let services = Services::new(
            Arc::new(store),
            Arc::new(S3Blobs::new(
                stack.clients.s3.clone(),
                &stack.settings.bucket,
            )),
        );
        let shell = Shell::bind(config).await.expect("the node binds loopback");
        let sip = shell.local_addr();
        let stats = shell.stats();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async {
                let _ = stopped.await;
            };
            shell.run(services, stopped).await.expect("the node runs");
        });
        Self {
            sip,
            rtp_ports,
            stats,
            stop: Some(stop),
            task,
        }
    }

    /// The SIP URI that dials `number` at this node.
    pub fn uri(&self, number: &E164) -> String {
        format!("sip:{}@{}", number.as_str(), self.sip)
    }

    /// Stops the node and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for MediaNode {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An account's access number and a conference of it open now.
#[derive(Debug, Clone)]
pub struct OpenConference {
    /// The access number to dial.
    pub access: PhoneNumber,
    /// The conference (its number and codes are what callers key).
    pub conference: Conference,
    /// Its scheduler.
    pub owner: User,
}

impl OpenConference {
    /// Creates an account with an access number and a conference that opened
    /// already (it starts in a minute; callers are let in from five before).
    pub async fn create(store: &DynamoStore) -> Self {
        Self::create_with(store, false).await
    }

    /// The same, recording when `record`.
    pub async fn create_with(store: &DynamoStore, record: bool) -> Self {
        let (_, owner) = account_with_owner(store).await;
        let access = access_number(owner.account_id);
        store
            .create_number(&access)
            .await
            .expect("the access number");
        let now = Utc::now()
            .duration_trunc(Duration::milliseconds(1))
            .expect("a time");
        let start = now + Duration::minutes(1);
        loop {
            let conference = Conference::schedule(
                owner.account_id,
                ConferenceNumber::generate(),
                "Essai de bout en bout",
                Schedule::new(start, start + Duration::hours(1)).expect("a schedule"),
                record,
                Language::Fr,
                AccessCodes::from_choices(CodeChoices::default()).expect("codes"),
                owner.id,
                25,
                now,
            )
            .expect("a conference");
            match store.create_conference(&conference).await {
                Ok(()) => {
                    return Self {
                        access,
                        conference,
                        owner,
                    };
                }
                Err(teleconf_adapters::Error::Conflict(_)) => continue,
                Err(error) => panic!("creating the conference: {error}"),
            }
        }
    }

    /// The digits a caller keys for the conference number, with the final `#`.
    pub fn number_keys(&self) -> String {
        format!("{}#", self.conference.number.as_str())
    }

    /// The digits a caller keys for `role`'s code, with the final `#`.
    pub fn code_keys(&self, role: CallerRole) -> String {
        format!("{}#", self.conference.codes.code(role).as_str())
    }
}
