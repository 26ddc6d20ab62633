//! The behaviour every [`Store`] must have, as one suite run against the in-memory
//! store (unit tests) and against DynamoDB on the emulator (integration tests).
//! Each check makes its own uniquely-named entities, so checks may share a table
//! with other tests running at the same time.

#![allow(clippy::unwrap_used, missing_docs)]

use chrono::{DateTime, Duration, DurationRound, Utc};
use teleconf_domain::conference::EARLY_ACCESS;
use teleconf_domain::random;
use teleconf_domain::testkit::{
    access_number, conference, unique_e164, unique_email, unique_ip_phone_sources,
};
use teleconf_domain::{
    Account, AccountId, Activity, ActivityKind, Attempt, CallLeg, CallerRole, CallerSource,
    Conference, ConferenceId, ConferenceNumber, DisconnectCause, IntroCode, IntroGrant, Invitation,
    InvitationId, Invoice, IpPhone, Language, LegId, Limit, LiveParticipant, Recording,
    RecordingId, Role, Schedule, User, YearMonth,
};

use super::Store;
use crate::error::Error;

/// Runs every check.
pub async fn run_all(store: &impl Store) {
    account_user_number_and_conference_read_back_by_every_key(store).await;
    a_second_conference_cannot_take_an_existing_number(store).await;
    an_email_belongs_to_one_user_and_moves_with_it(store).await;
    an_access_number_is_assigned_once(store).await;
    updates_and_deletes_take_effect(store).await;
    legs_are_written_idempotently_and_listed_by_conference_and_month(store).await;
    activity_is_listed_newest_first(store).await;
    recordings_are_listed_by_account_and_conference(store).await;
    an_invoice_is_issued_once_per_month(store).await;
    invitations_are_queued_per_conference(store).await;
    an_intro_code_is_granted_once(store).await;
    failures_are_counted_per_attempt_and_window(store).await;
    a_lock_holds_until_it_lifts_and_is_only_lengthened(store).await;
    a_caller_with_a_very_long_caller_id_is_counted_and_locked(store).await;
    live_callers_are_listed_updated_and_removed(store).await;
    live_controls_are_queued_in_order_and_acknowledged(store).await;
    an_account_keeps_its_last_owner(store).await;
    an_ip_phone_belongs_to_one_account(store).await;
    the_provider_keeps_its_last_administrator(store).await;
    a_users_token_version_never_goes_back(store).await;
}

/// A stored account with a stored owner.
pub async fn account_with_owner(store: &impl Store) -> (Account, User) {
    let now = Utc::now();
    let account = Account::new("Omnivigil Solutions", now).unwrap();
    store.create_account(&account).await.unwrap();
    let owner = User::new(
        account.id,
        unique_email(),
        "Olivia Owner",
        Role::Owner,
        "a long enough password",
        now,
    )
    .unwrap();
    store.create_user(&owner).await.unwrap();
    (account, owner)
}

/// Stores a conference, drawing another number when one is taken (as the API does).
pub async fn create_conference(store: &impl Store, owner: &User) -> Conference {
    loop {
        let c = conference(owner, ConferenceNumber::generate());
        match store.create_conference(&c).await {
            Ok(()) => return c,
            Err(Error::Conflict("conference_number")) => continue,
            Err(e) => panic!("{e}"),
        }
    }
}

pub async fn account_user_number_and_conference_read_back_by_every_key(store: &impl Store) {
    let (account, owner) = account_with_owner(store).await;
    assert_eq!(
        store.account(account.id).await.unwrap().as_ref(),
        Some(&account)
    );
    assert!(
        store
            .accounts()
            .await
            .unwrap()
            .iter()
            .any(|a| a.id == account.id)
    );

    // User: by id, by e-mail, by account.
    assert_eq!(store.user(owner.id).await.unwrap().as_ref(), Some(&owner));
    assert_eq!(
        store.user_by_email(&owner.email).await.unwrap().as_ref(),
        Some(&owner)
    );
    assert_eq!(store.users(account.id).await.unwrap(), vec![owner.clone()]);
    assert!(
        store
            .user_by_email(&unique_email())
            .await
            .unwrap()
            .is_none()
    );

    // Access number: by E.164, by account.
    let number = access_number(account.id);
    store.create_number(&number).await.unwrap();
    assert_eq!(
        store.number(&number.number).await.unwrap().as_ref(),
        Some(&number)
    );
    assert_eq!(
        store.numbers(account.id).await.unwrap(),
        vec![number.clone()]
    );
    assert!(store.number(&unique_e164()).await.unwrap().is_none());

    // Conference: by id, by number, by account.
    let conf = create_conference(store, &owner).await;
    assert_eq!(
        store.conference(conf.id).await.unwrap().as_ref(),
        Some(&conf)
    );
    assert_eq!(
        store
            .conference_by_number(&conf.number)
            .await
            .unwrap()
            .as_ref(),
        Some(&conf)
    );
    assert_eq!(
        store.conferences(account.id).await.unwrap(),
        vec![conf.clone()]
    );
    assert_eq!(store.conferences(AccountId::new()).await.unwrap(), vec![]);
}

pub async fn a_second_conference_cannot_take_an_existing_number(store: &impl Store) {
    let (_, owner) = account_with_owner(store).await;
    let first = create_conference(store, &owner).await;
    let (_, other_owner) = account_with_owner(store).await;
    let second = conference(&other_owner, first.number.clone());
    assert!(matches!(
        store.create_conference(&second).await,
        Err(Error::Conflict("conference_number"))
    ));
    // Nothing of the refused conference was stored.
    assert!(store.conference(second.id).await.unwrap().is_none());
    assert_eq!(
        store
            .conference_by_number(&first.number)
            .await
            .unwrap()
            .unwrap()
            .id,
        first.id
    );
    assert!(
        store
            .conferences(other_owner.account_id)
            .await
            .unwrap()
            .is_empty()
    );

    // Deleting the first frees its number.
    store.delete_conference(&first).await.unwrap();
    assert!(
        store
            .conference_by_number(&first.number)
            .await
            .unwrap()
            .is_none()
    );
    store.create_conference(&second).await.unwrap();
    assert_eq!(
        store
            .conference_by_number(&first.number)
            .await
            .unwrap()
            .unwrap()
            .id,
        second.id
    );
}

pub async fn an_email_belongs_to_one_user_and_moves_with_it(store: &impl Store) {
    let (account, owner) = account_with_owner(store).await;
    let now = Utc::now();
    let clash = User::new(
        account.id,
        owner.email.clone(),
        "Someone Else",
        Role::ConferenceOperator,
        "another long password",
        now,
    )
    .unwrap();
    assert!(matches!(
        store.create_user(&clash).await,
        Err(Error::Conflict("email"))
    ));
    assert!(store.user(clash.id).await.unwrap().is_none());

    let operator = User::new(
        account.id,
        unique_email(),
        "Oscar Operator",
        Role::ConferenceOperator,
        "another long password",
        now,
    )
    .unwrap();
    store.create_user(&operator).await.unwrap();

    // Taking the owner's e-mail is refused and changes nothing.
    let mut stolen = operator.clone();
    stolen.email = owner.email.clone();
    assert!(matches!(
        store.update_user(&stolen).await,
        Err(Error::Conflict("email"))
    ));
    assert_eq!(
        store.user_by_email(&owner.email).await.unwrap().unwrap().id,
        owner.id
    );
    assert_eq!(
        store.user(operator.id).await.unwrap().unwrap().email,
        operator.email
    );

    // A new e-mail moves the login and frees the old one.
    let mut moved = operator.clone();
    moved.email = unique_email();
    store.update_user(&moved).await.unwrap();
    assert_eq!(
        store.user_by_email(&moved.email).await.unwrap().unwrap().id,
        operator.id
    );
    assert!(
        store
            .user_by_email(&operator.email)
            .await
            .unwrap()
            .is_none()
    );

    store.delete_user(&moved).await.unwrap();
    assert!(store.user(operator.id).await.unwrap().is_none());
    assert!(store.user_by_email(&moved.email).await.unwrap().is_none());
    let reuse = User::new(
        account.id,
        moved.email.clone(),
        "Reuse",
        Role::ConferenceAdmin,
        "another long password",
        now,
    )
    .unwrap();
    store.create_user(&reuse).await.unwrap();
}

pub async fn an_access_number_is_assigned_once(store: &impl Store) {
    let (a, _) = account_with_owner(store).await;
    let (b, _) = account_with_owner(store).await;
    let number = access_number(a.id);
    store.create_number(&number).await.unwrap();
    let mut taken = access_number(b.id);
    taken.number = number.number.clone();
    assert!(matches!(
        store.create_number(&taken).await,
        Err(Error::Conflict("number"))
    ));
    assert_eq!(
        store
            .number(&number.number)
            .await
            .unwrap()
            .unwrap()
            .account_id,
        a.id
    );
    // Another account cannot overwrite it through an update either.
    assert!(matches!(
        store.update_number(&taken).await,
        Err(Error::NotFound("number"))
    ));
    assert_eq!(
        store
            .number(&number.number)
            .await
            .unwrap()
            .unwrap()
            .account_id,
        a.id
    );
}

pub async fn updates_and_deletes_take_effect(store: &impl Store) {
    let (mut account, owner) = account_with_owner(store).await;
    account.name = "Omnivigil Solutions inc.".into();
    account.language = Language::En;
    store.update_account(&account).await.unwrap();
    assert_eq!(store.account(account.id).await.unwrap().unwrap(), account);
    let ghost = Account::new("Ghost", Utc::now()).unwrap();
    assert!(matches!(
        store.update_account(&ghost).await,
        Err(Error::NotFound("account"))
    ));

    let mut conf = create_conference(store, &owner).await;
    conf.description = "Réunion annuelle".into();
    conf.record = true;
    let start = conf.schedule.start() + Duration::days(1);
    conf.schedule = Schedule::new(start, start + Duration::hours(2)).unwrap();
    store.update_conference(&conf).await.unwrap();
    assert_eq!(store.conference(conf.id).await.unwrap().unwrap(), conf);
    assert_eq!(
        store.conferences(account.id).await.unwrap(),
        vec![conf.clone()]
    );
    assert_eq!(
        store
            .conference_by_number(&conf.number)
            .await
            .unwrap()
            .unwrap(),
        conf
    );

    let mut renumbered = conf.clone();
    renumbered.number = ConferenceNumber::generate();
    assert!(matches!(
        store.update_conference(&renumbered).await,
        Err(Error::NotFound("conference"))
    ));
    assert_eq!(
        store
            .conference_by_number(&renumbered.number)
            .await
            .unwrap(),
        None
    );
    let unknown = conference(&owner, ConferenceNumber::generate());
    assert!(matches!(
        store.update_conference(&unknown).await,
        Err(Error::NotFound("conference"))
    ));

    let mut number = access_number(account.id);
    store.create_number(&number).await.unwrap();
    number.notes = "Ligne principale".into();
    number.greeting_language = Language::En;
    store.update_number(&number).await.unwrap();
    assert_eq!(store.number(&number.number).await.unwrap().unwrap(), number);
    store.delete_number(&number).await.unwrap();
    assert!(store.number(&number.number).await.unwrap().is_none());
    assert!(store.numbers(account.id).await.unwrap().is_empty());

    // Conferences list in start order.
    let later = create_conference(store, &owner).await;
    let ids: Vec<_> = store
        .conferences(account.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, vec![later.id, conf.id]);
}

pub async fn legs_are_written_idempotently_and_listed_by_conference_and_month(store: &impl Store) {
    let (account, owner) = account_with_owner(store).await;
    let conf = create_conference(store, &owner).await;
    let joined = conf.schedule.start() - EARLY_ACCESS + Duration::seconds(30);
    let month = YearMonth::of(joined, account.time_zone);
    let mut leg = CallLeg {
        id: LegId::new(),
        account_id: account.id,
        conference_id: conf.id,
        conference_number: conf.number.clone(),
        dialled: Some(unique_e164()),
        caller_id: "+15145550100".into(),
        role: CallerRole::Participant,
        joined_at: joined,
        month,
        left_at: None,
        cause: None,
        quality: None,
    };
    store.put_leg(&leg).await.unwrap();
    store.put_leg(&leg).await.unwrap();
    assert_eq!(
        store.legs_of_conference(conf.id).await.unwrap(),
        vec![leg.clone()]
    );

    let open = leg.clone();
    leg.close(
        joined + Duration::seconds(61),
        DisconnectCause::CallerHangup,
    );
    store.put_leg(&leg).await.unwrap();
    // A replayed open write, or a second close, changes nothing.
    store.put_leg(&open).await.unwrap();
    let mut reclosed = leg.clone();
    reclosed.close(
        joined + Duration::seconds(3600),
        DisconnectCause::NodeRestart,
    );
    store.put_leg(&reclosed).await.unwrap();
    assert_eq!(
        store.legs_of_conference(conf.id).await.unwrap(),
        vec![leg.clone()]
    );
    assert_eq!(leg.duration_ms(), Some(61_000));

    let mut listener = leg.clone();
    listener.id = LegId::new();
    listener.role = CallerRole::Listener;
    listener.joined_at = joined + Duration::seconds(5);
    store.put_leg(&listener).await.unwrap();
    assert_eq!(
        store.legs_of_month(account.id, month).await.unwrap(),
        vec![leg.clone(), listener.clone()]
    );
    assert!(
        store
            .legs_of_month(account.id, month.next())
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .legs_of_month(AccountId::new(), month)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.legs_of_conference(conf.id).await.unwrap().len(), 2);
}

pub async fn activity_is_listed_newest_first(store: &impl Store) {
    let (account, owner) = account_with_owner(store).await;
    let now = Utc::now();
    let mut ids = Vec::new();
    for (i, kind) in [
        ActivityKind::UserCreated,
        ActivityKind::ConferenceCreated,
        ActivityKind::CallJoined,
    ]
    .into_iter()
    .enumerate()
    {
        let a = Activity::new(
            account.id,
            now + Duration::seconds(i as i64),
            Some(owner.id),
            kind,
            None,
            format!("entry {i}"),
        );
        store.record_activity(&a).await.unwrap();
        ids.push(a.id);
    }
    let recent: Vec<_> = store
        .recent_activity(account.id, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(recent, vec![ids[2], ids[1]]);
    assert!(
        store
            .recent_activity(AccountId::new(), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn recordings_are_listed_by_account_and_conference(store: &impl Store) {
    let (account, owner) = account_with_owner(store).await;
    let a = create_conference(store, &owner).await;
    let b = create_conference(store, &owner).await;
    let rec = |conference: &Conference| Recording {
        id: RecordingId::new(),
        account_id: account.id,
        conference_id: conference.id,
        started_at: conference.schedule.start(),
        duration_ms: 61_000,
        size_bytes: 976_044,
    };
    let (ra, rb) = (rec(&a), rec(&b));
    store.put_recording(&ra).await.unwrap();
    store.put_recording(&ra).await.unwrap();
    store.put_recording(&rb).await.unwrap();
    assert_eq!(store.recording(ra.id).await.unwrap(), Some(ra.clone()));
    assert_eq!(
        store.recordings(account.id, Some(a.id)).await.unwrap(),
        vec![ra.clone()]
    );
    assert_eq!(store.recordings(account.id, None).await.unwrap().len(), 2);
    assert!(
        store
            .recordings(AccountId::new(), None)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn an_invoice_is_issued_once_per_month(store: &impl Store) {
    let (account, _) = account_with_owner(store).await;
    let invoice = |month: &str, total: u32| Invoice {
        number: format!("F-{month}"),
        account_id: account.id,
        account_name: account.name.clone(),
        language: account.language,
        time_zone: account.time_zone,
        month: month.parse().unwrap(),
        currency: "USD".into(),
        lines: Vec::new(),
        usage_amount: total.into(),
        plan_fee: 0.into(),
        taxes: Vec::new(),
        total: total.into(),
        issued_at: Utc::now(),
        due_on: chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    };
    let october = invoice("2026-10", 12);
    store.create_invoice(&october).await.unwrap();
    assert!(matches!(
        store.create_invoice(&invoice("2026-10", 99)).await,
        Err(Error::Conflict("invoice"))
    ));
    store.create_invoice(&invoice("2026-11", 30)).await.unwrap();
    assert_eq!(
        store
            .invoice(account.id, "2026-10".parse().unwrap())
            .await
            .unwrap(),
        Some(october)
    );
    let months: Vec<String> = store
        .invoices(account.id)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.month.to_string())
        .collect();
    assert_eq!(months, ["2026-11", "2026-10"]);
}

pub async fn invitations_are_queued_per_conference(store: &impl Store) {
    let (_, owner) = account_with_owner(store).await;
    let conf = create_conference(store, &owner).await;
    let invite = |role| Invitation {
        id: InvitationId::new(),
        account_id: owner.account_id,
        conference_id: conf.id,
        email: unique_email(),
        role,
        language: Language::Fr,
        invited_by: owner.id,
        invited_at: Utc::now(),
    };
    let batch = vec![
        invite(CallerRole::Participant),
        invite(CallerRole::Listener),
    ];
    store.queue_invitations(&batch).await.unwrap();
    let mut stored = store.invitations(conf.id).await.unwrap();
    stored.sort_by_key(|i| i.id);
    assert_eq!(stored, batch);
}

pub async fn an_intro_code_is_granted_once(store: &impl Store) {
    let (_, owner) = account_with_owner(store).await;
    let conf = create_conference(store, &owner).await;
    let grant = IntroGrant {
        code: IntroCode::generate(),
        account_id: owner.account_id,
        conference_id: conf.id,
        granted_to: owner.id,
        expires_at: Utc::now() + teleconf_domain::intro_code::INTRO_CODE_LIFETIME,
    };
    store.create_intro_grant(&grant).await.unwrap();
    assert!(matches!(
        store.create_intro_grant(&grant).await,
        Err(Error::Conflict("intro_code"))
    ));
    assert_eq!(
        store.intro_grant(&grant.code).await.unwrap(),
        Some(grant.clone())
    );
    assert_eq!(
        store.intro_grant(&IntroCode::generate()).await.unwrap(),
        None
    );
    store.spend_intro_grant(&grant.code).await.unwrap();
    assert_eq!(store.intro_grant(&grant.code).await.unwrap(), None, "spent");
}

pub async fn failures_are_counted_per_attempt_and_window(store: &impl Store) {
    let limit = Limit {
        max_failures: 3,
        window: Duration::minutes(15),
    };
    let who = Attempt::Login(unique_email());
    let now = Utc::now();
    assert_eq!(store.failures(&who, &limit, now).await.unwrap(), 0);
    assert_eq!(store.record_failure(&who, &limit, now).await.unwrap(), 1);
    assert_eq!(store.record_failure(&who, &limit, now).await.unwrap(), 2);
    assert_eq!(store.failures(&who, &limit, now).await.unwrap(), 2);
    // Another attempt kind, and the next window, start from zero.
    assert_eq!(
        store
            .failures(&Attempt::Login(unique_email()), &limit, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .failures(&who, &limit, now + Duration::minutes(15))
            .await
            .unwrap(),
        0
    );
}

pub async fn a_lock_holds_until_it_lifts_and_is_only_lengthened(store: &impl Store) {
    let trunk = "198.51.100.7".parse().unwrap();
    let who = Attempt::CodeFrom(CallerSource::new(
        trunk,
        &format!("+1514555{}", random::digits(4, false)),
    ));
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    assert_eq!(store.locked_until(&who, now).await.unwrap(), None);
    let until = now + Duration::minutes(15);
    store.lock(&who, until).await.unwrap();
    assert_eq!(store.locked_until(&who, now).await.unwrap(), Some(until));
    // An earlier end does not shorten it; another attempt is not locked.
    store.lock(&who, now + Duration::minutes(1)).await.unwrap();
    assert_eq!(store.locked_until(&who, now).await.unwrap(), Some(until));
    let other = Attempt::CodeFrom(CallerSource::new(
        trunk,
        &format!("+1438555{}", random::digits(4, false)),
    ));
    assert_eq!(store.locked_until(&other, now).await.unwrap(), None);
    assert_eq!(store.locked_until(&who, until).await.unwrap(), None);
}

pub async fn a_caller_with_a_very_long_caller_id_is_counted_and_locked(store: &impl Store) {
    // A From user far longer than a key may be: it is counted all the same.
    let caller_id = format!("{}{}", random::digits(12, false), "9".repeat(4_000));
    let who = Attempt::CodeFrom(CallerSource::new(
        "198.51.100.7".parse().unwrap(),
        &caller_id,
    ));
    let limit = Limit {
        max_failures: 3,
        window: Duration::minutes(10),
    };
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    assert_eq!(store.record_failure(&who, &limit, now).await.unwrap(), 1);
    assert_eq!(store.record_failure(&who, &limit, now).await.unwrap(), 2);
    assert_eq!(store.failures(&who, &limit, now).await.unwrap(), 2);
    let until = now + Duration::minutes(15);
    store.lock(&who, until).await.unwrap();
    assert_eq!(store.locked_until(&who, now).await.unwrap(), Some(until));
}

pub async fn live_callers_are_listed_updated_and_removed(store: &impl Store) {
    let conference = ConferenceId::new();
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let caller = |joined_at, role| LiveParticipant {
        leg_id: LegId::new(),
        conference_id: conference,
        account_id: AccountId::new(),
        caller_id: "+15145550123".into(),
        role,
        joined_at,
        muted: false,
    };
    let first = caller(now, CallerRole::Moderator);
    let mut second = caller(now + Duration::seconds(5), CallerRole::Participant);
    assert!(
        store
            .live_participants(conference)
            .await
            .unwrap()
            .is_empty()
    );
    store.put_live(&second).await.unwrap();
    store.put_live(&first).await.unwrap();
    second.muted = true;
    store.put_live(&second).await.unwrap();
    assert_eq!(
        store.live_participants(conference).await.unwrap(),
        vec![first.clone(), second.clone()],
        "oldest first, the update kept"
    );
    store.remove_live(conference, first.leg_id).await.unwrap();
    assert_eq!(
        store.live_participants(conference).await.unwrap(),
        vec![second]
    );
    assert!(
        store
            .live_participants(ConferenceId::new())
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn live_controls_are_queued_in_order_and_acknowledged(store: &impl Store) {
    use teleconf_domain::{ConferenceControl, ControlCommand, UserId};
    let conference = ConferenceId::new();
    let account = AccountId::new();
    let moderator = UserId::new();
    let now = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
    let leg = LegId::new();
    let given: Vec<ConferenceControl> = [
        ControlCommand::Mute { leg_id: leg },
        ControlCommand::Lock,
        ControlCommand::MuteAll,
        ControlCommand::Remove { leg_id: leg },
    ]
    .into_iter()
    .map(|command| ConferenceControl::new(conference, account, command, moderator, now))
    .collect();
    assert!(store.pending_controls(conference).await.unwrap().is_empty());
    for control in &given {
        store.queue_control(control).await.unwrap();
    }
    assert_eq!(
        store.pending_controls(conference).await.unwrap(),
        given,
        "in the order given"
    );
    store.ack_control(conference, given[0].id).await.unwrap();
    // Acknowledging twice (a node retrying) is harmless.
    store.ack_control(conference, given[0].id).await.unwrap();
    assert_eq!(
        store.pending_controls(conference).await.unwrap(),
        given[1..].to_vec()
    );
    assert!(
        store
            .pending_controls(ConferenceId::new())
            .await
            .unwrap()
            .is_empty(),
        "another conference's queue is its own"
    );
}

pub async fn an_account_keeps_its_last_owner(store: &impl Store) {
    let (account, first) = account_with_owner(store).await;
    let now = Utc::now();
    let second = User::new(
        account.id,
        unique_email(),
        "Second Owner",
        Role::Owner,
        "a long enough password",
        now,
    )
    .unwrap();
    store.create_user(&second).await.unwrap();

    // Demoting one of two owners is fine; demoting the last is refused.
    let mut demoted = second.clone();
    demoted.role = Role::ConferenceAdmin;
    store.update_user(&demoted).await.unwrap();
    let mut last = first.clone();
    last.role = Role::ConferenceOperator;
    assert!(matches!(
        store.update_user(&last).await,
        Err(Error::Conflict("last_owner"))
    ));
    assert!(matches!(
        store.delete_user(&first).await,
        Err(Error::Conflict("last_owner"))
    ));
    assert_eq!(
        store.user(first.id).await.unwrap().unwrap().role,
        Role::Owner
    );

    // Promoted again, either owner may go, but not both.
    let mut promoted = demoted.clone();
    promoted.role = Role::Owner;
    store.update_user(&promoted).await.unwrap();
    store.delete_user(&first).await.unwrap();
    assert!(matches!(
        store.delete_user(&promoted).await,
        Err(Error::Conflict("last_owner"))
    ));
    // Other users come and go freely.
    let operator = User::new(
        account.id,
        unique_email(),
        "Op",
        Role::ConferenceOperator,
        "a long enough password",
        now,
    )
    .unwrap();
    store.create_user(&operator).await.unwrap();
    store.delete_user(&operator).await.unwrap();
}

pub async fn the_provider_keeps_its_last_administrator(store: &impl Store) {
    let now = Utc::now();
    let provider = Account::new("Fournisseur", now).unwrap();
    store.create_account(&provider).await.unwrap();
    let user = |role, name: &str| {
        User::new(
            provider.id,
            unique_email(),
            name,
            role,
            "a long enough password",
            now,
        )
        .unwrap()
    };
    let admin = user(Role::ProviderAdmin, "Paula Provider");
    let finance = user(Role::Finance, "Fanny Finance");
    store.create_user(&admin).await.unwrap();
    store.create_user(&finance).await.unwrap();
    assert!(matches!(
        store.delete_user(&admin).await,
        Err(Error::Conflict("last_owner"))
    ));
    let mut demoted = admin.clone();
    demoted.role = Role::Finance;
    assert!(matches!(
        store.update_user(&demoted).await,
        Err(Error::Conflict("last_owner"))
    ));
    // The finance user goes freely; a second administrator lets the first go.
    store.delete_user(&finance).await.unwrap();
    let second = user(Role::ProviderAdmin, "Pierre Provider");
    store.create_user(&second).await.unwrap();
    store.delete_user(&admin).await.unwrap();
}

pub async fn a_users_token_version_never_goes_back(store: &impl Store) {
    let (_, owner) = account_with_owner(store).await;
    let stale = owner.clone();
    let mut signed_out = owner.clone();
    signed_out.revoke_tokens();
    store.update_user(&signed_out).await.unwrap();
    // A copy read before the sign-out, written back, would revive its tokens.
    let mut renamed = stale.clone();
    renamed.name = "Olivia Renamed".into();
    assert!(matches!(
        store.update_user(&renamed).await,
        Err(Error::Conflict("user"))
    ));
    let stored = store.user(owner.id).await.unwrap().unwrap();
    assert_eq!(stored.token_version, signed_out.token_version);
    assert_eq!(stored.name, owner.name);
    // A copy of the current version is written as usual.
    let mut renamed = stored.clone();
    renamed.name = "Olivia Renamed".into();
    store.update_user(&renamed).await.unwrap();
    assert_eq!(store.user(owner.id).await.unwrap().unwrap(), renamed);
}

/// Runs the checks of the scheduler's and the mailer's records.
pub async fn run_lifecycle_and_deliveries(
    store: &(impl Store + super::LifecycleStore + super::DeliveryStore),
) {
    conferences_are_found_by_their_start(store).await;
    each_transition_is_written_once_and_only_from_its_status(store).await;
    a_queued_mail_is_queued_once_with_its_transition(store).await;
    a_delivery_is_claimed_by_one_worker_until_settled(store).await;
}

pub async fn conferences_are_found_by_their_start(store: &(impl Store + super::LifecycleStore)) {
    let (_, owner) = account_with_owner(store).await;
    let c = create_conference(store, &owner).await;
    let start = c.schedule.start();
    let found = |from, to| async move {
        store
            .conferences_starting(owner.account_id, from, to)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(found(start, start).await, vec![c.id], "both ends included");
    assert_eq!(
        found(start - Duration::hours(1), start + Duration::hours(1)).await,
        vec![c.id]
    );
    assert!(
        found(
            start + Duration::milliseconds(1),
            start + Duration::hours(1)
        )
        .await
        .is_empty()
    );
    assert!(
        found(
            start - Duration::hours(1),
            start - Duration::milliseconds(1)
        )
        .await
        .is_empty()
    );
    let other = AccountId::new();
    assert!(
        store
            .conferences_starting(other, start, start)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn each_transition_is_written_once_and_only_from_its_status(
    store: &(impl Store + super::LifecycleStore),
) {
    use teleconf_domain::{ConferenceStatus, Lifecycle, Step};
    let (_, owner) = account_with_owner(store).await;
    let c = create_conference(store, &owner).await;
    assert_eq!(store.lifecycle(c.id).await.unwrap(), None);
    let scheduled = Lifecycle::scheduled(c.id, c.account_id);
    let open = scheduled.after(Step {
        from: ConferenceStatus::Scheduled,
        to: ConferenceStatus::Open,
        at: c.schedule.opens_at(),
    });
    assert!(
        store
            .advance_lifecycle(ConferenceStatus::Scheduled, &open, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .advance_lifecycle(ConferenceStatus::Scheduled, &open, None)
            .await
            .unwrap(),
        "a second writer of the same transition writes nothing"
    );
    assert_eq!(store.lifecycle(c.id).await.unwrap(), Some(open.clone()));
    let running = open.after(Step {
        from: ConferenceStatus::Open,
        to: ConferenceStatus::Running,
        at: c.schedule.start(),
    });
    assert!(
        !store
            .advance_lifecycle(ConferenceStatus::Running, &running, None)
            .await
            .unwrap(),
        "not from a status it is not in"
    );
    assert!(
        store
            .advance_lifecycle(ConferenceStatus::Open, &running, None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.lifecycle(c.id).await.unwrap().map(|l| l.status),
        Some(ConferenceStatus::Running)
    );
}

pub async fn a_queued_mail_is_queued_once_with_its_transition(
    store: &(impl Store + super::LifecycleStore),
) {
    use teleconf_domain::{ConferenceStatus, Lifecycle, QueuedMail, QueuedMailKind, Step};
    let (_, owner) = account_with_owner(store).await;
    let c = create_conference(store, &owner).await;
    let open = Lifecycle::scheduled(c.id, c.account_id).after(Step {
        from: ConferenceStatus::Scheduled,
        to: ConferenceStatus::Open,
        at: c.schedule.opens_at(),
    });
    assert!(
        store
            .advance_lifecycle(ConferenceStatus::Scheduled, &open, None)
            .await
            .unwrap()
    );
    let ended = open.after(Step {
        from: ConferenceStatus::Open,
        to: ConferenceStatus::Ended,
        at: c.schedule.end(),
    });
    let mail = QueuedMail {
        conference_id: c.id,
        account_id: c.account_id,
        kind: QueuedMailKind::AttendanceReport,
        queued_at: c.schedule.end(),
    };
    assert!(
        store
            .advance_lifecycle(ConferenceStatus::Open, &ended, Some(&mail))
            .await
            .unwrap()
    );
    assert!(
        !store
            .advance_lifecycle(ConferenceStatus::Open, &ended, Some(&mail))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .queued_mail(c.id, QueuedMailKind::AttendanceReport)
            .await
            .unwrap(),
        Some(mail)
    );
    assert_eq!(store.lifecycle(c.id).await.unwrap(), Some(ended));
}

pub async fn a_delivery_is_claimed_by_one_worker_until_settled(store: &impl super::DeliveryStore) {
    use teleconf_domain::{Claim, DeliveryKey, Outcome};
    let now = Utc::now()
        .duration_trunc(Duration::milliseconds(1))
        .unwrap();
    let lease = Duration::minutes(2);
    let key = DeliveryKey::new(&["test", &unique_email().to_string()]).unwrap();
    assert_eq!(
        store.claim_delivery(&key, now, lease).await.unwrap(),
        Claim::Mine { attempt: 1 }
    );
    assert_eq!(
        store.claim_delivery(&key, now, lease).await.unwrap(),
        Claim::Busy,
        "a fresh claim is held"
    );
    store
        .settle_delivery(
            &key,
            &Outcome::Failed {
                error: "throttled".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.claim_delivery(&key, now, lease).await.unwrap(),
        Claim::Mine { attempt: 2 },
        "a failed attempt may be retried"
    );
    let later = now + lease + Duration::seconds(1);
    assert_eq!(
        store.claim_delivery(&key, later, lease).await.unwrap(),
        Claim::Mine { attempt: 3 },
        "a holder that never finished loses its claim after the lease"
    );
    store
        .settle_delivery(
            &key,
            &Outcome::Sent {
                message_id: "m-1".into(),
                at: later,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        store.claim_delivery(&key, later, lease).await.unwrap(),
        Claim::Settled
    );
    let other = DeliveryKey::new(&["test", &unique_email().to_string()]).unwrap();
    assert!(matches!(
        store
            .settle_delivery(&other, &Outcome::Failed { error: "x".into() })
            .await,
        Err(Error::NotFound("delivery"))
    ));
}

pub async fn an_ip_phone_belongs_to_one_account(store: &impl Store) {
    let (a, _) = account_with_owner(store).await;
    let (b, _) = account_with_owner(store).await;
    let (address, identity) = unique_ip_phone_sources();
    let now = Utc::now()
        .duration_trunc(Duration::milliseconds(1))
        .unwrap();
    let desk = IpPhone::new(a.id, address.clone(), "Réception", now).unwrap();
    let pbx = IpPhone::new(a.id, identity.clone(), "", now).unwrap();
    store.add_ip_phone(&desk).await.unwrap();
    store.add_ip_phone(&pbx).await.unwrap();

    // A source is one account's: neither the same account nor another takes it again.
    for account in [a.id, b.id] {
        let again = IpPhone::new(account, address.clone(), "", now).unwrap();
        assert!(matches!(
            store.add_ip_phone(&again).await,
            Err(Error::Conflict("source"))
        ));
    }
    let mut listed = store.ip_phones(a.id).await.unwrap();
    listed.sort_by(|x, y| x.source.cmp(&y.source));
    let mut expected = vec![desk.clone(), pbx.clone()];
    expected.sort_by(|x, y| x.source.cmp(&y.source));
    assert_eq!(listed, expected);
    assert!(store.ip_phones(b.id).await.unwrap().is_empty());
    let every = store.all_ip_phones().await.unwrap();
    assert!(every.contains(&desk) && every.contains(&pbx));

    // Another account cannot remove it; its own can, and then the source is free.
    assert!(matches!(
        store.remove_ip_phone(b.id, &address).await,
        Err(Error::NotFound("ip_phone"))
    ));
    assert!(store.ip_phones(a.id).await.unwrap().contains(&desk));
    store.remove_ip_phone(a.id, &address).await.unwrap();
    assert!(matches!(
        store.remove_ip_phone(a.id, &address).await,
        Err(Error::NotFound("ip_phone"))
    ));
    assert_eq!(store.ip_phones(a.id).await.unwrap(), vec![pbx.clone()]);
    assert!(!store.all_ip_phones().await.unwrap().contains(&desk));
    let moved = IpPhone::new(b.id, address.clone(), "", now).unwrap();
    store.add_ip_phone(&moved).await.unwrap();
    assert_eq!(store.ip_phones(b.id).await.unwrap(), vec![moved]);
}
