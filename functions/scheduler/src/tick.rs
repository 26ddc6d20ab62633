//! One tick of the scheduler.

use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Duration, TimeDelta, Utc};
use teleconf_adapters::store::{
    AccountStore, CdrStore, ConferenceStore, LifecycleStore, LiveStore, NodeStore, RecordingStore,
};
use teleconf_domain::conference::EARLY_ACCESS;
use teleconf_domain::{
    Callers, Conference, ConferenceId, ConferenceStatus, DisconnectCause, Lifecycle, NodeHeartbeat,
    NodeId, QueuedMail, QueuedMailKind, Step,
};

use crate::error::SchedulerError;

/// How far back a planned start may be for the conference still to be followed: the
/// longest conference (24 h) and a day of running past its end.
pub const LOOKBACK: Duration = Duration::hours(48);

/// What the scheduler reads and writes.
pub trait SchedulerStore:
    AccountStore + ConferenceStore + CdrStore + LifecycleStore + NodeStore + LiveStore + RecordingStore
{
}

impl<T> SchedulerStore for T where
    T: AccountStore
        + ConferenceStore
        + CdrStore
        + LifecycleStore
        + NodeStore
        + LiveStore
        + RecordingStore
{
}

/// What the handler needs, built once in `main`.
#[derive(Clone)]
pub struct Deps {
    /// The table.
    pub store: Arc<dyn SchedulerStore>,
    /// How long a serving media node may go unheard before it is lost and reaped
    /// (`TELECONF_NODE_LOST_SECS`, default [`NodeHeartbeat::LOST_AFTER`]).
    pub lost_after: TimeDelta,
}

impl Deps {
    /// The handler's needs on `store`, with the default limit for a lost node.
    pub fn new(store: Arc<dyn SchedulerStore>) -> Self {
        Self {
            store,
            lost_after: NodeHeartbeat::LOST_AFTER,
        }
    }
}

impl std::fmt::Debug for Deps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deps").finish_non_exhaustive()
    }
}

/// What a tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Conferences looked at.
    pub examined: usize,
    /// Transitions this tick wrote, in order.
    pub written: Vec<(ConferenceId, Step)>,
    /// Lost nodes this tick reaped, each with the number of open legs it closed.
    pub reaped: Vec<(NodeId, usize)>,
}

/// The EventBridge scheduled event for a tick at `time`, as AWS sends it (the local
/// loop builds it; the sample is `events/scheduler-tick.json`).
pub fn scheduled_event(time: DateTime<Utc>) -> EventBridgeEvent {
    let mut event = EventBridgeEvent::default();
    event.detail_type = "Scheduled Event".into();
    event.source = "aws.events".into();
    event.time = Some(time);
    event.detail = serde_json::json!({});
    event
}

/// Handles one tick: the lost media nodes reaped first (their callers' legs
/// closed, so their conferences can end), then every conference in play moved to
/// its current status.
pub async fn handle(event: &EventBridgeEvent, deps: &Deps) -> Result<TickReport, SchedulerError> {
    let now = event.time.ok_or(SchedulerError::NoTime)?;
    let mut report = TickReport::default();
    let mut failures = Vec::new();
    for node in deps.store.heartbeats().await? {
        if !node.is_lost(now, deps.lost_after) {
            continue;
        }
        match reap(deps, &node).await {
            Ok(closed) => report.reaped.push((node.node_id, closed)),
            Err(e) => failures.push(e),
        }
    }
    for account in deps.store.accounts().await? {
        let conferences = match deps
            .store
            .conferences_starting(account.id, now - LOOKBACK, now + EARLY_ACCESS)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        for conference in conferences {
            report.examined += 1;
            match advance(deps, &conference, now).await {
                Ok(steps) => report
                    .written
                    .extend(steps.into_iter().map(|s| (conference.id, s))),
                Err(e) => failures.push(e),
            }
        }
    }
    let failed = failures.len();
    match failures.into_iter().next() {
        None => Ok(report),
        Some(first) => Err(SchedulerError::Store { failed, first }),
    }
}

/// Reaps a lost node: closes each of its open legs at its last heartbeat as
/// `node_lost` (only if still open: a second reaper, or the node closing them
/// itself after a restart, changes nothing), takes its callers off the live view,
/// cuts its recordings in progress to the segments they list, then marks it reaped (only if it has not come back meanwhile). Returns the legs
/// this call closed. A failure midway leaves the node unmarked: the next tick
/// finishes the job.
pub async fn reap(deps: &Deps, node: &NodeHeartbeat) -> Result<usize, teleconf_adapters::Error> {
    let mut closed = 0;
    for mut leg in deps.store.open_legs_of_node(&node.node_id).await? {
        leg.close(node.heartbeat_at, DisconnectCause::NodeLost);
        if deps.store.close_open_leg(&leg).await? {
            closed += 1;
            tracing::warn!(node = %node.node_id, leg = %leg.id, conference = %leg.conference_id, left_at = %node.heartbeat_at, "lost node: leg closed at its last heartbeat");
        }
        deps.store.remove_live(leg.conference_id, leg.id).await?;
    }
    // Its recordings end at the last segment it uploaded.
    for recording in deps.store.recordings_of_node(&node.node_id).await? {
        if deps.store.cut_recording(&recording).await? {
            tracing::warn!(node = %node.node_id, recording = %recording.id, conference = %recording.conference_id, segments = recording.segments.len(), "lost node: recording cut to its segments kept");
        }
    }
    if deps.store.mark_reaped(node).await? {
        tracing::warn!(node = %node.node_id, last_heartbeat = %node.heartbeat_at, legs = closed, "lost node reaped");
    }
    Ok(closed)
}

/// Writes the transitions due for `conference`; returns those this call wrote.
async fn advance(
    deps: &Deps,
    conference: &Conference,
    now: DateTime<Utc>,
) -> Result<Vec<Step>, teleconf_adapters::Error> {
    let mut life = deps
        .store
        .lifecycle(conference.id)
        .await?
        .unwrap_or_else(|| Lifecycle::scheduled(conference.id, conference.account_id));
    if life.status == ConferenceStatus::Ended {
        return Ok(Vec::new());
    }
    let callers = Callers::from_legs(&deps.store.legs_of_conference(conference.id).await?);
    let mut written = Vec::new();
    for step in life.steps(&conference.schedule, callers, now) {
        let next = life.after(step);
        let mail = (step.to == ConferenceStatus::Ended).then_some(QueuedMail {
            conference_id: conference.id,
            account_id: conference.account_id,
            kind: QueuedMailKind::AttendanceReport,
            queued_at: now,
        });
        if !deps
            .store
            .advance_lifecycle(step.from, &next, mail.as_ref())
            .await?
        {
            // Another tick wrote it (or more) first: it owns the rest.
            tracing::info!(conference = %conference.id, from = ?step.from, to = ?step.to, "already written by another tick");
            break;
        }
        tracing::info!(conference = %conference.id, from = ?step.from, to = ?step.to, at = %step.at, "conference lifecycle");
        written.push(step);
        life = next;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use teleconf_adapters::store::memory::MemoryStore;
    use teleconf_domain::{
        AccessCodes, Account, CallLeg, CallerRole, CodeChoices, ConferenceNumber, Language,
        NodeState, Recording, RecordingSegment, RecordingState, Schedule, UserId,
    };

    /// The sample EventBridge event: a tick at 2026-11-01T14:26:00Z.
    const TICK: &str = include_str!("../../../events/scheduler-tick.json");

    fn tick_at(time: DateTime<Utc>) -> EventBridgeEvent {
        let mut event: EventBridgeEvent = serde_json::from_str(TICK).unwrap();
        event.time = Some(time);
        event
    }

    fn utc(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, h, m, 0).unwrap()
    }

    /// A store with one account and its conference 14:30–16:00 UTC (09:30–11:00 in
    /// Toronto on the day daylight saving time ends).
    async fn world() -> (Arc<MemoryStore>, Conference) {
        let store = Arc::new(MemoryStore::new());
        let account = Account::new("Omnivigil", utc(8, 0)).unwrap();
        store.create_account(&account).await.unwrap();
        let conference = Conference::schedule(
            account.id,
            ConferenceNumber::generate(),
            "Réunion mensuelle",
            Schedule::new(utc(14, 30), utc(16, 0)).unwrap(),
            false,
            Language::Fr,
            AccessCodes::from_choices(CodeChoices::default()).unwrap(),
            UserId::new(),
            25,
            utc(8, 0),
        )
        .unwrap();
        store.create_conference(&conference).await.unwrap();
        (store, conference)
    }

    fn deps(store: &Arc<MemoryStore>) -> Deps {
        Deps::new(store.clone())
    }

    async fn join(store: &MemoryStore, c: &Conference, caller: &str, at: DateTime<Utc>) -> CallLeg {
        let leg = teleconf_domain::testkit::leg(c, caller, CallerRole::Participant, at);
        store.put_leg(&leg).await.unwrap();
        leg
    }

    async fn leave(store: &MemoryStore, mut leg: CallLeg, at: DateTime<Utc>) {
        leg.close(at, DisconnectCause::CallerHangup);
        store.put_leg(&leg).await.unwrap();
    }

    async fn status(store: &MemoryStore, c: &Conference) -> Option<ConferenceStatus> {
        store.lifecycle(c.id).await.unwrap().map(|l| l.status)
    }

    #[tokio::test]
    async fn the_sample_tick_opens_the_conference_five_minutes_before_its_start() {
        let (store, c) = world().await;
        let event: EventBridgeEvent = serde_json::from_str(TICK).unwrap();
        let report = handle(&event, &deps(&store)).await.unwrap();
        assert_eq!(report.examined, 1);
        assert_eq!(report.written.len(), 1);
        assert_eq!(report.written[0].1.to, ConferenceStatus::Open);
        assert_eq!(report.written[0].1.at, utc(14, 25));
        assert_eq!(status(&store, &c).await, Some(ConferenceStatus::Open));
    }

    #[tokio::test]
    async fn a_tick_before_the_window_writes_nothing() {
        let (store, c) = world().await;
        let report = handle(&tick_at(utc(14, 24)), &deps(&store)).await.unwrap();
        assert!(report.written.is_empty());
        assert_eq!(status(&store, &c).await, None);
    }

    #[tokio::test]
    async fn a_duplicated_tick_writes_each_transition_once() {
        let (store, c) = world().await;
        let d = deps(&store);
        let first = handle(&tick_at(utc(14, 26)), &d).await.unwrap();
        let again = handle(&tick_at(utc(14, 26)), &d).await.unwrap();
        assert_eq!(first.written.len(), 1);
        assert!(again.written.is_empty(), "{again:?}");
        let (e1, e2) = (tick_at(utc(14, 27)), tick_at(utc(14, 27)));
        let (a, b) = tokio::join!(handle(&e1, &d), handle(&e2, &d));
        assert!(a.unwrap().written.is_empty() && b.unwrap().written.is_empty());
        assert_eq!(status(&store, &c).await, Some(ConferenceStatus::Open));
    }

    #[tokio::test]
    async fn the_whole_life_follows_the_legs_and_queues_one_attendance_report() {
        let (store, c) = world().await;
        let d = deps(&store);
        handle(&tick_at(utc(14, 26)), &d).await.unwrap();
        let alice = join(&store, &c, "+15145550101", utc(14, 28)).await;
        let report = handle(&tick_at(utc(14, 29)), &d).await.unwrap();
        assert_eq!(report.written[0].1.to, ConferenceStatus::Running);
        assert_eq!(report.written[0].1.at, utc(14, 28));

        // Past the end with a caller on the line: never cut.
        handle(&tick_at(utc(16, 30)), &d).await.unwrap();
        assert_eq!(status(&store, &c).await, Some(ConferenceStatus::Running));
        assert_eq!(
            store
                .queued_mail(c.id, QueuedMailKind::AttendanceReport)
                .await
                .unwrap(),
            None
        );

        leave(&store, alice, utc(16, 40)).await;
        let report = handle(&tick_at(utc(16, 41)), &d).await.unwrap();
        assert_eq!(report.written.len(), 1);
        assert_eq!(report.written[0].1.to, ConferenceStatus::Ended);
        assert_eq!(
            report.written[0].1.at,
            utc(16, 40),
            "ended when the last caller left"
        );
        let life = store.lifecycle(c.id).await.unwrap().unwrap();
        assert_eq!(life.opened_at, Some(utc(14, 25)));
        assert_eq!(life.running_at, Some(utc(14, 28)));
        assert_eq!(life.ended_at, Some(utc(16, 40)));
        let mail = store
            .queued_mail(c.id, QueuedMailKind::AttendanceReport)
            .await
            .unwrap()
            .expect("the report is queued with the end");
        assert_eq!(mail.conference_id, c.id);

        // Later ticks, duplicated or not, change nothing.
        for t in [utc(16, 41), utc(16, 42), utc(20, 0)] {
            assert!(handle(&tick_at(t), &d).await.unwrap().written.is_empty());
        }
    }

    #[tokio::test]
    async fn out_of_order_ticks_never_move_a_conference_back() {
        let (store, c) = world().await;
        let d = deps(&store);
        // The 16:05 tick runs first (nobody came: open then ended), then a late 14:26 one.
        let late = handle(&tick_at(utc(16, 5)), &d).await.unwrap();
        assert_eq!(
            late.written.iter().map(|(_, s)| s.to).collect::<Vec<_>>(),
            vec![ConferenceStatus::Open, ConferenceStatus::Ended]
        );
        let early = handle(&tick_at(utc(14, 26)), &d).await.unwrap();
        assert!(early.written.is_empty());
        assert_eq!(status(&store, &c).await, Some(ConferenceStatus::Ended));
    }

    #[tokio::test]
    async fn a_store_outage_fails_the_tick_and_the_next_one_catches_up() {
        let (store, c) = world().await;
        let d = deps(&store);
        store.set_unavailable(true);
        assert!(handle(&tick_at(utc(14, 26)), &d).await.is_err());
        store.set_unavailable(false);
        let report = handle(&tick_at(utc(14, 27)), &d).await.unwrap();
        assert_eq!(report.written[0].1.at, utc(14, 25));
        assert_eq!(status(&store, &c).await, Some(ConferenceStatus::Open));
    }

    fn beat(node: &str, state: NodeState, at: DateTime<Utc>) -> NodeHeartbeat {
        NodeHeartbeat {
            node_id: node.parse().unwrap(),
            sip: "10.0.0.7:5060".parse().unwrap(),
            state,
            calls: 1,
            participants: 1,
            heartbeat_at: at,
        }
    }

    async fn join_on(
        store: &MemoryStore,
        c: &Conference,
        caller: &str,
        node: &str,
        at: DateTime<Utc>,
    ) -> CallLeg {
        let mut leg = teleconf_domain::testkit::leg(c, caller, CallerRole::Participant, at);
        leg.node = Some(node.parse().unwrap());
        store.put_leg(&leg).await.unwrap();
        leg
    }

    async fn stored(store: &MemoryStore, leg: &CallLeg) -> CallLeg {
        let legs = store.legs_of_conference(leg.conference_id).await.unwrap();
        legs.into_iter().find(|l| l.id == leg.id).unwrap()
    }

    #[tokio::test]
    async fn a_lost_nodes_legs_are_closed_once_at_its_last_heartbeat_and_the_conference_ends() {
        let (store, c) = world().await;
        let d = deps(&store);
        handle(&tick_at(utc(14, 26)), &d).await.unwrap();
        let alice = join_on(&store, &c, "+15145550101", "node-a", utc(14, 28)).await;
        let bob = join_on(&store, &c, "+15145550102", "node-a", utc(14, 31)).await;
        let last = Utc.with_ymd_and_hms(2026, 11, 1, 15, 10, 5).unwrap();
        store
            .put_heartbeat(&beat("node-a", NodeState::Active, last))
            .await
            .unwrap();
        // Within the limit: a late heartbeat is not a lost node.
        let report = handle(&tick_at(utc(15, 10)), &d).await.unwrap();
        assert!(report.reaped.is_empty());
        assert_eq!(stored(&store, &alice).await.left_at, None);

        // Past the end, node A silent for an hour: its legs closed as node_lost at
        // its last heartbeat, and the conference ends in the same tick.
        let report = handle(&tick_at(utc(16, 10)), &d).await.unwrap();
        assert_eq!(report.reaped, vec![("node-a".parse().unwrap(), 2)]);
        for leg in [&alice, &bob] {
            let leg = stored(&store, leg).await;
            assert_eq!(leg.cause, Some(DisconnectCause::NodeLost));
            assert_eq!(leg.left_at, Some(last));
        }
        assert_eq!(
            stored(&store, &alice).await.duration_ms(),
            Some(42 * 60_000 + 5_000),
            "billed up to the last heartbeat"
        );
        let node = store.heartbeat(&"node-a".parse().unwrap()).await.unwrap();
        assert_eq!(node.unwrap().state, NodeState::Reaped);
        assert_eq!(status(&store, &c).await, Some(ConferenceStatus::Ended));

        // Later ticks reap nothing again.
        assert!(
            handle(&tick_at(utc(16, 11)), &d)
                .await
                .unwrap()
                .reaped
                .is_empty()
        );
    }

    #[tokio::test]
    async fn ticks_racing_over_a_lost_node_close_each_leg_once() {
        let (store, c) = world().await;
        let d = deps(&store);
        for caller in ["+15145550101", "+15145550102", "+15145550103"] {
            join_on(&store, &c, caller, "node-a", utc(14, 28)).await;
        }
        store
            .put_heartbeat(&beat("node-a", NodeState::Draining, utc(14, 40)))
            .await
            .unwrap();
        let (e1, e2) = (tick_at(utc(14, 45)), tick_at(utc(14, 45)));
        let (a, b) = tokio::join!(handle(&e1, &d), handle(&e2, &d));
        let closed: usize = [a.unwrap(), b.unwrap()]
            .iter()
            .flat_map(|r| r.reaped.iter().map(|(_, n)| n))
            .sum();
        assert_eq!(closed, 3);
    }

    #[tokio::test]
    async fn a_node_restarting_on_its_spool_after_the_reaper_closes_nothing_twice() {
        let (store, c) = world().await;
        let d = deps(&store);
        let alice = join_on(&store, &c, "+15145550101", "node-a", utc(14, 28)).await;
        store
            .put_heartbeat(&beat("node-a", NodeState::Active, utc(14, 40)))
            .await
            .unwrap();
        handle(&tick_at(utc(14, 45)), &d).await.unwrap();
        // The node comes back and replays its journal: the leg closed as node_restart
        // at the heartbeat its spool kept (a little later than the table's).
        let mut replayed = alice.clone();
        replayed.close(utc(14, 41), DisconnectCause::NodeRestart);
        store.put_leg(&replayed).await.unwrap();
        let leg = stored(&store, &alice).await;
        assert_eq!(leg.cause, Some(DisconnectCause::NodeLost));
        assert_eq!(leg.left_at, Some(utc(14, 40)));
    }

    #[tokio::test]
    async fn a_lost_nodes_recording_is_cut_to_the_segments_it_uploaded() {
        let (store, c) = world().await;
        let d = deps(&store);
        let mut recording = Recording {
            id: teleconf_domain::RecordingId::new(),
            account_id: c.account_id,
            conference_id: c.id,
            started_at: utc(14, 30),
            duration_ms: 0,
            size_bytes: 0,
            state: RecordingState::Recording,
            segments: Vec::new(),
            node: Some("node-a".parse().unwrap()),
        };
        recording.add_segment(RecordingSegment {
            index: 0,
            duration_ms: 60_000,
            size_bytes: 960_044,
        });
        store.put_recording(&recording).await.unwrap();
        store
            .put_heartbeat(&beat("node-a", NodeState::Active, utc(14, 32)))
            .await
            .unwrap();
        handle(&tick_at(utc(14, 40)), &d).await.unwrap();
        let cut = store.recording(recording.id).await.unwrap().unwrap();
        assert_eq!(cut.state, RecordingState::Cut);
        assert_eq!(cut.segments, recording.segments);
        assert_eq!(cut.duration_ms, 60_000);
    }

    #[tokio::test]
    async fn a_stopped_or_recently_heard_node_is_left_alone() {
        let (store, c) = world().await;
        let d = deps(&store);
        let on_b = join_on(&store, &c, "+15145550101", "node-b", utc(14, 28)).await;
        let on_c = join_on(&store, &c, "+15145550102", "node-c", utc(14, 28)).await;
        for (node, state, at) in [
            ("node-b", NodeState::Stopped, utc(14, 30)),
            ("node-c", NodeState::Active, utc(14, 50)),
        ] {
            store.put_heartbeat(&beat(node, state, at)).await.unwrap();
        }
        let report = handle(&tick_at(utc(14, 50)), &d).await.unwrap();
        assert!(report.reaped.is_empty(), "{report:?}");
        assert_eq!(stored(&store, &on_b).await.left_at, None);
        assert_eq!(stored(&store, &on_c).await.left_at, None);
        let strict = Deps {
            lost_after: TimeDelta::seconds(5),
            ..deps(&store)
        };
        let report = handle(&tick_at(utc(14, 51)), &strict).await.unwrap();
        assert_eq!(report.reaped, vec![("node-c".parse().unwrap(), 1)]);
    }

    #[tokio::test]
    async fn an_event_without_a_time_is_refused() {
        let (store, _) = world().await;
        let mut event = tick_at(utc(14, 26));
        event.time = None;
        assert!(matches!(
            handle(&event, &deps(&store)).await,
            Err(SchedulerError::NoTime)
        ));
    }
}
