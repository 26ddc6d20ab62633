//! The CDR spool: every leg the node opens or closes is appended to a local
//! journal (one JSON line, fsync'd) before the store is asked to write it, so a
//! leg survives a store outage and a crash of the node.
//!
//! - **At run time** the journal's thread appends and syncs each leg, then hands
//!   it to the store writer, which retries while the store is unreachable. The
//!   spool remembers the legs not yet settled (open, or closed and not yet
//!   written) and rewrites the journal with only those once it has grown to
//!   twice what they took at the last rewrite (at least [`COMPACT_AT`]), so it
//!   holds at most twice the node's live legs and its backlog, and a node
//!   carrying thousands of calls rewrites it once per as many legs recorded,
//!   not at each.
//! - **Every few seconds** the node's heartbeat (the time it was last alive) is
//!   written next to the journal.
//! - **On start**, [`Spool::open`] reads the journal a previous run left: the last
//!   state of each leg wins (puts are idempotent by leg id, so a leg written
//!   already is only written again); a leg still open was cut by a crash and is
//!   closed at the last heartbeat with cause `node_restart`. The node writes
//!   those before it takes calls.
//!
//! A line that cannot be read (torn by a crash mid-write, even in the middle of
//! a multi-byte character) is skipped and counted ([`Recovery::skipped_lines`]):
//! it never stops the node from starting.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use teleconf_domain::{CallLeg, DisconnectCause, LegId};

/// The journal's file name in the spool directory.
const JOURNAL: &str = "cdr.jsonl";
/// The heartbeat's file name (an RFC 3339 time).
const HEARTBEAT: &str = "heartbeat";
/// Smallest journal size past which it is rewritten with the unsettled legs
/// only (the bound is twice what they took at the last rewrite, when larger).
const COMPACT_AT: u64 = 1 << 20;

/// What [`Spool::open`] found in the journal a previous run left.
#[derive(Debug, Default)]
pub struct Recovery {
    /// The legs to write again, in the order they were first journaled; those
    /// a crash left open are closed with cause `node_restart`.
    pub legs: Vec<CallLeg>,
    /// Lines that could not be read (torn by a crash) and were skipped.
    pub skipped_lines: usize,
}

/// The journal and the legs it still has to see written.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    file: File,
    /// Bytes in the journal.
    size: u64,
    /// Size past which the journal is rewritten: [`COMPACT_AT`], or twice
    /// the unsettled legs' bytes at the last rewrite.
    compact_at: u64,
    /// Legs open, or closed and not yet written: their last state.
    unsettled: HashMap<LegId, CallLeg>,
}

impl Spool {
    /// Opens the spool in `dir` (created if missing) and recovers what a
    /// previous run left: the legs to write again, those cut by a crash closed at
    /// the last heartbeat (or at `now` when there is none).
    pub fn open(dir: &Path, now: DateTime<Utc>) -> io::Result<(Self, Recovery)> {
        fs::create_dir_all(dir)?;
        let path = dir.join(JOURNAL);
        let mut last: HashMap<LegId, CallLeg> = HashMap::new();
        let mut order: Vec<LegId> = Vec::new();
        let mut skipped_lines = 0;
        if let Ok(file) = File::open(&path) {
            // Bytes, not text: a line torn inside a character is not UTF-8.
            for line in BufReader::new(file).split(b'\n') {
                let line = line?;
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match serde_json::from_slice::<CallLeg>(&line) {
                    Ok(leg) => {
                        if !last.contains_key(&leg.id) {
                            order.push(leg.id);
                        }
                        last.insert(leg.id, leg);
                    }
                    Err(error) => {
                        skipped_lines += 1;
                        tracing::warn!(%error, "spool: unreadable journal line skipped");
                    }
                }
            }
        }
        let alive = read_heartbeat(dir).unwrap_or(now);
        let recovered: Vec<CallLeg> = order
            .into_iter()
            .filter_map(|id| last.remove(&id))
            .map(|mut leg| {
                if leg.left_at.is_none() {
                    tracing::warn!(leg = %leg.id, "spool: leg left open by a crash; closed at the last heartbeat");
                    leg.close(alive, DisconnectCause::NodeRestart);
                }
                leg
            })
            .collect();
        let unsettled = recovered.iter().map(|leg| (leg.id, leg.clone())).collect();
        let mut spool = Self {
            dir: dir.to_path_buf(),
            file: OpenOptions::new().create(true).append(true).open(&path)?,
            size: 0,
            compact_at: COMPACT_AT,
            unsettled,
        };
        spool.rewrite()?;
        Ok((
            spool,
            Recovery {
                legs: recovered,
                skipped_lines,
            },
        ))
    }

    /// Appends `leg` (opened or closed) and syncs it to disk.
    pub fn record(&mut self, leg: &CallLeg) -> io::Result<()> {
        self.record_all(std::slice::from_ref(leg))
    }

    /// Appends `legs`, in order, and syncs them to disk with one `fsync`: the
    /// legs of a conference that ends at once are journaled in one sync, not
    /// one sync each.
    pub fn record_all(&mut self, legs: &[CallLeg]) -> io::Result<()> {
        let mut lines = Vec::new();
        for leg in legs {
            serde_json::to_writer(&mut lines, leg).map_err(io::Error::other)?;
            lines.push(b'\n');
        }
        self.file.write_all(&lines)?;
        self.file.sync_data()?;
        self.size += lines.len() as u64;
        for leg in legs {
            self.unsettled.insert(leg.id, leg.clone());
        }
        if self.size > self.compact_at {
            self.rewrite()?;
        }
        Ok(())
    }

    /// `leg` is in the store: once closed, the spool may forget it.
    pub fn written(&mut self, leg: &CallLeg) {
        if let Some(known) = self.unsettled.get(&leg.id)
            && known.left_at.is_some()
            && known == leg
        {
            self.unsettled.remove(&leg.id);
        }
    }

    /// Legs open or not yet written.
    pub fn unsettled(&self) -> usize {
        self.unsettled.len()
    }

    /// Notes that the node is alive at `now` (atomically: written aside, then
    /// renamed over the last one).
    pub fn heartbeat(&self, now: DateTime<Utc>) -> io::Result<()> {
        let aside = self.dir.join(format!("{HEARTBEAT}.new"));
        let mut file = File::create(&aside)?;
        file.write_all(now.to_rfc3339().as_bytes())?;
        file.sync_data()?;
        fs::rename(aside, self.dir.join(HEARTBEAT))
    }

    /// Rewrites the journal with the unsettled legs only: written aside, synced,
    /// renamed over the journal, which is then appended to.
    fn rewrite(&mut self) -> io::Result<()> {
        let aside = self.dir.join(format!("{JOURNAL}.new"));
        let mut file = File::create(&aside)?;
        let mut size = 0;
        for leg in self.unsettled.values() {
            let mut line = serde_json::to_vec(leg).map_err(io::Error::other)?;
            line.push(b'\n');
            file.write_all(&line)?;
            size += line.len() as u64;
        }
        file.sync_all()?;
        let path = self.dir.join(JOURNAL);
        fs::rename(&aside, &path)?;
        if let Ok(dir) = File::open(&self.dir) {
            let _ = dir.sync_all();
        }
        self.file = OpenOptions::new().append(true).open(&path)?;
        self.size = size;
        self.compact_at = COMPACT_AT.max(2 * size);
        Ok(())
    }
}

/// What the spool's thread is told.
#[derive(Debug)]
pub(super) enum Note {
    /// A leg opened or closed: journal it, then pass it to the store writer.
    Record(CallLeg),
    /// The store has this leg.
    Written(CallLeg),
    /// The node stops: pass nothing more on; go when the writer is done.
    Stop,
}

/// The most legs journaled in one sync (those waiting when the spool's thread
/// wakes, up to this many).
const LEGS_PER_SYNC: usize = 512;

/// How often the heartbeat is written.
const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs the spool on a thread of its own (its fsyncs never hold up the media):
/// each leg recorded is synced (with those waiting behind it: one sync for a
/// burst), then sent to `store` (counted in `stats`' spool backlog until
/// written); the heartbeat is kept.
pub(super) fn spawn(
    mut spool: Spool,
    notes: std::sync::mpsc::Receiver<Note>,
    store: tokio::sync::mpsc::UnboundedSender<CallLeg>,
    stats: std::sync::Arc<super::stats::Stats>,
) -> io::Result<std::thread::JoinHandle<()>> {
    use std::sync::mpsc::RecvTimeoutError;
    std::thread::Builder::new()
        .name("cdr-spool".into())
        .spawn(move || {
            let mut store = Some(store);
            let mut beat = std::time::Instant::now();
            let mut legs = Vec::new();
            loop {
                let mut note = notes.recv_timeout(HEARTBEAT_EVERY);
                // The legs waiting behind this one are journaled with it; the
                // first other note is handled after them, in its order.
                while let Ok(Note::Record(leg)) = note {
                    legs.push(leg);
                    note = if legs.len() < LEGS_PER_SYNC {
                        notes.try_recv().map_err(|_| RecvTimeoutError::Timeout)
                    } else {
                        Err(RecvTimeoutError::Timeout)
                    };
                }
                if !legs.is_empty() {
                    if let Err(error) = spool.record_all(&legs) {
                        tracing::error!(legs = legs.len(), %error, "spool: legs not journaled");
                    }
                    for leg in legs.drain(..) {
                        if let Some(store) = &store {
                            stats.cdr_queued();
                            if store.send(leg).is_err() {
                                stats.cdr_written();
                            }
                        }
                    }
                }
                match note {
                    Ok(Note::Record(_)) | Err(RecvTimeoutError::Timeout) => {}
                    Ok(Note::Written(leg)) => spool.written(&leg),
                    Ok(Note::Stop) => store = None,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
                if beat.elapsed() >= HEARTBEAT_EVERY {
                    beat = std::time::Instant::now();
                    if let Err(error) = spool.heartbeat(Utc::now()) {
                        tracing::warn!(%error, "spool: heartbeat not written");
                    }
                }
            }
            let _ = spool.heartbeat(Utc::now());
            if spool.unsettled() > 0 {
                tracing::warn!(
                    legs = spool.unsettled(),
                    "spool: legs left for the next start"
                );
            }
        })
}

fn read_heartbeat(dir: &Path) -> Option<DateTime<Utc>> {
    let text = fs::read_to_string(dir.join(HEARTBEAT)).ok()?;
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeDelta;
    use teleconf_domain::{AccountId, CallerRole, ConferenceId, YearMonth};

    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("teleconf-spool-{}", LegId::new()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn leg(joined_at: DateTime<Utc>) -> CallLeg {
        CallLeg {
            id: LegId::new(),
            account_id: AccountId::new(),
            conference_id: ConferenceId::new(),
            conference_number: "1234567".parse().unwrap(),
            dialled: Some("+15145550100".parse().unwrap()),
            caller_id: "+15145550123".into(),
            role: CallerRole::Participant,
            owner_node: None,
            joined_at,
            month: YearMonth::of(joined_at, chrono_tz::America::Montreal),
            left_at: None,
            cause: None,
            quality: None,
            node: None,
        }
    }

    #[test]
    fn a_leg_cut_by_a_crash_is_closed_at_the_last_heartbeat_on_restart() {
        let dir = scratch();
        let t0 = Utc::now();
        let (mut spool, recovered) = Spool::open(&dir, t0).unwrap();
        assert!(recovered.legs.is_empty());
        let mut done = leg(t0);
        let open = leg(t0);
        spool.record(&done).unwrap();
        spool.record(&open).unwrap();
        done.close(t0 + TimeDelta::seconds(30), DisconnectCause::CallerHangup);
        spool.record(&done).unwrap();
        spool.heartbeat(t0 + TimeDelta::seconds(40)).unwrap();
        drop(spool); // The crash: nothing else is written.

        let (spool, recovered) = Spool::open(&dir, t0 + TimeDelta::hours(1)).unwrap();
        let recovered = recovered.legs;
        assert_eq!(recovered.len(), 2);
        assert_eq!(recovered[0], done, "the last state of each leg, in order");
        assert_eq!(recovered[1].id, open.id);
        assert_eq!(recovered[1].cause, Some(DisconnectCause::NodeRestart));
        assert_eq!(recovered[1].left_at, Some(t0 + TimeDelta::seconds(40)));
        assert_eq!(spool.unsettled(), 2, "to be written before calls are taken");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn legs_recorded_together_are_journaled_in_order_and_recovered() {
        let dir = scratch();
        let t0 = Utc::now();
        let (mut spool, _) = Spool::open(&dir, t0).unwrap();
        let open = leg(t0);
        let mut done = leg(t0);
        done.left_at = Some(t0 + TimeDelta::seconds(60));
        let mut closed_later = open.clone();
        closed_later.left_at = Some(t0 + TimeDelta::seconds(90));
        spool
            .record_all(&[open.clone(), done.clone(), closed_later.clone()])
            .unwrap();
        assert_eq!(spool.unsettled(), 2, "the last state of each leg");
        drop(spool);

        let (_, recovery) = Spool::open(&dir, t0 + TimeDelta::seconds(120)).unwrap();
        let mut want = vec![closed_later, done];
        want.sort_by_key(|leg| leg.id);
        let mut got = recovery.legs;
        got.sort_by_key(|leg| leg.id);
        assert_eq!(
            got, want,
            "the last line of a leg wins, in the order written"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn written_closed_legs_are_forgotten_and_open_ones_kept() {
        let dir = scratch();
        let t0 = Utc::now();
        let (mut spool, _) = Spool::open(&dir, t0).unwrap();
        let mut done = leg(t0);
        let open = leg(t0);
        spool.record(&done).unwrap();
        spool.record(&open).unwrap();
        spool.written(&done);
        spool.written(&open);
        assert_eq!(
            spool.unsettled(),
            2,
            "open legs stay until closed and written"
        );
        done.close(t0 + TimeDelta::seconds(5), DisconnectCause::CallerHangup);
        spool.record(&done).unwrap();
        spool.written(&done);
        assert_eq!(spool.unsettled(), 1);
        drop(spool);
        // No heartbeat: a restart closes the open leg at the time of the restart.
        let restart = t0 + TimeDelta::minutes(3);
        let (_, recovered) = Spool::open(&dir, restart).unwrap();
        let recovered = recovered.legs;
        let open_again = recovered.iter().find(|l| l.id == open.id).unwrap();
        assert_eq!(open_again.left_at, Some(restart));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_journal_is_rewritten_with_the_unsettled_legs_once_it_grows() {
        let dir = scratch();
        let t0 = Utc::now();
        let (mut spool, _) = Spool::open(&dir, t0).unwrap();
        let kept = leg(t0);
        spool.record(&kept).unwrap();
        while fs::metadata(dir.join(JOURNAL)).unwrap().len() < COMPACT_AT / 2 {
            let mut other = leg(t0);
            spool.record(&other).unwrap();
            other.close(t0, DisconnectCause::CallerHangup);
            spool.record(&other).unwrap();
            spool.written(&other);
        }
        for _ in 0..3_000 {
            let mut other = leg(t0);
            other.close(t0, DisconnectCause::CallerHangup);
            spool.record(&other).unwrap();
            spool.written(&other);
        }
        assert!(fs::metadata(dir.join(JOURNAL)).unwrap().len() < COMPACT_AT);
        drop(spool);
        let (_, recovered) = Spool::open(&dir, t0).unwrap();
        let recovered = recovered.legs;
        assert!(recovered.iter().any(|l| l.id == kept.id));
        assert!(recovered.len() < 3_000, "{} legs", recovered.len());
        fs::remove_dir_all(dir).unwrap();
    }

    /// A node carrying more open legs than [`COMPACT_AT`] holds: the journal
    /// rewritten with them is appended to until it is twice that, not
    /// rewritten again at each leg recorded.
    #[test]
    fn a_journal_of_many_open_legs_is_rewritten_once_it_doubles_not_at_each_leg() {
        let dir = scratch();
        let t0 = Utc::now();
        let (mut spool, _) = Spool::open(&dir, t0).unwrap();
        let journal = || fs::metadata(dir.join(JOURNAL)).unwrap().len();
        let mut open: Vec<CallLeg> = Vec::new();
        while journal() <= COMPACT_AT {
            let batch: Vec<CallLeg> = (0..256).map(|_| leg(t0)).collect();
            spool.record_all(&batch).unwrap();
            open.extend(batch);
        }
        let live = journal();
        assert!(
            live > COMPACT_AT && live < 2 * COMPACT_AT,
            "rewritten: {live}"
        );
        let mut closes = open.iter().cloned().map(|mut leg| {
            leg.close(t0, DisconnectCause::CallerHangup);
            leg
        });
        let (mut appended, mut closed) = (0, 0);
        while journal() > live / 2 {
            let before = journal();
            let leg = closes.next().unwrap();
            spool.record(&leg).unwrap();
            spool.written(&leg);
            closed += 1;
            if journal() > before {
                appended += 1;
            }
        }
        assert!(
            appended > open.len() / 2,
            "{appended} of the closes appended before the rewrite"
        );
        assert_eq!(appended + 1, closed, "then one rewrite");
        drop(spool);
        let (_, recovered) = Spool::open(&dir, t0).unwrap();
        // The last close was rewritten before the store had it: written again.
        assert_eq!(
            recovered.legs.len(),
            open.len() - closed + 1,
            "the legs still open kept, those written dropped"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_line_torn_inside_a_character_is_skipped_and_counted_and_the_legs_after_it_kept() {
        let dir = scratch();
        let t0 = Utc::now();
        let (mut spool, _) = Spool::open(&dir, t0).unwrap();
        let before = leg(t0);
        spool.record(&before).unwrap();
        drop(spool);
        // A crash mid-write of a multi-byte character, then a later run's leg.
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.join(JOURNAL))
            .unwrap();
        file.write_all(b"{\"id\":\"01a2\xc3\n").unwrap();
        let after = leg(t0);
        let mut line = serde_json::to_vec(&after).unwrap();
        line.push(b'\n');
        file.write_all(&line).unwrap();
        drop(file);
        let (_, recovery) = Spool::open(&dir, t0).unwrap();
        let ids: Vec<LegId> = recovery.legs.iter().map(|l| l.id).collect();
        assert_eq!(ids, [before.id, after.id]);
        assert_eq!(recovery.skipped_lines, 1);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_torn_last_line_is_skipped() {
        let dir = scratch();
        let t0 = Utc::now();
        let (mut spool, _) = Spool::open(&dir, t0).unwrap();
        let whole = leg(t0);
        spool.record(&whole).unwrap();
        drop(spool);
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.join(JOURNAL))
            .unwrap();
        file.write_all(b"{\"id\":\"01a2").unwrap();
        drop(file);
        let (_, recovered) = Spool::open(&dir, t0).unwrap();
        assert_eq!(recovered.skipped_lines, 1);
        let recovered = recovered.legs;
        assert_eq!(recovered.len(), 1);
        assert_eq!(recovered[0].id, whole.id);
        fs::remove_dir_all(dir).unwrap();
    }
}
