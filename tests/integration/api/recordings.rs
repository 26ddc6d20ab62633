//! Recordings (`/v1/recordings`): listed, with a download link to the WAV, or
//! one to each segment kept of a recording cut short.

use std::collections::BTreeSet;

use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::RecordingStore;
use teleconf_domain::{RecordingSegment, RecordingState};
use teleconf_tests::api::{World, ids, tone_wav};

use super::toronto_time;

#[tokio::test]
async fn a_recording_is_listed_and_its_download_link_returns_the_wav() {
    let w = World::new().await;
    let (mine, wav) = w.put_recording(w.conf_op1_id()).await;
    let (theirs, _) = w.put_recording(w.conf_op2_id()).await;

    let all: BTreeSet<String> = ids(&w.api.get_ok("/v1/recordings", &w.owner.token).await)
        .into_iter()
        .collect();
    assert_eq!(all, [mine.id.to_string(), theirs.id.to_string()].into());
    let filtered = w
        .api
        .get_ok(
            &format!("/v1/recordings?conference_id={}", w.conf_op1_id()),
            &w.admin.token,
        )
        .await;
    assert_eq!(ids(&filtered), vec![mine.id.to_string()]);
    let op1 = w.api.get_ok("/v1/recordings", &w.op1.token).await;
    assert_eq!(ids(&op1), vec![mine.id.to_string()]);
    assert!(op1[0]["download_url"].is_null());

    let one = w
        .api
        .get_ok(&format!("/v1/recordings/{}", mine.id), &w.op1.token)
        .await;
    assert_eq!(one["conference_id"], w.conf_op1_id());
    assert_eq!(one["size_bytes"], wav.len() as u64);
    assert_eq!(one["duration_ms"], 300);
    assert!(toronto_time(&one["started_at"]).1);
    let url = one["download_url"].as_str().expect("a download link");
    let res = reqwest::get(url).await.expect("the link answers");
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    assert_eq!(res.bytes().await.unwrap().to_vec(), wav);
}

#[tokio::test]
async fn a_recording_cut_by_a_lost_node_lists_each_segment_kept_with_its_link_in_order() {
    let w = World::new().await;
    let (mut cut, _) = w.put_recording(w.conf_op1_id()).await;
    cut.state = RecordingState::Cut;
    cut.duration_ms = 0;
    cut.size_bytes = 0;
    let mut wavs = Vec::new();
    for index in [0, 1] {
        let wav = tone_wav(8000, 1, 1000 + 500 * index);
        cut.add_segment(RecordingSegment {
            index,
            duration_ms: 1000 + 500 * u64::from(index),
            size_bytes: wav.len() as u64,
        });
        w.api
            .stack
            .blobs
            .put(&cut.segment_key(index), wav.clone(), "audio/wav")
            .await
            .unwrap();
        wavs.push(wav);
    }
    w.api.stack.store.put_recording(&cut).await.unwrap();

    let one = w
        .api
        .get_ok(&format!("/v1/recordings/{}", cut.id), &w.op1.token)
        .await;
    assert_eq!(one["state"], "cut");
    assert!(one["download_url"].is_null(), "no whole file: {one}");
    assert_eq!(one["duration_ms"], 2_500);
    let segments = one["segments"].as_array().expect("its segments");
    assert_eq!(segments.len(), 2);
    for (i, (segment, wav)) in segments.iter().zip(&wavs).enumerate() {
        assert_eq!(segment["index"], i);
        let url = segment["download_url"].as_str().expect("a link");
        let res = reqwest::get(url).await.expect("the link answers");
        assert_eq!(res.bytes().await.unwrap().to_vec(), *wav, "segment {i}");
    }
    let listed = w.api.get_ok("/v1/recordings", &w.op1.token).await;
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == cut.id.to_string())
        .expect("listed");
    assert_eq!(row["state"], "cut");
    assert!(
        row["segments"][0]["download_url"].is_null(),
        "links on GET one only"
    );
}
