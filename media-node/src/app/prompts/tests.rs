//! The catalogue's words and the player's frames.

use chrono::NaiveTime;
use proptest::prelude::*;
use teleconf_domain::audio::decode_wav;
use teleconf_domain::{CallerRole, Language, PromptId};
use teleconf_sip::g711::{alaw_to_linear, ulaw_to_linear};
use teleconf_sip::sdp::Codec;

use super::catalogue::{
    BEEP_FILE, EN_FILES, ENTRY_FILE, EXIT_FILE, FR_FILES, Word, bank, clip, time_words,
};
use super::*;

fn time(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// Every variant of [`Prompt`], the custom ones both with and without a recording.
fn every_prompt() -> Vec<Prompt> {
    let id = PromptId::new();
    vec![
        Prompt::Greeting(None),
        Prompt::Greeting(Some(id)),
        Prompt::AskConferenceNumber(None),
        Prompt::AskConferenceNumber(Some(id)),
        Prompt::AskAccessCode(None),
        Prompt::AskAccessCode(Some(id)),
        Prompt::InvalidConferenceNumber,
        Prompt::InvalidCode,
        Prompt::NotYetOpen {
            opens_at_local: time(9, 25),
        },
        Prompt::NotYetOpen {
            opens_at_local: time(14, 5),
        },
        Prompt::NotYetOpen {
            opens_at_local: time(0, 0),
        },
        Prompt::NotYetOpen {
            opens_at_local: time(1, 1),
        },
        Prompt::NotYetOpen {
            opens_at_local: time(12, 30),
        },
        Prompt::NotYetOpen {
            opens_at_local: time(23, 59),
        },
        Prompt::Ended,
        Prompt::Full,
        Prompt::Locked,
        Prompt::TooManyAttempts,
        Prompt::Goodbye,
        Prompt::Intro(id),
        Prompt::Muted(true),
        Prompt::Muted(false),
        Prompt::AllMuted(true),
        Prompt::AllMuted(false),
        Prompt::ConferenceLocked(true),
        Prompt::ConferenceLocked(false),
        Prompt::Callers(0),
        Prompt::Callers(25),
        Prompt::Callers(2_000),
        Prompt::CallerRemoved(true),
        Prompt::CallerRemoved(false),
        Prompt::FirstCaller,
        Prompt::EndsSoon,
        Prompt::KeypadHelp(CallerRole::Listener),
        Prompt::KeypadHelp(CallerRole::Participant),
        Prompt::KeypadHelp(CallerRole::Moderator),
        Prompt::EntryTone,
        Prompt::ExitTone,
        Prompt::Recorded,
        Prompt::IntroInstructions,
        Prompt::IntroChoice,
        Prompt::IntroSaved,
        Prompt::RecordingPaused(true),
        Prompt::RecordingPaused(false),
    ]
}

fn all_files() -> impl Iterator<Item = (String, &'static [u8])> {
    let fr = FR_FILES.iter().map(|(_, (n, b))| (format!("fr/{n}"), *b));
    let en = EN_FILES.iter().map(|(_, (n, b))| (format!("en/{n}"), *b));
    fr.chain(en).chain([
        ("beep".to_owned(), BEEP_FILE),
        ("entry".to_owned(), ENTRY_FILE),
        ("exit".to_owned(), EXIT_FILE),
    ])
}

fn pcm(len: usize) -> Vec<i16> {
    // A ramp across most of the 16-bit range, with both signs.
    (0..len)
        .map(|i| (((i * 397) % 60_000) as i32 - 30_000) as i16)
        .collect()
}

/// Plays everything queued, returning the audio frames and events in order.
fn drain(player: &mut Player, codec: Codec) -> Vec<Frame> {
    let mut out = Vec::new();
    loop {
        let frame = player.next_frame(codec);
        out.push(frame);
        if frame == Frame::Idle {
            return out;
        }
    }
}

#[test]
fn every_prompt_has_a_non_empty_french_and_english_rendering() {
    for language in [Language::Fr, Language::En] {
        for prompt in every_prompt() {
            let clips = default_prompt(language, &prompt);
            assert!(!clips.is_empty(), "{language:?} {prompt:?}");
            for clip in &clips {
                if let Clip::Default(pcm) = clip {
                    assert!(!pcm.is_empty(), "{language:?} {prompt:?}: empty clip");
                }
            }
        }
    }
}

#[test]
fn a_custom_recording_is_a_custom_marker_and_its_absence_the_default_sentence() {
    let id = PromptId::new();
    for language in [Language::Fr, Language::En] {
        assert_eq!(
            default_prompt(language, &Prompt::Greeting(Some(id))),
            vec![Clip::Custom(id)]
        );
        assert_eq!(
            default_prompt(language, &Prompt::Intro(id)),
            vec![Clip::Custom(id)]
        );
        assert_eq!(
            default_prompt(language, &Prompt::AskAccessCode(None)),
            vec![Clip::Default(clip(language, Word::AskCode))]
        );
    }
}

#[test]
fn french_and_english_differ() {
    assert_ne!(
        default_prompt(Language::Fr, &Prompt::Goodbye),
        default_prompt(Language::En, &Prompt::Goodbye)
    );
}

#[test]
fn french_says_the_time_on_a_24_hour_clock_with_heures() {
    use Word::*;
    let fr = |h, m| time_words(Language::Fr, time(h, m));
    assert_eq!(fr(9, 25), [Number(9), Heures, Number(25)]);
    assert_eq!(fr(14, 5), [Number(14), Heures, Number(5)]);
    assert_eq!(fr(14, 0), [Number(14), Heures]);
    assert_eq!(fr(0, 0), [Number(0), Heure]);
    assert_eq!(fr(1, 1), [Une, Heure, Une]);
    assert_eq!(fr(23, 59), [Number(23), Heures, Number(59)]);
}

#[test]
fn english_says_the_time_on_a_12_hour_clock_with_oclock_oh_and_am_pm() {
    use Word::*;
    let en = |h, m| time_words(Language::En, time(h, m));
    assert_eq!(en(9, 25), [Number(9), Number(25), Am]);
    assert_eq!(en(14, 5), [Number(2), Oh, Number(5), Pm]);
    assert_eq!(en(0, 0), [Number(12), OClock, Am]);
    assert_eq!(en(12, 30), [Number(12), Number(30), Pm]);
    assert_eq!(en(23, 59), [Number(11), Number(59), Pm]);
}

#[test]
fn not_yet_open_is_the_sentence_then_the_time() {
    let clips = default_prompt(
        Language::Fr,
        &Prompt::NotYetOpen {
            opens_at_local: time(9, 25),
        },
    );
    let expected: Vec<Clip> = [
        Word::NotYetOpen,
        Word::Number(9),
        Word::Heures,
        Word::Number(25),
    ]
    .into_iter()
    .map(|w| Clip::Default(clip(Language::Fr, w)))
    .collect();
    assert_eq!(clips, expected);
}

#[test]
fn every_time_of_day_is_said_with_existing_words_in_both_languages() {
    for language in [Language::Fr, Language::En] {
        for h in 0..24 {
            for m in 0..60 {
                for word in time_words(language, time(h, m)) {
                    assert!(
                        bank(language).get(word).is_some_and(|pcm| !pcm.is_empty()),
                        "{language:?} {h:02}:{m:02}: no {word:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_embedded_wav_decodes_to_8_khz_mono_lasting_0_2_to_8_seconds_but_the_keypad_help() {
    let mut total = 0;
    for (name, bytes) in all_files() {
        total += bytes.len();
        let d = decode_wav(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((d.sample_rate, d.channels), (8_000, 1), "{name}");
        let ms = d.duration_ms();
        // The moderator's spoken key table is the one long prompt.
        let longest = if name.contains("help_") {
            25_000
        } else {
            8_000
        };
        assert!((200..=longest).contains(&ms), "{name} lasts {ms} ms");
    }
    assert_eq!(all_files().count(), 60 * 2 + (14 + 20) + (15 + 20) + 3);
    assert!(total < 2_500_000, "the prompts take {total} bytes");
}

#[test]
fn the_beep_is_200_ms() {
    assert_eq!(beep().len(), 1_600);
}

#[test]
fn the_player_emits_ceil_samples_over_160_frames_then_clip_finished_then_idle() {
    for len in [0, 1, 159, 160, 161, 320, 1_000] {
        let mut player = Player::new();
        assert!(player.is_idle());
        player.enqueue(pcm(len));
        assert!(!player.is_idle());
        let frames = drain(&mut player, Codec::Pcmu);
        let audio = len.div_ceil(FRAME_SAMPLES);
        assert_eq!(frames.len(), audio + 2, "len {len}");
        assert!(frames[..audio].iter().all(|f| matches!(f, Frame::Audio(_))));
        assert_eq!(
            frames[audio..],
            [Frame::ClipFinished, Frame::Idle],
            "len {len}"
        );
        assert!(player.is_idle());
        assert_eq!(player.next_frame(Codec::Pcmu), Frame::Idle);
    }
}

#[test]
fn the_last_partial_frame_is_padded_with_silence() {
    let mut player = Player::new();
    player.enqueue(vec![1_000i16; 170]);
    let _ = player.next_frame(Codec::Pcma);
    let Frame::Audio(last) = player.next_frame(Codec::Pcma) else {
        panic!("expected a second frame");
    };
    assert!(
        last[..10]
            .iter()
            .all(|&b| b == Codec::Pcma.encode_sample(1_000))
    );
    assert!(last[10..].iter().all(|&b| b == 0xD5));
    assert_eq!(silence_frame(Codec::Pcmu), [0xFF; FRAME_SAMPLES]);
    assert_eq!(silence_frame(Codec::Pcma), [0xD5; FRAME_SAMPLES]);
}

#[test]
fn the_parts_of_a_clip_play_back_to_back_with_one_clip_finished() {
    let (a, b) = (pcm(100), pcm(250));
    let mut player = Player::new();
    player.enqueue_parts([
        Audio::from(a.clone()),
        Audio::from(Vec::new()),
        Audio::from(b.clone()),
    ]);
    player.enqueue(beep());
    let mut played = Vec::new();
    let mut events = Vec::new();
    loop {
        match player.next_pcm_frame() {
            Frame::Audio(frame) => played.extend_from_slice(&frame),
            other => {
                events.push((other, played.len()));
                if other == Frame::Idle {
                    break;
                }
            }
        }
    }
    // 350 samples → 3 frames (480 samples), then the beep's 10 frames.
    assert_eq!(
        events,
        [
            (Frame::ClipFinished, 480),
            (Frame::ClipFinished, 480 + 1_600),
            (Frame::Idle, 2_080)
        ]
    );
    assert_eq!(played[..100], a[..]);
    assert_eq!(played[100..350], b[..]);
    assert!(played[350..480].iter().all(|&s| s == 0));
    assert_eq!(played[480..], beep()[..]);
}

#[test]
fn stop_empties_the_queue_at_once() {
    let mut player = Player::new();
    player.enqueue(pcm(1_000));
    player.enqueue(pcm(1_000));
    player.enqueue_parts(
        default_prompt(Language::En, &Prompt::Goodbye)
            .into_iter()
            .map(|c| match c {
                Clip::Default(pcm) => Audio::from(pcm),
                Clip::Custom(_) => unreachable!(),
            }),
    );
    assert!(matches!(player.next_frame(Codec::Pcmu), Frame::Audio(_)));
    assert_eq!(player.pending_clips(), 3);
    player.stop();
    assert!(player.is_idle());
    assert_eq!(player.pending_clips(), 0);
    assert_eq!(player.next_frame(Codec::Pcmu), Frame::Idle);
    // A clip queued after the stop plays from its start.
    player.enqueue(vec![7i16; 10]);
    assert_eq!(drain(&mut player, Codec::Pcmu).len(), 3);
}

#[test]
fn pcmu_and_pcma_frames_decode_back_close_to_the_clip_samples() {
    let prompts: [(&[i16], &str); 3] = [
        (clip(Language::Fr, Word::Greeting), "fr greeting"),
        (clip(Language::En, Word::NotYetOpen), "en not_yet_open"),
        (&pcm(5_000), "ramp"),
    ];
    for (samples, name) in prompts {
        for (codec, decode) in [
            (Codec::Pcmu, ulaw_to_linear as fn(u8) -> i16),
            (Codec::Pcma, alaw_to_linear),
        ] {
            let mut player = Player::new();
            player.enqueue(samples.to_vec());
            let mut decoded = Vec::new();
            while let Frame::Audio(payload) = player.next_frame(codec) {
                decoded.extend(payload.map(decode));
            }
            assert_eq!(
                decoded.len(),
                samples.len().div_ceil(FRAME_SAMPLES) * FRAME_SAMPLES
            );
            for (i, (&want, &got)) in samples.iter().zip(&decoded).enumerate() {
                // G.711 keeps ~4 significant bits past the segment: ≤ 1/16 relative,
                // plus the smallest step near zero.
                let tolerance = i32::from(want).abs() / 16 + 32;
                let error = (i32::from(want) - i32::from(got)).abs();
                assert!(
                    error <= tolerance,
                    "{name} {codec:?} sample {i}: {want} came back {got}"
                );
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Enqueue(usize),
    EnqueueParts(Vec<usize>),
    Stop,
    Next(bool),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..700).prop_map(Op::Enqueue),
        proptest::collection::vec(0usize..400, 0..4).prop_map(Op::EnqueueParts),
        Just(Op::Stop),
        any::<bool>().prop_map(Op::Next),
        any::<bool>().prop_map(Op::Next),
        any::<bool>().prop_map(Op::Next),
    ]
}

proptest! {
    #[test]
    fn random_enqueue_stop_and_next_frame_sequences_never_panic(ops in proptest::collection::vec(op(), 0..200)) {
        let mut player = Player::new();
        // Clips not yet reported finished, by the model.
        let mut pending = 0usize;
        for op in ops {
            match op {
                Op::Enqueue(len) => { player.enqueue(pcm(len)); pending += 1; }
                Op::EnqueueParts(lens) => {
                    player.enqueue_parts(lens.into_iter().map(|n| Audio::from(pcm(n))));
                    pending += 1;
                }
                Op::Stop => { player.stop(); pending = 0; }
                Op::Next(pcmu) => {
                    let codec = if pcmu { Codec::Pcmu } else { Codec::Pcma };
                    match player.next_frame(codec) {
                        Frame::Audio(_) => prop_assert!(pending > 0),
                        Frame::ClipFinished => { prop_assert!(pending > 0); pending -= 1; }
                        Frame::Idle => prop_assert_eq!(pending, 0),
                    }
                }
            }
            prop_assert_eq!(player.pending_clips(), pending);
            prop_assert_eq!(player.is_idle(), pending == 0);
        }
    }
}
