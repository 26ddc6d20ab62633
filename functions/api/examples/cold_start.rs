//! `make bench`: the API binary's cold start (process start → first `/healthz`
//! answer) and its size, for the binary built as deployed to Lambda
//! (`cargo build --profile lambda`: fat LTO, one codegen unit, size-optimised,
//! abort on panic, stripped). Goals: ≤ 30 ms and ≤ 10 MB.
//!
//! Usage: `cold_start PATH_TO_TELECONF_API` (the Makefile passes
//! `target/<host>/lambda/teleconf-api`). An example rather than a bench target so that
//! measuring does not rebuild the API a second time under another profile.
//!
//! The process is spawned as Lambda would start it, but serving on a loopback port
//! (`TELECONF_API_ADDR`) so the first answer can be timed from outside; the AWS
//! clients are built as in AWS (no network call before the first request).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RUNS: usize = 30;
const GIVE_UP: Duration = Duration::from_secs(10);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One request; `true` on a 200.
fn healthz(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(50)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && &head[9..12] == b"200"
}

fn one_cold_start(binary: &str) -> Duration {
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port())
        .parse()
        .expect("address");
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .env("TELECONF_API_ADDR", addr.to_string())
        .env("TELECONF_TABLE", "bench")
        .env("TELECONF_BUCKET", "bench")
        .env("TELECONF_MAIL_FROM", "bench@teleconf.example")
        .env("TELECONF_TOKEN_SECRET", "0123456789abcdef0123456789abcdef")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn teleconf-api");
    let elapsed = loop {
        if healthz(addr) {
            break started.elapsed();
        }
        if started.elapsed() > GIVE_UP {
            let _ = child.kill();
            panic!("teleconf-api did not answer /healthz within {GIVE_UP:?}");
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

fn main() {
    let Some(binary) = std::env::args().nth(1) else {
        eprintln!(
            "usage: cold_start PATH_TO_TELECONF_API (make bench passes target/<host>/lambda/teleconf-api)"
        );
        std::process::exit(2);
    };
    let binary = binary.as_str();
    let size = std::fs::metadata(binary).expect("the api binary").len();
    one_cold_start(binary); // page cache warm, as for a Lambda image already pulled
    let mut times: Vec<Duration> = (0..RUNS).map(|_| one_cold_start(binary)).collect();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let median = times[RUNS / 2];
    let p90 = times[RUNS * 9 / 10];
    println!(
        "api cold start (process start → first /healthz 200), {RUNS} runs: min {:.1} ms, median {:.1} ms, p90 {:.1} ms, max {:.1} ms (goal ≤ 30 ms)",
        ms(times[0]),
        ms(median),
        ms(p90),
        ms(times[RUNS - 1])
    );
    println!(
        "api Lambda binary (profile lambda): {:.2} MB ({} bytes; goal ≤ 10 MB) at {binary}",
        size as f64 / 1e6,
        size
    );
    println!(
        "api cold start median / goal: {:.2}; binary size / goal: {:.2}",
        ms(median) / 30.0,
        size as f64 / 10e6
    );
}
