//! `make run`'s body, `scripts/run-local.sh`, run for real: it prints the demo
//! logins on lines of their own, serves the API, and on Ctrl-C (SIGINT) stops
//! everything it started (the emulator that `make test` started is not its own,
//! so it stays).

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Provisioning, seeding and the API's start, after the build.
const READY_WITHIN: Duration = Duration::from_secs(120);
/// Stopping every service on Ctrl-C.
const STOPPED_WITHIN: Duration = Duration::from_secs(30);

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
}

#[test]
fn make_run_prints_the_demo_logins_serves_the_api_and_stops_everything_on_ctrl_c() {
    let root = repo_root();
    let binaries = root.join("target/debug");
    assert!(
        binaries.join("teleconf-api").exists() && binaries.join("teleconf-provision").exists(),
        "build the binaries first (make test builds every target)"
    );
    let api = free_addr();
    // A SIP port of its own: sipp, in a test running alongside, binds 5060 (run-local's default).
    let sip = free_addr();
    // `env --default-signal=INT`: a test run launched in the background (a non-interactive
    // shell's `&`) inherits SIGINT ignored, and bash cannot trap a signal ignored on entry.
    let mut script = Command::new("env")
        .args(["--default-signal=INT", "bash", "scripts/run-local.sh"])
        .current_dir(&root)
        .env("API_ADDR", api.to_string())
        .env("SIP_ADDR", sip.to_string())
        .env("BIN_DIR", &binaries)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run scripts/run-local.sh");

    let (lines, received) = mpsc::channel();
    let stdout = script.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let started = Instant::now();
    let mut printed = Vec::new();
    while !printed
        .iter()
        .any(|l: &String| l == "Press Ctrl-C to stop.")
    {
        let left = READY_WITHIN.saturating_sub(started.elapsed());
        match received.recv_timeout(left) {
            Ok(line) => printed.push(line),
            Err(_) => {
                let _ = script.kill();
                panic!(
                    "run-local.sh was not ready within {READY_WITHIN:?}; it printed:\n{}",
                    printed.join("\n")
                );
            }
        }
    }

    // The demo owner's login, each on a line of its own, then the provider admin's.
    let emails: Vec<&str> = printed
        .iter()
        .filter_map(|l| l.strip_prefix("email: "))
        .collect();
    let passwords: Vec<&str> = printed
        .iter()
        .filter_map(|l| l.strip_prefix("password: "))
        .collect();
    assert!(
        emails.contains(&"owner@demo.teleconf.example"),
        "{printed:?}"
    );
    assert!(
        emails.contains(&"admin@provider.teleconf.example"),
        "{printed:?}"
    );
    assert!(
        passwords.len() >= 2 && passwords.iter().all(|p| p.len() >= 10),
        "{printed:?}"
    );
    assert!(
        TcpStream::connect(api).is_ok(),
        "the API is not listening on {api}"
    );

    // Ctrl-C: SIGINT to the script, as the terminal sends it.
    let status = Command::new("kill")
        .args(["-INT", &script.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let stopping = Instant::now();
    let exit = loop {
        if let Some(exit) = script.try_wait().expect("the script's status") {
            break exit;
        }
        if stopping.elapsed() > STOPPED_WITHIN {
            let _ = script.kill();
            panic!("run-local.sh did not stop within {STOPPED_WITHIN:?} of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(exit.success(), "run-local.sh exited with {exit}");
    assert!(
        TcpStream::connect(api).is_err(),
        "the API still answers on {api} after Ctrl-C"
    );
}
