//! Real SIP peers for end-to-end calls, as the trunk's callers would be: `sipp`
//! (Debian `sip-tester`) running the scenarios kept in `tests/scenarios/`, and
//! headless `baresip` (`baresip-core`) callers that play a tone as their microphone
//! and record what they hear.
//!
//! - [`tone`]: tone WAVs to play, and the frequency analysis of recordings.
//! - [`sipp`]: a sipp UAC running a scenario (dialling and keying codes), a sipp UAS.
//! - [`baresip`]: a baresip caller driven through its `ctrl_tcp` module.
//! - [`rtp`]: a UDP sink that reads the RFC 4733 digits a peer sends.
//! - [`stranger`]: no caller: a tone and keys sent to every port of a node's range.
//!
//! Every peer gets its own scratch directory and free loopback ports, so tests run
//! in parallel; a peer process is killed when its handle is dropped. The tools are
//! installed by `make deps-sip` (which `make test` runs): a missing one fails the test
//! with that hint ([`tool`]).

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use anyhow::Context as _;

pub mod baresip;
pub mod rtp;
pub mod sipp;
pub mod stranger;
pub mod tone;

/// The path of a SIP tool installed by `make deps-sip` (`sipp`, `baresip`); panics
/// with the way to install it when it is missing.
pub fn tool(name: &str) -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    found.unwrap_or_else(|| {
        panic!(
            "`{name}` is not installed: `make deps-sip` installs the real SIP peers \
             (sipp from sip-tester, baresip from baresip-core); `make test` runs it"
        )
    })
}

/// A scenario kept in `tests/scenarios/`.
pub fn scenario(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(file)
}

/// The ports the harness hands to peers: below Linux's ephemeral range (32768–60999),
/// where every `bind(0)` lands (the media node's SIP, baresip's SIP, any client
/// socket), so a port picked here is not taken by one of those between the pick and
/// the peer's bind. baresip's RTP is 10000–19999 ([`baresip::RTP_PORTS`]), the media
/// node's 20000–29999 by default and 40000–49999 in tests.
pub const PICKED_PORTS: std::ops::Range<u16> = 30_000..32_768;

/// Picks `width` consecutive ports starting on a multiple of `align` in
/// [`PICKED_PORTS`], all of which `free` says are free. A random start per process
/// and a cursor shared by its tests, counted in ports: each try takes the next
/// `width + align` ports of the range for itself, whatever its width, so two picks
/// of one process never hand out the same port before the cursor has gone round
/// the range (a port picked is free when picked, not yet bound by its peer).
/// Concurrent test processes start at random places: they seldom meet.
fn pick(width: u16, align: u16, free: impl Fn(u16) -> bool) -> u16 {
    static CURSOR: AtomicU32 = AtomicU32::new(u32::MAX);
    let span = u32::from(PICKED_PORTS.end - PICKED_PORTS.start);
    let chunk = u32::from(width + align);
    let _ = CURSOR.compare_exchange(
        u32::MAX,
        (uuid::Uuid::new_v4().as_u128() % u128::from(span)) as u32,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..=span / chunk {
        let taken = CURSOR.fetch_add(chunk, Ordering::Relaxed) % span;
        if taken + chunk > span {
            // Across the range's end: the next try starts over at its start.
            continue;
        }
        let first = u32::from(PICKED_PORTS.start) + taken;
        let port = first.next_multiple_of(u32::from(align));
        let port = u16::try_from(port).expect("inside PICKED_PORTS");
        if (port..port + width).all(&free) {
            return port;
        }
    }
    panic!("no {width} free consecutive ports in {PICKED_PORTS:?} on 127.0.0.1");
}

/// A free UDP port on 127.0.0.1, from [`PICKED_PORTS`].
pub fn free_udp_port() -> u16 {
    pick(1, 1, |p| UdpSocket::bind(("127.0.0.1", p)).is_ok())
}

/// A free TCP port on 127.0.0.1, from [`PICKED_PORTS`].
pub fn free_tcp_port() -> u16 {
    pick(1, 1, |p| TcpListener::bind(("127.0.0.1", p)).is_ok())
}

/// An even UDP port `p` with `p..p+4` all free on 127.0.0.1, from [`PICKED_PORTS`]:
/// room for RTP and RTCP, and for sipp's second media socket (`-mp` binds `p` and
/// `p + 2`).
pub fn free_media_port() -> u16 {
    pick(4, 2, |p| UdpSocket::bind(("127.0.0.1", p)).is_ok())
}

/// A directory of its own under the system's temp dir, for one peer's config,
/// logs and recordings. Removed on drop, unless [`ScratchDir::keep`] was called (a
/// peer failed) or the thread is panicking (a failed test): then it is kept and its
/// path printed, for the logs.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
    keep: AtomicBool,
}

impl ScratchDir {
    /// Creates `<tmp>/teleconf-<label>-<random>`.
    pub fn new(label: &str) -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!(
            "teleconf-{label}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self {
            path,
            keep: AtomicBool::new(false),
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Keeps it after the drop.
    pub fn keep(&self) {
        self.keep.store(true, Ordering::Relaxed);
    }

    /// A file in it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if self.keep.load(Ordering::Relaxed) || std::thread::panicking() {
            eprintln!("peer files kept in {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The end of a text file (at most `max` bytes, from a line start), for error
/// messages; "" when it cannot be read.
pub fn tail_of(path: &Path, max: usize) -> String {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    tail_str(&text, max)
}

/// The end of `text` (at most `max` bytes, from a line start).
pub fn tail_str(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let start = text[start..].find('\n').map_or(start, |i| start + i + 1);
    format!("…\n{}", &text[start..])
}

/// Waits for `child` to exit, at most `limit`; kills it past that.
pub(crate) async fn wait_or_kill(
    child: &mut tokio::process::Child,
    limit: Duration,
) -> anyhow::Result<Option<std::process::ExitStatus>> {
    match tokio::time::timeout(limit, child.wait()).await {
        Ok(status) => Ok(Some(status?)),
        Err(_) => {
            child.kill().await?;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::{PICKED_PORTS, pick};

    /// A SIP port picked just before a media block (as one sipp's `-p` and
    /// another's `-mp`) must not fall inside it: both are free until bound.
    #[test]
    fn picks_of_mixed_widths_never_share_a_port() {
        let mut seen = HashSet::new();
        for i in 0..200 {
            let (width, align) = if i % 3 == 0 { (4, 2) } else { (1, 1) };
            let port = pick(width, align, |_| true);
            assert_eq!(port % align, 0, "{port} aligned on {align}");
            assert!(PICKED_PORTS.contains(&port) && PICKED_PORTS.contains(&(port + width - 1)));
            for p in port..port + width {
                assert!(seen.insert(p), "port {p} picked twice");
            }
        }
    }
}
