//! The local loop's reader of the table's stream. No emulator here delivers stream
//! records to Lambda, but moto serves the DynamoDB Streams API: this reader follows
//! every shard of the table's latest stream from its oldest record, turns each page of
//! records into exactly the [`Event`] Lambda would hand the function, and, as Lambda's
//! retry policy does, reads a shard again from the record the handler reported as
//! failed.

use std::collections::BTreeMap;

use aws_lambda_events::dynamodb::{Event, EventRecord, StreamRecord, StreamViewType};
use aws_lambda_events::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use chrono::{DateTime, Utc};

use crate::error::MailerError;

/// Where the reader is in one shard.
#[derive(Debug, Default)]
struct Position {
    /// The iterator of the next read; `None` once the shard is closed and read.
    iterator: Option<String>,
    /// Whether the shard was opened at all.
    opened: bool,
}

/// Follows the table's stream.
#[derive(Debug)]
pub struct StreamReader {
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
    region: String,
    shards: BTreeMap<String, Position>,
}

fn stream_error(op: &str, e: impl std::fmt::Display) -> MailerError {
    MailerError::Stream(format!("{op}: {e}"))
}

impl StreamReader {
    /// A reader of `table`'s latest stream (the table must have one: the template's
    /// `StreamSpecification`).
    pub async fn open(
        dynamodb: &aws_sdk_dynamodb::Client,
        streams: aws_sdk_dynamodbstreams::Client,
        table: &str,
    ) -> Result<Self, MailerError> {
        let out = dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| {
                stream_error(
                    "DescribeTable",
                    aws_sdk_dynamodb::error::DisplayErrorContext(e),
                )
            })?;
        let stream_arn = out
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| MailerError::Stream(format!("table {table} has no stream")))?
            .to_string();
        let region = streams
            .config()
            .region()
            .map(ToString::to_string)
            .unwrap_or_default();
        Ok(Self {
            client: streams,
            stream_arn,
            region,
            shards: BTreeMap::new(),
        })
    }

    /// Learns the stream's shards (new ones appear as the stream grows).
    async fn refresh_shards(&mut self) -> Result<(), MailerError> {
        let mut start = None;
        loop {
            let out = self
                .client
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start)
                .send()
                .await
                .map_err(|e| {
                    stream_error(
                        "DescribeStream",
                        aws_sdk_dynamodbstreams::error::DisplayErrorContext(e),
                    )
                })?;
            let Some(description) = out.stream_description else {
                return Ok(());
            };
            for shard in description.shards.unwrap_or_default() {
                if let Some(id) = shard.shard_id {
                    self.shards.entry(id).or_default();
                }
            }
            start = description.last_evaluated_shard_id;
            if start.is_none() {
                return Ok(());
            }
        }
    }

    async fn iterator(
        &self,
        shard: &str,
        kind: ShardIteratorType,
        sequence: Option<String>,
    ) -> Result<Option<String>, MailerError> {
        let out = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(shard)
            .shard_iterator_type(kind)
            .set_sequence_number(sequence)
            .send()
            .await
            .map_err(|e| {
                stream_error(
                    "GetShardIterator",
                    aws_sdk_dynamodbstreams::error::DisplayErrorContext(e),
                )
            })?;
        Ok(out.shard_iterator)
    }

    /// Reads every record available now and hands each shard's pages to `handle`, in
    /// order; stops a shard at a reported failure, to read it again from that record on
    /// the next call. Returns how many records were handled successfully.
    pub async fn pump<F, Fut>(&mut self, mut handle: F) -> Result<usize, MailerError>
    where
        F: FnMut(Event) -> Fut,
        Fut: std::future::Future<Output = DynamoDbEventResponse>,
    {
        self.refresh_shards().await?;
        let mut handled = 0;
        let shard_ids: Vec<String> = self.shards.keys().cloned().collect();
        for shard in shard_ids {
            if !self.shards[&shard].opened {
                let iterator = self
                    .iterator(&shard, ShardIteratorType::TrimHorizon, None)
                    .await?;
                let position = self.shards.entry(shard.clone()).or_default();
                position.iterator = iterator;
                position.opened = true;
            }
            while let Some(iterator) = self.shards[&shard].iterator.clone() {
                let out = self
                    .client
                    .get_records()
                    .shard_iterator(iterator)
                    .send()
                    .await
                    .map_err(|e| {
                        stream_error(
                            "GetRecords",
                            aws_sdk_dynamodbstreams::error::DisplayErrorContext(e),
                        )
                    })?;
                let records = out.records.unwrap_or_default();
                let next = out.next_shard_iterator;
                if records.is_empty() {
                    // Caught up (the iterator stays open), or the shard closed (`None`).
                    if let Some(p) = self.shards.get_mut(&shard) {
                        p.iterator = next;
                    }
                    break;
                }
                let count = records.len();
                let event = self.event(records);
                let response = handle(event).await;
                let failed = response
                    .batch_item_failures
                    .first()
                    .and_then(|f| f.item_identifier.clone());
                match failed {
                    None => {
                        handled += count;
                        if let Some(p) = self.shards.get_mut(&shard) {
                            p.iterator = next;
                        }
                    }
                    Some(sequence) => {
                        let again = self
                            .iterator(&shard, ShardIteratorType::AtSequenceNumber, Some(sequence))
                            .await?;
                        if let Some(p) = self.shards.get_mut(&shard) {
                            p.iterator = again;
                        }
                        break;
                    }
                }
            }
        }
        Ok(handled)
    }

    /// The Lambda event for a page of records.
    fn event(&self, records: Vec<Record>) -> Event {
        let mut event = Event::default();
        event.records = records
            .into_iter()
            .map(|r| lambda_record(r, &self.stream_arn, &self.region))
            .collect();
        event
    }
}

/// One stream record in the shape Lambda delivers it.
pub fn lambda_record(record: Record, stream_arn: &str, region: &str) -> EventRecord {
    let mut out = EventRecord::default();
    out.event_id = record.event_id.unwrap_or_default();
    out.event_name = record
        .event_name
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    out.event_source = record.event_source;
    out.event_version = record.event_version;
    out.aws_region = record.aws_region.unwrap_or_else(|| region.to_string());
    out.event_source_arn = Some(stream_arn.to_string());
    let mut change = StreamRecord::default();
    if let Some(d) = record.dynamodb {
        change.approximate_creation_date_time = d
            .approximate_creation_date_time
            .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()))
            .unwrap_or_default();
        change.keys = d.keys.unwrap_or_default().into();
        change.new_image = d.new_image.unwrap_or_default().into();
        change.old_image = d.old_image.unwrap_or_default().into();
        change.sequence_number = d.sequence_number;
        change.size_bytes = d.size_bytes.unwrap_or_default();
        change.stream_view_type = d.stream_view_type.map(|v| match v.as_str() {
            "NEW_IMAGE" => StreamViewType::NewImage,
            "OLD_IMAGE" => StreamViewType::OldImage,
            "KEYS_ONLY" => StreamViewType::KeysOnly,
            _ => StreamViewType::NewAndOldImages,
        });
    }
    out.change = change;
    out
}
