//! sipp 3.6.1 (`/usr/bin/sipp`, Debian `sip-tester`): a UAC running a scenario of
//! `tests/scenarios/` for one call ([`Uac`], [`dial_and_enter_codes`]), and a UAS
//! answering one call ([`Uas`]).
//!
//! Every run has its own scratch directory (its screen, errors and SIP messages) and
//! its own ports: SIP (`-p`: without it sipp binds 5060), media (`-mp`: 6000 and 6002
//! otherwise) and control (`-cp`: UDP 8888 on all interfaces otherwise). A failed run's
//! error carries the ends of its logs. sipp's `-timeout` waits for calls in progress
//! to end (`Press [q] again to force exit`), so the harness kills it past its limit.

use std::ffi::OsString;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use tokio::process::{Child, Command};

use super::{
    ScratchDir, free_media_port, free_udp_port, scenario, tail_of, tail_str, tool, wait_or_kill,
};

/// What [`dial_and_enter_codes`] dials and keys.
#[derive(Debug, Clone)]
pub struct DialPlan {
    /// The request-URI's user: the access number, E.164 (`+15145550100`).
    pub access_number: String,
    /// The conference number, keyed then `#`.
    pub conference: String,
    /// The access code, keyed then `#`.
    pub code: String,
    /// Each digit's tone, and the silence after it (100 ms by default).
    pub digit: Duration,
    /// How long the caller stays after keying the code, before its BYE.
    pub stay: Duration,
}

impl DialPlan {
    /// A plan keying `conference` then `code`, staying 2 s.
    pub fn new(access_number: &str, conference: &str, code: &str) -> Self {
        Self {
            access_number: access_number.to_string(),
            conference: conference.to_string(),
            code: code.to_string(),
            digit: Duration::from_millis(100),
            stay: Duration::from_secs(2),
        }
    }

    /// How long sipp's `play_dtmf` takes to send `digits` (measured with sipp 3.6.1:
    /// 400 ms of filler, then a tone and a gap per digit with one more slot ahead),
    /// with a margin: a later `play_dtmf` cuts an unfinished one short.
    pub fn keying_time(&self, digits: usize) -> Duration {
        Duration::from_millis(400 + 200) + 2 * self.digit * (digits as u32 + 1)
    }

    /// The call's length from the 200 OK to the BYE.
    pub fn call_length(&self) -> Duration {
        Duration::from_millis(200)
            + self.keying_time(self.conference.len() + 1)
            + self.keying_time(self.code.len() + 1)
            + self.stay
    }
}

/// Runs `tests/scenarios/dial_and_enter_codes.xml` once against the SIP server at
/// `server` (UDP): dials `plan.access_number`, keys the conference number and `#`,
/// then the access code and `#` as RFC 4733 events (payload type 96), stays, hangs
/// up. Ok when every expected message came (100 optional, 200, the BYE's 200).
pub async fn dial_and_enter_codes(server: SocketAddr, plan: &DialPlan) -> anyhow::Result<SippRun> {
    let ms = |d: Duration| d.as_millis().to_string();
    Uac::new(scenario("dial_and_enter_codes.xml"), server)
        .service(&plan.access_number)
        .key("conference", &plan.conference)
        .key("code", &plan.code)
        .key("digit_ms", &ms(plan.digit))
        .set(
            "conference_wait",
            &ms(plan.keying_time(plan.conference.len() + 1)),
        )
        .set("code_wait", &ms(plan.keying_time(plan.code.len() + 1)))
        .set("stay", &ms(plan.stay))
        .limit(plan.call_length() + Duration::from_secs(10))
        .run()
        .await
}

/// A finished sipp run's logs.
#[derive(Debug, Clone)]
pub struct SippRun {
    /// The final statistics screen (stdout).
    pub screen: String,
    /// Unexpected messages (`-trace_err`).
    pub errors: String,
    /// Every SIP message sent and received (`-trace_msg`).
    pub messages: String,
}

/// A sipp UAC for one call of a scenario file.
#[derive(Debug, Clone)]
pub struct Uac {
    scenario: PathBuf,
    server: SocketAddr,
    args: Vec<OsString>,
    limit: Duration,
}

impl Uac {
    /// `scenario` against `server`; 30 s at most.
    pub fn new(scenario: impl Into<PathBuf>, server: SocketAddr) -> Self {
        Self {
            scenario: scenario.into(),
            server,
            args: Vec::new(),
            limit: Duration::from_secs(30),
        }
    }

    /// The request-URI's user (`[service]`, `-s`).
    pub fn service(mut self, user: &str) -> Self {
        self.args.extend(["-s".into(), user.into()]);
        self
    }

    /// A keyword the scenario reads as `[name]` (`-key`).
    pub fn key(mut self, name: &str, value: &str) -> Self {
        self.args.extend(["-key".into(), name.into(), value.into()]);
        self
    }

    /// A global variable the scenario declares (`-set`; a string: `<todouble>` it
    /// for a pause).
    pub fn set(mut self, name: &str, value: &str) -> Self {
        self.args.extend(["-set".into(), name.into(), value.into()]);
        self
    }

    /// Kills sipp and fails past this.
    pub fn limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Runs the call to its end.
    pub async fn run(self) -> anyhow::Result<SippRun> {
        let dir = ScratchDir::new("sipp-uac")?;
        let mut args: Vec<OsString> = vec![self.server.to_string().into()];
        args.extend(common_args(&dir, &self.scenario));
        args.extend(self.args);
        let secs = self.limit.as_secs().max(1);
        args.extend(["-timeout".into(), format!("{secs}s").into()]);
        args.push("-timeout_error".into());
        let mut child = spawn(&dir, &args)?;
        let status = wait_or_kill(&mut child, self.limit + Duration::from_secs(2)).await?;
        let run = logs(&dir);
        match status {
            Some(status) if status.success() => Ok(run),
            Some(status) => Err(failure(&dir, &format!("sipp UAC failed ({status})"))),
            None => Err(failure(
                &dir,
                &format!("sipp UAC still running after {:?}: killed", self.limit),
            )),
        }
    }
}

/// A sipp UAS answering one call; killed on drop.
#[derive(Debug)]
pub struct Uas {
    child: Child,
    addr: SocketAddr,
    media_port: u16,
    dir: ScratchDir,
}

impl Uas {
    /// sipp's built-in UAS (`-sn uas`: 180, 200 with PCMU only, waits for the BYE)
    /// echoing the RTP it receives to its sender (`-rtp_echo`).
    pub async fn echo() -> anyhow::Result<Self> {
        Self::start(None, &[]).await
    }

    /// A UAS scenario file with its keywords (`-key NAME VALUE`).
    pub async fn scenario(path: &Path, keys: &[(&str, &str)]) -> anyhow::Result<Self> {
        Self::start(Some(path), keys).await
    }

    async fn start(path: Option<&Path>, keys: &[(&str, &str)]) -> anyhow::Result<Self> {
        let dir = ScratchDir::new("sipp-uas")?;
        let mut args: Vec<OsString> = match path {
            Some(path) => common_args(&dir, path),
            None => {
                let mut args = common_args(&dir, Path::new("uas"));
                args[0] = "-sn".into();
                args.push("-rtp_echo".into());
                args
            }
        };
        for (name, value) in keys {
            args.extend(["-key".into(), (*name).into(), (*value).into()]);
        }
        let port = port_of(&args, "-p");
        let media_port = port_of(&args, "-mp");
        let mut child = spawn(&dir, &args)?;
        // Listening once its SIP port is taken.
        for _ in 0..250 {
            if UdpSocket::bind(("127.0.0.1", port)).is_err() {
                return Ok(Self {
                    child,
                    addr: SocketAddr::from(([127, 0, 0, 1], port)),
                    media_port,
                    dir,
                });
            }
            if let Some(status) = child.try_wait()? {
                return Err(failure(&dir, &format!("sipp UAS exited ({status})")));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(failure(&dir, "sipp UAS never bound its SIP port"))
    }

    /// Its SIP address (UDP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `sip:<user>@127.0.0.1:<port>`.
    pub fn uri(&self, user: &str) -> String {
        format!("sip:{user}@{}", self.addr)
    }

    /// Its media port (`-mp`: what the built-in UAS answers, and echoes on).
    pub fn media_port(&self) -> u16 {
        self.media_port
    }

    /// Waits for it to end its call and exit, at most `limit`: Ok when the call went
    /// as its scenario says.
    pub async fn finish(mut self, limit: Duration) -> anyhow::Result<SippRun> {
        match wait_or_kill(&mut self.child, limit).await? {
            Some(status) if status.success() => Ok(logs(&self.dir)),
            Some(status) => Err(failure(&self.dir, &format!("sipp UAS failed ({status})"))),
            None => Err(failure(
                &self.dir,
                &format!("sipp UAS still running after {limit:?}: killed"),
            )),
        }
    }
}

impl Drop for Uas {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// `-sf SCENARIO`, one call, loopback addresses and free ports, no stdin, the logs
/// in `dir`.
fn common_args(dir: &ScratchDir, scenario: &Path) -> Vec<OsString> {
    let path = |name: &str| dir.join(name).into_os_string();
    let port = |p: u16| OsString::from(p.to_string());
    vec![
        "-sf".into(),
        scenario.into(),
        "-m".into(),
        "1".into(),
        "-i".into(),
        "127.0.0.1".into(),
        "-p".into(),
        port(free_udp_port()),
        "-mi".into(),
        "127.0.0.1".into(),
        "-mp".into(),
        port(free_media_port()),
        "-cp".into(),
        port(free_udp_port()),
        "-nostdin".into(),
        "-trace_err".into(),
        "-error_file".into(),
        path("errors.log"),
        "-trace_msg".into(),
        "-message_file".into(),
        path("messages.log"),
    ]
}

fn port_of(args: &[OsString], flag: &str) -> u16 {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1)?.to_str()?.parse().ok())
        .unwrap_or_else(|| panic!("no {flag} in {args:?}"))
}

fn spawn(dir: &ScratchDir, args: &[OsString]) -> anyhow::Result<Child> {
    let out = std::fs::File::create(dir.join("stdout.log"))?;
    let err = std::fs::File::create(dir.join("stderr.log"))?;
    Command::new(tool("sipp"))
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .kill_on_drop(true)
        .spawn()
        .context("starting sipp")
}

fn logs(dir: &ScratchDir) -> SippRun {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    SippRun {
        screen: read("stdout.log"),
        errors: read("errors.log"),
        messages: read("messages.log"),
    }
}

fn failure(dir: &ScratchDir, what: &str) -> anyhow::Error {
    dir.keep();
    let mut text = format!("{what}; logs in {}", dir.path().display());
    for (name, max) in [
        ("stderr.log", 2000),
        ("errors.log", 3000),
        ("stdout.log", 3000),
        ("messages.log", 4000),
    ] {
        let tail = tail_of(&dir.join(name), max);
        if !tail.trim().is_empty() {
            text.push_str(&format!("\n--- {name} ---\n{tail}"));
        }
    }
    anyhow!(text)
}

/// Fails unless `run`'s SIP trace has `text` (e.g. a request line or a status).
pub fn expect_message(run: &SippRun, text: &str) -> anyhow::Result<()> {
    if run.messages.contains(text) {
        Ok(())
    } else {
        bail!(
            "no {text:?} in sipp's messages:\n{}",
            tail_str(&run.messages, 4000)
        )
    }
}
