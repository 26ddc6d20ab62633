//! Conferences' lifecycles (`CONF#<id>` / `LIFECYCLE`) and the mail queued with each
//! transition (`MAIL#<kind>`), each written once from the status it starts from.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use teleconf_domain::{
    AccountId, Conference, ConferenceId, ConferenceStatus, Lifecycle, QueuedMail, QueuedMailKind,
};

use super::item::to_item;
use super::{DynamoStore, Lookup};
use crate::error::{Error, Result};
use crate::store::keys::{self};
use crate::store::{LifecycleStore, stream};

#[async_trait]
impl LifecycleStore for DynamoStore {
    async fn conferences_starting(
        &self,
        account: AccountId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Conference>> {
        // `~` sorts after every character of an id: the range takes every conference
        // starting at `to` whatever its id.
        let lookup = Lookup {
            sk_between: Some((
                format!("CONF#{}", keys::instant(from)),
                format!("CONF#{}~", keys::instant(to)),
            )),
            ..Lookup::by_account(keys::by_account(account), "CONF#")
        };
        self.query(lookup).await
    }

    async fn lifecycle(&self, conference: ConferenceId) -> Result<Option<Lifecycle>> {
        self.get(keys::lifecycle(conference)).await
    }

    async fn queued_mail(
        &self,
        conference: ConferenceId,
        kind: QueuedMailKind,
    ) -> Result<Option<QueuedMail>> {
        self.get(keys::queued_mail(conference, kind)).await
    }

    async fn advance_lifecycle(
        &self,
        from: ConferenceStatus,
        next: &Lifecycle,
        mail: Option<&QueuedMail>,
    ) -> Result<bool> {
        let item = to_item(
            next,
            stream::LIFECYCLE,
            keys::lifecycle(next.conference_id),
            &[],
        )?;
        let from_value = serde_dynamo::to_attribute_value(from)
            .map_err(|e| Error::Store(format!("cannot store a status: {e}")))?;
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        put = if from == ConferenceStatus::Scheduled {
            put.condition_expression("attribute_not_exists(pk)")
        } else {
            put.condition_expression("#status = :from")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":from", from_value)
        };
        let put = put.build().map_err(|e| Error::Store(e.to_string()))?;
        let mut ops = vec![TransactWriteItem::builder().put(put).build()];
        if let Some(mail) = mail {
            let item = to_item(
                mail,
                stream::QUEUED_MAIL,
                keys::queued_mail(mail.conference_id, mail.kind),
                &[],
            )?;
            ops.push(self.put(item, Some("attribute_not_exists(pk)"))?);
        }
        match self.transact(ops, &["lifecycle", "queued_mail"]).await {
            Ok(()) => Ok(true),
            Err(Error::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
