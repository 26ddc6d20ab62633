//! G.711 in the law of a codec SDP agreed on: [`Codec`] (the SIP crate's) names
//! the law, `teleconf_domain::audio::g711` does the companding through its tables.

use teleconf_domain::audio::g711;
use teleconf_sip::sdp::Codec;

/// Encoding and decoding in a codec's G.711 law (ITU-T G.711).
pub trait G711 {
    /// One linear sample in this codec's law.
    fn encode_sample(self, sample: i16) -> u8;
    /// One code word of this codec's law back to a linear sample.
    fn decode_sample(self, code: u8) -> i16;
    /// Appends `samples` encoded in this codec to `out`.
    fn encode(self, samples: &[i16], out: &mut Vec<u8>);
    /// Appends `payload` decoded from this codec to `out`.
    fn decode(self, payload: &[u8], out: &mut Vec<i16>);
}

impl G711 for Codec {
    fn encode_sample(self, sample: i16) -> u8 {
        match self {
            Self::Pcmu => g711::linear_to_ulaw(sample),
            Self::Pcma => g711::linear_to_alaw(sample),
        }
    }

    fn decode_sample(self, code: u8) -> i16 {
        match self {
            Self::Pcmu => g711::ulaw_to_linear(code),
            Self::Pcma => g711::alaw_to_linear(code),
        }
    }

    fn encode(self, samples: &[i16], out: &mut Vec<u8>) {
        match self {
            Self::Pcmu => g711::encode_ulaw(samples, out),
            Self::Pcma => g711::encode_alaw(samples, out),
        }
    }

    fn decode(self, payload: &[u8], out: &mut Vec<i16>) {
        match self {
            Self::Pcmu => g711::decode_ulaw(payload, out),
            Self::Pcma => g711::decode_alaw(payload, out),
        }
    }
}
