//! Audio: what the service does to sound outside the real-time media path (the
//! media path's G.711 tables are the SIP crate's).
//!
//! It owns reading uploaded WAV files (any common encoding, G.711 µ-law/A-law
//! among them, never trusting the header), writing 16-bit PCM WAV, and
//! normalising an uploaded greeting or intro message to the one format the media
//! node plays: 16-bit PCM, 8 kHz, mono, within the size and duration limits.
//! Input errors are [`crate::Error::Invalid`] or [`crate::Error::TooLarge`] on the
//! field `"audio"`, with a message saying why.
//!
//! ## Layout
//! - [`wav`]: RIFF chunk walker and WAV decoder to `i16`; 16-bit mono WAV writer.
//! - [`prompt`]: upload → 8 kHz mono prompt: limits, downmix, anti-aliased resampling.

pub mod prompt;
pub mod wav;

pub use prompt::{
    MAX_PROMPT_BYTES, MAX_PROMPT_DURATION, PROMPT_SAMPLE_RATE, Prompt, normalize_prompt,
};
pub use wav::{Decoded, Encoding, decode as decode_wav, write_pcm16_mono};
