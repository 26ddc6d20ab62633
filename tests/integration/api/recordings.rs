//! Recordings (`/v1/recordings`): listed, with a download link to the WAV.

use std::collections::BTreeSet;

use teleconf_tests::api::{World, ids};

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
