//! Conference recordings (issue #5): the node hands the shell the room's full mix
//! 20 ms at a time; a thread of its own writes each recording to WAV files on
//! local disk as it comes (8 kHz, 16-bit, mono: never held whole in memory): the
//! whole recording, and beside it the current segment. Each segment is handed to
//! the uploader as it closes (every `TELECONF_RECORDING_SEGMENT_SECS`), so S3 holds
//! the recording up to its last closed segment while the conference goes on and a
//! lost node loses at most one segment; when the conference ends the whole file
//! is uploaded, its recording item marked complete, and the segments removed.
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
use std::time::Duration;

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

/// What the uploader is handed, in order for each recording: its segments as
/// they close, then the whole file when it stops.
#[derive(Debug, Clone)]
pub enum Closed {
    /// Segment `index` (from 0) closed while the conference goes on.
    Segment {
        /// Its place in the recording.
        index: u32,
        /// Its file.
        file: Finished,
    },
    /// The recording stopped: the whole file.
    Whole(Finished),
}

/// A WAV file of a recording written and closed, to upload: a segment, or the
/// whole recording.
#[derive(Debug, Clone)]
pub struct Finished {
    /// The recording's identity (and S3 key).
    pub id: RecordingId,
    /// The conference.
    pub conference: ConferenceId,
    /// Its account.
    pub account: AccountId,
    /// When the recording started.
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
    /// Starts the thread writing under `dir`, cutting segments of `segment`;
    /// each segment and recording closed goes to `closed`.
    pub(super) fn start(
        dir: &Path,
        segment: Duration,
        closed: tokio::sync::mpsc::UnboundedSender<Closed>,
    ) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let (queue, frames) = sync_channel(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let dir = dir.to_path_buf();
        let counted = dropped.clone();
        let segment_samples = (segment.as_millis() as u64 * RATE / 1000).max(1);
        std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || write(&dir, segment_samples, &frames, &closed, &counted))?;
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

/// Samples a second.
const RATE: u64 = 8_000;

/// The files' format.
const SPEC: hound::WavSpec = hound::WavSpec {
    channels: 1,
    sample_rate: RATE as u32,
    bits_per_sample: 16,
    sample_format: hound::SampleFormat::Int,
};

/// A WAV file being written.
struct Wav {
    path: PathBuf,
    writer: hound::WavWriter<BufWriter<File>>,
    samples: u64,
}

impl Wav {
    fn create(path: PathBuf) -> hound::Result<Self> {
        Ok(Self {
            writer: hound::WavWriter::create(&path, SPEC)?,
            path,
            samples: 0,
        })
    }

    fn append(&mut self, pcm: &[i16]) -> hound::Result<()> {
        let mut frame = self.writer.get_i16_writer(pcm.len() as u32);
        for sample in pcm {
            frame.write_sample(*sample);
        }
        frame.flush()?;
        self.samples += pcm.len() as u64;
        Ok(())
    }
}

/// One recording being written: the whole file and its current segment.
struct Open {
    id: RecordingId,
    account: AccountId,
    started_at: DateTime<Utc>,
    whole: Wav,
    /// The segment being written (opened at its first frame) and its index.
    segment: Option<(u32, Wav)>,
    /// The index of the next segment.
    next: u32,
}

impl Open {
    /// Writes `pcm` to the whole file and the current segment; hands the
    /// segment to `closed` once it holds `segment_samples`.
    fn append(
        &mut self,
        conference: ConferenceId,
        dir: &Path,
        pcm: &[i16],
        segment_samples: u64,
        closed: &tokio::sync::mpsc::UnboundedSender<Closed>,
    ) {
        if let Err(error) = self.whole.append(pcm) {
            tracing::error!(%conference, %error, "recording: write failed");
        }
        if self.segment.is_none() {
            let index = self.next;
            self.next += 1;
            let path = dir.join(format!("{conference}-{}-{index:05}.wav", self.id));
            match Wav::create(path) {
                Ok(wav) => self.segment = Some((index, wav)),
                Err(error) => {
                    tracing::error!(%conference, %error, "recording: segment not started")
                }
            }
        }
        let Some((_, wav)) = self.segment.as_mut() else {
            return;
        };
        if let Err(error) = wav.append(pcm) {
            tracing::error!(%conference, %error, "recording: segment write failed");
        }
        if wav.samples >= segment_samples {
            self.close_segment(conference, closed);
        }
    }

    /// The closed WAV at `path` of `samples`, as a file of this recording.
    fn file(&self, conference: ConferenceId, path: PathBuf, samples: u64) -> Finished {
        Finished {
            id: self.id,
            conference,
            account: self.account,
            started_at: self.started_at,
            path,
            samples,
        }
    }

    /// Closes the current segment and hands it to `closed`.
    fn close_segment(
        &mut self,
        conference: ConferenceId,
        closed: &tokio::sync::mpsc::UnboundedSender<Closed>,
    ) {
        let Some((index, wav)) = self.segment.take() else {
            return;
        };
        if let Err(error) = wav.writer.finalize() {
            tracing::error!(%conference, %error, index, "recording: segment not finalised");
            return;
        }
        let file = self.file(conference, wav.path, wav.samples);
        let _ = closed.send(Closed::Segment { index, file });
    }
}

/// The thread: writes frames as they come, hands each segment on as it fills
/// and the whole recording on its stop.
fn write(
    dir: &Path,
    segment_samples: u64,
    queue: &Receiver<Rec>,
    closed: &tokio::sync::mpsc::UnboundedSender<Closed>,
    dropped: &AtomicU64,
) {
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
                match Wav::create(path) {
                    Ok(whole) => {
                        tracing::info!(%conference, path = %whole.path.display(), "recording started");
                        open.insert(
                            conference,
                            Open {
                                id,
                                account,
                                started_at: at,
                                whole,
                                segment: None,
                                next: 0,
                            },
                        );
                    }
                    Err(error) => tracing::error!(%conference, %error, "recording not started"),
                }
            }
            Rec::Frame { conference, pcm } => {
                if let Some(recording) = open.get_mut(&conference) {
                    recording.append(conference, dir, &pcm, segment_samples, closed);
                }
            }
            Rec::Stop { conference } => {
                let Some(mut recording) = open.remove(&conference) else {
                    continue;
                };
                // The last, partial segment is in the whole file: dropped here.
                if let Some((_, wav)) = recording.segment.take() {
                    drop(wav.writer);
                    let _ = std::fs::remove_file(&wav.path);
                }
                let whole = &recording.whole;
                let file = recording.file(conference, whole.path.clone(), whole.samples);
                if let Err(error) = recording.whole.writer.finalize() {
                    tracing::error!(%conference, %error, "recording: not finalised");
                    continue;
                }
                let _ = closed.send(Closed::Whole(file));
            }
        }
    }
    let dropped = dropped.load(Ordering::Relaxed);
    if dropped > 0 {
        tracing::warn!(dropped, "recorder: frames dropped in all");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_segment_is_handed_on_as_it_fills_and_the_whole_file_at_the_stop() {
        let dir = std::env::temp_dir().join(format!("teleconf-recorder-{}", RecordingId::new()));
        let (closed, mut handed) = tokio::sync::mpsc::unbounded_channel();
        // Segments of 1 s: 50 frames of 20 ms.
        let recorder = Recorder::start(&dir, Duration::from_secs(1), closed).unwrap();
        let (conference, account) = (ConferenceId::new(), AccountId::new());
        recorder.send(Rec::Start {
            conference,
            account,
            at: Utc::now(),
        });
        for i in 0..125 {
            recorder.send(Rec::Frame {
                conference,
                pcm: vec![i as i16; 160].into_boxed_slice(),
            });
        }
        recorder.send(Rec::Stop { conference });
        let mut segments = Vec::new();
        let whole = loop {
            match handed.blocking_recv().unwrap() {
                Closed::Segment { index, file } => segments.push((index, file)),
                Closed::Whole(w) => break w,
            }
        };
        assert_eq!(
            segments
                .iter()
                .map(|(i, s)| (*i, s.samples))
                .collect::<Vec<_>>(),
            vec![(0, 8_000), (1, 8_000)],
            "two full seconds uploaded as they closed; the last half second is in the whole file"
        );
        assert!(segments.iter().all(|(_, s)| s.id == whole.id));
        let second = hound::WavReader::open(&segments[1].1.path).unwrap();
        assert_eq!(second.spec(), SPEC);
        let first_sample = second.into_samples::<i16>().next().unwrap().unwrap();
        assert_eq!(first_sample, 50, "segment 1 starts at frame 50");
        assert_eq!(whole.samples, 125 * 160);
        assert_eq!(
            hound::WavReader::open(&whole.path).unwrap().len(),
            125 * 160
        );
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 3, "the partial segment removed: {left:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
