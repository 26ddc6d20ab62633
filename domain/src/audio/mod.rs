//! Audio: what the service does to sound outside the real-time media path, and the
//! G.711 codec that path shares.
//!
//! It owns reading uploaded WAV files (any common encoding, never trusting the
//! header), writing 16-bit PCM WAV, G.711 µ-law/A-law in both directions, and
//! normalising an uploaded greeting or intro message to the one format the media
//! node plays: 16-bit PCM, 8 kHz, mono, within the size and duration limits.
//! Input errors are [`crate::Error::Invalid`] or [`crate::Error::TooLarge`] on the
//! field `"audio"`, with a message saying why.
//!
//! ## Layout
//! - [`g711`]: µ-law and A-law encode/decode through lookup tables (ITU-T G.711).
//! - [`wav`]: RIFF chunk walker and WAV decoder to `i16`; 16-bit mono WAV writer.
//! - [`prompt`]: upload → 8 kHz mono prompt: limits, downmix, anti-aliased resampling.

pub mod g711;
pub mod prompt;
pub mod wav;

pub use g711::{alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear};
pub use prompt::{
    MAX_PROMPT_BYTES, MAX_PROMPT_DURATION, PROMPT_SAMPLE_RATE, Prompt, normalize_prompt,
};
pub use wav::{Decoded, Encoding, decode as decode_wav, write_pcm16_mono};
