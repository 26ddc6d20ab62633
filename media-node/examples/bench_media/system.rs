//! The machine's figures: each thread's CPU time, the other processes' load,
//! the sockets' drops; and CPU pinning.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::RawFd;

use anyhow::Context as _;
use nix::errno::Errno;
use nix::sched::{CpuSet, sched_setaffinity};
use nix::sys::socket::{
    ControlMessage, MsgFlags, MultiHeaders, RecvMsg, SockaddrIn, recvmmsg, sendmmsg,
};
use nix::unistd::Pid;

use crate::{GENERATOR_THREAD, NODE_RTP_PORTS};

/// Prefix of the member node's thread names (cascade mode): its runtime's, and
/// those its shell names itself, renamed by [`label_node_threads`].
pub(crate) const MEMBER_THREADS: &str = "m:";

/// A thread of this process and its CPU time so far.
#[derive(Debug, Clone)]
pub(crate) struct ThreadCpu {
    tid: u32,
    name: String,
    /// Run time (`schedstat`), ns.
    ns: u64,
    /// User and system time (`stat`), sampled in clock ticks.
    ticks: (u64, u64),
}

pub(crate) fn threads_cpu() -> anyhow::Result<Vec<ThreadCpu>> {
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
        // utime and stime.
        let tick = |n: usize| -> u64 {
            stat_field(&stat, n)
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
            ticks: (tick(14), tick(15)),
        });
    }
    Ok(threads)
}

/// Once a node's shell has started its `media-loop` thread, prefixes with
/// `prefix` the name of every thread of this process but the main one, the
/// generator's and those already prefixed: the threads of the node started last.
/// Call it before another node or the generator starts.
pub(crate) fn label_node_threads(prefix: &str) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !threads_cpu()?.iter().any(|t| t.name == "media-loop") {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the node's media loop did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let main_tid = std::process::id();
    for thread in threads_cpu()? {
        if thread.tid == main_tid
            || thread.name.starts_with(GENERATOR_THREAD)
            || thread.name.starts_with(prefix)
        {
            continue;
        }
        // A thread's name holds at most 15 bytes (all ASCII here).
        let mut name = format!("{prefix}{}", thread.name);
        name.truncate(15);
        std::fs::write(format!("/proc/self/task/{}/comm", thread.tid), name)
            .with_context(|| format!("naming thread {}", thread.tid))?;
    }
    Ok(())
}

/// Cores used between two samples, by owner.
#[derive(Debug, Default)]
pub(crate) struct ThreadUsage {
    /// Every node's threads.
    pub(crate) node: f64,
    /// Of which the member node's (cascade mode).
    pub(crate) member: f64,
    pub(crate) generator: f64,
    pub(crate) main: f64,
    pub(crate) node_threads: Vec<(String, f64)>,
    /// The kernel's share of the node's ticks, %.
    pub(crate) node_system_pct: f64,
}

impl ThreadUsage {
    pub(crate) fn between(before: &[ThreadCpu], after: &[ThreadCpu], seconds: f64) -> Self {
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
                if thread.name.starts_with(MEMBER_THREADS) {
                    usage.member += cores;
                }
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

/// `/proc/stat`: the machine's busy time, and each CPU's time in interrupts
/// and softirqs, in clock ticks. Sampled at the tick, so only a coarse measure
/// (±0.1 core over a window here): enough to see another process at work, and
/// the kernel's work that a thread's CPU time does not count.
#[derive(Debug, Clone)]
pub(crate) struct CpuStat {
    /// User, nice, system and steal, machine-wide: processes' time. Interrupts
    /// and softirqs are apart: on an otherwise idle machine they are the
    /// bench's own datagrams.
    busy: u64,
    /// Interrupts and softirqs by CPU: the loopback delivery of every datagram
    /// a core sends (into the receiver's socket) runs in its softirq, and its
    /// frees of datagrams made on another CPU by IPI; counted in no thread.
    irq_by_cpu: Vec<u64>,
}

impl CpuStat {
    /// Clock ticks per second (`USER_HZ`, 100 on Linux).
    const HZ: f64 = 100.0;

    pub(crate) fn read() -> anyhow::Result<Self> {
        let text = std::fs::read_to_string("/proc/stat")?;
        let fields = |line: &str| -> Vec<u64> {
            line.split_whitespace()
                .filter_map(|f| f.parse().ok())
                .collect()
        };
        // user, nice, system, idle, iowait, irq, softirq, steal (then guests).
        let at = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
        let total = text
            .lines()
            .find_map(|line| line.strip_prefix("cpu "))
            .map(fields)
            .context("no cpu line in /proc/stat")?;
        let mut irq_by_cpu = Vec::new();
        for line in text.lines() {
            let Some((cpu, rest)) = line
                .strip_prefix("cpu")
                .and_then(|rest| rest.split_once(' '))
            else {
                continue;
            };
            let Ok(cpu) = cpu.parse::<usize>() else {
                continue;
            };
            let v = fields(rest);
            if irq_by_cpu.len() <= cpu {
                irq_by_cpu.resize(cpu + 1, 0);
            }
            irq_by_cpu[cpu] = at(&v, 5) + at(&v, 6);
        }
        Ok(Self {
            busy: at(&total, 0) + at(&total, 1) + at(&total, 2) + at(&total, 7),
            irq_by_cpu,
        })
    }

    /// Cores the machine's processes used since `before` (interrupts and
    /// softirqs apart).
    pub(crate) fn busy_cores_since(&self, before: &Self, seconds: f64) -> f64 {
        self.busy.saturating_sub(before.busy) as f64 / Self::HZ / seconds
    }

    /// Cores spent in interrupts and softirqs on `cpus` since `before`.
    pub(crate) fn irq_cores_since(&self, before: &Self, cpus: &[usize], seconds: f64) -> f64 {
        let ticks = |stat: &Self| -> u64 {
            cpus.iter()
                .filter_map(|&cpu| stat.irq_by_cpu.get(cpu))
                .sum()
        };
        ticks(self).saturating_sub(ticks(before)) as f64 / Self::HZ / seconds
    }
}

/// Datagrams the kernel dropped on full receive buffers (`/proc/net/udp`).
#[derive(Debug, Clone, Default)]
pub(crate) struct UdpDrops {
    /// On the node's RTP ports.
    pub(crate) node: u64,
    /// By local port, for the generator's sockets.
    by_port: HashMap<u16, u64>,
}

impl UdpDrops {
    pub(crate) fn read() -> anyhow::Result<Self> {
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
            // 127.0.0.2 ([`crate::NODE_IP`]) as /proc/net/udp writes it.
            if local.starts_with("0200007F:") && (low..=high).contains(&port) {
                drops.node += dropped;
            } else {
                *drops.by_port.entry(port).or_default() += dropped;
            }
        }
        Ok(drops)
    }

    pub(crate) fn generator(&self, ports: &[u16]) -> u64 {
        ports.iter().filter_map(|port| self.by_port.get(port)).sum()
    }
}

pub(crate) fn realtime_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// This process's scheduling policy as `/proc/self/stat` gives it (the
/// `policy` and `rt_priority` fields): `SCHED_FIFO 1` under `chrt -f 1`, as
/// `make bench-media` runs it where it may.
pub(crate) fn scheduling() -> String {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let field = |n: usize| stat_field(&stat, n).unwrap_or("?");
    match field(41) {
        "0" => "SCHED_OTHER".to_string(),
        "1" => format!("SCHED_FIFO {}", field(40)),
        "2" => format!("SCHED_RR {}", field(40)),
        other => format!("policy {other}"),
    }
}

/// Field `n` of a `/proc/…/stat` line, numbered from 1 as `proc(5)` does (14:
/// `utime`, 41: `policy`). The name (field 2) may hold spaces and parentheses:
/// the fields are counted from its last closing parenthesis, field 3 first.
fn stat_field(stat: &str, n: usize) -> Option<&str> {
    let (_, after_name) = stat.rsplit_once(')')?;
    after_name.split_whitespace().nth(n.checked_sub(3)?)
}

pub(crate) fn pin_current_thread(cpus: &[usize]) -> nix::Result<()> {
    let mut set = CpuSet::new();
    for &cpu in cpus {
        set.set(cpu)?;
    }
    // Pid 0: the calling thread; threads it starts inherit the mask.
    sched_setaffinity(Pid::from_raw(0), &set)
}

/// One `recvmmsg` of what `fd` has queued, into `buffers`: each datagram (its
/// header, with the sender and control messages, and its bytes) to `each`.
/// Returns how many were read: 0 when nothing was queued (or an ICMP error of
/// a gone peer was reported instead), `buffers.len()` when more may wait.
pub(crate) fn receive_batch<const N: usize>(
    fd: RawFd,
    headers: &mut MultiHeaders<SockaddrIn>,
    buffers: &mut [[u8; N]],
    mut each: impl FnMut(&RecvMsg<'_, '_, SockaddrIn>, &[u8]),
) -> anyhow::Result<usize> {
    let mut slices: Vec<[IoSliceMut<'_>; 1]> = buffers
        .iter_mut()
        .map(|buffer| [IoSliceMut::new(&mut buffer[..])])
        .collect();
    let results = match recvmmsg(fd, headers, slices.iter_mut(), MsgFlags::MSG_DONTWAIT, None) {
        Ok(results) => results,
        Err(Errno::EAGAIN | Errno::EINTR | Errno::ECONNREFUSED) => return Ok(0),
        Err(error) => return Err(error.into()),
    };
    let mut count = 0;
    for message in results {
        count += 1;
        if let Some(data) = message.iovs().next() {
            each(&message, &data[..message.bytes.min(data.len())]);
        }
    }
    Ok(count)
}

/// Sends `packets` (each to its address in `to`) with `sendmmsg`, as many per
/// call as `headers` holds; what the socket refuses is dropped (the receiving
/// side counts it lost). An error other than an interruption is returned.
pub(crate) fn send_batch<const N: usize>(
    fd: RawFd,
    headers: &mut MultiHeaders<SockaddrIn>,
    packets: &[[u8; N]],
    to: &[Option<SockaddrIn>],
) -> nix::Result<()> {
    let slices: Vec<[IoSlice<'_>; 1]> = packets.iter().map(|p| [IoSlice::new(p)]).collect();
    let mut sent = 0;
    while sent < slices.len() {
        match sendmmsg(
            fd,
            headers,
            &slices[sent..],
            &to[sent..],
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
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
