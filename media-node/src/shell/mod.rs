//! The shell around the sans-IO [`Node`]: the only code of the media node that
//! touches sockets, clocks and AWS.
//!
//! The node, its RTP sockets and its 20 ms clock live on one thread, the
//! [media] loop, so audio never waits behind other work: it sleeps in one
//! `epoll_wait` on a timer for the next tick (absolute deadlines, no drift), the
//! RTP sockets (read with `recvmmsg`, [rtp]) and a bell the tokio side rings when
//! it has something for the node: SIP over UDP (one socket) and TCP ([tcp]: one
//! task per connection), and the answers of the [services] the node asked for.
//! The loop sends RTP itself (non-blocking) and hands every other output to
//! [`Io`], whose lookups and writes run as tokio tasks, so the media never waits
//! on the store. CDRs are journaled by the [spool]'s thread (fsync'd) and then
//! written through one ordered queue: a leg's close is never written before its
//! open, and a leg is never lost to an outage or a crash. Recording frames go to
//! the [recorder]'s thread through a bounded queue (a full queue drops and counts).
//!
//! Stopping (SIGTERM, Ctrl-C) drains: new calls and the SIP entry's OPTIONS get
//! 503, the registry says `draining`, each call up goes on until it hangs up or
//! its conference's planned end plus `TELECONF_DRAIN_GRACE_SECS` (then it is hung
//! up: BYE, CDR closed as a bridge hang-up), and once no call is left every CDR is
//! written, the registry says `stopped` and the process exits. While it carries
//! calls the node holds its ECS task's scale-in protection ([`protection`]).
//!
//! - [`config`]: the settings, from the environment.
//! - `ip_phones`: every account's IP phones (who may dial `*44`), read from the
//!   store periodically and handed to the node.
//! - [`services`]: the store and bucket side of lookups, counters, prompts, CDRs.
//! - [`spool`]: the CDR journal that keeps legs across a store outage and a crash.
//! - [`recorder`]: recordings written to disk as they come, then stored in S3.
//! - [`stats`]: what the node refused or dropped, by reason, logged when it
//!   changes, and its load ([`Shell::stats`]).
//! - [`metrics`]: the load as CloudWatch metrics (embedded metric format).
//! - [`heartbeat`]: the node's line in the registry, which the SIP entry's
//!   dispatcher list is made from.
//! - [`protection`]: ECS task scale-in protection while calls go on.
//!
//! Each call's lookups run in the call's span ([`Node::call_span`]), so their
//! log lines name the call as the node's own do.

pub mod config;
pub mod heartbeat;
pub mod metrics;
pub mod protection;
pub mod recorder;
pub mod services;
pub mod spool;
pub mod stats;

mod controls;
mod ip_phones;
mod media;
mod rtp;
mod tcp;
mod uring;

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tracing::Instrument;

use teleconf_domain::{
    CallLeg, ConferenceId, ControlCommand, DisconnectCause, NodeId, NodeState, Recording,
    RecordingId,
};

use crate::Error;
use crate::app::CallKey;
use crate::app::lookup::Answer;
use crate::node::star44::IpPhones;
use crate::node::{Input, IoOutput, LiveUpdate, Node, RoomOwner};
use media::{Inbox, Posted};
use recorder::Recorder;
use spool::{Note, Spool};
use stats::Stats;

pub use config::Config;
pub use services::Services;

/// Largest datagram read.
const MAX_DATAGRAM: usize = 65_535;
/// How long a stopping node waits for its last CDRs to be written.
const CDR_FLUSH: std::time::Duration = std::time::Duration::from_secs(20);

/// What reaches the node's task.
#[derive(Debug)]
enum Event {
    /// A SIP message, from UDP or a TCP connection.
    Sip { from: SocketAddr, bytes: Vec<u8> },
    /// A TCP connection opened: answers to `peer` go through `writer`.
    TcpOpened {
        peer: SocketAddr,
        writer: mpsc::Sender<Vec<u8>>,
    },
    /// That connection closed.
    TcpClosed { peer: SocketAddr },
    /// A call's lookup answered.
    Answer {
        /// The call that asked.
        call: CallKey,
        /// The answer.
        answer: Answer,
    },
    /// Stop: drain, then hang up what is left.
    Stop,
    /// A moderator's command from the portal.
    Control {
        conference: ConferenceId,
        command: ControlCommand,
    },
    /// The accounts' IP phones, as the store holds them now.
    IpPhones(IpPhones),
    RoomOwner {
        conference: ConferenceId,
        owner: RoomOwner,
    },
    /// A room's lease as read for an admission check ([`IoOutput::FindRoom`]).
    RoomFound {
        conference: ConferenceId,
        owner: RoomOwner,
    },
}

/// A bound media node, ready to [`run`](Shell::run).
#[derive(Debug)]
pub struct Shell {
    config: Config,
    udp: Arc<UdpSocket>,
    tcp: TcpListener,
    local: SocketAddr,
    stats: Arc<Stats>,
}

impl Shell {
    /// Binds the SIP address, UDP and TCP on the same port. Port 0 takes a free
    /// one: the port the system gives UDP may be taken for TCP, so a few are tried.
    pub async fn bind(config: Config) -> Result<Self, Error> {
        let tries = if config.sip_addr.port() == 0 { 20 } else { 1 };
        let mut attempt = 0;
        let (udp, tcp, local) = loop {
            attempt += 1;
            let udp = UdpSocket::bind(config.sip_addr)
                .await
                .map_err(|source| io(format!("SIP UDP {}", config.sip_addr), source))?;
            let local = udp
                .local_addr()
                .map_err(|source| io("SIP UDP address".into(), source))?;
            match TcpListener::bind(local).await {
                Ok(tcp) => break (udp, tcp, local),
                Err(source) if attempt >= tries => {
                    return Err(io(format!("SIP TCP {local}"), source));
                }
                Err(_) => continue,
            }
        };
        Ok(Self {
            config,
            udp: Arc::new(udp),
            tcp,
            local,
            stats: Arc::default(),
        })
    }

    /// The SIP address bound (its port is the one taken when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Who the node is in the registry: `TELECONF_NODE_SIP_ADDR` (else the
    /// public IP and the SIP port bound), and `TELECONF_NODE_ID` (else that
    /// address, `<ip>-<port>`).
    pub fn identity(&self) -> heartbeat::Identity {
        let sip = self
            .config
            .node_sip_addr
            .unwrap_or_else(|| SocketAddr::new(self.config.public_ip.into(), self.local.port()));
        let node_id = self.config.node_id.clone().unwrap_or_else(|| {
            let name = format!("{}-{}", sip.ip(), sip.port()).replace([':', '[', ']'], "-");
            name.parse::<NodeId>()
                .expect("an address and a port make a node id")
        });
        heartbeat::Identity { node_id, sip }
    }

    /// The node's figures of what it refused or dropped, kept up to date while it
    /// runs.
    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Serves calls until `shutdown` completes, then stops: new calls get 503, the
    /// calls up get [`Config::drain`] to end by themselves, those left are hung up
    /// (BYE, CDR closed as a bridge hang-up), and the CDRs are written before this
    /// returns.
    pub async fn run(
        self,
        services: Services,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), Error> {
        let identity = self.identity();
        let node = Node::new(
            self.config
                .node_config(self.local, &identity.node_id, identity.sip),
        );
        // The spool first: what a previous run left is written before anything new.
        let (spool, recovery) =
            Spool::open(&self.config.spool_dir, Utc::now()).map_err(|source| {
                io(
                    format!("CDR spool {}", self.config.spool_dir.display()),
                    source,
                )
            })?;
        if recovery.skipped_lines > 0 {
            tracing::warn!(
                lines = recovery.skipped_lines,
                "unreadable CDR journal lines skipped"
            );
        }
        let recovered = recovery.legs;
        if !recovered.is_empty() {
            tracing::info!(legs = recovered.len(), "CDR legs recovered from the spool");
        }
        let (to_store, cdr_queue) = mpsc::unbounded_channel();
        // A crash left these on the live view: they go with their legs.
        let cut_short: Vec<_> = recovered
            .iter()
            .filter(|leg| leg.cause == Some(DisconnectCause::NodeRestart))
            .map(|leg| (leg.conference_id, leg.id))
            .collect();
        for leg in recovered {
            self.stats.cdr_queued();
            let _ = to_store.send(leg);
        }
        let (cdrs, notes) = std::sync::mpsc::channel();
        spool::spawn(spool, notes, to_store, self.stats.clone())
            .map_err(|source| io("CDR spool thread".into(), source))?;
        let cdr_writer = tokio::spawn(write_cdrs(
            services.clone(),
            cdr_queue,
            cdrs.clone(),
            self.stats.clone(),
        ));
        let (closed, uploads) = mpsc::unbounded_channel();
        let recorder = Recorder::start(
            &self.config.recording_dir,
            self.config.recording_segment,
            closed,
        )
        .map_err(|source| {
            io(
                format!("recordings {}", self.config.recording_dir.display()),
                source,
            )
        })?;
        let uploader = tokio::spawn(upload_recordings(
            services.clone(),
            identity.node_id.clone(),
            uploads,
        ));
        let (live, live_updates) = mpsc::unbounded_channel();
        for (conference, leg) in cut_short {
            let _ = live.send(LiveUpdate::Remove { conference, leg });
        }
        let live_writer = tokio::spawn(write_live(services.clone(), live_updates));
        let (inbox, mailbox) = media::inbox().map_err(|source| io("media inbox".into(), source))?;
        let (held, held_by_node) = tokio::sync::watch::channel(Vec::new());
        let (alone, alone_here) = tokio::sync::watch::channel(Vec::new());
        let mut tasks = vec![
            tokio::spawn(receive_udp(self.udp.clone(), inbox.clone())),
            tokio::spawn(tcp::accept(
                self.tcp,
                inbox.clone(),
                self.config.tcp,
                self.stats.clone(),
            )),
            tokio::spawn(controls::fetch(
                services.clone(),
                held_by_node.clone(),
                inbox.clone(),
            )),
            tokio::spawn(ip_phones::refresh(
                services.clone(),
                self.config.ip_phones_refresh,
                inbox.clone(),
            )),
        ];
        let registry = services.clone();
        let figures = self.stats.clone();
        let (node_state, node_states) = tokio::sync::watch::channel(NodeState::Active);
        tasks.push(tokio::spawn(heartbeat::beat(
            services.clone(),
            identity.clone(),
            self.stats.clone(),
            node_states,
            heartbeat::Rooms {
                held: held_by_node,
                alone: alone_here,
                inbox: inbox.clone(),
            },
        )));
        let agent = self
            .config
            .ecs_agent_uri
            .as_deref()
            .map(protection::Agent::new);
        let load = self.stats.clone();
        tasks.push(tokio::spawn(protection::hold(
            agent.clone(),
            std::time::Duration::from_secs(1),
            move || load.load().calls > 0,
        )));
        match self.config.metrics.clone() {
            Some(metrics) => tasks.push(tokio::spawn(metrics::publish(
                self.stats.clone(),
                self.config.public_ip,
                metrics,
            ))),
            None => tracing::info!("TELECONF_STAGE unset: no CloudWatch metrics"),
        }
        tracing::info!(sip = %self.local, rtp = ?self.config.rtp_ports, node = %identity.node_id, "media node listening (UDP and TCP)");
        let io_side = Io {
            udp: self.udp,
            rtp_ip: self.config.sip_addr.ip(),
            tcp: HashMap::new(),
            inbox: inbox.clone(),
            runtime: tokio::runtime::Handle::current(),
            services,
            cdrs,
            live,
            held,
            alone,
            identity: identity.clone(),
            stats: self.stats,
            logged: stats::Figures::default(),
        };
        // The media loop's thread starts from this one, so it shares its CPUs.
        let (stopped, mut loop_done) = tokio::sync::oneshot::channel();
        let media_io = self.config.media_io;
        std::thread::Builder::new()
            .name("media-loop".into())
            .spawn(move || {
                let _ = stopped.send(media::run(node, io_side, recorder, mailbox, media_io));
            })
            .map_err(|source| io("media loop thread".into(), source))?;
        let ended = tokio::select! {
            ended = &mut loop_done => Some(ended),
            () = shutdown => None,
        };
        let ended = match ended {
            Some(ended) => ended,
            None => {
                // The registry says so at once: the SIP entry's list drops the node.
                let _ = node_state.send(NodeState::Draining);
                inbox.post(Event::Stop);
                loop_done.await
            }
        };
        for task in tasks.drain(..) {
            task.abort();
        }
        drop(inbox);
        let io_side = match ended {
            Ok(Ok(io_side)) => io_side,
            Ok(Err(source)) => return Err(io("media loop".into(), source)),
            Err(_) => return Err(Error::MediaLoopPanicked),
        };
        tracing::info!("media node stopping");
        // Every CDR closed above is written before the process goes (or, the
        // store being away, left in the spool for the next start).
        let _ = io_side.cdrs.send(Note::Stop);
        drop(io_side);
        if tokio::time::timeout(CDR_FLUSH, cdr_writer).await.is_err() {
            tracing::error!("CDR writes still pending at exit: they stay in the spool");
        }
        if tokio::time::timeout(CDR_FLUSH, live_writer).await.is_err() {
            tracing::warn!("live view updates still pending at exit");
        }
        if tokio::time::timeout(CDR_FLUSH, uploader).await.is_err() {
            tracing::error!("recording uploads still pending at exit: the files stay on disk");
        }
        if let Some(agent) = agent
            && let Err(error) = agent.set(false).await
        {
            tracing::warn!(%error, "task scale-in protection not released (it lapses by itself)");
        }
        let last = identity.heartbeat(NodeState::Stopped, &figures);
        if let Err(error) = registry.put_heartbeat(&last).await {
            tracing::warn!(%error, "node registry: the stop not written (the heartbeat goes stale)");
        }
        Ok(())
    }
}

/// The node's side of the world besides RTP: SIP sockets and connections, the
/// services (their work runs on the tokio `runtime`, their answers come back
/// through the `inbox`), the CDR spool, the live view.
struct Io {
    udp: Arc<UdpSocket>,
    /// The address RTP ports are bound on.
    rtp_ip: std::net::IpAddr,
    /// Open SIP TCP connections by peer.
    tcp: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    inbox: Inbox,
    runtime: tokio::runtime::Handle,
    services: Services,
    /// The CDR spool's thread.
    cdrs: std::sync::mpsc::Sender<Note>,
    /// The live view's writer, in order.
    live: mpsc::UnboundedSender<LiveUpdate>,
    /// The rooms the node holds ([`Node::held_rooms`]), for the portal
    /// commands' [controls] task and the heartbeat's lease renewals.
    held: tokio::sync::watch::Sender<Vec<ConferenceId>>,
    /// The rooms here alone while another node held their lease
    /// ([`Node::rooms_to_claim`]), for the heartbeat's claims.
    alone: tokio::sync::watch::Sender<Vec<ConferenceId>>,
    /// Who the node is: the owner its room leases name, and the node written
    /// on every leg it opens or closes.
    identity: heartbeat::Identity,
    /// The node's figures.
    stats: Arc<Stats>,
    /// The figures as last logged.
    logged: stats::Figures,
}

impl Io {
    /// Feeds one event to the node.
    fn deliver(&mut self, node: &mut Node, event: Event) {
        let now = Instant::now();
        match event {
            Event::Sip { from, bytes } => node.handle_input(Input::Datagram {
                now,
                wall_clock: Utc::now(),
                from,
                bytes: &bytes,
            }),
            Event::TcpOpened { peer, writer } => {
                self.tcp.insert(peer, writer);
            }
            Event::TcpClosed { peer } => {
                self.tcp.remove(&peer);
            }
            // Handled by the media loop before it comes here.
            Event::Stop => {}
            Event::Control {
                conference,
                command,
            } => node.handle_input(Input::Control {
                now,
                conference,
                command,
            }),
            Event::IpPhones(phones) => node.handle_input(Input::IpPhones(phones)),
            Event::RoomOwner { conference, owner } => node.handle_input(Input::RoomOwner {
                now,
                wall_clock: Utc::now(),
                conference,
                owner,
            }),
            Event::RoomFound { conference, owner } => node.handle_input(Input::RoomFound {
                now,
                wall_clock: Utc::now(),
                conference,
                owner,
            }),
            Event::Answer { call, answer } => {
                node.handle_input(Input::Answer { now, call, answer })
            }
        }
    }

    /// Copies the node's figures and load into [`Stats`] (`unsent`: the RTP sends
    /// the loop dropped), and logs the figures when `log` and they changed since
    /// they were last logged.
    fn publish_stats(&mut self, node: &Node, unsent: u64, log: bool) {
        self.stats.set_media(node.media_stats());
        self.stats.set_load(node, unsent);
        if log {
            let figures = self.stats.read();
            if figures != self.logged {
                figures.log();
                self.logged = figures;
            }
        }
    }

    /// Tells the [controls] task and the heartbeat which rooms the node holds,
    /// and the heartbeat which it may take over, if that changed.
    fn publish_held(&self, node: &Node) {
        publish(&self.held, node.held_rooms());
        publish(&self.alone, node.rooms_to_claim());
    }

    /// Carries out one of `node`'s I/O outputs; a lookup runs in its call's span.
    fn dispatch(&mut self, node: &Node, output: IoOutput) {
        match output {
            IoOutput::SendSip { to, bytes } => self.send_sip(to, bytes),
            IoOutput::Lookup { call, lookup } => {
                let services = self.services.clone();
                let inbox = self.inbox.clone();
                let span = node.call_span(call).cloned();
                self.runtime.spawn(
                    async move {
                        if let Some(answer) = services.answer(lookup).await {
                            inbox.send(Event::Answer { call, answer }).await;
                        }
                    }
                    .instrument(span.unwrap_or_else(tracing::Span::none)),
                );
            }
            IoOutput::ClaimRoom(conference) => {
                let services = self.services.clone();
                let inbox = self.inbox.clone();
                let identity = self.identity.clone();
                self.runtime.spawn(async move {
                    let owner = services
                        .claim_room(conference, &identity.node_id, identity.sip)
                        .await;
                    inbox.send(Event::RoomOwner { conference, owner }).await;
                });
            }
            IoOutput::FindRoom(conference) => {
                let services = self.services.clone();
                let inbox = self.inbox.clone();
                let identity = self.identity.clone();
                self.runtime.spawn(async move {
                    let owner = services.find_room(conference, &identity.node_id).await;
                    inbox.send(Event::RoomFound { conference, owner }).await;
                });
            }
            IoOutput::ReleaseRoom(conference) => {
                let services = self.services.clone();
                let identity = self.identity.clone();
                self.runtime.spawn(async move {
                    services.release_room(conference, &identity.node_id).await;
                });
            }
            IoOutput::CdrOpen(mut leg) | IoOutput::CdrClose(mut leg) => {
                // Signed by this node: the reaper finds its open legs if it is lost.
                leg.node = Some(self.identity.node_id.clone());
                let _ = self.cdrs.send(Note::Record(leg));
            }
            IoOutput::StoreIntro { target, pcm } => {
                let services = self.services.clone();
                self.runtime
                    .spawn(async move { services.store_intro(&target, &pcm).await });
            }
            IoOutput::Live(update) => {
                let _ = self.live.send(update);
            }
            IoOutput::Activity {
                account,
                conference,
                kind,
                summary,
            } => {
                let services = self.services.clone();
                self.runtime.spawn(async move {
                    services
                        .record_event(account, conference, kind, summary)
                        .await;
                });
            }
        }
    }

    fn send_sip(&self, to: SocketAddr, bytes: Vec<u8>) {
        if let Some(writer) = self.tcp.get(&to) {
            if writer.try_send(bytes).is_err() {
                tracing::warn!(%to, "SIP TCP connection backed up; message dropped");
            }
            return;
        }
        match self.udp.try_send_to(&bytes, to) {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                let udp = self.udp.clone();
                self.runtime.spawn(async move {
                    if let Err(error) = udp.send_to(&bytes, to).await {
                        tracing::warn!(%to, %error, "SIP send failed");
                    }
                });
            }
            Err(error) => tracing::warn!(%to, %error, "SIP send failed"),
        }
    }
}

/// Reads the SIP UDP socket.
async fn receive_udp(socket: Arc<UdpSocket>, inbox: Inbox) {
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    loop {
        match socket.recv_from(&mut buffer).await {
            Ok((n, from)) => {
                let bytes = buffer[..n].to_vec();
                match inbox.post(Event::Sip { from, bytes }) {
                    Posted::Delivered => {}
                    // The sender retransmits (RFC 3261 §17).
                    Posted::Full => {
                        tracing::warn!(%from, "media loop behind: SIP datagram dropped")
                    }
                    Posted::Closed => return,
                }
            }
            // ICMP port unreachable from a gone peer, and the like: go on.
            Err(error) => tracing::debug!(%error, "SIP UDP receive"),
        }
    }
}

/// Writes the live view's changes in the order the node made them.
async fn write_live(services: Services, mut updates: mpsc::UnboundedReceiver<LiveUpdate>) {
    while let Some(update) = updates.recv().await {
        services.update_live(&update).await;
    }
}

/// Stores each segment and recording the recorder closes, in order, keeping the
/// item of each recording in progress.
async fn upload_recordings(
    services: Services,
    node: NodeId,
    mut closed: mpsc::UnboundedReceiver<recorder::Closed>,
) {
    let mut in_progress: HashMap<RecordingId, Recording> = HashMap::new();
    while let Some(closed) = closed.recv().await {
        match closed {
            recorder::Closed::Segment { index, file } => {
                let stored = in_progress.remove(&file.id);
                let stored = services.store_segment(&node, stored, index, &file).await;
                in_progress.insert(file.id, stored);
            }
            recorder::Closed::Whole(finished) => {
                let stored = in_progress.remove(&finished.id);
                services.store_recording(&node, stored, &finished).await;
            }
        }
    }
}

/// Writes CDR legs in the order the spool passed them, one at a time, and tells
/// the spool each one is in the store.
async fn write_cdrs(
    services: Services,
    mut queue: mpsc::UnboundedReceiver<CallLeg>,
    spool: std::sync::mpsc::Sender<Note>,
    stats: Arc<Stats>,
) {
    while let Some(leg) = queue.recv().await {
        services.write_leg(&leg).await;
        stats.cdr_written();
        let _ = spool.send(Note::Written(leg));
    }
}

fn io(what: String, source: std::io::Error) -> Error {
    Error::Io { what, source }
}

/// Sends `rooms` on `channel` if they changed.
fn publish(
    channel: &tokio::sync::watch::Sender<Vec<ConferenceId>>,
    rooms: impl Iterator<Item = ConferenceId>,
) {
    channel.send_if_modified(|known| {
        let now: Vec<ConferenceId> = rooms.collect();
        let changed = known.len() != now.len() || !now.iter().all(|c| known.contains(c));
        if changed {
            *known = now;
        }
        changed
    });
}
