//! The media loop: one thread that owns the sans-IO [`Node`], its RTP sockets
//! ([`RtpPorts`]) and its clock, so that audio never waits behind the runtime's
//! other work.
//!
//! It sleeps in one `epoll_wait` on: a `timerfd` armed for the next thing due
//! (the 20 ms tick on absolute deadlines, the node's own deadline), an `eventfd` that the tokio side rings when it puts an event in the
//! [`Inbox`] (SIP, TCP connections, the services' answers, stop), and every RTP
//! socket. What is due is done first; between two sockets read, what has come
//! due (a tick, a room's frame) is done at once, so a burst of RTP delays a frame
//! by one socket's read at most. The tick is never queued nor skipped silently: a loop that fell more
//! than five periods behind (a suspended machine) starts again from now.
//!
//! Before anything due is done, the mailbox is read: what waits there came
//! before the deadline, so a key or a store's answer is never judged missing
//! by a timer that fell due while the loop was busy. Once a second the node is
//! told how busy the loop was ([`Input::Load`]): past its core, it refuses new
//! calls. A loop that never waits still yields its core every [`YIELD_EVERY`].

use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::time::{Duration, Instant};

use chrono::Utc;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};

use super::config::MediaIo;
use super::recorder::{Rec, Recorder};
use super::rtp::RtpPorts;
use super::uring::UringPorts;
use super::{Event, Io};
use crate::node::{Input, MediaOutput, Node, Output};

/// The frame period of G.711 at ptime 20.
pub(super) const PERIOD: Duration = Duration::from_millis(20);
/// Events waiting for the loop (SIP beyond this is dropped, as a NIC would).
const INBOX: usize = 8192;
/// Readiness reports taken per `epoll_wait`.
const EVENTS: usize = 256;
/// How often the conferences held are told to the portal commands' task, and the
/// node's figures and load copied out (1 s).
const TICKS_PER_PUBLISH: u64 = 50;
/// How often the figures are logged, when they changed (10 s).
const TICKS_PER_LOG: u64 = 500;
/// Longest the loop runs without yielding its core: a loop that never waits (past
/// its core) would otherwise starve, under a real-time policy (`chrt`), the
/// runtime's threads on that core, which read SIP and bring the store's answers.
const YIELD_EVERY: Duration = Duration::from_millis(2);
/// Epoll tokens that are not RTP ports (ports are 0..=65535).
const TIMER: u64 = u64::MAX;
const WAKE: u64 = u64::MAX - 1;
/// The io_uring's completions.
const RING: u64 = u64::MAX - 2;
/// Completions handled between two looks at what has come due.
const COMPLETIONS: usize = 64;
/// Completions handled per wake-up, before the loop waits again and so sees
/// its other sources (the mailbox: SIP, the store's answers). A loop behind
/// its traffic always has completions waiting: taking them all would leave
/// the calls' lookups unanswered until their IVR gives up.
const COMPLETIONS_PER_WAKE: usize = 4 * COMPLETIONS;

/// The RTP sockets, on the path chosen at start ([`MediaIo`]).
enum Rtp {
    /// Each socket watched by the loop's epoll, read with `recvmmsg`, a
    /// `sendto` per datagram.
    Epoll(RtpPorts),
    /// Every socket's receives and sends through one io_uring.
    Uring(Box<UringPorts>),
}

impl Rtp {
    /// The path `wanted`: io_uring unless refused (`auto` then falls back to
    /// epoll; `io_uring` fails). Logged.
    fn open(wanted: MediaIo, ip: std::net::IpAddr) -> std::io::Result<Self> {
        if wanted == MediaIo::Epoll {
            tracing::info!(
                media_io = "epoll",
                "media loop: RTP on epoll (TELECONF_MEDIA_IO=epoll)"
            );
            return Ok(Rtp::Epoll(RtpPorts::new(ip)));
        }
        match UringPorts::new(ip) {
            Ok(ports) => {
                tracing::info!(media_io = "io_uring", "media loop: RTP on io_uring");
                Ok(Rtp::Uring(Box::new(ports)))
            }
            Err(error) if wanted == MediaIo::Auto => {
                tracing::warn!(media_io = "epoll", %error, "media loop: io_uring refused, RTP on epoll");
                Ok(Rtp::Epoll(RtpPorts::new(ip)))
            }
            Err(error) => Err(std::io::Error::new(
                error.kind(),
                format!("TELECONF_MEDIA_IO=io_uring but io_uring is refused: {error}"),
            )),
        }
    }

    fn unsent(&self) -> u64 {
        match self {
            Rtp::Epoll(ports) => ports.unsent(),
            Rtp::Uring(ports) => ports.unsent(),
        }
    }
}

/// The tokio side's way into the loop.
#[derive(Debug, Clone)]
pub(super) struct Inbox {
    queue: SyncSender<Event>,
    bell: Arc<EventFd>,
}

/// What became of an event put in the [`Inbox`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Posted {
    Delivered,
    /// The loop is behind: the event was dropped.
    Full,
    /// The loop has stopped.
    Closed,
}

impl Inbox {
    /// Puts `event` in without waiting: dropped when the loop is behind.
    pub(super) fn post(&self, event: Event) -> Posted {
        match self.queue.try_send(event) {
            Ok(()) => {
                // The counter saturating is the only failure, and it still rings.
                let _ = self.bell.write(1);
                Posted::Delivered
            }
            Err(TrySendError::Full(_)) => Posted::Full,
            Err(TrySendError::Disconnected(_)) => Posted::Closed,
        }
    }

    /// Puts `event` in, waiting for room (what must not be lost: a TCP message,
    /// a service's answer). False when the loop has stopped.
    pub(super) async fn send(&self, mut event: Event) -> bool {
        loop {
            match self.queue.try_send(event) {
                Ok(()) => {
                    let _ = self.bell.write(1);
                    return true;
                }
                Err(TrySendError::Full(back)) => {
                    event = back;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err(TrySendError::Disconnected(_)) => return false,
            }
        }
    }
}

/// The loop's end of the [`Inbox`].
#[derive(Debug)]
pub(super) struct Mailbox {
    queue: Receiver<Event>,
    bell: Arc<EventFd>,
}

/// A new inbox and its mailbox.
pub(super) fn inbox() -> std::io::Result<(Inbox, Mailbox)> {
    let bell = Arc::new(EventFd::from_flags(
        EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC,
    )?);
    let (queue, receiver) = sync_channel(INBOX);
    Ok((
        Inbox {
            queue,
            bell: bell.clone(),
        },
        Mailbox {
            queue: receiver,
            bell,
        },
    ))
}

/// Where the node is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Taking calls.
    Serving,
    /// Stopping: new calls get 503; the node keeps each call up until it ends or
    /// its time is up ([`Input::Drain`]); the loop ends once every call is
    /// settled ([`Node::all_settled`]): their transactions' retransmission timers
    /// are not waited out.
    Draining,
}

/// The loop's state besides the node and its I/O.
struct Loop {
    epoll: Epoll,
    timer: TimerFd,
    /// When the timer is set to ring.
    armed: Option<Instant>,
    next_tick: Instant,
    /// Ticks run, to publish the conferences held every [`TICKS_PER_PUBLISH`].
    ticks: u64,
    phase: Phase,
    rtp: Rtp,
    /// The recorder thread's queue.
    recorder: Recorder,
    /// SIP, the services' answers and the stop, from the tokio side.
    mailbox: Mailbox,
    /// Since when the loop's load is measured, and how long of it the loop
    /// waited in `epoll_wait` ([`Input::Load`] once a second).
    load_since: Instant,
    waited: Duration,
    /// When the loop last yielded its core ([`YIELD_EVERY`]).
    yielded: Instant,
}

/// Runs the node until it has stopped (an [`Event::Stop`], then the drain),
/// and gives its I/O back for the last writes.
pub(super) fn run(
    node: Node,
    mut io: Io,
    recorder: Recorder,
    mailbox: Mailbox,
    media_io: MediaIo,
) -> std::io::Result<Io> {
    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?;
    let timer = TimerFd::new(
        ClockId::CLOCK_MONOTONIC,
        TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
    )?;
    epoll.add(timer.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, TIMER))?;
    epoll.add(
        mailbox.bell.as_fd(),
        EpollEvent::new(EpollFlags::EPOLLIN, WAKE),
    )?;
    let rtp = Rtp::open(media_io, io.rtp_ip)?;
    if let Rtp::Uring(ports) = &rtp {
        epoll.add(ports.as_fd(), EpollEvent::new(EpollFlags::EPOLLIN, RING))?;
    }
    let started = Instant::now();
    let mut state = Loop {
        rtp,
        recorder,
        epoll,
        timer,
        armed: None,
        next_tick: started + PERIOD,
        ticks: 0,
        phase: Phase::Serving,
        mailbox,
        load_since: started,
        waited: Duration::ZERO,
        yielded: started,
    };
    let mut node = node;
    let mut ready = [EpollEvent::empty(); EVENTS];
    loop {
        state.share_the_core();
        state.due(&mut node, &mut io);
        // What is left of calls over is their transactions' wait for
        // retransmissions: a stopping node does not wait it out.
        if state.phase == Phase::Draining && node.all_settled() {
            break;
        }
        state.arm(&node)?;
        let waiting = Instant::now();
        let waited = state.epoll.wait(&mut ready, EpollTimeout::NONE);
        state.waited += waiting.elapsed();
        let count = match waited {
            Ok(count) => count,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(error) => return Err(error.into()),
        };
        for event in &ready[..count] {
            match event.data() {
                TIMER => {
                    // Reset its readiness; what is due is done at the loop's top.
                    let _ = state.timer.wait();
                    state.armed = None;
                }
                WAKE => {
                    let _ = state.mailbox.bell.read();
                    // The mail first, then what is due.
                    state.due(&mut node, &mut io);
                }
                RING => state.complete(&mut node, &mut io),
                token => {
                    let Rtp::Epoll(ports) = &mut state.rtp else {
                        continue;
                    };
                    let port = u16::try_from(token).unwrap_or_default();
                    let now = Instant::now();
                    ports.receive(port, |from, bytes| {
                        node.handle_input(Input::Rtp {
                            now,
                            port,
                            from,
                            bytes,
                        });
                    });
                    state.flush(&mut node, &mut io);
                    if state.next_due(&node) <= Instant::now() {
                        state.due(&mut node, &mut io);
                    }
                }
            }
        }
    }
    io.publish_stats(&node, state.rtp.unsent(), true);
    Ok(io)
}

/// Takes up to `budget` items in batches of `batch` (`take(batch)` says how
/// many it took: fewer than asked means none are left): the share of one
/// source in one turn of the loop. Returns how many were taken.
fn in_turns(budget: usize, batch: usize, mut take: impl FnMut(usize) -> usize) -> usize {
    let mut taken = 0;
    while taken < budget {
        let asked = batch.min(budget - taken);
        let took = take(asked);
        taken += took;
        if took < asked {
            break;
        }
    }
    taken
}

impl Loop {
    /// The io_uring's completions, [`COMPLETIONS`] at a time, doing what has
    /// come due between two batches; at most [`COMPLETIONS_PER_WAKE`] (the
    /// ring stays readable for the next wait).
    fn complete(&mut self, node: &mut Node, io: &mut Io) {
        let taken = in_turns(COMPLETIONS_PER_WAKE, COMPLETIONS, |batch| {
            let Rtp::Uring(ports) = &mut self.rtp else {
                return 0;
            };
            let now = Instant::now();
            let handled = ports.complete(batch, |port, from, bytes| {
                node.handle_input(Input::Rtp {
                    now,
                    port,
                    from,
                    bytes,
                });
            });
            self.flush(node, io);
            if self.next_due(node) <= Instant::now() {
                self.due(node, io);
            }
            handled
        });
        if taken == COMPLETIONS_PER_WAKE
            && let Rtp::Uring(ports) = &self.rtp
        {
            ports.ring_again();
        }
    }

    /// The next thing due: the tick, or the node's deadline (a room's frame, a
    /// call's timer).
    fn next_due(&self, node: &Node) -> Instant {
        node.poll_timeout()
            .map_or(self.next_tick, |at| at.min(self.next_tick))
    }

    /// Does what is due: the tick, the node's deadline. What the mailbox holds
    /// came before `now` and is read first: a caller's key or the store's answer
    /// waiting there while the loop was busy is never judged missing by the
    /// IVR's timer that fell due meanwhile.
    fn due(&mut self, node: &mut Node, io: &mut Io) {
        self.take_mail(node, io);
        let now = Instant::now();
        if now >= self.next_tick {
            self.tick(node, io);
        }
        if node.poll_timeout().is_some_and(|at| at <= now) {
            node.handle_input(Input::Timeout(now));
            self.flush(node, io);
        }
    }

    /// The 20 ms tick (the calls' prompts), and the next deadline on the grid.
    /// The node is told the deadline, not the time the loop got to it, so a late
    /// wake-up never shifts the calls' frames. The rooms mix on their own
    /// deadlines ([`Node::poll_timeout`]), spread over the period.
    fn tick(&mut self, node: &mut Node, io: &mut Io) {
        node.handle_input(Input::Tick(self.next_tick));
        self.flush(node, io);
        self.ticks = self.ticks.wrapping_add(1);
        if self.ticks % TICKS_PER_PUBLISH == 0 {
            self.report_load(node);
            io.publish_held(node);
            io.publish_stats(node, self.rtp.unsent(), self.ticks % TICKS_PER_LOG == 0);
        }
        let now = Instant::now();
        self.next_tick += PERIOD;
        // Asleep far too long (a suspended machine): start again from now rather
        // than fire a burst of stale ticks.
        if now > self.next_tick + PERIOD * 5 {
            tracing::warn!(behind = ?now - self.next_tick, "media loop fell behind its clock");
            self.next_tick = now + PERIOD;
        }
    }

    /// Sets the timer for the next thing due, unless it is set for it already.
    fn arm(&mut self, node: &Node) -> std::io::Result<()> {
        let wake = self.next_due(node);
        if self.armed == Some(wake) {
            return Ok(());
        }
        // A zero expiry would disarm the timer: what is due now rings in 1 µs.
        let after = wake
            .saturating_duration_since(Instant::now())
            .max(Duration::from_micros(1));
        self.timer.set(
            Expiration::OneShot(TimeSpec::from_duration(after)),
            TimerSetTimeFlags::empty(),
        )?;
        self.armed = Some(wake);
        Ok(())
    }

    /// Tells the node the share of the last second the loop spent working
    /// rather than waiting ([`Input::Load`]).
    fn report_load(&mut self, node: &mut Node) {
        let now = Instant::now();
        let elapsed = now.saturating_duration_since(self.load_since);
        if elapsed.is_zero() {
            return;
        }
        let busy = 1.0 - (self.waited.as_secs_f64() / elapsed.as_secs_f64()).min(1.0);
        node.handle_input(Input::Load(busy));
        self.load_since = now;
        self.waited = Duration::ZERO;
    }

    /// Yields the core once every [`YIELD_EVERY`], so that the runtime's
    /// threads pinned beside the loop run even while the loop never waits.
    fn share_the_core(&mut self) {
        let now = Instant::now();
        if now.saturating_duration_since(self.yielded) >= YIELD_EVERY {
            std::thread::yield_now();
            self.yielded = now;
        }
    }

    /// Feeds the node everything in the mailbox, in the order it came (the
    /// timers that fall due meanwhile wait: what came before them is read first).
    fn take_mail(&mut self, node: &mut Node, io: &mut Io) {
        loop {
            match self.mailbox.queue.try_recv() {
                Ok(Event::Stop) => {
                    if self.phase == Phase::Serving {
                        let now = Instant::now();
                        tracing::info!(
                            calls = node.calls(),
                            "media node draining: new calls get 503, the calls up go on"
                        );
                        node.handle_input(Input::Drain(now));
                        self.phase = Phase::Draining;
                    }
                }
                Ok(event) => io.deliver(node, event),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => return,
            }
            self.flush(node, io);
        }
    }

    /// Carries out the node's outputs, in order: the media ones here, the
    /// others through `io`.
    fn flush(&mut self, node: &mut Node, io: &mut Io) {
        while let Some(output) = node.poll_output() {
            match output {
                Output::Media(output) => self.carry_out(output),
                Output::Io(output) => io.dispatch(node, output),
            }
        }
        // On io_uring, everything this input asked for (a room's frames for
        // all its callers) goes in one submission.
        if let Rtp::Uring(ports) = &mut self.rtp {
            ports.submit();
        }
    }

    /// RTP to send, ports to open and close, recordings' frames: nothing that
    /// waits (the recorder's queue drops and counts when full).
    fn carry_out(&mut self, output: MediaOutput) {
        match output {
            MediaOutput::SendRtp {
                from_port,
                to,
                bytes,
            } => match &mut self.rtp {
                Rtp::Epoll(ports) => ports.send(from_port, to, &bytes),
                Rtp::Uring(ports) => ports.send(from_port, to, &bytes),
            },
            MediaOutput::BindRtp(port) => match &mut self.rtp {
                Rtp::Epoll(ports) => ports.bind(&self.epoll, port),
                Rtp::Uring(ports) => ports.bind(port),
            },
            MediaOutput::ReleaseRtp(port) => match &mut self.rtp {
                Rtp::Epoll(ports) => ports.release(&self.epoll, port),
                Rtp::Uring(ports) => ports.release(port),
            },
            MediaOutput::RecordingStart {
                conference,
                account,
            } => self.recorder.send(Rec::Start {
                conference,
                account,
                at: Utc::now(),
            }),
            MediaOutput::RecordFrame { conference, pcm } => {
                self.recorder.send(Rec::Frame { conference, pcm });
            }
            MediaOutput::RecordingStop { conference } => {
                self.recorder.send(Rec::Stop { conference });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backlog_of_completions_is_taken_a_share_at_a_time() {
        // A ring far behind: more completions waiting than one turn's share.
        let mut waiting = 10_000;
        let mut batches = Vec::new();
        let mut take = |asked: usize| {
            let took = asked.min(waiting);
            waiting -= took;
            batches.push(took);
            took
        };
        assert_eq!(
            in_turns(256, 64, &mut take),
            256,
            "one share, then the other sources"
        );
        assert_eq!(in_turns(256, 64, &mut take), 256);
        assert_eq!(batches, [64; 8]);
        assert_eq!(waiting, 10_000 - 512, "the rest waits for the next turns");
    }

    #[test]
    fn a_turn_ends_when_the_source_has_nothing_more() {
        let mut waiting = 100;
        let mut asked_for = Vec::new();
        let took = in_turns(256, 64, |asked| {
            asked_for.push(asked);
            let took = asked.min(waiting);
            waiting -= took;
            took
        });
        assert_eq!(took, 100);
        assert_eq!(
            asked_for,
            [64, 64],
            "a short batch: nothing left, no third ask"
        );
        assert_eq!(
            in_turns(100, 64, |asked| asked),
            100,
            "the last batch asks only the rest"
        );
    }
}
