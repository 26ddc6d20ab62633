//! The local loop's reader of the table's stream. No emulator here delivers stream
//! records to Lambda, but moto serves the DynamoDB Streams API: this reader follows
//! every shard of the table's latest stream from its oldest record, turns each page of
//! records into exactly the [`Event`] Lambda would hand the function, and, as Lambda's
//! retry policy does, reads a shard again from the record the handler reported as
//! failed. A child shard is read once its parent is read to its end, as Lambda does.
//!
//! **No iterator is trusted to live.** What the reader keeps of a shard is the sequence
//! number of the last record handled; each poll reads from a fresh
//! `AFTER_SEQUENCE_NUMBER` iterator (`TRIM_HORIZON` before the first record) and
//! follows the pages while they bring records. An empty page after a known record means
//! caught up, and the iterator is dropped. So nothing depends on one iterator answering
//! for good: DynamoDB Streams expires iterators after 15 minutes
//! (`ExpiredIteratorException`: a fresh one is taken from the last record handled, and
//! the page is read again), trims records after 24 hours (`TrimmedDataAccessException`:
//! the reader goes on from the oldest record left, and says what it skipped), and an
//! emulator may hand out an iterator that never sees another record (moto restored a
//! copy of the table after a cancelled transaction: issue #13).
//!
//! The stream is reached through the narrow [`StreamApi`]: [`DynamoDbStreams`] in the
//! loop, a twin with expiring iterators in the tests.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_lambda_events::dynamodb::{Event, EventRecord, StreamRecord, StreamViewType};
use aws_lambda_events::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::error::DisplayErrorContext;
use aws_sdk_dynamodbstreams::operation::get_records::GetRecordsError;
use aws_sdk_dynamodbstreams::operation::get_shard_iterator::GetShardIteratorError;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use chrono::{DateTime, Utc};

use crate::error::MailerError;

/// A shard of the stream, as DescribeStream lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardInfo {
    /// Its id.
    pub id: String,
    /// The shard it split from, whose records come first.
    pub parent: Option<String>,
}

/// Where a new shard iterator starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// At the oldest record the shard still holds.
    TrimHorizon,
    /// Just after the record with this sequence number.
    After(String),
}

/// One page of records (GetRecords).
#[derive(Debug, Default)]
pub struct Page {
    /// The records, oldest first; possibly none.
    pub records: Vec<Record>,
    /// Where the next page starts; `None` once a closed shard is read to its end.
    pub next: Option<String>,
}

/// The DynamoDB Streams calls the reader makes. An expired iterator answers
/// [`MailerError::IteratorExpired`], records past the stream's retention
/// [`MailerError::StreamTrimmed`].
#[async_trait]
pub trait StreamApi: Send + Sync {
    /// The stream's shards (DescribeStream, every page).
    async fn shards(&self) -> Result<Vec<ShardInfo>, MailerError>;
    /// A new iterator into `shard` (GetShardIterator); `None` if the shard has none.
    async fn iterator(&self, shard: &str, start: &Start) -> Result<Option<String>, MailerError>;
    /// The page at `iterator` (GetRecords).
    async fn records(&self, iterator: &str) -> Result<Page, MailerError>;
}

/// [`StreamApi`] on the AWS SDK, for one stream.
#[derive(Debug, Clone)]
pub struct DynamoDbStreams {
    client: aws_sdk_dynamodbstreams::Client,
    stream_arn: String,
}

fn stream_error(op: &str, e: impl std::fmt::Display) -> MailerError {
    MailerError::Stream(format!("{op}: {e}"))
}

#[async_trait]
impl StreamApi for DynamoDbStreams {
    async fn shards(&self) -> Result<Vec<ShardInfo>, MailerError> {
        let mut shards = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start)
                .send()
                .await
                .map_err(|e| stream_error("DescribeStream", DisplayErrorContext(e)))?;
            let Some(description) = out.stream_description else {
                return Ok(shards);
            };
            shards.extend(
                description
                    .shards
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|shard| {
                        Some(ShardInfo {
                            id: shard.shard_id?,
                            parent: shard.parent_shard_id,
                        })
                    }),
            );
            start = description.last_evaluated_shard_id;
            if start.is_none() {
                return Ok(shards);
            }
        }
    }

    async fn iterator(&self, shard: &str, start: &Start) -> Result<Option<String>, MailerError> {
        let (kind, sequence) = match start {
            Start::TrimHorizon => (ShardIteratorType::TrimHorizon, None),
            Start::After(sequence) => (
                ShardIteratorType::AfterSequenceNumber,
                Some(sequence.clone()),
            ),
        };
        match self
            .client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(shard)
            .shard_iterator_type(kind)
            .set_sequence_number(sequence)
            .send()
            .await
        {
            Ok(out) => Ok(out.shard_iterator),
            Err(e) => Err(match e.as_service_error() {
                Some(GetShardIteratorError::TrimmedDataAccessException(_)) => {
                    MailerError::StreamTrimmed
                }
                _ => stream_error("GetShardIterator", DisplayErrorContext(e)),
            }),
        }
    }

    async fn records(&self, iterator: &str) -> Result<Page, MailerError> {
        match self
            .client
            .get_records()
            .shard_iterator(iterator)
            .send()
            .await
        {
            Ok(out) => Ok(Page {
                records: out.records.unwrap_or_default(),
                next: out.next_shard_iterator,
            }),
            Err(e) => Err(match e.as_service_error() {
                Some(GetRecordsError::ExpiredIteratorException(_)) => MailerError::IteratorExpired,
                Some(GetRecordsError::TrimmedDataAccessException(_)) => MailerError::StreamTrimmed,
                _ => stream_error("GetRecords", DisplayErrorContext(e)),
            }),
        }
    }
}

/// Where the reader is in one shard.
#[derive(Debug, Default)]
struct Position {
    /// The shard it split from (read first).
    parent: Option<String>,
    /// The sequence number of the last record handled: the next read starts after it.
    last: Option<String>,
    /// An iterator kept to the next poll, only while nothing of the shard was handled
    /// yet and its oldest pages came back empty (a trimmed stretch of a real stream is
    /// walked through page by page; once a record is handled, every poll starts
    /// afresh after it).
    walking: Option<String>,
    /// Closed and read to its end: nothing more will come.
    finished: bool,
}

/// Follows the table's stream.
#[derive(Debug)]
pub struct StreamReader<A = DynamoDbStreams> {
    api: A,
    stream_arn: String,
    region: String,
    shards: BTreeMap<String, Position>,
}

impl StreamReader<DynamoDbStreams> {
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
        let api = DynamoDbStreams {
            client: streams,
            stream_arn: stream_arn.clone(),
        };
        Ok(Self::over(api, stream_arn, region))
    }
}

impl<A: StreamApi> StreamReader<A> {
    /// A reader of the stream `stream_arn` (in `region`) through `api`.
    pub fn over(api: A, stream_arn: String, region: String) -> Self {
        Self {
            api,
            stream_arn,
            region,
            shards: BTreeMap::new(),
        }
    }

    /// Learns the stream's shards (new ones appear as the stream grows; those past
    /// the stream's retention disappear) and returns those ready to read: not read
    /// to their end, and whose parent, if still listed, is.
    async fn ready_shards(&mut self) -> Result<Vec<String>, MailerError> {
        let listed = self.api.shards().await?;
        self.shards
            .retain(|id, _| listed.iter().any(|shard| &shard.id == id));
        for shard in listed {
            self.shards.entry(shard.id).or_default().parent = shard.parent;
        }
        Ok(self
            .shards
            .iter()
            .filter(|(_, p)| !p.finished)
            .filter(|(_, p)| {
                p.parent
                    .as_ref()
                    .and_then(|parent| self.shards.get(parent))
                    .is_none_or(|parent| parent.finished)
            })
            .map(|(id, _)| id.clone())
            .collect())
    }

    /// A fresh iterator just after the last record handled of `shard` (from its
    /// oldest record before the first); past the stream's retention, from the
    /// oldest record left.
    async fn fresh_iterator(&mut self, shard: &str) -> Result<Option<String>, MailerError> {
        let last = self.shards.get(shard).and_then(|p| p.last.clone());
        let start = last.clone().map_or(Start::TrimHorizon, Start::After);
        match self.api.iterator(shard, &start).await {
            Err(MailerError::StreamTrimmed) if last.is_some() => {
                self.trimmed(shard);
                self.api.iterator(shard, &Start::TrimHorizon).await
            }
            other => other,
        }
    }

    /// The records after the last one handled of `shard` are gone (older than the
    /// stream's 24 hours): the reader goes on from the oldest record left.
    fn trimmed(&mut self, shard: &str) {
        if let Some(p) = self.shards.get_mut(shard) {
            tracing::error!(
                shard,
                after = ?p.last,
                "stream records past the stream's retention were never handled: reading on from the oldest left"
            );
            p.last = None;
            p.walking = None;
        }
    }

    /// Reads every record available now and hands each shard's pages to `handle`, in
    /// order; stops a shard at a reported failure, to read it again from that record on
    /// the next call. Returns how many records were handled successfully.
    pub async fn pump<F, Fut>(&mut self, mut handle: F) -> Result<usize, MailerError>
    where
        F: FnMut(Event) -> Fut,
        Fut: std::future::Future<Output = DynamoDbEventResponse>,
    {
        let mut handled = 0;
        for shard in self.ready_shards().await? {
            handled += self.read_shard(&shard, &mut handle).await?;
        }
        Ok(handled)
    }

    /// Reads one shard from where the reader is in it (see the module doc).
    async fn read_shard<F, Fut>(
        &mut self,
        shard: &str,
        handle: &mut F,
    ) -> Result<usize, MailerError>
    where
        F: FnMut(Event) -> Fut,
        Fut: std::future::Future<Output = DynamoDbEventResponse>,
    {
        let mut handled = 0;
        let kept = self.shards.get_mut(shard).and_then(|p| p.walking.take());
        let mut iterator = match kept {
            Some(iterator) => Some(iterator),
            None => self.fresh_iterator(shard).await?,
        };
        // One renewal per read that failed: an iterator fresh from the API that
        // fails again is an error, not a loop.
        let mut renewed = false;
        while let Some(current) = iterator.take() {
            let page = match self.api.records(&current).await {
                Ok(page) => page,
                Err(MailerError::IteratorExpired) if !renewed => {
                    renewed = true;
                    iterator = self.fresh_iterator(shard).await?;
                    continue;
                }
                Err(MailerError::StreamTrimmed) if !renewed => {
                    renewed = true;
                    self.trimmed(shard);
                    iterator = self.fresh_iterator(shard).await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            renewed = false;
            let Some(position) = self.shards.get_mut(shard) else {
                return Ok(handled);
            };
            if page.records.is_empty() {
                match page.next {
                    // The shard is closed and read to its end.
                    None => position.finished = true,
                    // Nothing handled yet: walk on from here on the next poll.
                    Some(next) if position.last.is_none() => position.walking = Some(next),
                    // Caught up: the next poll starts afresh after the last record.
                    Some(_) => {}
                }
                return Ok(handled);
            }
            let sequences: Vec<Option<String>> = page
                .records
                .iter()
                .map(|r| r.dynamodb.as_ref().and_then(|d| d.sequence_number.clone()))
                .collect();
            let response = handle(self.event(page.records)).await;
            let failed = response
                .batch_item_failures
                .first()
                .and_then(|f| f.item_identifier.clone());
            let Some(position) = self.shards.get_mut(shard) else {
                return Ok(handled);
            };
            let done = match &failed {
                // The records before the failed one are handled; it is read again.
                Some(sequence) => sequences
                    .iter()
                    .position(|s| s.as_ref() == Some(sequence))
                    .unwrap_or(0),
                None => sequences.len(),
            };
            handled += done;
            if let Some(last) = done.checked_sub(1).and_then(|i| sequences[i].clone()) {
                position.last = Some(last);
            }
            if failed.is_some() {
                return Ok(handled);
            }
            match page.next {
                Some(next) => iterator = Some(next),
                None => position.finished = true,
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

#[cfg(test)]
mod tests;
