//! The scheduler against the emulator: a conference scheduled through the API moves
//! `scheduled → open → running → ended` on ticks at chosen instants (the tick's instant
//! is the event's `time`), each transition written once whatever the ticks' order or
//! repetition; its end queues the attendance report, which the mailer sends from the
//! table's stream with every leg. A media node whose heartbeat stopped is reaped
//! by the tick: its callers' legs closed once, at its last heartbeat.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use teleconf_adapters::store::{CdrStore, LifecycleStore, NodeStore};
use teleconf_domain::{
    CallerRole, ConferenceId, ConferenceStatus, DisconnectCause, NodeHeartbeat, NodeId, NodeState,
    QueuedMailKind,
};
use teleconf_scheduler::reap;
use teleconf_tests::api::World;
use teleconf_tests::lambdas::{MailLoop, scheduler_deps, tick};
use teleconf_tests::outbox;

/// A conference of the owner starting in `hours`, an hour long: (id, start, end, its JSON).
async fn conference(
    w: &World,
    description: &str,
    hours: i64,
) -> (ConferenceId, DateTime<Utc>, DateTime<Utc>, Value) {
    let conf = w.new_conference(&w.owner.token, description, hours).await;
    let at = |field: &str| -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(conf[field].as_str().unwrap())
            .unwrap()
            .to_utc()
    };
    (
        conf["id"].as_str().unwrap().parse().unwrap(),
        at("start"),
        at("end"),
        conf,
    )
}

async fn status(w: &World, id: ConferenceId) -> Option<ConferenceStatus> {
    w.api
        .stack
        .store
        .lifecycle(id)
        .await
        .unwrap()
        .map(|l| l.status)
}

#[tokio::test]
async fn a_conference_lives_once_through_duplicated_and_out_of_order_ticks() {
    let w = World::new().await;
    let d = scheduler_deps(&w.api.stack);
    let (id, start, end, conf) = conference(&w, "Cycle de vie", 50).await;
    let mine = |r: &teleconf_scheduler::TickReport| {
        r.written
            .iter()
            .filter(|(c, _)| *c == id)
            .map(|(_, s)| s.to)
            .collect::<Vec<_>>()
    };

    assert!(mine(&tick(&d, start - Duration::minutes(6)).await).is_empty());
    assert_eq!(status(&w, id).await, None);

    // The same tick twice, then an older one: open, once.
    let t = start - Duration::minutes(4);
    let (a, b) = tokio::join!(tick(&d, t), tick(&d, t));
    let opened: Vec<_> = mine(&a).into_iter().chain(mine(&b)).collect();
    assert_eq!(opened, vec![ConferenceStatus::Open], "written once");
    assert!(mine(&tick(&d, start - Duration::minutes(5)).await).is_empty());

    // Two callers join (the media node writes their legs); one leaves early, one
    // stays past the end.
    let early = w
        .put_leg(
            &conf,
            start + Duration::minutes(1),
            600,
            CallerRole::Participant,
        )
        .await;
    let stays = w.put_open_leg(&conf, start + Duration::minutes(2)).await;
    assert_eq!(
        mine(&tick(&d, start + Duration::minutes(3)).await),
        vec![ConferenceStatus::Running]
    );
    assert!(mine(&tick(&d, start + Duration::minutes(3)).await).is_empty());
    assert!(
        mine(&tick(&d, end + Duration::minutes(10)).await).is_empty(),
        "never cut while someone is on the line"
    );
    assert_eq!(status(&w, id).await, Some(ConferenceStatus::Running));

    let mut last = stays.clone();
    last.close(
        end + Duration::minutes(20),
        teleconf_domain::DisconnectCause::CallerHangup,
    );
    w.api.stack.store.put_leg(&last).await.unwrap();
    let t = end + Duration::minutes(21);
    let (a, b) = tokio::join!(tick(&d, t), tick(&d, t));
    let ended: Vec<_> = mine(&a).into_iter().chain(mine(&b)).collect();
    assert_eq!(ended, vec![ConferenceStatus::Ended]);
    let life = w.api.stack.store.lifecycle(id).await.unwrap().unwrap();
    assert_eq!(life.opened_at, Some(start - Duration::minutes(5)));
    assert_eq!(life.running_at, Some(early.joined_at));
    assert_eq!(life.ended_at, Some(end + Duration::minutes(20)));
    assert!(
        w.api
            .stack
            .store
            .queued_mail(id, QueuedMailKind::AttendanceReport)
            .await
            .unwrap()
            .is_some()
    );
    // Late, early, repeated: nothing more.
    for t in [end + Duration::minutes(22), start, end + Duration::hours(5)] {
        assert!(mine(&tick(&d, t).await).is_empty());
    }
    assert_eq!(status(&w, id).await, Some(ConferenceStatus::Ended));
}

#[tokio::test]
async fn the_attendance_report_lists_every_leg_of_the_conference() {
    let w = World::new().await;
    let d = scheduler_deps(&w.api.stack);
    let mut mail = MailLoop::over_ses(&w.api.stack).await;
    let (id, start, end, conf) = conference(&w, "Rapport de présence", 60).await;
    let legs = [
        w.put_leg(
            &conf,
            start - Duration::minutes(3),
            5_000,
            CallerRole::Moderator,
        )
        .await,
        w.put_leg(
            &conf,
            start + Duration::minutes(10),
            1_234,
            CallerRole::Participant,
        )
        .await,
        w.put_leg(
            &conf,
            start + Duration::minutes(20),
            60,
            CallerRole::Listener,
        )
        .await,
    ];
    let report = tick(&d, end + Duration::minutes(30)).await;
    assert_eq!(
        report
            .written
            .iter()
            .filter(|(c, _)| *c == id)
            .map(|(_, s)| s.to)
            .collect::<Vec<_>>(),
        vec![
            ConferenceStatus::Open,
            ConferenceStatus::Running,
            ConferenceStatus::Ended
        ]
    );
    mail.pump().await;
    mail.pump().await;

    let sent: Vec<_> = outbox::sent_to(&w.owner.email)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| {
            m.subject
                .starts_with("Rapport de présence – Téléconférence « Rapport de présence »")
        })
        .collect();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let body = &sent[0].body;
    assert!(body.contains("Appels: 3 (durée totale 01:44:54)"), "{body}");
    let toronto = chrono_tz::America::Toronto;
    for (leg, role, length) in [
        (&legs[0], "Modérateur", "01:23:20"),
        (&legs[1], "Participant", "00:20:34"),
        (&legs[2], "Auditeur", "00:01:00"),
    ] {
        let join = leg
            .joined_at
            .with_timezone(&toronto)
            .format("%Y-%m-%d %H:%M:%S");
        let leave = leg
            .left_at
            .unwrap()
            .with_timezone(&toronto)
            .format("%Y-%m-%d %H:%M:%S");
        let row = format!("{} | {role} | {join} | {leave} | {length}", leg.caller_id);
        assert!(body.contains(&row), "{row:?} missing from\n{body}");
    }
    // Another tick and another read of the stream: still one report.
    tick(&d, end + Duration::minutes(31)).await;
    mail.pump().await;
    assert_eq!(
        outbox::sent_to(&w.owner.email)
            .await
            .unwrap()
            .iter()
            .filter(|m| m
                .subject
                .starts_with("Rapport de présence – Téléconférence « Rapport"))
            .count(),
        1
    );
}

#[tokio::test]
async fn a_lost_nodes_callers_are_closed_once_by_the_reaper_and_the_conference_ends() {
    let w = World::new().await;
    let d = scheduler_deps(&w.api.stack);
    let store = &w.api.stack.store;
    let (id, start, end, conf) = conference(&w, "Nœud perdu", 70).await;
    let node: NodeId = format!("lost-{id}").parse().unwrap();
    let mut on_node = Vec::new();
    for minutes in [1, 2] {
        let mut leg = w
            .put_open_leg(&conf, start + Duration::minutes(minutes))
            .await;
        leg.node = Some(node.clone());
        store.put_leg(&leg).await.unwrap();
        on_node.push(leg);
    }
    let last = start + Duration::minutes(40);
    let beat = NodeHeartbeat {
        node_id: node.clone(),
        sip: "10.0.0.7:5060".parse().unwrap(),
        state: NodeState::Active,
        calls: 2,
        participants: 2,
        heartbeat_at: last,
    };
    store.put_heartbeat(&beat).await.unwrap();
    assert_eq!(store.open_legs_of_node(&node).await.unwrap().len(), 2);

    // Two reapers at once (the tick's, for this node only: a tick hours ahead
    // would take the live nodes of the other tests for lost): each leg closed
    // once, the node reaped.
    let (a, b) = tokio::join!(reap(&d, &beat), reap(&d, &beat));
    assert_eq!(a.unwrap() + b.unwrap(), 2);
    let legs = store.legs_of_conference(id).await.unwrap();
    assert_eq!(legs.len(), 2);
    for leg in &legs {
        assert_eq!(leg.cause, Some(DisconnectCause::NodeLost));
        assert_eq!(leg.left_at, Some(last), "closed at the last heartbeat");
    }
    assert!(store.open_legs_of_node(&node).await.unwrap().is_empty());
    let reaped = store.heartbeat(&node).await.unwrap().unwrap();
    assert_eq!(reaped.state, NodeState::Reaped);
    assert!(!reaped.is_lost(end, Duration::seconds(30)), "reaped once");

    // The node comes back on its spool and closes the same legs itself: no change.
    for leg in &on_node {
        let mut replayed = leg.clone();
        replayed.close(last + Duration::seconds(3), DisconnectCause::NodeRestart);
        store.put_leg(&replayed).await.unwrap();
    }
    assert_eq!(store.legs_of_conference(id).await.unwrap(), legs);
    // Nobody left on the line: the conference ends as any other.
    tick(&d, end + Duration::minutes(1)).await;
    assert_eq!(status(&w, id).await, Some(ConferenceStatus::Ended));
}
