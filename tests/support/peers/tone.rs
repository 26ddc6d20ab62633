//! Tones to play as a caller's microphone, and what a recording contains.
//!
//! A tone WAV is mono 8 kHz 16-bit PCM, what baresip's `aufile` source needs for
//! G.711 (it refuses another rate or channel count). baresip's `sndfile` writes
//! what a caller hears in the same format (`dump-<time>-dec.wav`); it only writes the
//! frames it receives, so a recording is shorter than the call when the peer was
//! silent (no RTP) for a while.
//!
//! The analysis is a Goertzel filter at the frequency asked, over 100 ms blocks
//! (10 Hz resolution; blocks keep the measure robust to the phase jumps a jitter
//! buffer or a mixer makes), as a share of the recording's total energy: ~1 for
//! the recording of one tone, ~0.5 each for an even mix of two, ~0 for a tone that
//! is not there (G.711 quantization noise is ~35 dB below a tone at −12 dBFS).

use std::f64::consts::PI;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, bail, ensure};

/// The sample rate of tones and of G.711 recordings.
pub const SAMPLE_RATE: u32 = 8000;

/// A tone's peak amplitude: −12 dBFS, so a mix of a few tones does not clip.
pub const AMPLITUDE: f64 = 8192.0;

/// Writes `path`: mono 8 kHz 16-bit PCM, a sine at `freq_hz` for `length`.
///
/// As a baresip microphone, make it longer than the call: `aufile` hangs up when
/// its file ends.
pub fn write_tone(path: &Path, freq_hz: f64, length: Duration) -> anyhow::Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::create(path, spec)
        .with_context(|| format!("creating {}", path.display()))?;
    let n = (length.as_secs_f64() * f64::from(SAMPLE_RATE)).round() as u64;
    let step = 2.0 * PI * freq_hz / f64::from(SAMPLE_RATE);
    for i in 0..n {
        let v = AMPLITUDE * (step * i as f64).sin();
        wav.write_sample(v.round() as i16)?;
    }
    wav.finalize()?;
    Ok(())
}

/// Mono 16-bit samples, from a WAV or built in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    sample_rate: u32,
    samples: Vec<i16>,
}

impl Recording {
    /// Samples at `sample_rate`.
    pub fn from_samples(sample_rate: u32, samples: Vec<i16>) -> Self {
        Self {
            sample_rate,
            samples,
        }
    }

    /// Reads a 16-bit PCM WAV (the first channel when there are several).
    ///
    /// A file whose header was never finalized (RIFF size 0: the recorder was
    /// killed mid-call) is read too: its samples run to the end of the file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        if bytes.len() >= 8 && bytes[..4] == *b"RIFF" && bytes[4..8] == [0; 4] {
            return Self::unfinalized(&bytes).with_context(|| format!("in {}", path.display()));
        }
        let mut wav = hound::WavReader::new(std::io::Cursor::new(bytes))
            .with_context(|| format!("{} is not a WAV", path.display()))?;
        let spec = wav.spec();
        ensure!(
            spec.sample_format == hound::SampleFormat::Int && spec.bits_per_sample == 16,
            "{}: {spec:?}, not 16-bit PCM",
            path.display()
        );
        let channels = usize::from(spec.channels.max(1));
        let samples = wav
            .samples::<i16>()
            .step_by(channels)
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("reading the samples of {}", path.display()))?;
        Ok(Self::from_samples(spec.sample_rate, samples))
    }

    /// Walks the chunks of a WAV whose sizes were left at 0.
    fn unfinalized(bytes: &[u8]) -> anyhow::Result<Self> {
        let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]);
        let u32_at =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        ensure!(bytes.len() >= 12 && bytes[8..12] == *b"WAVE", "not a WAV");
        let mut at = 12;
        let mut format = None;
        while at + 8 <= bytes.len() {
            let (id, size) = (&bytes[at..at + 4], u32_at(at + 4) as usize);
            let body = at + 8;
            if id == b"fmt " {
                ensure!(body + 16 <= bytes.len(), "short fmt chunk");
                // (format tag, channels, sample rate, bits per sample)
                format = Some((
                    u16_at(body),
                    u16_at(body + 2),
                    u32_at(body + 4),
                    u16_at(body + 14),
                ));
            } else if id == b"data" {
                let Some((1, channels, sample_rate, 16)) = format else {
                    bail!("not 16-bit PCM: {format:?}");
                };
                let end = if size == 0 {
                    bytes.len()
                } else {
                    (body + size).min(bytes.len())
                };
                let samples = bytes[body..end]
                    .chunks_exact(2)
                    .step_by(usize::from(channels.max(1)))
                    .map(|b| i16::from_le_bytes([b[0], b[1]]))
                    .collect();
                return Ok(Self::from_samples(sample_rate, samples));
            }
            at = body + size + (size & 1);
        }
        bail!("no data chunk")
    }

    /// The sample rate.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The samples.
    pub fn samples(&self) -> &[i16] {
        &self.samples
    }

    /// How long it lasts.
    pub fn length(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(self.sample_rate.max(1)))
    }

    fn samples_in(&self, length: Duration) -> usize {
        ((length.as_secs_f64() * f64::from(self.sample_rate)) as usize).min(self.samples.len())
    }

    /// Without its first `skip` (e.g. the IVR's prompts before a caller joins).
    pub fn after(&self, skip: Duration) -> Self {
        let from = self.samples_in(skip);
        Self::from_samples(self.sample_rate, self.samples[from..].to_vec())
    }

    /// Its last `keep` only.
    pub fn last(&self, keep: Duration) -> Self {
        let from = self.samples.len() - self.samples_in(keep);
        Self::from_samples(self.sample_rate, self.samples[from..].to_vec())
    }

    /// Root mean square level (0 for silence; a tone at [`AMPLITUDE`] is ~5,800).
    pub fn rms(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        (energy(&self.samples) / self.samples.len() as f64).sqrt()
    }

    /// The share of the energy at `freq_hz`, from 0 to 1 (0 for silence): ~1 for
    /// that tone alone, ~1/n each for an even mix of n tones, ~0 when absent.
    pub fn tone_share(&self, freq_hz: f64) -> f64 {
        let block = (self.sample_rate / 10).max(1) as usize;
        let (mut tone, mut total) = (0.0, 0.0);
        for chunk in self.samples.chunks_exact(block) {
            tone += tone_energy(chunk, freq_hz, self.sample_rate);
            total += energy(chunk);
        }
        if total <= 0.0 {
            0.0
        } else {
            (tone / total).min(1.0)
        }
    }

    /// One line for assertion messages: length, level and the share of each tone.
    pub fn describe(&self, freqs_hz: &[f64]) -> String {
        let shares: Vec<String> = freqs_hz
            .iter()
            .map(|f| format!("{f} Hz: {:.3}", self.tone_share(*f)))
            .collect();
        format!(
            "{:.2} s, rms {:.0}, {}",
            self.length().as_secs_f64(),
            self.rms(),
            shares.join(", ")
        )
    }
}

/// Σx².
fn energy(samples: &[i16]) -> f64 {
    samples.iter().map(|&x| f64::from(x) * f64::from(x)).sum()
}

/// The energy of the sinusoid at `freq_hz` in `samples` (Goertzel): for
/// A·sin(2πft) over n samples, |X(f)|² ≈ (A·n/2)², and 2·|X(f)|²/n ≈ A²·n/2 = Σx².
fn tone_energy(samples: &[i16], freq_hz: f64, sample_rate: u32) -> f64 {
    let coeff = 2.0 * (2.0 * PI * freq_hz / f64::from(sample_rate)).cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &x in samples {
        let s = f64::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power / samples.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::peers::ScratchDir;

    fn tone(freq_hz: f64, secs: f64) -> Vec<i16> {
        let n = (secs * f64::from(SAMPLE_RATE)) as usize;
        (0..n)
            .map(|i| {
                let t = i as f64 / f64::from(SAMPLE_RATE);
                (AMPLITUDE * (2.0 * PI * freq_hz * t).sin()) as i16
            })
            .collect()
    }

    #[test]
    fn a_written_tone_is_found_and_another_is_not() {
        let dir = ScratchDir::new("tone").unwrap();
        let path = dir.join("a.wav");
        write_tone(&path, 440.0, Duration::from_secs(2)).unwrap();

        let rec = Recording::read(&path).unwrap();
        assert_eq!(rec.sample_rate(), SAMPLE_RATE);
        assert_eq!(rec.samples().len(), 16_000);
        assert!(rec.tone_share(440.0) > 0.99, "{}", rec.describe(&[440.0]));
        assert!(
            rec.tone_share(1000.0) < 0.001,
            "{}",
            rec.describe(&[1000.0])
        );
        // 10 Hz away is outside the 100 ms blocks' main lobe.
        assert!(rec.tone_share(460.0) < 0.01, "{}", rec.describe(&[460.0]));
        assert!((rec.rms() - AMPLITUDE / 2f64.sqrt()).abs() < 10.0);
    }

    #[test]
    fn a_tone_off_the_block_grid_is_found() {
        let rec = Recording::from_samples(SAMPLE_RATE, tone(1234.5, 1.0));
        assert!(rec.tone_share(1234.5) > 0.99, "{}", rec.describe(&[1234.5]));
    }

    #[test]
    fn a_mix_of_two_tones_shows_both_and_nothing_else() {
        let a = tone(440.0, 2.0);
        let b = tone(1000.0, 2.0);
        let mix = a.iter().zip(&b).map(|(x, y)| x / 2 + y / 2).collect();
        let rec = Recording::from_samples(SAMPLE_RATE, mix);
        let freqs = [440.0, 1000.0, 1700.0];
        for f in [440.0, 1000.0] {
            let share = rec.tone_share(f);
            assert!((0.45..=0.55).contains(&share), "{}", rec.describe(&freqs));
        }
        assert!(rec.tone_share(1700.0) < 0.001, "{}", rec.describe(&freqs));
    }

    #[test]
    fn silence_has_no_tone_and_no_level() {
        let rec = Recording::from_samples(SAMPLE_RATE, vec![0; 8000]);
        assert_eq!(rec.tone_share(440.0), 0.0);
        assert_eq!(rec.rms(), 0.0);
        let empty = Recording::from_samples(SAMPLE_RATE, Vec::new());
        assert_eq!(empty.tone_share(440.0), 0.0);
        assert_eq!(empty.rms(), 0.0);
    }

    #[test]
    fn windows_keep_the_part_asked_for() {
        let mut samples = tone(440.0, 1.0);
        samples.extend(tone(1000.0, 1.0));
        let rec = Recording::from_samples(SAMPLE_RATE, samples);
        assert_eq!(rec.length(), Duration::from_secs(2));
        let tail = rec.after(Duration::from_secs(1));
        assert!(tail.tone_share(1000.0) > 0.99 && tail.tone_share(440.0) < 0.001);
        let last = rec.last(Duration::from_millis(500));
        assert_eq!(last.length(), Duration::from_millis(500));
        assert!(last.tone_share(1000.0) > 0.99);
        assert_eq!(rec.after(Duration::from_secs(5)).samples().len(), 0);
        assert_eq!(rec.last(Duration::from_secs(5)), rec);
    }

    #[test]
    fn a_recording_whose_header_was_never_finalized_is_read() {
        // What libsndfile leaves when baresip is killed mid-call: sizes at 0.
        let dir = ScratchDir::new("tone").unwrap();
        let path = dir.join("killed.wav");
        let mut bytes = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0".to_vec();
        bytes.extend(SAMPLE_RATE.to_le_bytes());
        bytes.extend((SAMPLE_RATE * 2).to_le_bytes());
        bytes.extend(b"\x02\0\x10\0data\0\0\0\0");
        for s in tone(440.0, 0.5) {
            bytes.extend(s.to_le_bytes());
        }
        std::fs::write(&path, bytes).unwrap();

        let rec = Recording::read(&path).unwrap();
        assert_eq!(rec.samples().len(), 4000);
        assert!(rec.tone_share(440.0) > 0.99);
    }
}
