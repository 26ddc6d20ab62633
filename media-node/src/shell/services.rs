//! What the node asks of the cloud: access numbers, conferences, failure
//! counters and locks from the store, custom prompts from S3, CDRs and activity
//! written back. Every call here is made by a task the [shell](super) spawns, so a
//! slow store never holds up the media.
//!
//! A store that does not answer degrades the service, it does not break it: an
//! unreachable number lookup gets the caller a 503 (the trunk tries elsewhere), an
//! unanswered conference lookup ends the IVR with its goodbye, a prompt that cannot
//! be fetched is replaced by the default one, and a CDR write is retried until the
//! store is back (the spool keeps it across a restart meanwhile).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use teleconf_adapters::Error as CoreError;
use teleconf_adapters::blobs::BlobStore;
use teleconf_adapters::store::{Claim, Store};
use teleconf_domain::BlobKey;
use teleconf_domain::audio::prompt::normalize_prompt;
use teleconf_domain::audio::write_pcm16_mono;
use teleconf_domain::{
    AccountId, Activity, ActivityKind, Attempt, CallLeg, CallerSource, ConferenceControl,
    ConferenceId, ConferenceNumber, ControlId, E164, IntroCode, Language, Limit, NodeId,
    PhoneNumber, PromptId, Recording, RecordingSegment, RecordingState, RoomLease,
};

use crate::app::ivr::{CALLER_LIMIT, CONFERENCE_LIMIT, LOCKOUT};
use crate::app::lookup::{Answer, Attempts, ConferenceInfo, IntroTarget, Lookup, Unavailable};
use crate::node::star44::IpPhones;
use crate::node::{LiveUpdate, RoomOwner};
use crate::shell::recorder::Finished;

type Result<T> = std::result::Result<T, CoreError>;

/// The longest wait between two tries of a CDR write.
const CDR_RETRY_MAX_DELAY: Duration = Duration::from_secs(10);

/// The store and the bucket, with the prompt cache.
#[derive(Clone)]
pub struct Services {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    /// Custom prompts already fetched, as 8 kHz PCM.
    prompts: Arc<Mutex<HashMap<PromptId, Arc<[i16]>>>>,
    /// Whose each custom prompt is (its S3 key names the account): learnt from the
    /// numbers and conferences looked up, which are what name a prompt.
    owners: Arc<Mutex<HashMap<PromptId, AccountId>>>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services").finish_non_exhaustive()
    }
}

impl Services {
    /// Services over `store` and `blobs`.
    pub fn new(store: Arc<dyn Store>, blobs: Arc<dyn BlobStore>) -> Self {
        Self {
            store,
            blobs,
            prompts: Arc::default(),
            owners: Arc::default(),
        }
    }

    /// The answer to a call's lookup (the store's reading times are taken now),
    /// or none when the store cannot tell and the call does better without one
    /// ([`crate::app::lookup`]): a conference or intro code lookup that fails ends
    /// the IVR at its answer timeout, a prompt not fetched plays its default.
    pub async fn answer(&self, lookup: Lookup) -> Option<Answer> {
        let unavailable = |what: &'static str| {
            move |error: CoreError| {
                tracing::warn!(%error, "{what}");
                Unavailable
            }
        };
        let counters = unavailable("failure counters unreadable or not written");
        match lookup {
            Lookup::Number(e164) => Some(Answer::Number(
                self.number(&e164)
                    .await
                    .map_err(unavailable("lookup of a new call failed")),
            )),
            Lookup::Account(account) => Some(Answer::Account(
                self.language(account)
                    .await
                    .map_err(unavailable("lookup of a new call failed")),
            )),
            Lookup::Conference(number) => self
                .conference(&number)
                .await
                .map_err(unavailable("conference lookup failed"))
                .ok()
                .map(Answer::Conference),
            Lookup::IntroCode(code) => self
                .intro_target(&code, Utc::now())
                .await
                .map_err(unavailable("intro code lookup failed"))
                .ok()
                .map(Answer::IntroCode),
            Lookup::Attempts { caller, conference } => Some(Answer::Attempts(
                self.attempts(&caller, conference, Utc::now())
                    .await
                    .map_err(counters),
            )),
            Lookup::RecordFailure { caller, conference } => Some(Answer::Attempts(
                self.record_failure(&caller, conference, Utc::now())
                    .await
                    .map_err(counters),
            )),
            Lookup::Prompt(id) => match self.prompt(id).await {
                Ok(pcm) => pcm.map(|pcm| Answer::Prompt(id, pcm)),
                Err(error) => {
                    tracing::warn!(prompt = %id, %error, "prompt fetch failed");
                    None
                }
            },
        }
    }

    /// The access number dialled.
    pub async fn number(&self, e164: &E164) -> Result<Option<PhoneNumber>> {
        let number = self.store.number(e164).await?;
        if let Some(prompts) = number.as_ref().and_then(PhoneNumber::conference_prompts) {
            let ids = [
                prompts.greeting,
                prompts.conference_number,
                prompts.access_code,
            ];
            self.learn_owner(number.as_ref().map(|n| n.account_id), ids);
        }
        Ok(number)
    }

    /// Every account's IP phones: who may dial `*44`.
    pub async fn ip_phones(&self) -> Result<IpPhones> {
        Ok(self.store.all_ip_phones().await?.into_iter().collect())
    }

    /// Writes the node's heartbeat into the registry.
    pub async fn put_heartbeat(&self, heartbeat: &teleconf_domain::NodeHeartbeat) -> Result<()> {
        self.store.put_heartbeat(heartbeat).await
    }

    /// Claims (or renews) `conference`'s room lease for `node`, whose cascade is
    /// reached at `cascade`: who holds it now ([`RoomOwner::Unknown`] when the
    /// store cannot be reached).
    pub async fn claim_room(
        &self,
        conference: ConferenceId,
        node: &NodeId,
        cascade: SocketAddr,
    ) -> RoomOwner {
        let now = Utc::now();
        let lease = RoomLease::new(conference, node.clone(), cascade, now);
        match self.store.claim_room(&lease, now).await {
            Ok(Claim::Mine) => RoomOwner::Here,
            Ok(Claim::Held(held)) => RoomOwner::Elsewhere {
                node: held.owner,
                cascade: held.cascade,
            },
            Err(error) => {
                tracing::warn!(%conference, %error, "room lease unclaimable");
                RoomOwner::Unknown
            }
        }
    }

    /// Who holds `conference`'s room, as its lease reads (no claim): another
    /// node's live lease, or [`RoomOwner::Here`] when none is (no lease, an
    /// expired one, or `node`'s own); [`RoomOwner::Unknown`] when the store
    /// cannot be read.
    pub async fn find_room(&self, conference: ConferenceId, node: &NodeId) -> RoomOwner {
        match self.store.room_lease(conference).await {
            Ok(Some(lease)) if lease.is_live(Utc::now()) && lease.owner != *node => {
                RoomOwner::Elsewhere {
                    node: lease.owner,
                    cascade: lease.cascade,
                }
            }
            Ok(_) => RoomOwner::Here,
            Err(error) => {
                tracing::warn!(%conference, %error, "room lease unreadable");
                RoomOwner::Unknown
            }
        }
    }

    /// Releases `node`'s lease of `conference`'s room (its room closed); a store
    /// away leaves it to expire.
    pub async fn release_room(&self, conference: ConferenceId, node: &NodeId) {
        if let Err(error) = self.store.release_room(conference, node).await {
            tracing::warn!(%conference, %error, "room lease not released: it expires by itself");
        }
    }

    /// An account's language (`*44` calls speak it); `None` for no such account.
    pub async fn language(&self, account: AccountId) -> Result<Option<Language>> {
        Ok(self.store.account(account).await?.map(|a| a.language))
    }

    /// The conference with this number, with what the IVR needs of its account.
    pub async fn conference(&self, number: &ConferenceNumber) -> Result<Option<ConferenceInfo>> {
        let Some(conference) = self.store.conference_by_number(number).await? else {
            return Ok(None);
        };
        let time_zone = match self.store.account(conference.account_id).await? {
            Some(account) => account.time_zone,
            None => {
                tracing::warn!(conference = %conference.id, "conference of no account");
                return Ok(None);
            }
        };
        self.learn_owner(Some(conference.account_id), [conference.intro_prompt]);
        Ok(Some(ConferenceInfo {
            id: conference.id,
            account: conference.account_id,
            number: conference.number,
            schedule: conference.schedule,
            codes: conference.codes,
            intro: conference.intro_prompt,
            max_participants: conference.max_participants,
            time_zone,
            record: conference.record,
        }))
    }

    /// The failures counted now against the caller and, when given, the
    /// conference. A locked attempt reads as its limit reached, whatever the
    /// window's count.
    pub async fn attempts(
        &self,
        caller: &CallerSource,
        conference: Option<ConferenceId>,
        now: DateTime<Utc>,
    ) -> Result<Attempts> {
        let by_conference = async {
            match conference {
                Some(conference) => {
                    self.count(&Attempt::CodeAt(conference), &CONFERENCE_LIMIT, now)
                        .await
                }
                None => Ok(0),
            }
        };
        let caller = Attempt::CodeFrom(caller.clone());
        let (by_caller, by_conference) =
            tokio::try_join!(self.count(&caller, &CALLER_LIMIT, now), by_conference,)?;
        Ok(Attempts {
            by_caller,
            by_conference,
        })
    }

    async fn count(&self, attempt: &Attempt, limit: &Limit, now: DateTime<Utc>) -> Result<u32> {
        if self.store.locked_until(attempt, now).await?.is_some() {
            return Ok(limit.max_failures);
        }
        self.store.failures(attempt, limit, now).await
    }

    /// Counts one wrong entry against the caller, and, for a wrong code, against
    /// `conference` (with its account); returns the counts now. The failure that
    /// reaches a limit locks for [`LOCKOUT`] (a caller shut out, a conference's
    /// callers slowed) and is recorded in the account's activity when there is one.
    pub async fn record_failure(
        &self,
        caller: &CallerSource,
        conference: Option<(ConferenceId, AccountId)>,
        now: DateTime<Utc>,
    ) -> Result<Attempts> {
        let attempt = Attempt::CodeFrom(caller.clone());
        let by_caller = self.fail(
            &attempt,
            &CALLER_LIMIT,
            conference,
            format!("{}: wrong entries", caller.caller_id()),
            now,
        );
        let by_conference = async {
            match conference {
                Some(keyed_at) => {
                    self.fail(
                        &Attempt::CodeAt(keyed_at.0),
                        &CONFERENCE_LIMIT,
                        Some(keyed_at),
                        "wrong codes".into(),
                        now,
                    )
                    .await
                }
                None => Ok(0),
            }
        };
        let (by_caller, by_conference) = tokio::try_join!(by_caller, by_conference)?;
        Ok(Attempts {
            by_caller,
            by_conference,
        })
    }

    /// Counts one failure of `attempt`; returns its count (its limit while locked).
    async fn fail(
        &self,
        attempt: &Attempt,
        limit: &Limit,
        conference: Option<(ConferenceId, AccountId)>,
        what: String,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        let count = self.store.record_failure(attempt, limit, now).await?;
        if !limit.is_exceeded(count) {
            return Ok(count);
        }
        let until = now + LOCKOUT;
        self.store.lock(attempt, until).await?;
        // The failure that reaches the limit is the one recorded.
        if count == limit.max_failures {
            let summary = format!("{count} {what}");
            tracing::warn!(?conference, %summary, "guessing: locked until {until}");
            if let Some((conference, account)) = conference {
                self.store
                    .record_activity(&Activity::new(
                        account,
                        now,
                        None,
                        ActivityKind::AccessLocked,
                        Some(conference),
                        summary,
                    ))
                    .await?;
            }
        }
        Ok(count.max(limit.max_failures))
    }

    /// A custom prompt's 8 kHz PCM: from the cache, else from S3 (any WAV the
    /// portal took is normalised again here, so an object put there by other
    /// means still plays). `None` when it is not there or not audio.
    pub async fn prompt(&self, id: PromptId) -> Result<Option<Arc<[i16]>>> {
        if let Some(pcm) = lock(&self.prompts).get(&id) {
            return Ok(Some(pcm.clone()));
        }
        let Some(account) = lock(&self.owners).get(&id).copied() else {
            tracing::warn!(prompt = %id, "a prompt of no known account");
            return Ok(None);
        };
        let Some(bytes) = self.blobs.get(&BlobKey::prompt(account, id)).await? else {
            tracing::warn!(prompt = %id, "prompt missing from the bucket");
            return Ok(None);
        };
        let pcm: Arc<[i16]> = match normalize_prompt(&bytes) {
            Ok(prompt) => prompt.samples.into(),
            Err(error) => {
                tracing::warn!(prompt = %id, %error, "prompt is not playable audio");
                return Ok(None);
            }
        };
        lock(&self.prompts).insert(id, pcm.clone());
        Ok(Some(pcm))
    }

    /// Writes a CDR leg (opened or closed) and its activity, retrying for as long
    /// as the store is unavailable (the [spool](super::spool) keeps the leg across
    /// a restart meanwhile). Writes are idempotent by leg id. A leg the store
    /// refuses for good is logged whole and not retried.
    pub async fn write_leg(&self, leg: &CallLeg) {
        let written = retry_while_unavailable("CDR write", None, || self.store.put_leg(leg)).await;
        if let Err(error) = written {
            let record = serde_json::to_string(leg).unwrap_or_default();
            tracing::error!(%error, %record, "CDR refused by the store");
            return;
        }
        let (kind, at) = match leg.left_at {
            None => (ActivityKind::CallJoined, leg.joined_at),
            Some(left) => (ActivityKind::CallLeft, left),
        };
        let activity = Activity::new(
            leg.account_id,
            at,
            None,
            kind,
            Some(leg.conference_id),
            format!("{} ({})", leg.caller_id, leg.role.as_str()),
        );
        if let Err(error) = self.store.record_activity(&activity).await {
            tracing::warn!(leg = %leg.id, %error, "activity not recorded");
        }
    }

    /// Uploads segment `index` of a recording, closed (the item as stored so far
    /// is `recording`, `None` before its first segment), lists it in the item for the API, and
    /// removes the local file; retried while S3 or the table is unavailable.
    /// Returns the item as it now stands (unchanged if the segment was refused:
    /// then it stays on disk, logged).
    pub async fn store_segment(
        &self,
        node: &NodeId,
        recording: Option<Recording>,
        index: u32,
        segment: &Finished,
    ) -> Recording {
        let mut recording = recording.unwrap_or_else(|| Recording {
            id: segment.id,
            account_id: segment.account,
            conference_id: segment.conference,
            started_at: segment.started_at,
            duration_ms: 0,
            size_bytes: 0,
            state: RecordingState::Recording,
            segments: Vec::new(),
            node: Some(node.clone()),
        });
        let Some(size_bytes) = file_size(&segment.path).await else {
            return recording;
        };
        let mut with = recording.clone();
        with.add_segment(RecordingSegment {
            index,
            duration_ms: segment.samples / 8,
            size_bytes,
        });
        let key = recording.segment_key(index);
        let stored = retry_while_unavailable("recording segment upload", None, || async {
            self.blobs
                .put_file(&key, &segment.path, "audio/wav")
                .await?;
            self.store.put_recording(&with).await
        })
        .await;
        match stored {
            Ok(()) => {
                tracing::info!(recording = %with.id, conference = %with.conference_id, segment = index, duration_ms = with.duration_ms, "recording segment stored");
                let _ = tokio::fs::remove_file(&segment.path).await;
                recording = with;
            }
            Err(error) => {
                tracing::error!(recording = %with.id, path = %segment.path.display(), %error, "recording segment refused; kept on disk");
            }
        }
        recording
    }

    /// Uploads a finished recording whole, writes its item complete for the API,
    /// removes the segments `stored` listed (the whole file holds them) and the
    /// local file; retried while S3 or the table is unavailable. A recording
    /// refused for good stays on disk, logged, and its segments in S3.
    pub async fn store_recording(
        &self,
        node: &NodeId,
        stored: Option<Recording>,
        finished: &Finished,
    ) {
        let Some(size_bytes) = file_size(&finished.path).await else {
            return;
        };
        let recording = Recording {
            id: finished.id,
            account_id: finished.account,
            conference_id: finished.conference,
            started_at: finished.started_at,
            duration_ms: finished.samples / 8,
            size_bytes,
            state: RecordingState::Complete,
            segments: Vec::new(),
            node: Some(node.clone()),
        };
        let done = retry_while_unavailable("recording upload", None, || async {
            self.blobs
                .put_file(&recording.key(), &finished.path, "audio/wav")
                .await?;
            self.store.put_recording(&recording).await
        })
        .await;
        if let Err(error) = done {
            tracing::error!(recording = %recording.id, path = %finished.path.display(), %error, "recording refused; kept on disk");
            return;
        }
        tracing::info!(recording = %recording.id, conference = %recording.conference_id, duration_ms = recording.duration_ms, "recording stored");
        let _ = tokio::fs::remove_file(&finished.path).await;
        for segment in stored.iter().flat_map(|r| &r.segments) {
            let key = recording.segment_key(segment.index);
            if let Err(error) = self.blobs.delete(&key).await {
                tracing::warn!(recording = %recording.id, segment = segment.index, %error, "recording segment left in S3");
            }
        }
    }

    /// What an intro code opens at `now`: its conference, if it is still valid.
    pub async fn intro_target(
        &self,
        code: &IntroCode,
        now: DateTime<Utc>,
    ) -> Result<Option<IntroTarget>> {
        Ok(self
            .store
            .intro_grant(code)
            .await?
            .filter(|grant| grant.is_valid_at(now))
            .map(|grant| IntroTarget {
                code: grant.code,
                conference: grant.conference_id,
                account: grant.account_id,
            }))
    }

    /// Stores an intro recorded by phone: the WAV in the account's prompts, the
    /// conference's intro pointing at it, the code spent, the feed told.
    /// Retried while the store or the bucket is away; logged if refused.
    pub async fn store_intro(&self, target: &IntroTarget, pcm: &[i16]) {
        let id = PromptId::new();
        let wav = write_pcm16_mono(8_000, pcm);
        let stored = retry_while_unavailable("intro by phone", Some(8), || {
            self.try_store_intro(target, id, &wav)
        })
        .await;
        match stored {
            Ok(()) => {
                tracing::info!(conference = %target.conference, prompt = %id, "intro recorded by phone stored");
            }
            Err(error) => {
                tracing::error!(conference = %target.conference, %error, "intro recorded by phone not stored");
            }
        }
    }

    async fn try_store_intro(&self, target: &IntroTarget, id: PromptId, wav: &[u8]) -> Result<()> {
        self.blobs
            .put(
                &BlobKey::prompt(target.account, id),
                wav.to_vec(),
                "audio/wav",
            )
            .await?;
        let Some(mut conference) = self.store.conference(target.conference).await? else {
            tracing::warn!(conference = %target.conference, "intro for a conference that is gone");
            return Ok(());
        };
        conference.intro_prompt = Some(id);
        self.store.update_conference(&conference).await?;
        self.store.spend_intro_grant(&target.code).await?;
        let activity = Activity::new(
            target.account,
            Utc::now(),
            None,
            ActivityKind::PromptUploaded,
            Some(target.conference),
            "intro recorded by phone",
        );
        if let Err(error) = self.store.record_activity(&activity).await {
            tracing::warn!(%error, "activity not recorded");
        }
        Ok(())
    }

    /// Applies a change of the live view. The view is best effort: a failed
    /// write is logged, and the item expires within a day anyway.
    pub async fn update_live(&self, update: &LiveUpdate) {
        let result = match update {
            LiveUpdate::Put(participant) => self.store.put_live(participant).await,
            LiveUpdate::Remove { conference, leg } => {
                self.store.remove_live(*conference, *leg).await
            }
        };
        if let Err(error) = result {
            tracing::warn!(%error, "live view not updated");
        }
    }

    /// The portal's commands waiting for `conference`, oldest first.
    pub async fn pending_controls(
        &self,
        conference: ConferenceId,
    ) -> Result<Vec<ConferenceControl>> {
        self.store.pending_controls(conference).await
    }

    /// A portal command was carried out (or dropped): off its queue.
    pub async fn ack_control(&self, conference: ConferenceId, id: ControlId) -> Result<()> {
        self.store.ack_control(conference, id).await
    }

    /// Records a conference event (a mute, a lock, …) in the account's feed.
    pub async fn record_event(
        &self,
        account: AccountId,
        conference: ConferenceId,
        kind: ActivityKind,
        summary: String,
    ) {
        let activity = Activity::new(account, Utc::now(), None, kind, Some(conference), summary);
        if let Err(error) = self.store.record_activity(&activity).await {
            tracing::warn!(%error, "conference event not recorded");
        }
    }

    fn learn_owner(
        &self,
        account: Option<AccountId>,
        ids: impl IntoIterator<Item = Option<PromptId>>,
    ) {
        let Some(account) = account else { return };
        let mut owners = lock(&self.owners);
        for id in ids.into_iter().flatten() {
            owners.insert(id, account);
        }
    }
}

/// Runs `op` until it succeeds or fails for good, waiting longer between tries
/// (up to [`CDR_RETRY_MAX_DELAY`]) while the store or bucket is unavailable; at
/// most `tries` times when given.
async fn retry_while_unavailable<T, F, Fut>(what: &str, tries: Option<u32>, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut delay = Duration::from_millis(200);
    let mut tried = 0;
    loop {
        tried += 1;
        match op().await {
            Err(error) if error.is_retryable() && tries.is_none_or(|most| tried < most) => {
                tracing::warn!(%error, "{what} failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(CDR_RETRY_MAX_DELAY);
            }
            done => return done,
        }
    }
}

/// A poisoned cache is still a cache.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The size of a file the recorder closed (`None`, logged, if it is gone).
async fn file_size(path: &std::path::Path) -> Option<u64> {
    match tokio::fs::metadata(path).await {
        Ok(meta) => Some(meta.len()),
        Err(error) => {
            tracing::error!(path = %path.display(), %error, "recording file gone");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeDelta;
    use teleconf_adapters::blobs::MemoryBlobs;
    use teleconf_adapters::store::conformance::{account_with_owner, create_conference};
    use teleconf_adapters::store::memory::MemoryStore;
    use teleconf_adapters::store::{ActivityStore, ConferenceStore, NumberStore, RecordingStore};
    use teleconf_domain::audio::write_pcm16_mono;
    use teleconf_domain::testkit::access_number;
    use teleconf_domain::{NumberAction, PhoneNumber, RecordingId};

    use super::*;

    fn services(store: &Arc<MemoryStore>, blobs: &Arc<MemoryBlobs>) -> Services {
        Services::new(store.clone(), blobs.clone())
    }

    fn caller() -> CallerSource {
        CallerSource::new("198.51.100.7".parse().unwrap(), "+15145550123")
    }

    #[tokio::test]
    async fn the_failure_that_reaches_the_caller_limit_locks_for_fifteen_minutes_and_is_recorded() {
        let store = Arc::new(MemoryStore::new());
        let services = services(&store, &Arc::default());
        let (account, owner) = account_with_owner(store.as_ref()).await;
        let conference = create_conference(store.as_ref(), &owner).await.id;
        let keyed_at = Some((conference, account.id));
        let counts = |by_caller, by_conference| Attempts {
            by_caller,
            by_conference,
        };
        // At the start of a counting window, so the lock outlives the window.
        let now = CALLER_LIMIT.window_start(Utc::now());
        for _ in 0..CALLER_LIMIT.max_failures - 1 {
            services
                .record_failure(&caller(), keyed_at, now)
                .await
                .unwrap();
        }
        assert_eq!(
            services
                .attempts(&caller(), Some(conference), now)
                .await
                .unwrap(),
            counts(9, 9)
        );
        assert!(
            store
                .recent_activity(account.id, 10)
                .await
                .unwrap()
                .is_empty()
        );

        assert_eq!(
            services
                .record_failure(&caller(), keyed_at, now)
                .await
                .unwrap(),
            counts(10, 10),
            "the counts now come back with the failure"
        );
        let activity = store.recent_activity(account.id, 10).await.unwrap();
        assert_eq!(activity.len(), 1);
        assert_eq!(activity[0].kind, ActivityKind::AccessLocked);
        assert_eq!(activity[0].conference_id, Some(conference));
        // Locked past the counting window, free after fifteen minutes.
        let later = now + TimeDelta::minutes(12);
        assert_eq!(
            services.attempts(&caller(), None, later).await.unwrap(),
            counts(10, 0)
        );
        let free = now + TimeDelta::minutes(16);
        assert_eq!(
            services.attempts(&caller(), None, free).await.unwrap(),
            counts(0, 0)
        );
    }

    #[tokio::test]
    async fn wrong_numbers_count_against_the_caller_only_and_a_store_away_is_an_error_not_zero() {
        let store = Arc::new(MemoryStore::new());
        let services = services(&store, &Arc::default());
        let now = Utc::now();
        assert_eq!(
            services.record_failure(&caller(), None, now).await.unwrap(),
            Attempts {
                by_caller: 1,
                by_conference: 0
            }
        );
        store.set_unavailable(true);
        assert!(services.attempts(&caller(), None, now).await.is_err());
        assert!(services.record_failure(&caller(), None, now).await.is_err());
    }

    #[tokio::test]
    async fn a_conference_is_found_with_its_accounts_time_zone() {
        let store = Arc::new(MemoryStore::new());
        let services = services(&store, &Arc::default());
        let (account, owner) = account_with_owner(store.as_ref()).await;
        let conference = create_conference(store.as_ref(), &owner).await;
        let info = services
            .conference(&conference.number)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(info.id, conference.id);
        assert_eq!(info.account, account.id);
        assert_eq!(info.time_zone, account.time_zone);
        assert_eq!(info.max_participants, conference.max_participants);
        let other = loop {
            let number = ConferenceNumber::generate();
            if number != conference.number {
                break number;
            }
        };
        assert!(services.conference(&other).await.unwrap().is_none());
        assert!(store.conference(conference.id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_numbers_custom_greeting_is_fetched_from_its_accounts_prefix() {
        let store = Arc::new(MemoryStore::new());
        let blobs = Arc::new(MemoryBlobs::default());
        let services = services(&store, &blobs);
        let (account, _) = account_with_owner(store.as_ref()).await;
        let greeting = PromptId::new();
        let mut number: PhoneNumber = access_number(account.id);
        number.action = NumberAction::ConferenceAccess {
            prompts: teleconf_domain::ConferencePrompts {
                greeting: Some(greeting),
                ..Default::default()
            },
        };
        store.create_number(&number).await.unwrap();
        let samples: Vec<i16> = (0..800).map(|i| (i % 100) as i16 * 50).collect();
        blobs
            .put(
                &BlobKey::prompt(account.id, greeting),
                write_pcm16_mono(8_000, &samples),
                "audio/wav",
            )
            .await
            .unwrap();

        // Unknown until a number naming it was looked up.
        assert!(services.prompt(greeting).await.unwrap().is_none());
        services.number(&number.number).await.unwrap().unwrap();
        let pcm = services.prompt(greeting).await.unwrap().unwrap();
        assert_eq!(&pcm[..], &samples[..]);
        // A prompt missing from the bucket is none, not an error.
        let missing = PromptId::new();
        services.learn_owner(Some(account.id), [Some(missing)]);
        assert!(services.prompt(missing).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn segments_are_listed_as_they_are_stored_then_replaced_by_one_complete_file() {
        let (store, blobs) = (
            Arc::new(MemoryStore::new()),
            Arc::new(MemoryBlobs::default()),
        );
        let services = services(&store, &blobs);
        let node: NodeId = "node-a".parse().unwrap();
        let dir = std::env::temp_dir().join(format!("teleconf-segments-{}", RecordingId::new()));
        std::fs::create_dir_all(&dir).unwrap();
        let wav = |name: &str, seconds: usize| {
            let path = dir.join(name);
            std::fs::write(&path, write_pcm16_mono(8_000, &vec![7; 8_000 * seconds])).unwrap();
            path
        };
        let (id, conference, account) = (RecordingId::new(), ConferenceId::new(), AccountId::new());
        let started_at = Utc::now();
        let segment = |index: u32| Finished {
            id,
            conference,
            account,
            started_at,
            path: wav(&format!("s{index}.wav"), 1),
            samples: 8_000,
        };
        let mut stored = None;
        for index in [0, 1] {
            let s = segment(index);
            stored = Some(services.store_segment(&node, stored, index, &s).await);
            assert!(!s.path.exists(), "uploaded, then removed from the disk");
        }
        let item = store.recording(id).await.unwrap().unwrap();
        assert_eq!(item.state, RecordingState::Recording);
        assert_eq!(item.segments.len(), 2);
        assert_eq!(item.duration_ms, 2_000);
        assert_eq!(item.node, Some(node.clone()));
        for index in [0, 1] {
            assert!(blobs.get(&item.segment_key(index)).await.unwrap().is_some());
        }

        let finished = Finished {
            id,
            conference,
            account,
            started_at,
            path: wav("whole.wav", 3),
            samples: 24_000,
        };
        services.store_recording(&node, stored, &finished).await;
        let item = store.recording(id).await.unwrap().unwrap();
        assert_eq!(item.state, RecordingState::Complete);
        assert!(item.segments.is_empty());
        assert_eq!(item.duration_ms, 3_000);
        assert!(blobs.get(&item.key()).await.unwrap().is_some());
        for index in [0, 1] {
            assert_eq!(
                blobs.get(&item.segment_key(index)).await.unwrap(),
                None,
                "in the whole file now"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
