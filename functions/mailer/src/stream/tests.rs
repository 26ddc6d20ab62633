//! The reader against a twin of DynamoDB Streams whose iterators expire, whose
//! records get trimmed, and which can strand an iterator as moto did after a
//! cancelled transaction (issue #13).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_dynamodbstreams::types::{
    AttributeValue, OperationType, Record, StreamRecord as SdkStreamRecord,
};

use super::*;

/// Records per page, small so that a read spans pages.
const PAGE: usize = 2;

#[derive(Debug)]
struct TwinShard {
    id: String,
    parent: Option<String>,
    /// Sequence numbers of every record ever written, oldest first.
    records: Vec<u64>,
    /// Records before this index are past the retention.
    trimmed: usize,
    closed: bool,
}

/// What an iterator points at.
#[derive(Debug, Clone)]
struct Cursor {
    shard: usize,
    at: usize,
    /// Stranded: answers an empty page and a stranded next, whatever is written.
    stranded: bool,
    expired: bool,
}

#[derive(Debug, Default)]
struct Twin {
    shards: Vec<TwinShard>,
    iterators: HashMap<String, Cursor>,
    issued: u64,
    next_sequence: u64,
    /// GetShardIterator calls, to tell how the reader resumed.
    starts: Vec<(String, Start)>,
    /// GetRecords calls to answer before the iterator of the next one has expired.
    expire_after_reads: Option<usize>,
}

impl Twin {
    fn issue(&mut self, cursor: Cursor) -> String {
        self.issued += 1;
        let token = format!("iterator-{}", self.issued);
        self.iterators.insert(token.clone(), cursor);
        token
    }
}

/// DynamoDB Streams as the reader meets it, shared with the test that drives it.
#[derive(Debug, Clone, Default)]
struct TwinApi(Arc<Mutex<Twin>>);

impl TwinApi {
    fn with_shard(id: &str) -> Self {
        let api = Self::default();
        api.add_shard(id, None);
        api
    }

    fn add_shard(&self, id: &str, parent: Option<&str>) {
        self.0.lock().unwrap().shards.push(TwinShard {
            id: id.into(),
            parent: parent.map(Into::into),
            records: Vec::new(),
            trimmed: 0,
            closed: false,
        });
    }

    /// Writes `n` records to `shard`; their sequence numbers.
    fn write(&self, shard: &str, n: usize) -> Vec<String> {
        let mut twin = self.0.lock().unwrap();
        let mut written = Vec::new();
        for _ in 0..n {
            twin.next_sequence += 1;
            let sequence = 1_000 + twin.next_sequence;
            let s = twin.shards.iter_mut().find(|s| s.id == shard).unwrap();
            s.records.push(sequence);
            written.push(sequence.to_string());
        }
        written
    }

    fn close(&self, shard: &str) {
        let mut twin = self.0.lock().unwrap();
        twin.shards
            .iter_mut()
            .find(|s| s.id == shard)
            .unwrap()
            .closed = true;
    }

    /// Every iterator handed out so far now answers nothing, forever.
    fn strand_iterators(&self) {
        for cursor in self.0.lock().unwrap().iterators.values_mut() {
            cursor.stranded = true;
        }
    }

    /// Every iterator handed out so far is now older than 15 minutes.
    fn expire_iterators(&self) {
        for cursor in self.0.lock().unwrap().iterators.values_mut() {
            cursor.expired = true;
        }
    }

    /// The iterator of the read after the next `reads` has expired (the handler
    /// took more than 15 minutes meanwhile).
    fn expire_after_reads(&self, reads: usize) {
        self.0.lock().unwrap().expire_after_reads = Some(reads);
    }

    /// The oldest `n` records of `shard` pass the retention.
    fn trim(&self, shard: &str, n: usize) {
        let mut twin = self.0.lock().unwrap();
        twin.shards
            .iter_mut()
            .find(|s| s.id == shard)
            .unwrap()
            .trimmed = n;
    }

    fn starts(&self) -> Vec<(String, Start)> {
        self.0.lock().unwrap().starts.clone()
    }
}

fn record(sequence: u64) -> Record {
    Record::builder()
        .event_id(format!("event-{sequence}"))
        .event_name(OperationType::Insert)
        .dynamodb(
            SdkStreamRecord::builder()
                .sequence_number(sequence.to_string())
                .keys("pk", AttributeValue::S(format!("ITEM#{sequence}")))
                .build(),
        )
        .build()
}

#[async_trait]
impl StreamApi for TwinApi {
    async fn shards(&self) -> Result<Vec<ShardInfo>, MailerError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .shards
            .iter()
            .map(|s| ShardInfo {
                id: s.id.clone(),
                parent: s.parent.clone(),
            })
            .collect())
    }

    async fn iterator(&self, shard: &str, start: &Start) -> Result<Option<String>, MailerError> {
        let mut twin = self.0.lock().unwrap();
        twin.starts.push((shard.to_string(), start.clone()));
        let index = twin.shards.iter().position(|s| s.id == shard).unwrap();
        let s = &twin.shards[index];
        let at = match start {
            Start::TrimHorizon => s.trimmed,
            Start::After(sequence) => {
                let sequence: u64 = sequence.parse().unwrap();
                let at = s.records.iter().position(|r| *r == sequence).unwrap() + 1;
                if at <= s.trimmed {
                    return Err(MailerError::StreamTrimmed);
                }
                at
            }
        };
        Ok(Some(twin.issue(Cursor {
            shard: index,
            at,
            stranded: false,
            expired: false,
        })))
    }

    async fn records(&self, iterator: &str) -> Result<Page, MailerError> {
        let mut twin = self.0.lock().unwrap();
        let cursor = twin.iterators.get(iterator).cloned().unwrap();
        let expires_now = match &mut twin.expire_after_reads {
            Some(0) => {
                twin.expire_after_reads = None;
                true
            }
            Some(reads) => {
                *reads -= 1;
                false
            }
            None => false,
        };
        if cursor.expired || expires_now {
            return Err(MailerError::IteratorExpired);
        }
        if cursor.stranded {
            let next = twin.issue(cursor);
            return Ok(Page {
                records: Vec::new(),
                next: Some(next),
            });
        }
        let s = &twin.shards[cursor.shard];
        if cursor.at < s.trimmed {
            return Err(MailerError::StreamTrimmed);
        }
        let end = (cursor.at + PAGE).min(s.records.len());
        let records: Vec<Record> = s.records[cursor.at..end]
            .iter()
            .copied()
            .map(record)
            .collect();
        let next = if s.closed && end == s.records.len() {
            None
        } else {
            Some(twin.issue(Cursor { at: end, ..cursor }))
        };
        Ok(Page { records, next })
    }
}

/// A handler that notes every sequence number it is handed and fails those in
/// `failing` (once each).
#[derive(Debug, Clone, Default)]
struct Handler {
    seen: Arc<Mutex<Vec<String>>>,
    failing: Arc<Mutex<Vec<String>>>,
}

impl Handler {
    fn fail_once(&self, sequence: &str) {
        self.failing.lock().unwrap().push(sequence.to_string());
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    async fn pump(&self, reader: &mut StreamReader<TwinApi>) -> usize {
        reader
            .pump(|event| {
                let handler = self.clone();
                async move {
                    let mut response = DynamoDbEventResponse::default();
                    for record in event.records {
                        let sequence = record.change.sequence_number.unwrap();
                        let mut failing = handler.failing.lock().unwrap();
                        if let Some(i) = failing.iter().position(|f| *f == sequence) {
                            failing.remove(i);
                            let mut failure = DynamoDbBatchItemFailure::default();
                            failure.item_identifier = Some(sequence);
                            response.batch_item_failures.push(failure);
                            break;
                        }
                        handler.seen.lock().unwrap().push(sequence);
                    }
                    response
                }
            })
            .await
            .unwrap()
    }
}

fn reader(api: &TwinApi) -> StreamReader<TwinApi> {
    StreamReader::over(
        api.clone(),
        "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/label".into(),
        "us-east-1".into(),
    )
}

#[tokio::test]
async fn records_written_after_the_iterator_was_stranded_are_handled() {
    let api = TwinApi::with_shard("shard-1");
    let mut reader = reader(&api);
    let handler = Handler::default();
    let mut expected = api.write("shard-1", 3);
    assert_eq!(handler.pump(&mut reader).await, 3);
    assert_eq!(handler.pump(&mut reader).await, 0, "caught up");

    // moto restored a copy of the table: every iterator it gave is stranded.
    api.strand_iterators();
    expected.extend(api.write("shard-1", 2));
    assert_eq!(handler.pump(&mut reader).await, 2);
    assert_eq!(handler.seen(), expected);
    // Each poll starts just after the last record handled.
    assert_eq!(
        api.starts().last(),
        Some(&("shard-1".to_string(), Start::After(expected[2].clone())))
    );
}

#[tokio::test]
async fn an_iterator_that_expires_mid_read_resumes_just_after_the_last_record_handled() {
    let api = TwinApi::with_shard("shard-1");
    let mut reader = reader(&api);
    let handler = Handler::default();
    let written = api.write("shard-1", 5);
    // The handler took more than 15 minutes over the first page: the iterator of
    // the second has expired.
    api.expire_after_reads(1);
    assert_eq!(handler.pump(&mut reader).await, 5);
    assert_eq!(handler.seen(), written, "nothing twice, nothing skipped");
    assert!(
        api.starts()
            .contains(&("shard-1".to_string(), Start::After(written[1].clone())))
    );
}

#[tokio::test]
async fn a_kept_iterator_that_expires_is_taken_again_from_the_oldest_record() {
    let api = TwinApi::with_shard("shard-1");
    let mut reader = reader(&api);
    let handler = Handler::default();
    // An empty shard: its first page is empty, and the iterator is kept…
    assert_eq!(handler.pump(&mut reader).await, 0);
    // …then expires (15 minutes without a record) before the first one comes.
    api.expire_iterators();
    let expected = api.write("shard-1", 3);
    assert_eq!(handler.pump(&mut reader).await, 3);
    assert_eq!(handler.seen(), expected);
}

#[tokio::test]
async fn records_past_the_retention_are_skipped_and_the_rest_handled() {
    let api = TwinApi::with_shard("shard-1");
    let mut reader = reader(&api);
    let handler = Handler::default();
    let first = api.write("shard-1", 1);
    assert_eq!(handler.pump(&mut reader).await, 1);
    // The reader was away for more than a day: the record after its last is gone.
    let written = api.write("shard-1", 4);
    api.trim("shard-1", 3);
    assert_eq!(handler.pump(&mut reader).await, 2);
    let mut expected = first;
    expected.extend(written[2..].iter().cloned());
    assert_eq!(handler.seen(), expected);
}

#[tokio::test]
async fn a_failed_record_is_read_again_from_itself_and_those_before_it_are_not() {
    let api = TwinApi::with_shard("shard-1");
    let mut reader = reader(&api);
    let handler = Handler::default();
    let written = api.write("shard-1", 5);
    handler.fail_once(&written[3]);
    assert_eq!(handler.pump(&mut reader).await, 3);
    assert_eq!(handler.seen(), written[..3]);
    assert_eq!(handler.pump(&mut reader).await, 2);
    assert_eq!(handler.seen(), written);
    assert_eq!(
        api.starts().last(),
        Some(&("shard-1".to_string(), Start::After(written[2].clone())))
    );
}

#[tokio::test]
async fn a_child_shard_is_read_after_its_parent_is_read_to_its_end() {
    let api = TwinApi::with_shard("shard-1");
    let mut reader = reader(&api);
    let handler = Handler::default();
    let mut expected = api.write("shard-1", 3);
    api.close("shard-1");
    api.add_shard("shard-2", Some("shard-1"));
    let child = api.write("shard-2", 2);
    handler.fail_once(&expected[2]);
    // The parent stops at its failed record: the child waits.
    assert_eq!(handler.pump(&mut reader).await, 2);
    assert_eq!(handler.seen(), expected[..2]);
    // The parent is read to its end, then the child.
    handler.pump(&mut reader).await;
    handler.pump(&mut reader).await;
    expected.extend(child);
    assert_eq!(handler.seen(), expected);
    // A closed shard read to its end is not read again.
    let starts = api.starts().len();
    handler.pump(&mut reader).await;
    assert!(
        api.starts()[starts..]
            .iter()
            .all(|(shard, _)| shard == "shard-2")
    );
}
