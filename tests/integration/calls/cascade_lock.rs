//! A conference locked on the node that holds its room refuses a participant
//! who calls the other node (issue #16): that caller is the other node's first
//! of the conference (no cascade there yet), and is checked against the
//! owner's room all the same: it hears « locked » and is hung up, and no leg
//! is written for it.

use std::collections::HashSet;
use std::time::Duration;

use teleconf_adapters::store::ActivityStore;
use teleconf_domain::{ActivityKind, CallerRole, Language};
use teleconf_media_node::app::prompts::Prompt;
use teleconf_tests::media::OpenConference;
use teleconf_tests::sip_entry::SipEntry;
use teleconf_tests::stack::Stack;
use tokio::net::UdpSocket;

use super::cascade::TwoNodes;
use super::edge::{Ua, status, wait_for_legs_within};
use super::entry::ADMITTED;
use super::star44::spoken_frames;

/// Frames of the « locked » prompt a refused caller must get (a few, in case
/// the loaded machine makes the node skip one).
const LOCKED_FRAMES: usize = 5;

#[tokio::test]
async fn a_conference_locked_on_its_owner_refuses_a_participant_calling_the_other_node() {
    // The moderator, through the entry: its node holds the room; it locks it.
    let role = (440.0, CallerRole::Moderator);
    let (two, mut moderator) = TwoNodes::with_first_caller("lock-m", role).await;
    let (stack, open, entry) = (&two.stack, &two.open, &two.entry);
    let (owner, member) = (two.owner, two.member);
    moderator.send_digits("*7").await.unwrap();
    locked(stack, open).await;

    // A participant dials the other node itself (where the entry would relay
    // it): the node's first caller of the conference.
    let rtp = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
    let target = format!(
        "sip:{}@{}",
        open.access.number.as_str(),
        entry.nodes[member].sip
    );
    let mut participant = Ua::new("127.0.0.1", entry.nodes[member].sip).await;
    let answer = participant
        .invite(&target, rtp.local_addr().unwrap().port())
        .await;
    assert_eq!(status(&answer), "SIP/2.0 200 OK", "{answer}");
    participant.ack(&target).await;
    participant.key(&target, &open.number_keys()).await;
    participant
        .key(&target, &open.code_keys(CallerRole::Participant))
        .await;
    hears_locked(&rtp, entry).await;
    tokio::time::timeout(Duration::from_secs(15), async {
        while !participant.receive().await.starts_with("BYE ") {}
    })
    .await
    .expect("the node hangs up after the prompt");

    // No leg for the refused caller: the moderator's alone, written by the owner.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let legs = wait_for_legs_within(stack, open, ADMITTED, |legs| !legs.is_empty()).await;
    assert_eq!(legs.len(), 1, "{legs:?}");
    assert_eq!(
        legs[0].node.as_ref(),
        Some(&entry.nodes[owner].id),
        "{legs:?}"
    );
    two.lease_is_the_owner_s().await;
    moderator.hangup().await.unwrap();
}

/// Waits until the conference's lock is in its account's activity feed.
async fn locked(stack: &Stack, open: &OpenConference) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let feed = stack
            .store
            .recent_activity(open.owner.account_id, 50)
            .await
            .unwrap();
        if feed.iter().any(|activity| {
            activity.kind == ActivityKind::ConferenceLocked
                && activity.conference_id == Some(open.conference.id)
        }) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the moderator's *7 never locked the conference: {feed:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the caller listening on `rtp` got [`LOCKED_FRAMES`] frames of
/// the « locked » prompt (in either language).
async fn hears_locked(rtp: &UdpSocket, entry: &SipEntry) {
    let frames: HashSet<_> = [Language::Fr, Language::En]
        .into_iter()
        .flat_map(|language| spoken_frames(language, &Prompt::Locked))
        .collect();
    let mut heard = 0;
    let mut buffer = [0u8; 2_048];
    let got = tokio::time::timeout(Duration::from_secs(20), async {
        while heard < LOCKED_FRAMES {
            let (n, _) = rtp.recv_from(&mut buffer).await.expect("RTP");
            let payload = buffer.get(12..n).unwrap_or_default();
            if frames.iter().any(|frame| payload == frame.as_slice()) {
                heard += 1;
            }
        }
    })
    .await;
    assert!(
        got.is_ok(),
        "the caller never heard « locked » ({heard} frames); logs in {}",
        entry.keep_logs().display()
    );
}
