//! G.711 µ-law and A-law companding (ITU-T Recommendation G.711, "Pulse code
//! modulation (PCM) of voice frequencies", 11/88), both directions, for the media
//! mixer's hot path, and the law of the codec SDP agreed on ([`Codec`]'s methods).
//!
//! - Decoding is one load from a 256-entry table per code word.
//! - Encoding is one load from a 16 KiB table indexed by the sample's top 14 bits.
//!   That is exact, not an approximation: G.711 µ-law works on 14-bit linear
//!   samples and A-law on 13-bit ones, so the two low bits of a 16-bit sample
//!   never change the code word.
//!
//! The tables are built once, on first use, from `audio-codec-algorithms`, whose
//! decoders are the ITU-T G.191 reference tables and whose encoders are checked
//! against the G.191 reference encoder for every 16-bit input. The tests below
//! check the tables against that crate for all 65,536 inputs.
//!
//! One quirk of µ-law: it has two code words for zero, `0xFF` ("+0") and `0x7F`
//! ("−0"). Both decode to 0 and the encoder only ever produces `0xFF`, so `0x7F`
//! is the one code word that does not survive decode → encode unchanged. A-law has
//! no such duplicate; its smallest magnitudes are ±8 (`0xD5`/`0x55`).

use std::sync::LazyLock;

use crate::sdp::Codec;

/// Number of entries in an encode table: one per value of a sample's top 14 bits.
const ENCODE_TABLE_LEN: usize = 1 << 14;

static ULAW_DECODE: LazyLock<[i16; 256]> =
    LazyLock::new(|| std::array::from_fn(|code| audio_codec_algorithms::decode_ulaw(code as u8)));

static ALAW_DECODE: LazyLock<[i16; 256]> =
    LazyLock::new(|| std::array::from_fn(|code| audio_codec_algorithms::decode_alaw(code as u8)));

static ULAW_ENCODE: LazyLock<[u8; ENCODE_TABLE_LEN]> =
    LazyLock::new(|| encode_table(audio_codec_algorithms::encode_ulaw));

static ALAW_ENCODE: LazyLock<[u8; ENCODE_TABLE_LEN]> =
    LazyLock::new(|| encode_table(audio_codec_algorithms::encode_alaw));

/// The encode table for `encode`: entry `i` is the code word of the sample whose
/// top 14 bits are `i` (its two low bits do not matter, see the module doc).
fn encode_table(encode: fn(i16) -> u8) -> [u8; ENCODE_TABLE_LEN] {
    std::array::from_fn(|index| {
        // `index` < 2^14, so shifting it into the top 14 bits of a u16 cannot
        // overflow; reinterpreting those bits as i16 gives the sample.
        let sample = ((index as u16) << 2) as i16;
        encode(sample)
    })
}

/// The encode-table index of `sample`: its top 14 bits.
#[inline(always)]
fn encode_index(sample: i16) -> usize {
    usize::from((sample as u16) >> 2)
}

/// Decodes one G.711 µ-law code word to a linear 16-bit sample (ITU-T G.711).
///
/// `0xFF` and `0x7F` both decode to 0; `0x00` is the most negative value, −32124.
#[inline]
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_DECODE[usize::from(code)]
}

/// Decodes one G.711 A-law code word to a linear 16-bit sample (ITU-T G.711).
///
/// The smallest magnitudes are `0xD5` → 8 and `0x55` → −8.
#[inline]
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_DECODE[usize::from(code)]
}

/// Encodes a linear 16-bit sample to a G.711 µ-law code word (ITU-T G.711).
///
/// Zero encodes to `0xFF`, never to the duplicate zero `0xFF ^ 0x80 = 0x7F`.
#[inline]
pub fn linear_to_ulaw(sample: i16) -> u8 {
    ULAW_ENCODE[encode_index(sample)]
}

/// Encodes a linear 16-bit sample to a G.711 A-law code word (ITU-T G.711).
#[inline]
pub fn linear_to_alaw(sample: i16) -> u8 {
    ALAW_ENCODE[encode_index(sample)]
}

/// Decodes G.711 µ-law code words, appending one linear sample per byte to `out`.
pub fn decode_ulaw(codes: &[u8], out: &mut Vec<i16>) {
    let table = &*ULAW_DECODE;
    out.extend(codes.iter().map(|&code| table[usize::from(code)]));
}

/// Decodes G.711 A-law code words, appending one linear sample per byte to `out`.
pub fn decode_alaw(codes: &[u8], out: &mut Vec<i16>) {
    let table = &*ALAW_DECODE;
    out.extend(codes.iter().map(|&code| table[usize::from(code)]));
}

/// Encodes linear samples to G.711 µ-law, appending one byte per sample to `out`.
pub fn encode_ulaw(samples: &[i16], out: &mut Vec<u8>) {
    let table = &*ULAW_ENCODE;
    out.extend(samples.iter().map(|&sample| table[encode_index(sample)]));
}

/// Encodes linear samples to G.711 A-law, appending one byte per sample to `out`.
pub fn encode_alaw(samples: &[i16], out: &mut Vec<u8>) {
    let table = &*ALAW_ENCODE;
    out.extend(samples.iter().map(|&sample| table[encode_index(sample)]));
}

/// Encoding and decoding in the law of the codec SDP agreed on.
impl Codec {
    /// One linear sample in this codec's law.
    #[inline]
    pub fn encode_sample(self, sample: i16) -> u8 {
        match self {
            Self::Pcmu => linear_to_ulaw(sample),
            Self::Pcma => linear_to_alaw(sample),
        }
    }

    /// One code word of this codec's law back to a linear sample.
    #[inline]
    pub fn decode_sample(self, code: u8) -> i16 {
        match self {
            Self::Pcmu => ulaw_to_linear(code),
            Self::Pcma => alaw_to_linear(code),
        }
    }

    /// Appends `samples` encoded in this codec to `out`.
    pub fn encode(self, samples: &[i16], out: &mut Vec<u8>) {
        match self {
            Self::Pcmu => encode_ulaw(samples, out),
            Self::Pcma => encode_alaw(samples, out),
        }
    }

    /// Appends `payload` decoded from this codec to `out`.
    pub fn decode(self, payload: &[u8], out: &mut Vec<i16>) {
        match self {
            Self::Pcmu => decode_ulaw(payload, out),
            Self::Pcma => decode_alaw(payload, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The µ-law "negative zero": decodes to 0, but 0 encodes to 0xFF.
    const ULAW_DUPLICATE_ZERO: u8 = 0x7F;

    fn all_codes() -> impl Iterator<Item = u8> {
        0..=u8::MAX
    }

    fn all_samples() -> impl Iterator<Item = i16> {
        i16::MIN..=i16::MAX
    }

    #[test]
    fn ulaw_decodes_the_itu_reference_values() {
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0x80), 32124);
    }

    #[test]
    fn alaw_decodes_the_itu_reference_values() {
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(alaw_to_linear(0xAA), 32256);
    }

    #[test]
    fn zero_and_the_extremes_encode_to_the_itu_code_words() {
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
    }

    #[test]
    fn every_ulaw_code_word_survives_decode_then_encode_except_the_duplicate_zero() {
        for code in all_codes() {
            let again = linear_to_ulaw(ulaw_to_linear(code));
            if code == ULAW_DUPLICATE_ZERO {
                assert_eq!(again, 0xFF, "µ-law −0 comes back as +0");
            } else {
                assert_eq!(again, code, "µ-law code 0x{code:02X}");
            }
        }
    }

    #[test]
    fn every_alaw_code_word_survives_decode_then_encode() {
        for code in all_codes() {
            assert_eq!(
                linear_to_alaw(alaw_to_linear(code)),
                code,
                "A-law code 0x{code:02X}"
            );
        }
    }

    #[test]
    fn the_tables_agree_with_the_reference_codec_for_every_input() {
        for code in all_codes() {
            assert_eq!(
                ulaw_to_linear(code),
                audio_codec_algorithms::decode_ulaw(code)
            );
            assert_eq!(
                alaw_to_linear(code),
                audio_codec_algorithms::decode_alaw(code)
            );
        }
        for sample in all_samples() {
            assert_eq!(
                linear_to_ulaw(sample),
                audio_codec_algorithms::encode_ulaw(sample),
                "µ-law encode of {sample}"
            );
            assert_eq!(
                linear_to_alaw(sample),
                audio_codec_algorithms::encode_alaw(sample),
                "A-law encode of {sample}"
            );
        }
    }

    #[test]
    fn decoding_is_monotonic_within_each_sign_half() {
        // µ-law: 0x00..=0x7F run from −32124 up to 0, 0x80..=0xFF from 32124 down to 0.
        for code in 0x00..0x7F_u8 {
            assert!(ulaw_to_linear(code) < ulaw_to_linear(code + 1));
            assert!(ulaw_to_linear(code + 0x80) > ulaw_to_linear(code + 0x81));
        }
        // A-law: with the even bits inverted back (^0x55), the magnitude grows with
        // the code; the sign bit set means positive.
        let magnitude_order = |m: u8| m ^ 0x55;
        for m in 0x00..0x7F_u8 {
            let (lower, upper) = (magnitude_order(m), magnitude_order(m + 1));
            assert!(alaw_to_linear(upper | 0x80) > alaw_to_linear(lower | 0x80));
            assert!(alaw_to_linear(upper) < alaw_to_linear(lower));
        }
    }

    #[test]
    fn quantising_is_monotonic_over_all_16_bit_samples() {
        let mut previous = (i16::MIN, i16::MIN);
        for sample in all_samples() {
            let now = (
                ulaw_to_linear(linear_to_ulaw(sample)),
                alaw_to_linear(linear_to_alaw(sample)),
            );
            assert!(now.0 >= previous.0, "µ-law not monotonic at {sample}");
            assert!(now.1 >= previous.1, "A-law not monotonic at {sample}");
            previous = now;
        }
    }

    #[test]
    fn slice_helpers_append_the_same_values_as_the_scalar_functions() {
        let samples: Vec<i16> = (-40..40).map(|i| i * 800).collect();
        let (mut ulaw, mut alaw) = (vec![0xAB], vec![0xCD]);
        encode_ulaw(&samples, &mut ulaw);
        encode_alaw(&samples, &mut alaw);
        assert_eq!(ulaw.len(), 1 + samples.len());
        assert_eq!(ulaw[0], 0xAB, "appends, keeps what was there");
        for (i, &sample) in samples.iter().enumerate() {
            assert_eq!(ulaw[i + 1], linear_to_ulaw(sample));
            assert_eq!(alaw[i + 1], linear_to_alaw(sample));
        }

        let (mut from_ulaw, mut from_alaw) = (Vec::new(), Vec::new());
        decode_ulaw(&ulaw[1..], &mut from_ulaw);
        decode_alaw(&alaw[1..], &mut from_alaw);
        for i in 0..samples.len() {
            assert_eq!(from_ulaw[i], ulaw_to_linear(ulaw[i + 1]));
            assert_eq!(from_alaw[i], alaw_to_linear(alaw[i + 1]));
        }
    }
}
