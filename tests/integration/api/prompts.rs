//! Prompts (`/v1/prompts`): uploads, raw or as multipart form data, stored as 8 kHz
//! mono.

use std::io::Cursor;

use axum::http::{Method, StatusCode};
use teleconf_tests::api::{World, multipart_wav, tone_wav};

fn wav_spec_and_frames(bytes: &[u8]) -> (hound::WavSpec, u32) {
    let reader = hound::WavReader::new(Cursor::new(bytes)).expect("a WAV");
    (reader.spec(), reader.duration())
}

#[tokio::test]
async fn a_stereo_44_1_khz_prompt_is_stored_as_8_khz_mono_of_the_same_length() {
    let w = World::new().await;
    let res = w
        .api
        .upload_prompt(&w.op1.token, tone_wav(44_100, 2, 1_500))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let body = res.json();
    let duration = body["duration_ms"].as_u64().unwrap();
    assert!((1_490..=1_510).contains(&duration), "{body}");
    let id = body["id"].as_str().unwrap();

    let got = w
        .api
        .raw(
            Method::GET,
            &format!("/v1/prompts/{id}"),
            Some(&w.op2.token),
            &[],
            vec![],
        )
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.content_type().starts_with("audio/wav"));
    let (spec, frames) = wav_spec_and_frames(&got.body);
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8_000, 1, 16)
    );
    assert!((11_920..=12_080).contains(&frames), "{frames} frames");
}

#[tokio::test]
async fn a_prompt_uploaded_as_multipart_form_data_is_stored() {
    let w = World::new().await;
    let (content_type, body) = multipart_wav(
        &[("description", "Accueil")],
        "accueil.wav",
        tone_wav(16_000, 1, 800),
    );
    let res = w
        .api
        .raw(
            Method::POST,
            "/v1/prompts",
            Some(&w.admin.token),
            &[("content-type", &content_type)],
            body,
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let created = res.json();
    assert_eq!(created["duration_ms"], 800);
    let path = format!("/v1/prompts/{}", created["id"].as_str().unwrap());

    let got = w
        .api
        .raw(Method::GET, &path, Some(&w.owner.token), &[], vec![])
        .await;
    assert_eq!(got.status, StatusCode::OK);
    let (spec, frames) = wav_spec_and_frames(&got.body);
    assert_eq!((spec.sample_rate, spec.channels), (8_000, 1));
    assert_eq!(frames, 6_400);
    assert!(
        w.api
            .stored_prompts(&w.a)
            .await
            .iter()
            .any(|k| k.contains(created["id"].as_str().unwrap()))
    );

    // Another account's prompt does not exist for B.
    let (status, _, _) = w
        .api
        .call(Method::GET, &path, Some(&w.foreign.token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
