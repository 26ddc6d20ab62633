//! Reading the WAV files people actually upload, and writing 16-bit PCM ones.
//!
//! [`decode`] walks the RIFF chunks instead of assuming the canonical 44-byte
//! header: sox writes µ-law files with an 18-byte `fmt ` chunk followed by a
//! `fact` chunk, editors add `LIST`/`bext`/`id3 ` chunks anywhere, and chunks of
//! odd size are followed by one pad byte. Unknown chunks are skipped.
//!
//! Accepted encodings: PCM (format 1) 8-bit unsigned, 16, 24 and 32-bit signed;
//! IEEE float (format 3) 32 and 64-bit; A-law (format 6); µ-law (format 7); and
//! `WAVE_FORMAT_EXTENSIBLE` (0xFFFE) whose sub-format is one of those. One or two
//! channels, 8,000 to 192,000 Hz. Everything is converted to interleaved `i16`.
//!
//! The input is untrusted: nothing here panics, and no allocation is sized from a
//! header field: the sample buffer is bounded by the bytes actually present.
//!
//! **Truncated files.** When the `data` chunk claims more bytes than the file
//! holds (an upload cut short, or a writer that streamed to a pipe and left a
//! placeholder size such as `0xFFFFFFFF`), the audio that *is* there is decoded
//! and a trailing partial frame is dropped, as media players do. A truncated
//! `fmt ` chunk is an error, since nothing can be decoded without it.

use std::fmt;
use std::io::Cursor;

use crate::{Error, Result};
use audio_codec_algorithms::{decode_alaw, decode_ulaw};

/// The field that input errors are blamed on.
const FIELD: &str = "audio";

/// Lowest accepted sample rate, in Hz.
pub const MIN_SAMPLE_RATE: u32 = 8_000;
/// Highest accepted sample rate, in Hz.
pub const MAX_SAMPLE_RATE: u32 = 192_000;
/// Most channels accepted (stereo).
pub const MAX_CHANNELS: u16 = 2;

const WAVE_FORMAT_PCM: u16 = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT: u16 = 0x0003;
const WAVE_FORMAT_ALAW: u16 = 0x0006;
const WAVE_FORMAT_MULAW: u16 = 0x0007;
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// Bytes 2..16 of every `KSDATAFORMAT_SUBTYPE_*` GUID derived from a format tag
/// (`{0000xxxx-0000-0010-8000-00AA00389B71}`, little-endian in the file).
const KSDATAFORMAT_GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// How the samples of a WAV file were stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// 8-bit unsigned PCM (128 is silence).
    Pcm8,
    /// 16-bit signed little-endian PCM.
    Pcm16,
    /// 24-bit signed little-endian PCM.
    Pcm24,
    /// 32-bit signed little-endian PCM.
    Pcm32,
    /// 32-bit IEEE float, full scale ±1.0.
    Float32,
    /// 64-bit IEEE float, full scale ±1.0.
    Float64,
    /// G.711 A-law, 8 bits.
    ALaw,
    /// G.711 µ-law, 8 bits.
    MuLaw,
}

impl Encoding {
    /// Bytes one sample of one channel takes in the file.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            Encoding::Pcm8 | Encoding::ALaw | Encoding::MuLaw => 1,
            Encoding::Pcm16 => 2,
            Encoding::Pcm24 => 3,
            Encoding::Pcm32 | Encoding::Float32 => 4,
            Encoding::Float64 => 8,
        }
    }

    /// Converts one sample's bytes (exactly [`Self::bytes_per_sample`] of them)
    /// to 16-bit linear, rounding to nearest and saturating.
    fn to_i16(self, b: &[u8]) -> i16 {
        match (self, b) {
            (Encoding::Pcm8, &[u]) => (i16::from(u) - 128) << 8,
            (Encoding::Pcm16, &[lo, hi]) => i16::from_le_bytes([lo, hi]),
            (Encoding::Pcm24, &[b0, b1, b2]) => {
                // Sign-extend through the top of an i32, then round off 8 bits.
                let v = i32::from_le_bytes([0, b0, b1, b2]) >> 8;
                round_shift(i64::from(v), 8)
            }
            (Encoding::Pcm32, &[b0, b1, b2, b3]) => {
                round_shift(i64::from(i32::from_le_bytes([b0, b1, b2, b3])), 16)
            }
            (Encoding::Float32, &[b0, b1, b2, b3]) => {
                float_to_i16(f64::from(f32::from_le_bytes([b0, b1, b2, b3])))
            }
            (Encoding::Float64, &[b0, b1, b2, b3, b4, b5, b6, b7]) => {
                float_to_i16(f64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]))
            }
            (Encoding::ALaw, &[code]) => decode_alaw(code),
            (Encoding::MuLaw, &[code]) => decode_ulaw(code),
            // Unreachable: callers pass chunks of exactly bytes_per_sample().
            _ => 0,
        }
    }
}

/// `v / 2^shift` rounded to nearest, saturated to i16.
fn round_shift(v: i64, shift: u32) -> i16 {
    let rounded = (v + (1 << (shift - 1))) >> shift;
    rounded.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
}

/// A float sample (full scale ±1.0) to i16: rounded, saturated, NaN → 0.
fn float_to_i16(x: f64) -> i16 {
    // `as` from float saturates at the i16 bounds and maps NaN to 0.
    (x * 32768.0).round() as i16
}

/// A decoded WAV file: its format and its samples as 16-bit linear PCM.
#[derive(Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Samples per second per channel, 8,000 to 192,000.
    pub sample_rate: u32,
    /// 1 (mono) or 2 (stereo).
    pub channels: u16,
    /// How the file stored the samples.
    pub encoding: Encoding,
    /// The samples, interleaved when stereo (left, right, left, …); always a whole
    /// number of frames.
    pub samples: Vec<i16>,
}

impl Decoded {
    /// Number of frames (one sample per channel each).
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }

    /// Duration in whole milliseconds, rounded down.
    pub fn duration_ms(&self) -> u64 {
        (self.frames() as u64).saturating_mul(1000) / u64::from(self.sample_rate.max(1))
    }
}

impl fmt::Debug for Decoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoded")
            .field("sample_rate", &self.sample_rate)
            .field("channels", &self.channels)
            .field("encoding", &self.encoding)
            .field("samples", &format_args!("[{} samples]", self.samples.len()))
            .finish()
    }
}

/// Decodes a WAV file held in memory (see the module doc for what is accepted
/// and how truncated files are handled).
///
/// # Errors
/// [`Error::Invalid`] on field `"audio"`, saying why: not a WAV file, an
/// unsupported encoding, channel count or sample rate, or a missing `fmt `/`data`
/// chunk. An empty `data` chunk is *not* an error here (it decodes to no samples).
pub fn decode(input: &[u8]) -> Result<Decoded> {
    let body = riff_wave_body(input)?;

    let mut fmt_chunk: Option<&[u8]> = None;
    let mut data_chunk: Option<&[u8]> = None;
    for chunk in (Chunks { rest: body }) {
        match &chunk.id {
            b"fmt " if fmt_chunk.is_none() => {
                if chunk.truncated {
                    return Err(invalid(format!(
                        "invalid WAV file: the fmt chunk is cut short ({} of {} bytes)",
                        chunk.body.len(),
                        chunk.declared_len
                    )));
                }
                fmt_chunk = Some(chunk.body);
            }
            b"data" if data_chunk.is_none() => data_chunk = Some(chunk.body),
            _ => {}
        }
    }

    let fmt_chunk = fmt_chunk
        .ok_or_else(|| invalid("invalid WAV file: it has no fmt chunk (format header)"))?;
    let format = Format::parse(fmt_chunk)?;
    let data = data_chunk.ok_or_else(|| invalid("invalid WAV file: it has no data chunk"))?;

    let sample_bytes = format.encoding.bytes_per_sample();
    let frame_bytes = sample_bytes * usize::from(format.channels);
    let whole = data.len() - data.len() % frame_bytes;
    // Bounded by the input: at most one i16 per input byte.
    let samples = data[..whole]
        .chunks_exact(sample_bytes)
        .map(|b| format.encoding.to_i16(b))
        .collect();

    Ok(Decoded {
        sample_rate: format.sample_rate,
        channels: format.channels,
        encoding: format.encoding,
        samples,
    })
}

/// Writes 16-bit PCM mono samples as a canonical 44-byte-header WAV file.
///
/// A WAV file cannot hold more than 4 GiB, so at most about 2^31 samples are
/// written; anything beyond that (some 74 hours at 8 kHz) is dropped.
pub fn write_pcm16_mono(sample_rate: u32, samples: &[i16]) -> Vec<u8> {
    /// Most 16-bit samples whose data and RIFF sizes still fit a u32.
    const MAX_SAMPLES: usize = (u32::MAX as usize - 36) / 2;
    let samples = &samples[..samples.len().min(MAX_SAMPLES)];
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Vec::with_capacity(44 + 2 * samples.len());
    let written = (|| -> hound::Result<()> {
        let mut writer = hound::WavWriter::new(Cursor::new(&mut out), spec)?;
        for &sample in samples {
            writer.write_sample(sample)?;
        }
        writer.finalize()
    })();
    // hound only fails on I/O errors, unsupported specs and sizes over 4 GiB; a
    // Vec never fails to accept bytes, the spec is fixed and supported, and the
    // size was capped above.
    debug_assert!(
        written.is_ok(),
        "hound failed writing to memory: {written:?}"
    );
    out
}

/// Checks the 12-byte `RIFF….WAVE` header and returns the chunks after it.
fn riff_wave_body(input: &[u8]) -> Result<&[u8]> {
    if input.is_empty() {
        return Err(invalid("the file is empty"));
    }
    match (input.get(0..4), input.get(8..12)) {
        (Some(b"RIFF"), Some(b"WAVE")) => Ok(&input[12..]),
        (Some(b"RIFF"), Some(kind)) => Err(invalid(format!(
            "not a WAV file (a RIFF file of type \"{}\", not WAVE)",
            String::from_utf8_lossy(kind).trim_end()
        ))),
        (Some(b"RF64" | b"BW64"), _) => Err(invalid(
            "unsupported WAV variant: RF64 (64-bit WAV); save it as an ordinary WAV file",
        )),
        (Some(b"RIFX"), _) => Err(invalid(
            "unsupported WAV variant: big-endian RIFX; save it as an ordinary WAV file",
        )),
        _ => Err(invalid(match sniff(input) {
            Some(kind) => {
                format!(
                    "not a WAV file (no RIFF/WAVE header; it looks like {kind}); upload a WAV file"
                )
            }
            None => "not a WAV file (no RIFF/WAVE header)".to_owned(),
        })),
    }
}

/// Names a few common non-WAV audio formats by their magic bytes, for a kinder
/// error message.
fn sniff(input: &[u8]) -> Option<&'static str> {
    match input {
        [b'I', b'D', b'3', ..] | [0xFF, 0xE0..=0xFF, ..] => Some("an MP3 file"),
        [b'O', b'g', b'g', b'S', ..] => Some("an Ogg file"),
        [b'f', b'L', b'a', b'C', ..] => Some("a FLAC file"),
        [b'F', b'O', b'R', b'M', _, _, _, _, b'A', b'I', b'F', ..] => Some("an AIFF file"),
        [_, _, _, _, b'f', b't', b'y', b'p', ..] => Some("an MP4/M4A file"),
        [0x30, 0x26, 0xB2, 0x75, ..] => Some("a WMA file"),
        [b'#', b'!', b'A', b'M', b'R', ..] => Some("an AMR file"),
        _ => None,
    }
}

/// One RIFF chunk as found in the input.
struct Chunk<'a> {
    id: [u8; 4],
    /// The chunk's bytes: all `declared_len` of them, or what the input still
    /// held when it ends first (`truncated`).
    body: &'a [u8],
    declared_len: u32,
    truncated: bool,
}

/// Walks RIFF chunks: 4-byte id, u32 little-endian size, body, and one pad byte
/// after an odd-sized body. Stops at the end of the input, at a partial chunk
/// header, or after a chunk that runs past the end (which it yields, truncated).
struct Chunks<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        let (header, after) = self.rest.split_first_chunk::<8>()?;
        let id = [header[0], header[1], header[2], header[3]];
        let declared_len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        // u32 → usize is lossless on the 32- and 64-bit targets we build for; on a
        // 16-bit one the saturation simply marks the chunk truncated.
        let len = usize::try_from(declared_len).unwrap_or(usize::MAX);
        if len > after.len() {
            self.rest = &[];
            return Some(Chunk {
                id,
                body: after,
                declared_len,
                truncated: true,
            });
        }
        let (body, rest) = after.split_at(len);
        // Skip the pad byte if there is one (some writers omit it at the end).
        let pad = (len % 2).min(rest.len());
        self.rest = &rest[pad..];
        Some(Chunk {
            id,
            body,
            declared_len,
            truncated: false,
        })
    }
}

/// What the `fmt ` chunk says, validated.
struct Format {
    encoding: Encoding,
    channels: u16,
    sample_rate: u32,
}

impl Format {
    fn parse(chunk: &[u8]) -> Result<Format> {
        let u16_at = |i: usize| {
            chunk
                .get(i..i + 2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
        };
        let u32_at = |i: usize| {
            chunk
                .get(i..i + 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let (Some(tag), Some(channels), Some(sample_rate), Some(block_align), Some(bits)) =
            (u16_at(0), u16_at(2), u32_at(4), u16_at(12), u16_at(14))
        else {
            return Err(invalid(format!(
                "invalid WAV file: the fmt chunk is {} bytes; at least 16 expected",
                chunk.len()
            )));
        };

        let tag = if tag == WAVE_FORMAT_EXTENSIBLE {
            // cbSize(2) validBits(2) channelMask(4) then the 16-byte SubFormat GUID.
            let guid = chunk.get(24..40).ok_or_else(|| {
                invalid(format!(
                    "invalid WAV file: the WAVE_FORMAT_EXTENSIBLE fmt chunk is {} bytes; 40 expected",
                    chunk.len()
                ))
            })?;
            if guid[2..] != KSDATAFORMAT_GUID_TAIL {
                return Err(invalid(
                    "unsupported WAV encoding: an unknown WAVE_FORMAT_EXTENSIBLE sub-format; use PCM, µ-law or A-law",
                ));
            }
            u16::from_le_bytes([guid[0], guid[1]])
        } else {
            tag
        };

        let encoding = match (tag, bits) {
            (WAVE_FORMAT_PCM, 8) => Encoding::Pcm8,
            (WAVE_FORMAT_PCM, 16) => Encoding::Pcm16,
            (WAVE_FORMAT_PCM, 24) => Encoding::Pcm24,
            (WAVE_FORMAT_PCM, 32) => Encoding::Pcm32,
            (WAVE_FORMAT_PCM, bits) => {
                return Err(invalid(format!(
                    "unsupported WAV encoding: {bits}-bit PCM; use 8, 16, 24 or 32-bit PCM"
                )));
            }
            (WAVE_FORMAT_IEEE_FLOAT, 32) => Encoding::Float32,
            (WAVE_FORMAT_IEEE_FLOAT, 64) => Encoding::Float64,
            (WAVE_FORMAT_IEEE_FLOAT, bits) => {
                return Err(invalid(format!(
                    "unsupported WAV encoding: {bits}-bit float; use 32-bit float or 16-bit PCM"
                )));
            }
            (WAVE_FORMAT_ALAW, 8) => Encoding::ALaw,
            (WAVE_FORMAT_MULAW, 8) => Encoding::MuLaw,
            (WAVE_FORMAT_ALAW | WAVE_FORMAT_MULAW, bits) => {
                return Err(invalid(format!(
                    "unsupported WAV encoding: {bits}-bit G.711; µ-law and A-law are 8-bit"
                )));
            }
            (tag, _) => {
                let name = match format_name(tag) {
                    Some(name) => format!("{name} (format 0x{tag:X})"),
                    None => format!("format 0x{tag:X}"),
                };
                return Err(invalid(format!(
                    "unsupported WAV encoding: {name}; use PCM, µ-law or A-law"
                )));
            }
        };

        if channels == 0 {
            return Err(invalid("invalid WAV file: the header says 0 channels"));
        }
        if channels > MAX_CHANNELS {
            return Err(invalid(format!(
                "the file has {channels} channels; only mono or stereo is supported"
            )));
        }
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
            return Err(invalid(format!(
                "unsupported sample rate: {sample_rate} Hz; use 8000 to 192000 Hz"
            )));
        }
        let expected_align = encoding.bytes_per_sample() * usize::from(channels);
        if usize::from(block_align) != expected_align {
            return Err(invalid(format!(
                "invalid WAV file: the block size is {block_align} bytes, but {channels} channel(s) of {bits}-bit samples take {expected_align}"
            )));
        }

        Ok(Format {
            encoding,
            channels,
            sample_rate,
        })
    }
}

/// Human names of format tags that people run into.
fn format_name(tag: u16) -> Option<&'static str> {
    Some(match tag {
        0x0002 => "Microsoft ADPCM",
        0x0011 => "IMA ADPCM",
        0x0031 => "GSM 6.10",
        0x0040 => "G.721 ADPCM",
        0x0050 => "MPEG audio",
        0x0055 => "MP3",
        0x0161..=0x0163 => "Windows Media Audio",
        0x1610 => "AAC",
        0xF1AC => "FLAC",
        _ => return None,
    })
}

fn invalid(message: impl Into<String>) -> Error {
    Error::invalid(FIELD, message)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a WAV file by hand: `RIFF`, `WAVE`, then `chunks` in order, each
    /// padded to even length. The RIFF size is right.
    pub(crate) fn riff(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut body = b"WAVE".to_vec();
        for (id, data) in chunks {
            body.extend_from_slice(*id);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut file = b"RIFF".to_vec();
        file.extend_from_slice(&(body.len() as u32).to_le_bytes());
        file.extend(body);
        file
    }

    /// A `fmt ` chunk body: the 16 classic bytes, plus `extra` (cbSize and beyond).
    pub(crate) fn fmt(tag: u16, channels: u16, rate: u32, bits: u16, extra: &[u8]) -> Vec<u8> {
        let block_align = channels * bits.div_ceil(8);
        let mut f = Vec::new();
        f.extend_from_slice(&tag.to_le_bytes());
        f.extend_from_slice(&channels.to_le_bytes());
        f.extend_from_slice(&rate.to_le_bytes());
        f.extend_from_slice(&rate.wrapping_mul(u32::from(block_align)).to_le_bytes());
        f.extend_from_slice(&block_align.to_le_bytes());
        f.extend_from_slice(&bits.to_le_bytes());
        f.extend_from_slice(extra);
        f
    }

    /// A G.711 WAV exactly as `sox … -e mu-law` / `-e a-law` writes it: an 18-byte
    /// fmt chunk (cbSize = 0), a `fact` chunk with the sample count, then `data`.
    pub(crate) fn sox_g711(tag: u16, rate: u32, codes: &[u8]) -> Vec<u8> {
        let fact = (codes.len() as u32).to_le_bytes();
        riff(&[
            (b"fmt ", &fmt(tag, 1, rate, 8, &0u16.to_le_bytes())),
            (b"fact", &fact),
            (b"data", codes),
        ])
    }

    /// A WAVE_FORMAT_EXTENSIBLE fmt chunk whose sub-format is `sub_tag`.
    pub(crate) fn extensible_fmt(sub_tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
        let mut extra = Vec::new();
        extra.extend_from_slice(&22u16.to_le_bytes()); // cbSize
        extra.extend_from_slice(&bits.to_le_bytes()); // wValidBitsPerSample
        let mask: u32 = if channels == 1 { 0x4 } else { 0x3 };
        extra.extend_from_slice(&mask.to_le_bytes());
        extra.extend_from_slice(&sub_tag.to_le_bytes());
        extra.extend_from_slice(&KSDATAFORMAT_GUID_TAIL);
        fmt(WAVE_FORMAT_EXTENSIBLE, channels, rate, bits, &extra)
    }

    fn hound_wav<S: hound::Sample + Copy>(
        spec: hound::WavSpec,
        samples: impl IntoIterator<Item = S>,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = hound::WavWriter::new(Cursor::new(&mut out), spec).expect("spec");
        for s in samples {
            w.write_sample(s).expect("write");
        }
        w.finalize().expect("finalize");
        out
    }

    fn spec(channels: u16, rate: u32, bits: u16, format: hound::SampleFormat) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: format,
        }
    }

    fn sine(n: usize, rate: u32, hz: f64, amplitude: f64) -> Vec<f64> {
        (0..n)
            .map(|i| {
                amplitude * (2.0 * std::f64::consts::PI * hz * i as f64 / f64::from(rate)).sin()
            })
            .collect()
    }

    fn message(err: Error) -> String {
        match err {
            Error::Invalid { field, message } => {
                assert_eq!(field, "audio");
                message
            }
            other => panic!("expected Invalid on audio, got {other:?}"),
        }
    }

    fn rejects(input: &[u8], expected: &str) {
        let msg = message(decode(input).expect_err("should be rejected"));
        assert!(
            msg.contains(expected),
            "message {msg:?} should contain {expected:?}"
        );
    }

    #[test]
    fn a_16_bit_mono_wav_from_hound_decodes_sample_for_sample() {
        let samples: Vec<i16> = (0..1000).map(|i| (i * 61 % 65536 - 32768) as i16).collect();
        let file = hound_wav(
            spec(1, 16_000, 16, hound::SampleFormat::Int),
            samples.clone(),
        );
        let d = decode(&file).expect("decodes");
        assert_eq!(
            (d.sample_rate, d.channels, d.encoding),
            (16_000, 1, Encoding::Pcm16)
        );
        assert_eq!(d.samples, samples);
        assert_eq!(d.frames(), 1000);
    }

    #[test]
    fn write_pcm16_mono_round_trips_through_decode() {
        let samples: Vec<i16> = vec![0, 1, -1, i16::MAX, i16::MIN, 1234];
        let file = write_pcm16_mono(8000, &samples);
        assert_eq!(
            file.len(),
            44 + 2 * samples.len(),
            "canonical 44-byte header"
        );
        let d = decode(&file).expect("decodes");
        assert_eq!((d.sample_rate, d.channels), (8000, 1));
        assert_eq!(d.samples, samples);
        let reader = hound::WavReader::new(Cursor::new(&file)).expect("hound reads it");
        assert_eq!(reader.spec(), spec(1, 8000, 16, hound::SampleFormat::Int));
    }

    #[test]
    fn an_8_bit_unsigned_wav_decodes_with_128_as_silence() {
        let values: Vec<i8> = (-128..=127).collect();
        let file = hound_wav(spec(1, 8000, 8, hound::SampleFormat::Int), values.clone());
        // hound stores i8 as unsigned with a +128 offset, as the format requires.
        let data_start = file.len() - values.len();
        assert_eq!(file[data_start], 0, "-128 is stored as 0");
        let d = decode(&file).expect("decodes");
        assert_eq!(d.encoding, Encoding::Pcm8);
        let expected: Vec<i16> = values.iter().map(|&v| i16::from(v) << 8).collect();
        assert_eq!(d.samples, expected);
    }

    #[test]
    fn a_24_bit_stereo_wav_decodes_to_the_rounded_top_16_bits() {
        let wave = sine(480, 48_000, 1000.0, 0.9 * 8_388_607.0);
        let interleaved: Vec<i32> = wave.iter().flat_map(|&v| [v as i32, -(v as i32)]).collect();
        // hound writes 24-bit as WAVE_FORMAT_EXTENSIBLE; also hand-build plain format 1.
        let via_hound = hound_wav(
            spec(2, 48_000, 24, hound::SampleFormat::Int),
            interleaved.clone(),
        );
        let data: Vec<u8> = interleaved
            .iter()
            .flat_map(|v| {
                let b = v.to_le_bytes();
                [b[0], b[1], b[2]]
            })
            .collect();
        let plain = riff(&[(b"fmt ", &fmt(1, 2, 48_000, 24, &[])), (b"data", &data)]);
        for file in [via_hound, plain] {
            let d = decode(&file).expect("decodes");
            assert_eq!((d.channels, d.encoding), (2, Encoding::Pcm24));
            assert_eq!(d.samples.len(), interleaved.len());
            for (&got, &v) in d.samples.iter().zip(&interleaved) {
                let want = (f64::from(v) / 256.0).round();
                assert!((f64::from(got) - want).abs() <= 1.0, "{got} vs {want}");
            }
        }
    }

    #[test]
    fn a_32_bit_integer_wav_decodes_to_the_top_16_bits() {
        let values = [0, i32::MAX, i32::MIN, 65_536 * 1000, -65_536 * 1000, 32_768];
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let file = riff(&[(b"fmt ", &fmt(1, 1, 8000, 32, &[])), (b"data", &data)]);
        let d = decode(&file).expect("decodes");
        assert_eq!(d.encoding, Encoding::Pcm32);
        assert_eq!(d.samples, [0, i16::MAX, i16::MIN, 1000, -1000, 1]);
    }

    #[test]
    fn a_32_bit_float_wav_decodes_scaled_rounded_and_clipped() {
        let values = [0.0f32, 0.5, -0.5, 1.0, -1.0, 1.7, -3.0, f32::NAN, 0.25];
        let expected = [
            0,
            16384,
            -16384,
            i16::MAX,
            i16::MIN,
            i16::MAX,
            i16::MIN,
            0,
            8192,
        ];
        // Plain format 3 (as sox and most editors write it) …
        let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let plain = riff(&[
            (b"fmt ", &fmt(3, 1, 22_050, 32, &0u16.to_le_bytes())),
            (b"data", &data),
        ]);
        // … and WAVE_FORMAT_EXTENSIBLE with the float sub-format, as hound writes it.
        let extensible = hound_wav(spec(1, 22_050, 32, hound::SampleFormat::Float), values);
        for file in [plain, extensible] {
            let d = decode(&file).expect("decodes");
            assert_eq!((d.sample_rate, d.encoding), (22_050, Encoding::Float32));
            assert_eq!(d.samples, expected);
        }
    }

    #[test]
    fn a_64_bit_float_wav_decodes_too() {
        let data: Vec<u8> = [0.5f64, -0.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let file = riff(&[(b"fmt ", &fmt(3, 1, 8000, 64, &[])), (b"data", &data)]);
        assert_eq!(decode(&file).expect("decodes").samples, [16384, -8192]);
    }

    #[test]
    fn a_sox_ulaw_wav_with_fact_chunk_decodes_through_g711() {
        let wave = sine(800, 8000, 400.0, 20_000.0);
        let codes: Vec<u8> = wave
            .iter()
            .map(|&v| audio_codec_algorithms::encode_ulaw(v as i16))
            .collect();
        let file = sox_g711(WAVE_FORMAT_MULAW, 8000, &codes);
        assert_eq!(
            &file[16..20],
            &18u32.to_le_bytes(),
            "18-byte fmt chunk, as sox writes"
        );
        assert_eq!(&file[38..42], b"fact");
        let d = decode(&file).expect("decodes");
        assert_eq!(
            (d.sample_rate, d.channels, d.encoding),
            (8000, 1, Encoding::MuLaw)
        );
        let expected: Vec<i16> = codes.iter().map(|&c| decode_ulaw(c)).collect();
        assert_eq!(d.samples, expected);
        for (&got, &v) in d.samples.iter().zip(&wave) {
            // µ-law's largest step near 20,000 is 1024: the waveform is the sine.
            assert!((f64::from(got) - v).abs() <= 512.0 + 1.0, "{got} vs {v}");
        }
    }

    #[test]
    fn a_sox_alaw_wav_decodes_through_g711() {
        let wave = sine(800, 8000, 400.0, 20_000.0);
        let codes: Vec<u8> = wave
            .iter()
            .map(|&v| audio_codec_algorithms::encode_alaw(v as i16))
            .collect();
        let d = decode(&sox_g711(WAVE_FORMAT_ALAW, 8000, &codes)).expect("decodes");
        assert_eq!(d.encoding, Encoding::ALaw);
        for (&got, &v) in d.samples.iter().zip(&wave) {
            assert!((f64::from(got) - v).abs() <= 512.0 + 1.0, "{got} vs {v}");
        }
    }

    #[test]
    fn an_odd_sized_data_chunk_is_padded_and_later_chunks_are_still_found() {
        // Odd µ-law data, its pad byte, then a LIST chunk after the data; and a
        // LIST chunk before fmt too.
        let codes = [0xFF, 0x00, 0x80];
        let file = riff(&[
            (b"LIST", b"INFOISFT\x05\x00\x00\x00sox!\x00\x00"),
            (b"fmt ", &fmt(7, 1, 8000, 8, &0u16.to_le_bytes())),
            (b"data", &codes),
            (b"LIST", b"INFO"),
        ]);
        let d = decode(&file).expect("decodes");
        assert_eq!(d.samples, [0, -32124, 32124]);
    }

    #[test]
    fn a_data_chunk_before_the_fmt_chunk_is_still_decoded() {
        let file = riff(&[
            (b"data", &[0xD5, 0x55]),
            (b"fmt ", &fmt(6, 1, 8000, 8, &[])),
        ]);
        assert_eq!(decode(&file).expect("decodes").samples, [8, -8]);
    }

    #[test]
    fn an_extensible_16_bit_stereo_wav_decodes_through_its_subformat() {
        let samples: Vec<i16> = (0..400).map(|i| (i * 150 - 30_000) as i16).collect();
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let file = riff(&[
            (b"fmt ", &extensible_fmt(WAVE_FORMAT_PCM, 2, 32_000, 16)),
            (b"data", &data),
        ]);
        let d = decode(&file).expect("decodes");
        assert_eq!(
            (d.sample_rate, d.channels, d.encoding),
            (32_000, 2, Encoding::Pcm16)
        );
        assert_eq!(d.samples, samples);
        assert_eq!(d.frames(), 200);
    }

    #[test]
    fn an_extensible_ulaw_wav_decodes_through_its_subformat() {
        let codes = [0x00, 0x7F, 0x80, 0xFF];
        let file = riff(&[
            (b"fmt ", &extensible_fmt(WAVE_FORMAT_MULAW, 1, 8000, 8)),
            (b"data", &codes),
        ]);
        let d = decode(&file).expect("decodes");
        assert_eq!(d.encoding, Encoding::MuLaw);
        assert_eq!(d.samples, [-32124, 0, 32124, 0]);
    }

    #[test]
    fn a_truncated_data_chunk_yields_the_whole_frames_present() {
        // The header claims 2^31 bytes, the file holds 7 bytes of 16-bit stereo
        // (one whole frame and a bit): no huge allocation, no panic.
        let mut file = riff(&[
            (b"fmt ", &fmt(1, 2, 8000, 16, &[])),
            (b"data", &[1, 0, 2, 0, 3, 0, 4]),
        ]);
        let size_at = file.len() - 7 - 1 - 4; // data, pad, size field
        file[size_at..size_at + 4].copy_from_slice(&(1u32 << 31).to_le_bytes());
        file.pop(); // drop the pad byte: the file ends mid-chunk
        let d = decode(&file).expect("decodes what is there");
        assert_eq!(d.samples, [1, 2]);
        assert!(d.samples.capacity() < 16);
    }

    #[test]
    fn a_streamed_wav_with_placeholder_sizes_decodes() {
        let mut file = riff(&[
            (b"fmt ", &fmt(1, 1, 8000, 16, &[])),
            (b"data", &[5, 0, 6, 0]),
        ]);
        file[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        let n = file.len();
        file[n - 8..n - 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(decode(&file).expect("decodes").samples, [5, 6]);
    }

    #[test]
    fn empty_input_is_rejected() {
        rejects(b"", "the file is empty");
    }

    #[test]
    fn random_bytes_are_not_a_wav_file() {
        rejects(
            b"\x13\x37\xC0\xDE some bytes that are not audio at all",
            "not a WAV file (no RIFF/WAVE header)",
        );
        rejects(b"RIF", "not a WAV file");
    }

    #[test]
    fn an_mp3_is_not_a_wav_file_and_the_message_says_so() {
        rejects(b"ID3\x04\x00\x00\x00\x00\x00\x00rest", "not a WAV file");
        rejects(b"ID3\x04\x00\x00\x00\x00\x00\x00rest", "MP3");
        rejects(&[0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0, 0, 0, 0, 0], "MP3");
    }

    #[test]
    fn a_riff_file_that_is_not_wave_is_rejected() {
        let mut file = riff(&[(b"fmt ", &fmt(1, 1, 8000, 16, &[]))]);
        file[8..12].copy_from_slice(b"AVI ");
        rejects(&file, "not a WAV file (a RIFF file of type \"AVI\"");
    }

    #[test]
    fn rf64_and_rifx_are_named_in_the_error() {
        let mut file = riff(&[(b"fmt ", &fmt(1, 1, 8000, 16, &[])), (b"data", &[0, 0])]);
        file[0..4].copy_from_slice(b"RF64");
        rejects(&file, "RF64");
        file[0..4].copy_from_slice(b"RIFX");
        rejects(&file, "RIFX");
    }

    #[test]
    fn a_wav_without_fmt_chunk_is_rejected() {
        rejects(&riff(&[(b"data", &[0, 0, 0, 0])]), "no fmt chunk");
    }

    #[test]
    fn a_wav_without_data_chunk_is_rejected() {
        rejects(
            &riff(&[(b"fmt ", &fmt(1, 1, 8000, 16, &[])), (b"LIST", b"INFO")]),
            "no data chunk",
        );
    }

    #[test]
    fn a_short_or_truncated_fmt_chunk_is_rejected() {
        rejects(
            &riff(&[(b"fmt ", &[1, 0, 1, 0]), (b"data", &[0, 0])]),
            "fmt chunk is 4 bytes",
        );
        let mut file = riff(&[(b"fmt ", &fmt(1, 1, 8000, 16, &[]))]);
        file.truncate(file.len() - 3);
        rejects(&file, "fmt chunk is cut short (13 of 16 bytes)");
    }

    #[test]
    fn three_channels_are_rejected() {
        let file = riff(&[(b"fmt ", &fmt(1, 3, 8000, 16, &[])), (b"data", &[0; 6])]);
        rejects(
            &file,
            "the file has 3 channels; only mono or stereo is supported",
        );
        let file = riff(&[
            (b"fmt ", &extensible_fmt(1, 6, 48_000, 16)),
            (b"data", &[0; 12]),
        ]);
        rejects(&file, "6 channels");
    }

    #[test]
    fn zero_channels_are_rejected() {
        let mut f = fmt(1, 1, 8000, 16, &[]);
        f[2] = 0;
        rejects(&riff(&[(b"fmt ", &f), (b"data", &[0, 0])]), "0 channels");
    }

    #[test]
    fn an_adpcm_wav_is_rejected_naming_the_encoding() {
        let mut f = fmt(0x11, 1, 8000, 4, &2u16.to_le_bytes());
        f[12..14].copy_from_slice(&256u16.to_le_bytes());
        rejects(
            &riff(&[(b"fmt ", &f), (b"fact", &[0; 4]), (b"data", &[0; 256])]),
            "unsupported WAV encoding: IMA ADPCM (format 0x11); use PCM, µ-law or A-law",
        );
        rejects(
            &riff(&[
                (b"fmt ", &fmt(0x1234, 1, 8000, 16, &[])),
                (b"data", &[0; 2]),
            ]),
            "unsupported WAV encoding: format 0x1234",
        );
    }

    #[test]
    fn unsupported_bit_depths_and_extensible_subformats_are_rejected() {
        rejects(
            &riff(&[(b"fmt ", &fmt(1, 1, 8000, 12, &[])), (b"data", &[0; 2])]),
            "12-bit PCM",
        );
        rejects(
            &riff(&[(b"fmt ", &fmt(3, 1, 8000, 16, &[])), (b"data", &[0; 2])]),
            "16-bit float",
        );
        rejects(
            &riff(&[(b"fmt ", &fmt(7, 1, 8000, 16, &[])), (b"data", &[0; 2])]),
            "16-bit G.711",
        );
        let mut ext = extensible_fmt(1, 1, 8000, 16);
        ext[30] ^= 0xFF; // corrupt the GUID tail
        rejects(
            &riff(&[(b"fmt ", &ext), (b"data", &[0; 2])]),
            "unknown WAVE_FORMAT_EXTENSIBLE sub-format",
        );
        rejects(
            &riff(&[
                (b"fmt ", &extensible_fmt(2, 1, 8000, 4)[..20]),
                (b"data", &[0; 2]),
            ]),
            "40 expected",
        );
    }

    #[test]
    fn sample_rates_outside_8_to_192_khz_are_rejected() {
        for rate in [0, 4000, 7999, 192_001, u32::MAX] {
            let file = riff(&[(b"fmt ", &fmt(1, 1, rate, 16, &[])), (b"data", &[0; 2])]);
            rejects(&file, "unsupported sample rate");
        }
        for rate in [8000, 11_025, 192_000] {
            let file = riff(&[(b"fmt ", &fmt(1, 1, rate, 16, &[])), (b"data", &[0; 2])]);
            assert_eq!(decode(&file).expect("in range").sample_rate, rate);
        }
    }

    #[test]
    fn a_block_size_that_contradicts_the_format_is_rejected() {
        let mut f = fmt(1, 2, 8000, 16, &[]);
        f[12..14].copy_from_slice(&3u16.to_le_bytes());
        rejects(
            &riff(&[(b"fmt ", &f), (b"data", &[0; 8])]),
            "block size is 3 bytes",
        );
    }

    #[test]
    fn an_empty_data_chunk_decodes_to_no_samples() {
        let d = decode(&riff(&[
            (b"fmt ", &fmt(1, 1, 8000, 16, &[])),
            (b"data", &[]),
        ]))
        .expect("ok");
        assert!(d.samples.is_empty());
        assert_eq!(d.duration_ms(), 0);
    }
}
