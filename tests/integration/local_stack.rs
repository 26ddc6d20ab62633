//! `make run`'s body, `scripts/run-local.sh`, run for real: it prints the demo
//! logins on lines of their own, serves the API, mails as the API changes things
//! (also after a request the store refused), bills last month's demo calls when
//! asked as it says (`make bill MONTH=…`: the invoice, its PDF, its mail, and the
//! finance user reads the export), and on Ctrl-C (SIGINT) stops everything it
//! started (the emulator that `make test` started is not its own, so it stays).

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use teleconf_tests::api::conference_body;
use teleconf_tests::outbox;

/// Provisioning, seeding and the API's start, after the build.
const READY_WITHIN: Duration = Duration::from_secs(120);
/// Stopping every service on Ctrl-C.
const STOPPED_WITHIN: Duration = Duration::from_secs(30);
/// A change's mail, through the mailer's loop (it polls the stream every second).
const MAILED_WITHIN: Duration = Duration::from_secs(10);
/// The invoice's mail, from the mailer loop.
const MAIL_WITHIN: Duration = Duration::from_secs(60);

/// One run at a time: every run writes its logs and the provisioning's output to the
/// checkout's `.run/`.
static ONE_RUN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
}

/// `scripts/run-local.sh` running, ready (it printed « Press Ctrl-C to stop. »), on
/// a table of its own; SIGKILLed if dropped before [`LocalRun::ctrl_c`].
struct LocalRun {
    script: Child,
    /// Its API's address.
    api: SocketAddr,
    /// Its table (the bucket and the mail identity are `make run`'s).
    table: String,
    /// What it printed up to its readiness.
    printed: Vec<String>,
}

impl LocalRun {
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// As [`LocalRun::start`], with `vars` in the script's environment (`NODES=2`).
    fn start_with(vars: &[(&str, &str)]) -> Self {
        let root = repo_root();
        let binaries = root.join("target/debug");
        assert!(
            binaries.join("teleconf-api").exists()
                && binaries.join("teleconf-provision").exists()
                && binaries.join("teleconf-mailer").exists(),
            "build the binaries first (make test builds every target)"
        );
        let api = free_addr();
        // A SIP port of its own: sipp, in a test running alongside, binds 5060 (run-local's default).
        let sip = free_addr();
        // A table of its own: two runs at once would seed the same demo data.
        let table = format!(
            "teleconf-run-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        // `env --default-signal=INT`: a test run launched in the background (a non-interactive
        // shell's `&`) inherits SIGINT ignored, and bash cannot trap a signal ignored on entry.
        let mut script = Command::new("env")
            .args(["--default-signal=INT", "bash", "scripts/run-local.sh"])
            .current_dir(&root)
            .env("API_ADDR", api.to_string())
            .env("SIP_ADDR", sip.to_string())
            .env("BIN_DIR", &binaries)
            .env("TELECONF_TABLE", &table)
            .envs(vars.iter().copied())
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
        Self {
            script,
            api,
            table,
            printed,
        }
    }

    /// The values of the printed lines that begin with `prefix`, in order.
    fn printed(&self, prefix: &str) -> Vec<&str> {
        self.printed
            .iter()
            .filter_map(|l| l.strip_prefix(prefix))
            .collect()
    }

    /// Ctrl-C: SIGINT to the script, as the terminal sends it; its exit status.
    fn ctrl_c(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-INT", &self.script.id().to_string()])
            .status()
            .expect("kill -INT");
        assert!(status.success());
        let stopping = Instant::now();
        loop {
            if let Some(exit) = self.script.try_wait().expect("the script's status") {
                return exit;
            }
            if stopping.elapsed() > STOPPED_WITHIN {
                let _ = self.script.kill();
                panic!("run-local.sh did not stop within {STOPPED_WITHIN:?} of Ctrl-C");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for LocalRun {
    fn drop(&mut self) {
        // A test that failed before its Ctrl-C: the services lead their own process
        // groups, and the script stops them when it gets SIGINT.
        if matches!(self.script.try_wait(), Ok(None)) {
            let _ = Command::new("kill")
                .args(["-INT", &self.script.id().to_string()])
                .status();
            let _ = self.script.wait();
        }
    }
}

#[test]
fn make_run_prints_the_demo_logins_serves_the_api_bills_and_stops_everything_on_ctrl_c() {
    let _alone = ONE_RUN.blocking_lock();
    let run = LocalRun::start();
    // The demo owner's login, each on a line of its own, then the provider's users'.
    let emails = run.printed("email: ");
    let passwords = run.printed("password: ");
    for login in [
        "owner@demo.teleconf.example",
        "admin@provider.teleconf.example",
        "finance@provider.teleconf.example",
    ] {
        assert!(emails.contains(&login), "{login}: {:?}", run.printed);
    }
    assert!(
        passwords.len() >= 3 && passwords.iter().all(|p| p.len() >= 10),
        "{:?}",
        run.printed
    );
    let api = run.api;
    assert!(
        TcpStream::connect(api).is_ok(),
        "the API is not listening on {api}"
    );
    // A failure here drops the run, which stops the stack.
    bills_last_month_as_it_says(&repo_root(), &run);

    let exit = run.ctrl_c();
    assert!(exit.success(), "run-local.sh exited with {exit}");
    assert!(
        TcpStream::connect(api).is_err(),
        "the API still answers on {api} after Ctrl-C"
    );
}

/// Issue #13: a 409 (the store cancels a transaction) used to leave the mailer's
/// loop reading a stream that never got another record, and no mail went out again.
#[tokio::test(flavor = "multi_thread")]
async fn make_run_mails_a_conferences_confirmation_after_a_conflict() {
    let _alone = ONE_RUN.lock().await;
    let run = tokio::task::spawn_blocking(LocalRun::start).await.unwrap();
    let owner = run.printed("email: ")[0].to_string();
    let password = run.printed("password: ")[0].to_string();
    let api = format!("http://{}", run.api);
    let http = reqwest::Client::new();
    let token = http
        .post(format!("{api}/v1/auth/login"))
        .json(&json!({"email": owner, "password": password}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .expect("the demo owner signs in")
        .to_string();

    // A user with the owner's own e-mail: taken, 409.
    let conflict = http
        .post(format!("{api}/v1/users"))
        .bearer_auth(&token)
        .json(&json!({
            "email": owner, "name": "Doublon", "role": "conference_operator",
            "password": "un mot de passe assez long",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(conflict.status(), reqwest::StatusCode::CONFLICT);

    let description = format!(
        "Après le conflit {}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let created = http
        .post(format!("{api}/v1/conferences"))
        .bearer_auth(&token)
        .json(&conference_body(&description, 24))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), reqwest::StatusCode::CREATED);

    let asked = Instant::now();
    let confirmations = loop {
        let sent: Vec<_> = outbox::sent_to(&owner)
            .await
            .unwrap()
            .into_iter()
            .filter(|m| m.subject.contains(&description))
            .collect();
        if !sent.is_empty() || asked.elapsed() > MAILED_WITHIN {
            break sent;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    assert_eq!(
        confirmations.len(),
        1,
        "one confirmation within {MAILED_WITHIN:?} of the conference, after a 409 (see .run/mailer.log)"
    );
    let exit = tokio::task::spawn_blocking(move || run.ctrl_c())
        .await
        .unwrap();
    assert!(exit.success(), "run-local.sh exited with {exit}");
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
fn bills_last_month_as_it_says(root: &Path, run: &LocalRun) {
    let (printed, api) = (&run.printed, run.api);
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
        .env("TELECONF_TABLE", &run.table)
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
            let subject = teleconf_domain::invoice::words::subject(
                month.parse().expect("a month"),
                teleconf_domain::Language::Fr,
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

/// Issue #16: `make run NODES=2` puts Kamailio on `SIP_ADDR` in front of two
/// media nodes, and the README's softphone walkthrough works unchanged through
/// it: baresip dials the printed line, keys the printed conference number and
/// participant code, and is admitted by one of the nodes; Ctrl-C stops it all.
#[tokio::test(flavor = "multi_thread")]
async fn make_run_with_two_nodes_takes_the_softphone_walkthrough_through_kamailio() {
    let _alone = ONE_RUN.lock().await;
    let run = tokio::task::spawn_blocking(|| LocalRun::start_with(&[("NODES", "2")]))
        .await
        .expect("the run starts");
    let sip = run.printed("sip: udp and tcp ");
    assert!(
        sip.iter()
            .any(|line| line.contains("Kamailio, in front of 2 media nodes")),
        "{:?}",
        run.printed
    );
    let dial = run.printed("dial: ")[0].to_string();
    let number = run.printed("conference number: ")[0].to_string();
    let code = run.printed("participant code: ")[0].to_string();
    let dir = teleconf_tests::peers::ScratchDir::new("make-run-nodes").unwrap();
    let microphone = dir.join("440.wav");
    teleconf_tests::peers::tone::write_tone(&microphone, 440.0, Duration::from_secs(60)).unwrap();
    let mut phone = teleconf_tests::peers::baresip::Baresip::start("walkthrough", &microphone)
        .await
        .unwrap();
    phone.dial(&dial).await.unwrap();
    phone.send_digits(&format!("{number}#")).await.unwrap();
    phone.send_digits(&format!("{code}#")).await.unwrap();
    let logs = repo_root().join(".run");
    let admitted = || {
        ["media-node-1.log", "media-node-2.log"].iter().any(|log| {
            std::fs::read_to_string(logs.join(log))
                .is_ok_and(|text| text.contains("call: admitted leg="))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while !admitted() {
        assert!(
            Instant::now() < deadline,
            "no node admitted the call; see .run/"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    phone.hangup().await.unwrap();
    let exit = tokio::task::spawn_blocking(move || run.ctrl_c())
        .await
        .expect("the run stops");
    assert!(exit.success(), "run-local.sh exited with {exit}");
}
