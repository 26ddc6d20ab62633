//! Intro codes: each granted once.

use chrono::Utc;
use teleconf_domain::{IntroCode, IntroGrant};

use super::{account_with_owner, create_conference};
use crate::error::Error;
use crate::store::Store;

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
