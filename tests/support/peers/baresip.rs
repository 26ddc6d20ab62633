//! A headless baresip 1.0 caller (`/usr/bin/baresip`, Debian `baresip-core`): its
//! microphone plays a WAV (`aufile`), it records what it hears (`sndfile`), and the
//! test drives it through `ctrl_tcp` (netstring-framed JSON commands and events).
//!
//! Each caller has a config dir of its own (`baresip -f DIR`), so several run side by
//! side: SIP on a loopback port the OS picks (`sip_listen 127.0.0.1:0`: a fixed port
//! P would also take P+1 for TLS), `ctrl_tcp` on a free port, a dummy account that
//! never registers, RTP in [`RTP_PORTS`], G.711 only (`RTP/AVP 0 8 101`,
//! telephone-event on 101), and `aubridge` as the player (a sink nobody reads: no
//! sound card needed).
//!
//! A call: [`Baresip::start`], [`Baresip::dial`] (returns once established),
//! [`Baresip::send_digits`] (`"1234567#"`), wait while it talks and listens,
//! [`Baresip::hangup`], then analyse [`Baresip::heard`] with
//! [`super::tone::Recording`] (its start holds what came before the conference:
//! keep the end with [`super::tone::Recording::last`]).
//!
//! The recording of what it hears is `dump-<YYYY-MM-DD-HH-MM-SS>-dec.wav` in the
//! config dir (what it sends: `…-enc.wav`): mono 8 kHz 16-bit PCM, only the frames
//! received (a silent peer leaves no gap in it); libsndfile finalizes its header
//! when the call ends, so read it after [`Baresip::hangup`] (a killed baresip leaves
//! sizes at 0, which [`super::tone::Recording::read`] still reads).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail, ensure};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use super::{ScratchDir, free_tcp_port, tail_of, tool, wait_or_kill};

/// baresip's RTP ports (`rtp_ports`, bound on 0.0.0.0 whatever `net_interface`
/// says): apart from Linux's ephemeral range, [`super::PICKED_PORTS`], the media
/// node's default 20000–29999 and the test media nodes' 40000–49999.
pub const RTP_PORTS: (u16, u16) = (10_000, 19_999);

/// How long [`Baresip::dial`] waits for the call to be established.
pub const DIAL_LIMIT: Duration = Duration::from_secs(10);

/// How long baresip takes to send one RFC 4733 digit (event and pause, measured:
/// ~240 ms), with a margin.
pub const DIGIT_TIME: Duration = Duration::from_millis(260);

/// A `ctrl_tcp` event (`{"event":true,"type":…,"class":…,"param":…}`).
#[derive(Debug, Clone)]
pub struct Event {
    /// `CALL_ESTABLISHED`, `CALL_CLOSED`, `CALL_RINGING`, `CALL_RTPESTAB`, …
    pub kind: String,
    /// `call`, `other`, `application`, …
    pub class: String,
    /// For `CALL_CLOSED`, the reason (`Connection reset by user`, a SIP status …).
    pub param: String,
    /// The whole event.
    pub json: Value,
}

/// A running baresip caller; killed on drop.
#[derive(Debug)]
pub struct Baresip {
    name: String,
    child: Child,
    ctrl: TcpStream,
    /// Bytes read from `ctrl` not yet framed.
    unread: Vec<u8>,
    /// Events read while waiting for something else, oldest first.
    pending: VecDeque<Event>,
    /// Every event, for error messages.
    history: Vec<String>,
    next_token: u64,
    dir: ScratchDir,
}

impl Baresip {
    /// Starts a caller `name` (its account is `sip:<name>@127.0.0.1`) whose
    /// microphone plays `microphone`, a mono 8 kHz 16-bit WAV longer than the call
    /// (`aufile` hangs up when it ends); returns once `ctrl_tcp` answers.
    pub async fn start(name: &str, microphone: &Path) -> anyhow::Result<Self> {
        let dir = ScratchDir::new(&format!("baresip-{name}"))?;
        let microphone = std::fs::canonicalize(microphone)
            .with_context(|| format!("the microphone WAV {}", microphone.display()))?;
        let ctrl_port = free_tcp_port();
        std::fs::write(dir.join("config"), config(&dir, &microphone, ctrl_port))?;
        std::fs::write(
            dir.join("accounts"),
            format!("<sip:{name}@127.0.0.1>;regint=0\n"),
        )?;
        let mut child = Command::new(tool("baresip"))
            .arg("-f")
            .arg(dir.path())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("stdout.log"))?)
            .stderr(std::fs::File::create(dir.join("stderr.log"))?)
            .kill_on_drop(true)
            .spawn()
            .context("starting baresip")?;

        let deadline = Instant::now() + Duration::from_secs(5);
        let ctrl = loop {
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", ctrl_port)).await {
                break stream;
            }
            if let Some(status) = child.try_wait()? {
                dir.keep();
                bail!(
                    "baresip {name} exited ({status}) before ctrl_tcp listened; logs in {}\n{}",
                    dir.path().display(),
                    tail_of(&dir.join("stdout.log"), 3000)
                );
            }
            if Instant::now() > deadline {
                dir.keep();
                bail!(
                    "baresip {name}: ctrl_tcp never listened on {ctrl_port}; logs in {}\n{}",
                    dir.path().display(),
                    tail_of(&dir.join("stdout.log"), 3000)
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let mut caller = Self {
            name: name.to_string(),
            child,
            ctrl,
            unread: Vec::new(),
            pending: VecDeque::new(),
            history: Vec::new(),
            next_token: 0,
            dir,
        };
        // The port could be someone else's: baresip's ctrl_tcp answers `about`.
        caller
            .command("about", "")
            .await
            .context("checking that ctrl_tcp answers")?;
        Ok(caller)
    }

    /// Its config dir, where its logs (`stdout.log`) and recordings are.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs a command (`{"command":…,"params":…,"token":…}`) and returns the
    /// response's `data`; an error when it is not `ok`.
    pub async fn command(&mut self, command: &str, params: &str) -> anyhow::Result<String> {
        self.next_token += 1;
        let token = format!("t{}", self.next_token);
        let body = json!({ "command": command, "params": params, "token": token }).to_string();
        let frame = format!("{}:{body},", body.len());
        self.ctrl.write_all(frame.as_bytes()).await?;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let message = self.read_message(deadline).await.map_err(|e| {
                self.failure(&format!("no response to {command} {params:?}: {e:#}"))
            })?;
            if message["response"] == json!(true) {
                if message["token"] != json!(token) {
                    continue;
                }
                let data = message["data"].as_str().unwrap_or_default().to_string();
                if message["ok"] == json!(true) {
                    return Ok(data);
                }
                return Err(self.failure(&format!("{command} {params:?} failed: {data}")));
            }
            self.queue(message);
        }
    }

    /// Dials `uri` (`sip:+15145550100@127.0.0.1:5080`) and waits until the call is
    /// established; an error, with the reason, when it closes first.
    pub async fn dial(&mut self, uri: &str) -> anyhow::Result<()> {
        self.command("dial", uri).await?;
        let event = self
            .wait_for(&["CALL_ESTABLISHED", "CALL_CLOSED"], DIAL_LIMIT)
            .await?;
        if event.kind == "CALL_CLOSED" {
            return Err(self.failure(&format!("the call to {uri} closed: {}", event.param)));
        }
        Ok(())
    }

    /// Keys `digits` (`0`–`9`, `*`, `#`) as RFC 4733 events (baresip sends DTMF no
    /// other way, on the telephone-event payload type of the answer: none without
    /// it), and waits until they are sent ([`DIGIT_TIME`] each).
    pub async fn send_digits(&mut self, digits: &str) -> anyhow::Result<()> {
        self.command("sndcode", digits).await?;
        tokio::time::sleep(DIGIT_TIME * digits.chars().count() as u32).await;
        Ok(())
    }

    /// Hangs up and waits until the call is closed (the recording is then
    /// finalized).
    pub async fn hangup(&mut self) -> anyhow::Result<()> {
        self.command("hangup", "").await?;
        self.wait_for(&["CALL_CLOSED"], Duration::from_secs(5))
            .await?;
        Ok(())
    }

    /// Waits for the next event of one of `kinds` (events read before are looked at
    /// first; the others are dropped).
    pub async fn wait_for(&mut self, kinds: &[&str], limit: Duration) -> anyhow::Result<Event> {
        while let Some(event) = self.pending.pop_front() {
            if kinds.contains(&event.kind.as_str()) {
                return Ok(event);
            }
        }
        let deadline = Instant::now() + limit;
        loop {
            let message = self
                .read_message(deadline)
                .await
                .map_err(|e| self.failure(&format!("waiting for {kinds:?}: {e:#}")))?;
            if message["event"] != json!(true) {
                continue;
            }
            let event = event(message);
            if kinds.contains(&event.kind.as_str()) {
                return Ok(event);
            }
        }
    }

    /// The recordings of what it heard (`dump-*-dec.wav`), oldest first.
    pub fn heard_files(&self) -> Vec<PathBuf> {
        self.dumps("-dec.wav")
    }

    /// The recording of what it heard in its last call.
    pub fn heard(&self) -> anyhow::Result<PathBuf> {
        self.heard_files()
            .pop()
            .ok_or_else(|| self.failure("no recording of what it heard (dump-*-dec.wav)"))
    }

    /// The recording of what it sent in its last call (`dump-*-enc.wav`).
    pub fn sent(&self) -> anyhow::Result<PathBuf> {
        self.dumps("-enc.wav")
            .pop()
            .ok_or_else(|| self.failure("no recording of what it sent (dump-*-enc.wav)"))
    }

    fn dumps(&self, suffix: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("dump-") && n.ends_with(suffix))
            })
            .collect();
        files.sort();
        files
    }

    /// Quits (hanging up a call in progress) and waits for the process to end.
    pub async fn quit(mut self) -> anyhow::Result<()> {
        self.command("quit", "").await?;
        match wait_or_kill(&mut self.child, Duration::from_secs(5)).await? {
            Some(status) if status.success() => Ok(()),
            Some(status) => Err(self.failure(&format!("exited with {status}"))),
            None => Err(self.failure("still running 5 s after quit: killed")),
        }
    }

    /// One framed message from `ctrl_tcp` (`<length>:<json>,`), by `deadline`.
    async fn read_message(&mut self, deadline: Instant) -> anyhow::Result<Value> {
        loop {
            if let Some(message) = self.frame()? {
                return Ok(message);
            }
            let mut buf = [0u8; 4096];
            let n = tokio::time::timeout_at(deadline, self.ctrl.read(&mut buf))
                .await
                .map_err(|_| anyhow!("timed out"))??;
            ensure!(n > 0, "ctrl_tcp closed the connection");
            self.unread.extend_from_slice(&buf[..n]);
        }
    }

    /// Takes one complete netstring off `unread`, if there is one.
    fn frame(&mut self) -> anyhow::Result<Option<Value>> {
        let Some(colon) = self.unread.iter().position(|&b| b == b':') else {
            return Ok(None);
        };
        let len: usize = std::str::from_utf8(&self.unread[..colon])?
            .trim()
            .parse()
            .with_context(|| format!("a netstring length: {:?}", &self.unread[..colon]))?;
        let end = colon + 1 + len;
        if self.unread.len() <= end {
            return Ok(None);
        }
        ensure!(self.unread[end] == b',', "a netstring not ending with ','");
        let message: Value = serde_json::from_slice(&self.unread[colon + 1..end])?;
        self.unread.drain(..=end);
        self.history.push(message.to_string());
        Ok(Some(message))
    }

    fn queue(&mut self, message: Value) {
        if message["event"] == json!(true) {
            self.pending.push_back(event(message));
        }
    }

    /// An error naming this caller, with its last events and log lines; its dir is
    /// kept.
    fn failure(&self, what: &str) -> anyhow::Error {
        self.dir.keep();
        let events = self.history[self.history.len().saturating_sub(12)..].join("\n");
        anyhow!(
            "baresip {}: {what}; logs in {}\n--- events ---\n{events}\n--- stdout.log ---\n{}",
            self.name,
            self.dir.path().display(),
            tail_of(&self.dir.join("stdout.log"), 3000)
        )
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

fn event(message: Value) -> Event {
    let text = |key: &str| message[key].as_str().unwrap_or_default().to_string();
    Event {
        kind: text("type"),
        class: text("class"),
        param: text("param"),
        json: message,
    }
}

/// The config file: loopback only, G.711, `aufile` in, `aubridge` out, `sndfile`
/// recording into the config dir, `menu` (which has the `dial`, `hangup` and
/// `sndcode` commands) and `ctrl_tcp` on `ctrl_port`.
fn config(dir: &ScratchDir, microphone: &Path, ctrl_port: u16) -> String {
    let ctrl = SocketAddr::from(([127, 0, 0, 1], ctrl_port));
    let (rtp_low, rtp_high) = RTP_PORTS;
    format!(
        "\
poll_method epoll
sip_listen 127.0.0.1:0
net_interface 127.0.0.1
rtp_ports {rtp_low}-{rtp_high}
call_local_timeout 120
call_max_calls 4
audio_player aubridge,nil
audio_alert aubridge,nil
audio_source aufile,{microphone}
audio_level no
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen {ctrl}
snd_path {dir}
statmode_default off
ringback_disabled yes
",
        microphone = microphone.display(),
        dir = dir.path().display(),
    )
}
