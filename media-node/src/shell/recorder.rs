//! Conference recordings (issue #5): the node hands the shell the room's full mix
//! 20 ms at a time; a thread of its own writes each recording to a WAV file on
//! local disk as it comes (8 kHz, 16-bit, mono: never held whole in memory), and
//! when the conference ends the file is uploaded to S3 (multipart when large),
//! its recording item written for the API to list, and the local file removed.
//!
//! The media loop never waits on the disk: frames go through a bounded queue and
//! one that finds it full is dropped and counted (reported in the log), not
//! waited for. A recording whose upload fails is kept on disk and logged.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use chrono::{DateTime, Utc};

use teleconf_domain::{AccountId, ConferenceId, RecordingId};

/// Frames waiting for the disk (~80 s of one conference, or 1.6 s of 50).
const QUEUE: usize = 4096;

/// What the recorder's thread is told.
#[derive(Debug)]
pub(super) enum Rec {
    /// A conference starts recording.
    Start {
        conference: ConferenceId,
        account: AccountId,
        at: DateTime<Utc>,
    },
    /// 20 ms of its mix.
    Frame {
        conference: ConferenceId,
        pcm: Box<[i16]>,
    },
    /// Its last caller left.
    Stop { conference: ConferenceId },
}

/// A recording written and closed, to upload.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Its identity (and S3 key).
    pub id: RecordingId,
    /// The conference.
    pub conference: ConferenceId,
    /// Its account.
    pub account: AccountId,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// The WAV file.
    pub path: PathBuf,
    /// Samples written (8 kHz).
    pub samples: u64,
}

/// The shell's handle on the recorder thread.
#[derive(Debug)]
pub(super) struct Recorder {
    queue: SyncSender<Rec>,
    dropped: Arc<AtomicU64>,
}

impl Recorder {
    /// Starts the thread writing under `dir`; each recording closed goes to
    /// `finished`.
    pub(super) fn start(
        dir: &Path,
        finished: tokio::sync::mpsc::UnboundedSender<Finished>,
    ) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let (queue, frames) = sync_channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let dir = dir.to_path_buf();
        let counted = dropped.clone();
        std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || write(&dir, &frames, &finished, &counted))?;
        Ok(Self { queue, dropped })
    }

    /// Hands `rec` to the thread: a frame is dropped (and counted) when the
    /// queue is full, a start or stop waits for room (they are rare).
    pub(super) fn send(&self, rec: Rec) {
        match self.queue.try_send(rec) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(Rec::Frame { .. })) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                if dropped.is_power_of_two() {
                    tracing::warn!(dropped, "recorder: disk behind, frames dropped");
                }
            }
            Err(TrySendError::Full(rec)) => {
                let _ = self.queue.send(rec);
            }
        }
    }
}

/// One recording being written.
struct Open {
    id: RecordingId,
    account: AccountId,
    started_at: DateTime<Utc>,
    path: PathBuf,
    writer: hound::WavWriter<BufWriter<File>>,
    samples: u64,
}

/// The thread: writes frames as they come, closes a recording on its stop.
fn write(
    dir: &Path,
    queue: &Receiver<Rec>,
    finished: &tokio::sync::mpsc::UnboundedSender<Finished>,
    dropped: &AtomicU64,
) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut open: HashMap<ConferenceId, Open> = HashMap::new();
    while let Ok(rec) = queue.recv() {
        match rec {
            Rec::Start {
                conference,
                account,
                at,
            } => {
                let id = RecordingId::new();
                let path = dir.join(format!("{conference}-{id}.wav"));
                match hound::WavWriter::create(&path, spec) {
                    Ok(writer) => {
                        tracing::info!(%conference, path = %path.display(), "recording started");
                        open.insert(
                            conference,
                            Open {
                                id,
                                account,
                                started_at: at,
                                path,
                                writer,
                                samples: 0,
                            },
                        );
                    }
                    Err(error) => tracing::error!(%conference, %error, "recording not started"),
                }
            }
            Rec::Frame { conference, pcm } => {
                if let Some(recording) = open.get_mut(&conference) {
                    let mut frame = recording.writer.get_i16_writer(pcm.len() as u32);
                    for sample in pcm.iter() {
                        frame.write_sample(*sample);
                    }
                    match frame.flush() {
                        Ok(()) => recording.samples += pcm.len() as u64,
                        Err(error) => {
                            tracing::error!(%conference, %error, "recording: write failed")
                        }
                    }
                }
            }
            Rec::Stop { conference } => {
                let Some(recording) = open.remove(&conference) else {
                    continue;
                };
                if let Err(error) = recording.writer.finalize() {
                    tracing::error!(%conference, %error, "recording: not finalised");
                    continue;
                }
                let _ = finished.send(Finished {
                    id: recording.id,
                    conference,
                    account: recording.account,
                    started_at: recording.started_at,
                    path: recording.path,
                    samples: recording.samples,
                });
            }
        }
    }
    let dropped = dropped.load(Ordering::Relaxed);
    if dropped > 0 {
        tracing::warn!(dropped, "recorder: frames dropped in all");
    }
}
