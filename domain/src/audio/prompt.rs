//! Turning an uploaded WAV into a prompt the media node can play: 16-bit PCM,
//! 8 kHz, mono.
//!
//! [`normalize_prompt`] checks the size limit before looking at the bytes, decodes
//! the WAV (see [`crate::audio::wav`]), checks the duration limit on the decoded
//! input, averages stereo to mono, and resamples anything that is not already
//! 8 kHz with rubato's windowed-sinc resampler, whose anti-aliasing filter removes
//! what lies above the new 4 kHz Nyquist frequency instead of folding it back into
//! the voice band. 8 kHz input is passed through sample for sample. (rubato's FFT
//! resampler does the same with an FFT library that was the largest part of the
//! API's Lambda binary; a prompt is resampled once, when it is uploaded.)

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Async, FixedAsync, Resampler, SincInterpolationParameters, WindowFunction};

use crate::audio::wav;
use crate::{Error, Result};

/// The field that input errors are blamed on.
const FIELD: &str = "audio";

/// Largest upload accepted, in bytes (10 MiB); checked before parsing.
pub const MAX_PROMPT_BYTES: usize = 10 * 1024 * 1024;

/// Longest message accepted, measured on the decoded input.
pub const MAX_PROMPT_DURATION: Duration = Duration::from_secs(5 * 60);

/// The sample rate of every prompt: G.711's 8 kHz.
pub const PROMPT_SAMPLE_RATE: u32 = 8_000;

/// Input frames per resampler chunk (the filter is the same whatever the chunk).
const RESAMPLER_CHUNK: usize = 4096;

/// Taps of the windowed-sinc anti-aliasing filter: with a Blackman-Harris window,
/// the cut-off rubato derives for this length leaves the voice band whole and
/// stops what lies above the new Nyquist frequency.
const SINC_LEN: usize = 256;

/// A prompt ready for the media node: 16-bit PCM at 8 kHz, mono.
#[derive(Clone, PartialEq, Eq)]
pub struct Prompt {
    /// The prompt as a canonical WAV file (16-bit PCM, 8 kHz, mono), ready to store.
    pub wav: Vec<u8>,
    /// The same 8 kHz samples, for encoding to G.711 without parsing `wav` again.
    pub samples: Vec<i16>,
    /// Length in milliseconds, rounded down.
    pub duration_ms: u64,
}

impl fmt::Debug for Prompt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Prompt")
            .field("wav", &format_args!("[{} bytes]", self.wav.len()))
            .field("samples", &format_args!("[{} samples]", self.samples.len()))
            .field("duration_ms", &self.duration_ms)
            .finish()
    }
}

/// Normalises an uploaded WAV file to a [`Prompt`]: 16-bit PCM, 8 kHz, mono.
///
/// # Errors
/// On field `"audio"`:
/// - [`Error::TooLarge`] when the input exceeds [`MAX_PROMPT_BYTES`] (checked
///   first, without parsing) or the audio lasts longer than [`MAX_PROMPT_DURATION`];
/// - [`Error::Invalid`] when it is not a WAV file this service reads (see
///   [`wav::decode`]) or holds no audio at all.
///
/// A file whose `data` chunk is cut short is accepted with the audio it holds.
pub fn normalize_prompt(input: &[u8]) -> Result<Prompt> {
    if input.len() > MAX_PROMPT_BYTES {
        return Err(too_large(format!(
            "the file is {}; at most {}",
            megabytes(input.len()),
            megabytes(MAX_PROMPT_BYTES)
        )));
    }

    let decoded = wav::decode(input)?;
    let frames = decoded.frames() as u64;
    if frames == 0 {
        return Err(Error::invalid(
            FIELD,
            "the file contains no audio (its data chunk is empty)",
        ));
    }
    let rate = u64::from(decoded.sample_rate);
    if frames > MAX_PROMPT_DURATION.as_secs().saturating_mul(rate) {
        return Err(too_large(format!(
            "the message lasts {}; at most {}",
            minutes_seconds(frames.div_ceil(rate)),
            max_duration_text(),
        )));
    }

    let mono = to_mono(decoded.samples, decoded.channels);
    let samples = if decoded.sample_rate == PROMPT_SAMPLE_RATE {
        mono
    } else {
        resample(&mono, decoded.sample_rate, PROMPT_SAMPLE_RATE)?
    };

    Ok(Prompt {
        wav: wav::write_pcm16_mono(PROMPT_SAMPLE_RATE, &samples),
        duration_ms: samples.len() as u64 * 1000 / u64::from(PROMPT_SAMPLE_RATE),
        samples,
    })
}

/// Averages interleaved stereo to mono; mono is returned as it is.
fn to_mono(samples: Vec<i16>, channels: u16) -> Vec<i16> {
    if channels < 2 {
        return samples;
    }
    samples
        .chunks_exact(usize::from(channels))
        .map(|frame| {
            let sum: i32 = frame.iter().map(|&s| i32::from(s)).sum();
            // The mean of i16 values is an i16; `/` rounds toward zero (no DC bias).
            (sum / i32::from(channels)) as i16
        })
        .collect()
}

/// Resamples mono audio from `from` Hz to `to` Hz with rubato's windowed-sinc
/// resampler (band-limited, anti-aliased; the filter's cut-off is relative to the
/// lower of the two rates). The output has `ceil(len · to / from)` samples, with
/// the resampler's delay trimmed.
fn resample(samples: &[i16], from: u32, to: u32) -> Result<Vec<i16>> {
    let failed = |what: &dyn fmt::Display| {
        Error::invalid(
            FIELD,
            format!("could not resample the audio from {from} Hz: {what}"),
        )
    };
    let input: Vec<f32> = samples.iter().map(|&s| f32::from(s)).collect();
    let frames = input.len();
    let mut resampler = Async::<f32>::new_sinc(
        f64::from(to) / f64::from(from),
        1.0,
        &SincInterpolationParameters::new(SINC_LEN, WindowFunction::BlackmanHarris2),
        RESAMPLER_CHUNK,
        1,
        FixedAsync::Input,
    )
    .map_err(|e| failed(&e))?;
    let adapter = InterleavedSlice::new(&input, 1, frames).map_err(|e| failed(&e))?;
    let output = resampler
        .process_all(&adapter, frames, None)
        .map_err(|e| failed(&e))?;
    // `as` saturates: the filter's ringing on full-scale input clips, not wraps.
    Ok(output
        .take_data()
        .into_iter()
        .map(|x| x.round() as i16)
        .collect())
}

fn too_large(message: String) -> Error {
    Error::TooLarge {
        field: Cow::Borrowed(FIELD),
        message,
    }
}

/// `bytes` in MiB, written "MB" as people say it, to one decimal rounded up
/// (so that a file one byte over 10 MB does not read "10.0 MB; at most 10 MB").
fn megabytes(bytes: usize) -> String {
    const MIB: u64 = 1024 * 1024;
    let tenths = (bytes as u64).saturating_mul(10).div_ceil(MIB);
    if tenths % 10 == 0 {
        format!("{} MB", tenths / 10)
    } else {
        format!("{}.{} MB", tenths / 10, tenths % 10)
    }
}

/// The limit as people say it: "5 minutes".
fn max_duration_text() -> String {
    let seconds = MAX_PROMPT_DURATION.as_secs();
    if seconds % 60 == 0 {
        format!("{} minutes", seconds / 60)
    } else {
        format!("{seconds} seconds")
    }
}

/// "5 min 12 s", "5 min", "42 s".
fn minutes_seconds(total_seconds: u64) -> String {
    match (total_seconds / 60, total_seconds % 60) {
        (0, s) => format!("{s} s"),
        (m, 0) => format!("{m} min"),
        (m, s) => format!("{m} min {s} s"),
    }
}

#[cfg(test)]
mod tests {
    use std::f64::consts::PI;
    use std::io::Cursor;

    use super::*;
    use crate::audio::wav::tests::{extensible_fmt, fmt, riff, sox_g711};
    use audio_codec_algorithms::{decode_ulaw, encode_ulaw};

    fn pcm16_wav(channels: u16, rate: u32, samples: &[i16]) -> Vec<u8> {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        riff(&[
            (b"fmt ", &fmt(1, channels, rate, 16, &[])),
            (b"data", &data),
        ])
    }

    fn tone(frames: usize, rate: u32, hz: f64, amplitude: f64) -> Vec<i16> {
        (0..frames)
            .map(|i| {
                (amplitude * (2.0 * PI * hz * i as f64 / f64::from(rate)).sin()).round() as i16
            })
            .collect()
    }

    /// Power of `samples` at `hz` (Goertzel), normalised by length.
    fn goertzel(samples: &[i16], rate: u32, hz: f64) -> f64 {
        let coeff = 2.0 * (2.0 * PI * hz / f64::from(rate)).cos();
        let (mut s1, mut s2) = (0.0, 0.0);
        for &x in samples {
            let s0 = f64::from(x) + coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let n = samples.len() as f64;
        (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n)
    }

    fn rms(samples: &[i16]) -> f64 {
        let sum: f64 = samples.iter().map(|&s| f64::from(s).powi(2)).sum();
        (sum / samples.len() as f64).sqrt()
    }

    fn zero_crossings(samples: &[i16]) -> usize {
        samples
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count()
    }

    /// The middle of a signal, away from the filter's edge effects.
    fn middle(samples: &[i16]) -> &[i16] {
        let n = samples.len();
        &samples[n / 10..n - n / 10]
    }

    fn expect_too_large(result: Result<Prompt>) -> String {
        match result {
            Err(Error::TooLarge { field, message }) => {
                assert_eq!(field, "audio");
                message
            }
            other => panic!("expected TooLarge on audio, got {other:?}"),
        }
    }

    fn expect_invalid(result: Result<Prompt>) -> String {
        match result {
            Err(Error::Invalid { field, message }) => {
                assert_eq!(field, "audio");
                message
            }
            other => panic!("expected Invalid on audio, got {other:?}"),
        }
    }

    fn assert_is_8k_mono_wav_of(prompt: &Prompt) {
        let reader = hound::WavReader::new(Cursor::new(&prompt.wav)).expect("hound reads it");
        let spec = reader.spec();
        assert_eq!(
            (
                spec.sample_rate,
                spec.channels,
                spec.bits_per_sample,
                spec.sample_format
            ),
            (8000, 1, 16, hound::SampleFormat::Int)
        );
        let samples: Vec<i16> = reader
            .into_samples::<i16>()
            .collect::<Result<_, _>>()
            .expect("samples");
        assert_eq!(samples, prompt.samples);
    }

    #[test]
    fn a_44k1_stereo_tone_becomes_an_8k_mono_tone_of_the_same_pitch() {
        let left = tone(44_100, 44_100, 440.0, 12_000.0);
        let right = tone(44_100, 44_100, 440.0, 8_000.0);
        let interleaved: Vec<i16> = left
            .iter()
            .zip(&right)
            .flat_map(|(&l, &r)| [l, r])
            .collect();
        let prompt = normalize_prompt(&pcm16_wav(2, 44_100, &interleaved)).expect("normalises");

        assert_is_8k_mono_wav_of(&prompt);
        // One second in, one second out, within one 8 kHz sample.
        assert!(
            prompt.samples.len().abs_diff(8000) <= 1,
            "{}",
            prompt.samples.len()
        );
        assert_eq!(prompt.duration_ms, 1000);

        let body = middle(&prompt.samples);
        let at_440 = goertzel(body, 8000, 440.0);
        let at_1k = goertzel(body, 8000, 1000.0);
        assert!(at_440 > 1e4 * at_1k, "440 Hz {at_440} vs 1 kHz {at_1k}");
        // 440 Hz crosses zero 880 times a second.
        let seconds = body.len() as f64 / 8000.0;
        let expected = 880.0 * seconds;
        let crossings = zero_crossings(body) as f64;
        assert!(
            (crossings - expected).abs() <= 3.0,
            "{crossings} vs {expected}"
        );
        // The mono mix is the average of 12,000 and 8,000 peak: RMS 10,000/√2.
        let want = 10_000.0 / 2f64.sqrt();
        assert!((rms(body) - want).abs() < 0.02 * want, "rms {}", rms(body));
    }

    #[test]
    fn a_6_khz_tone_is_filtered_out_rather_than_aliased_into_the_voice_band() {
        // Above the 4 kHz Nyquist of 8 kHz: dropping samples would fold it to 2 kHz.
        let high = tone(48_000, 48_000, 6_000.0, 16_000.0);
        let prompt = normalize_prompt(&pcm16_wav(1, 48_000, &high)).expect("normalises");
        let body = middle(&prompt.samples);
        assert!(rms(body) < 30.0, "residue rms {}", rms(body));

        // While a 3 kHz tone, inside the band, goes through at full strength.
        let voice = tone(48_000, 48_000, 3_000.0, 16_000.0);
        let prompt = normalize_prompt(&pcm16_wav(1, 48_000, &voice)).expect("normalises");
        let body = middle(&prompt.samples);
        let want = 16_000.0 / 2f64.sqrt();
        assert!((rms(body) - want).abs() < 0.05 * want, "rms {}", rms(body));
    }

    #[test]
    fn a_16_khz_prompt_lasts_as_long_as_its_input() {
        let input = tone(40_000, 16_000, 300.0, 5_000.0); // 2.5 s
        let prompt = normalize_prompt(&pcm16_wav(1, 16_000, &input)).expect("normalises");
        assert!(prompt.samples.len().abs_diff(20_000) <= 1);
        assert_eq!(prompt.duration_ms, 2500);
        assert_is_8k_mono_wav_of(&prompt);
    }

    #[test]
    fn odd_rates_like_11025_and_192000_hz_are_resampled_to_8k() {
        for rate in [11_025, 22_050, 32_000, 96_000, 192_000] {
            let input = tone(rate as usize / 2, rate, 500.0, 10_000.0);
            let prompt = normalize_prompt(&pcm16_wav(1, rate, &input)).expect("normalises");
            assert!(
                prompt.samples.len().abs_diff(4000) <= 1,
                "{rate}: {}",
                prompt.samples.len()
            );
            let body = middle(&prompt.samples);
            let crossings = zero_crossings(body) as f64;
            let expected = 1000.0 * body.len() as f64 / 8000.0;
            assert!(
                (crossings - expected).abs() <= 3.0,
                "{rate}: {crossings} vs {expected}"
            );
        }
    }

    #[test]
    fn an_8k_mono_prompt_is_passed_through_unchanged() {
        let input: Vec<i16> = (0..8000)
            .map(|i| ((i * 7919) % 65_536 - 32_768) as i16)
            .collect();
        let prompt = normalize_prompt(&pcm16_wav(1, 8000, &input)).expect("normalises");
        assert_eq!(prompt.samples, input);
        assert_eq!(prompt.wav, wav::write_pcm16_mono(8000, &input));
        assert_eq!(prompt.duration_ms, 1000);
        assert_is_8k_mono_wav_of(&prompt);
    }

    #[test]
    fn an_8k_stereo_prompt_is_averaged_to_mono() {
        let input = [1000, 3000, -32_768, -32_768, 32_767, 32_767, 5, -6];
        let prompt = normalize_prompt(&pcm16_wav(2, 8000, &input)).expect("normalises");
        assert_eq!(prompt.samples, [2000, -32_768, 32_767, 0]);
    }

    #[test]
    fn a_sox_ulaw_prompt_becomes_linear_pcm() {
        let codes: Vec<u8> = tone(800, 8000, 400.0, 20_000.0)
            .into_iter()
            .map(encode_ulaw)
            .collect();
        let prompt = normalize_prompt(&sox_g711(7, 8000, &codes)).expect("normalises");
        let expected: Vec<i16> = codes.iter().map(|&c| decode_ulaw(c)).collect();
        assert_eq!(prompt.samples, expected);
        assert_eq!(prompt.duration_ms, 100);
    }

    #[test]
    fn an_extensible_stereo_prompt_at_48k_is_normalised() {
        let frames = tone(4800, 48_000, 1000.0, 9000.0);
        let data: Vec<u8> = frames
            .iter()
            .flat_map(|&s| [s, s])
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let file = riff(&[
            (b"fmt ", &extensible_fmt(1, 2, 48_000, 16)),
            (b"data", &data),
        ]);
        let prompt = normalize_prompt(&file).expect("normalises");
        assert!(prompt.samples.len().abs_diff(800) <= 1);
        assert_eq!(prompt.duration_ms, 100);
    }

    #[test]
    fn empty_input_is_invalid() {
        assert!(expect_invalid(normalize_prompt(b"")).contains("empty"));
    }

    #[test]
    fn a_wav_without_samples_is_invalid() {
        let message = expect_invalid(normalize_prompt(&pcm16_wav(1, 8000, &[])));
        assert!(message.contains("no audio"), "{message}");
        // Half a frame of stereo is no audio either.
        let half = riff(&[(b"fmt ", &fmt(1, 2, 8000, 16, &[])), (b"data", &[1, 0])]);
        assert!(expect_invalid(normalize_prompt(&half)).contains("no audio"));
    }

    #[test]
    fn decoding_errors_reach_the_caller_as_invalid_audio() {
        let message = expect_invalid(normalize_prompt(b"ID3\x03\x00\x00\x00\x00\x0f\x76"));
        assert!(message.contains("not a WAV file"), "{message}");
        let stereo_and_more = riff(&[(b"fmt ", &fmt(1, 3, 8000, 16, &[])), (b"data", &[0; 6])]);
        assert!(expect_invalid(normalize_prompt(&stereo_and_more)).contains("3 channels"));
    }

    #[test]
    fn more_than_10_mb_is_too_large_before_any_parsing() {
        // Not even a WAV: the size alone decides.
        let message = expect_too_large(normalize_prompt(&vec![0x55; MAX_PROMPT_BYTES + 1]));
        assert_eq!(message, "the file is 10.1 MB; at most 10 MB");
        let message = expect_too_large(normalize_prompt(&vec![0; 11_848_908]));
        assert_eq!(message, "the file is 11.3 MB; at most 10 MB");
        // Exactly 10 MB is parsed (and here rejected for not being a WAV).
        let message = expect_invalid(normalize_prompt(&vec![0x55; MAX_PROMPT_BYTES]));
        assert!(message.contains("not a WAV file"), "{message}");
    }

    #[test]
    fn five_minutes_and_one_second_is_too_long() {
        let codes = vec![0xFF; 8000 * 301];
        let message = expect_too_large(normalize_prompt(&sox_g711(7, 8000, &codes)));
        assert_eq!(message, "the message lasts 5 min 1 s; at most 5 minutes");
        // A fraction of a second over counts as the next second.
        let codes = vec![0xFF; 8000 * 300 + 1];
        let message = expect_too_large(normalize_prompt(&sox_g711(7, 8000, &codes)));
        assert_eq!(message, "the message lasts 5 min 1 s; at most 5 minutes");
    }

    #[test]
    fn the_duration_limit_counts_frames_at_the_files_own_rate() {
        let message = expect_too_large(normalize_prompt(&sox_g711(
            6,
            8000,
            &vec![0xD5; 8000 * 372],
        )));
        assert_eq!(message, "the message lasts 6 min 12 s; at most 5 minutes");
        let message = expect_too_large(normalize_prompt(&sox_g711(
            6,
            16_000,
            &vec![0xD5; 16_000 * 301],
        )));
        assert_eq!(message, "the message lasts 5 min 1 s; at most 5 minutes");
        // Stereo: 2.4 M samples are 1.2 M frames, 2 min 30 s, well within the limit …
        let stereo =
            |codes: &[u8]| riff(&[(b"fmt ", &fmt(7, 2, 8000, 8, &[0, 0])), (b"data", codes)]);
        let prompt = normalize_prompt(&stereo(&vec![0xFF; 2 * 8000 * 150])).expect("2 min 30 s");
        assert_eq!(prompt.duration_ms, 150_000);
        // … and 5 min 1 s of stereo is too long.
        let message = expect_too_large(normalize_prompt(&stereo(&vec![0xFF; 2 * 8000 * 301])));
        assert_eq!(message, "the message lasts 5 min 1 s; at most 5 minutes");
    }

    #[test]
    fn exactly_five_minutes_is_accepted() {
        let samples: Vec<i16> = (0..8000 * 300).map(|i| (i % 200 - 100) as i16).collect();
        let file = pcm16_wav(1, 8000, &samples);
        assert!(file.len() <= MAX_PROMPT_BYTES);
        let prompt = normalize_prompt(&file).expect("exactly at the limit");
        assert_eq!(prompt.duration_ms, 300_000);
        assert_eq!(prompt.samples.len(), 2_400_000);
    }

    #[test]
    fn limit_messages_read_naturally() {
        assert_eq!(megabytes(10 * 1024 * 1024), "10 MB");
        assert_eq!(megabytes(1), "0.1 MB");
        assert_eq!(minutes_seconds(312), "5 min 12 s");
        assert_eq!(minutes_seconds(300), "5 min");
        assert_eq!(minutes_seconds(42), "42 s");
    }

    /// xorshift64: deterministic pseudo-random numbers without a crate.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    fn seed_files() -> Vec<Vec<u8>> {
        let short = tone(64, 8000, 440.0, 10_000.0);
        let data16: Vec<u8> = short.iter().flat_map(|s| s.to_le_bytes()).collect();
        let floats: Vec<u8> = short
            .iter()
            .flat_map(|&s| (f32::from(s) / 32768.0).to_le_bytes())
            .collect();
        vec![
            pcm16_wav(1, 8000, &short),
            pcm16_wav(2, 44_100, &short),
            sox_g711(
                7,
                8000,
                &short.iter().map(|&s| encode_ulaw(s)).collect::<Vec<_>>(),
            ),
            sox_g711(6, 16_000, &[0xD5; 33]),
            riff(&[
                (b"LIST", b"INFOjunk"),
                (b"fmt ", &extensible_fmt(1, 2, 32_000, 16)),
                (b"data", &data16),
            ]),
            riff(&[
                (b"fmt ", &fmt(3, 1, 22_050, 32, &[0, 0])),
                (b"data", &floats),
            ]),
            riff(&[
                (b"fmt ", &fmt(1, 1, 48_000, 24, &[])),
                (b"data", &data16[..96]),
            ]),
        ]
    }

    fn mutate(rng: &mut XorShift, mut file: Vec<u8>) -> Vec<u8> {
        const INTERESTING: [u32; 10] = [
            0,
            1,
            2,
            3,
            0xFFFF_FFFF,
            0x8000_0000,
            0x7FFF_FFFF,
            8000,
            44_100,
            0xFFFE,
        ];
        for _ in 0..=rng.below(4) {
            match rng.below(6) {
                0 if !file.is_empty() => {
                    let at = rng.below(file.len());
                    file[at] = rng.next() as u8;
                }
                1 if file.len() >= 4 => {
                    let at = rng.below(file.len() - 3);
                    let value = if rng.below(2) == 0 {
                        INTERESTING[rng.below(INTERESTING.len())]
                    } else {
                        rng.next() as u32
                    };
                    file[at..at + 4].copy_from_slice(&value.to_le_bytes());
                }
                2 => {
                    let len = rng.below(file.len() + 1);
                    file.truncate(len);
                }
                3 => {
                    let at = rng.below(file.len() + 1);
                    let extra: Vec<u8> = (0..rng.below(16)).map(|_| rng.next() as u8).collect();
                    file.splice(at..at, extra);
                }
                4 if !file.is_empty() => {
                    // Repeat a slice of the file: duplicated or overlapping chunks.
                    let from = rng.below(file.len());
                    let to = from + rng.below(file.len() - from);
                    let copy = file[from..to].to_vec();
                    let at = rng.below(file.len() + 1);
                    file.splice(at..at, copy);
                }
                _ => {
                    // A chunk header with a random id and size at a random place.
                    let at = rng.below(file.len() + 1);
                    let ids: [&[u8; 4]; 4] = [b"fmt ", b"data", b"fact", b"LIST"];
                    let mut header = ids[rng.below(4)].to_vec();
                    header.extend_from_slice(&(rng.next() as u32 >> rng.below(32)).to_le_bytes());
                    file.splice(at..at, header);
                }
            }
        }
        file
    }

    #[test]
    fn thousands_of_mutated_and_random_inputs_never_make_it_panic() {
        let seeds = seed_files();
        for seed in &seeds {
            normalize_prompt(seed).expect("every seed file is valid");
        }
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let (mut accepted, mut rejected) = (0, 0);
        for case in 0..4000 {
            let input = match rng.below(8) {
                0 => (0..rng.below(80)).map(|_| rng.next() as u8).collect(),
                1 => {
                    let mut f = b"RIFF\xff\xff\xff\xffWAVE".to_vec();
                    f.extend((0..rng.below(80)).map(|_| rng.next() as u8));
                    f
                }
                _ => {
                    let seed = seeds[rng.below(seeds.len())].clone();
                    mutate(&mut rng, seed)
                }
            };
            match normalize_prompt(&input) {
                Ok(prompt) => {
                    accepted += 1;
                    assert!(!prompt.samples.is_empty(), "case {case}");
                    assert_eq!(
                        prompt.wav.len(),
                        44 + 2 * prompt.samples.len(),
                        "case {case}"
                    );
                    assert!(prompt.duration_ms <= MAX_PROMPT_DURATION.as_millis() as u64);
                }
                Err(Error::Invalid { field, message } | Error::TooLarge { field, message }) => {
                    rejected += 1;
                    assert_eq!(field, "audio", "case {case}");
                    assert!(!message.is_empty(), "case {case}");
                }
                Err(other) => panic!("case {case}: unexpected error {other:?}"),
            }
        }
        // The mutations exercise both paths, not only the early rejections.
        assert!(
            accepted > 200 && rejected > 200,
            "{accepted} accepted, {rejected} rejected"
        );
    }
}
