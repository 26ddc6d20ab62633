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

use teleconf_core::blobs::S3Blobs;
use teleconf_core::domain::{
    AccessCodes, CallerRole, CodeChoices, Conference, ConferenceNumber, E164, Language,
    PhoneNumber, Schedule, User,
};
use teleconf_core::store::conformance::{access_number, account_with_owner};
use teleconf_core::store::dynamo::DynamoStore;
use teleconf_core::store::{ConferenceStore, NumberStore};
use teleconf_media_node::shell::{Config, Services, Shell};

use crate::stack::Stack;

/// RTP ports each node of this process gets (its own block: nodes run at once).
/// The blocks lie in 20000–29999: below the system's ephemeral ports (32768 on),
/// which any socket bound to port 0 may take, and apart from baresip's RTP ports
/// (10000–19999) and the ports the peers' harness picks (30000 on).
const PORTS_PER_NODE: u16 = 200;

/// A node's settings: loopback, a free SIP port, its own RTP block, `spool`.
pub fn node_vars(spool: &Path) -> [(&'static str, String); 5] {
    static NEXT_BLOCK: AtomicU16 = AtomicU16::new(0);
    let block = NEXT_BLOCK.fetch_add(1, Ordering::Relaxed) % 50;
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
        let exe = std::env::current_exe().expect("the test binary's path");
        let binary = exe
            .parent()
            .and_then(Path::parent)
            .map(|dir| dir.join("teleconf-media-node"))
            .filter(|path| path.exists())
            .expect("target/…/teleconf-media-node: build it first (`make test` does)");
        let settings = &stack.settings;
        let mut child = Command::new(binary)
            .envs(node_vars(spool))
            .env("TELECONF_TABLE", &settings.table)
            .env("TELECONF_BUCKET", &settings.bucket)
            .env("TELECONF_MAIL_FROM", settings.mail_from.to_string())
            .env(
                "AWS_ENDPOINT_URL",
                settings.endpoint_url.as_deref().expect("an emulator"),
            )
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
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
        let spool = std::env::temp_dir().join(format!("teleconf-spool-{}", uuid::Uuid::new_v4()));
        let vars = node_vars(&spool);
        let config = Config::from_vars(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone())
        })
        .expect("a valid node configuration");
        let services = Services::new(
            Arc::new(store),
            Arc::new(S3Blobs::new(
                stack.clients.s3.clone(),
                &stack.settings.bucket,
            )),
        );
        let shell = Shell::bind(config).await.expect("the node binds loopback");
        let sip = shell.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async {
                let _ = stopped.await;
            };
            shell.run(services, stopped).await.expect("the node runs");
        });
        Self {
            sip,
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
                Err(teleconf_core::Error::Conflict(_)) => continue,
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
