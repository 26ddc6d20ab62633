//! `make run`'s body, `scripts/run-local.sh`, run for real: it prints the demo
//! logins on lines of their own, serves the API, bills last month's demo calls
//! when asked as it says (`make bill MONTH=…`: the invoice, its PDF, its mail, and
//! the finance user reads the export), and on Ctrl-C (SIGINT) stops everything it
//! started (the emulator that `make test` started is not its own, so it stays).

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Provisioning, seeding and the API's start, after the build.
const READY_WITHIN: Duration = Duration::from_secs(120);
/// Stopping every service on Ctrl-C.
const STOPPED_WITHIN: Duration = Duration::from_secs(30);
/// The invoice's mail, from the mailer loop.
const MAIL_WITHIN: Duration = Duration::from_secs(60);

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
        emails.contains(&"finance@provider.teleconf.example"),
        "{printed:?}"
    );
    assert!(
        passwords.len() >= 3 && passwords.iter().all(|p| p.len() >= 10),
        "{printed:?}"
    );
    assert!(
        TcpStream::connect(api).is_ok(),
        "the API is not listening on {api}"
    );
    // A failure here still stops the stack (below) before it is reported.
    let billed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        bills_last_month_as_it_says(&root, &printed, api)
    }));

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
    if let Err(failure) = billed {
        std::panic::resume_unwind(failure);
    }
    assert!(exit.success(), "run-local.sh exited with {exit}");
    assert!(
        TcpStream::connect(api).is_err(),
        "the API still answers on {api} after Ctrl-C"
    );
}

/// The JSON answer to a request.
async fn json_of(request: reqwest::RequestBuilder) -> serde_json::Value {
    request
        .send()
        .await
        .expect("the API answers")
        .json()
        .await
        .expect("JSON")
}

/// The password printed after `email: <email>`.
fn password_of<'a>(printed: &'a [String], email: &str) -> &'a str {
    let at = printed
        .iter()
        .position(|l| l.strip_prefix("email: ") == Some(email))
        .unwrap_or_else(|| panic!("no login for {email}: {printed:?}"));
    printed[at + 1..]
        .iter()
        .find_map(|l| l.strip_prefix("password: "))
        .unwrap_or_else(|| panic!("no password for {email}: {printed:?}"))
}

/// What `make bill MONTH=… EMULATOR_PORT=…`, as run-local.sh prints it, does: the
/// billing binary with that month, on the stack's table and bucket (`make bill`
/// itself runs it through `cargo run`, which would wait here for the build lock the
/// running `cargo test` holds). The demo account's invoice is issued, the owner reads
/// it and its PDF, its mail reaches the owner, and the finance user reads the export.
fn bills_last_month_as_it_says(root: &Path, printed: &[String], api: SocketAddr) {
    let command = printed
        .iter()
        .find_map(|l| l.strip_prefix("bill a month: "))
        .unwrap_or_else(|| panic!("no `bill a month` line: {printed:?}"));
    let month = command
        .split_whitespace()
        .find_map(|w| w.strip_prefix("MONTH="))
        .unwrap_or_else(|| panic!("no MONTH= in {command:?}"));
    // The settings run-local.sh gives the stack (the Makefile's, or its defaults).
    let setting = |name: &str, default: &str| std::env::var(name).unwrap_or(default.into());
    let out = Command::new(root.join("target/debug/teleconf-billing"))
        .args(["--month", month])
        .env(
            "TELECONF_TABLE",
            setting("TELECONF_TABLE", "teleconf-local"),
        )
        .env(
            "TELECONF_BUCKET",
            setting("TELECONF_BUCKET", "teleconf-local-media"),
        )
        .env(
            "TELECONF_MAIL_FROM",
            setting("TELECONF_MAIL_FROM", "conferences@teleconf.example"),
        )
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("RUST_LOG", "warn")
        .output()
        .expect("teleconf-billing runs");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{command}: {}\n{report}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Issued now, or by an earlier run on the same emulator: once either way.
    assert!(
        report
            .lines()
            .any(|l| l.starts_with(month) && l.contains("issued")),
        "{report}"
    );
    assert!(report.contains("finance export: s3://"), "{report}");

    let owner = "owner@demo.teleconf.example";
    let finance = "finance@provider.teleconf.example";
    let base = format!("http://{api}");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(async {
            let http = reqwest::Client::new();
            let login = |email: &'static str| {
                let http = http.clone();
                let password = password_of(printed, email).to_string();
                let url = format!("{base}/v1/auth/login");
                async move {
                    let answer = json_of(
                        http.post(url)
                            .json(&serde_json::json!({ "email": email, "password": password })),
                    )
                    .await;
                    answer["token"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{email} cannot sign in: {answer}"))
                        .to_string()
                }
            };

            // The owner's invoice, issued, and its PDF.
            let token = login(owner).await;
            let invoice = json_of(
                http.get(format!("{base}/v1/invoices/{month}"))
                    .bearer_auth(&token),
            )
            .await;
            assert_eq!(invoice["status"], "issued", "{invoice}");
            assert!(
                !invoice["lines"].as_array().expect("lines").is_empty(),
                "{invoice}"
            );
            let number = invoice["number"].as_str().expect("a number").to_string();
            let pdf = http
                .get(invoice["pdf_url"].as_str().expect("a PDF link"))
                .send()
                .await
                .expect("the link answers")
                .bytes()
                .await
                .expect("the PDF");
            assert!(pdf.starts_with(b"%PDF"), "not a PDF");

            // Its mail, sent by the mailer loop off the table's stream.
            let subject = teleconf_core::messages::invoice::subject(
                month.parse().expect("a month"),
                teleconf_core::domain::Language::Fr,
            );
            let deadline = Instant::now() + MAIL_WITHIN;
            loop {
                let mails = teleconf_tests::outbox::sent_to(owner)
                    .await
                    .expect("the outbox");
                if mails.iter().any(|m| {
                    m.subject == subject && m.attachments.iter().any(|a| a.1 == "application/pdf")
                }) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "no « {subject} » mail to {owner} within {MAIL_WITHIN:?}: {mails:?}"
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }

            // The finance user reads the month's export, which lists the invoice.
            let token = login(finance).await;
            let export = http
                .get(format!("{base}/v1/exports/{month}"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("the API answers");
            assert_eq!(export.status(), reqwest::StatusCode::OK);
            let csv = export.text().await.expect("the CSV");
            assert!(csv.contains(&number), "{csv}");
        });
}
