//! The emulator behaves as AWS where every stream reader relies on it
//! (`scripts/moto_server_serial.py`).

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Put, TransactWriteItem};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use teleconf_tests::stack::{Stack, emulator_streams};

fn item(pk: &str) -> std::collections::HashMap<String, AttributeValue> {
    [
        ("pk".to_string(), AttributeValue::S(pk.into())),
        ("sk".to_string(), AttributeValue::S("ITEM".into())),
    ]
    .into()
}

/// The `pk` of every record on the page at `iterator`, and the next iterator.
async fn read(
    streams: &aws_sdk_dynamodbstreams::Client,
    iterator: String,
) -> (Vec<String>, Option<String>) {
    let page = streams
        .get_records()
        .shard_iterator(iterator)
        .send()
        .await
        .expect("GetRecords");
    let keys = page
        .records()
        .iter()
        .filter_map(|r| r.dynamodb()?.keys()?.get("pk")?.as_s().ok().cloned())
        .collect();
    (keys, page.next_shard_iterator)
}

#[tokio::test]
async fn one_stream_iterator_sees_every_write_across_a_cancelled_transaction() {
    let stack = Stack::new().await;
    let dynamodb = &stack.clients.dynamodb;
    let table = &stack.settings.table;
    let streams = emulator_streams().await;
    let arn = dynamodb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .unwrap()
        .table
        .and_then(|t| t.latest_stream_arn)
        .expect("the table's stream");
    let shard = streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .unwrap()
        .stream_description
        .and_then(|d| d.shards?.into_iter().next()?.shard_id)
        .expect("a shard");
    let iterator = streams
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .expect("an iterator");

    let put = |pk: &str| {
        dynamodb
            .put_item()
            .table_name(table)
            .set_item(Some(item(pk)))
    };
    put("BEFORE").send().await.unwrap();
    let (keys, mut iterator) = read(&streams, iterator).await;
    assert!(keys.contains(&"BEFORE".to_string()), "{keys:?}");

    // A transaction that writes one item, then fails its condition: cancelled, as
    // a taken e-mail cancels `POST /v1/users` (a 409).
    let cancelled = dynamodb
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(item("UNDONE")))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(table)
                        .set_key(Some(item("BEFORE")))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await;
    assert!(cancelled.is_err(), "the transaction is cancelled");

    put("AFTER").send().await.unwrap();
    let mut seen = Vec::new();
    // DynamoDB may answer an empty page before the next record: a few pages.
    for _ in 0..5 {
        let Some(current) = iterator.take() else {
            break;
        };
        let (keys, next) = read(&streams, current).await;
        seen.extend(keys);
        iterator = next;
        if !seen.is_empty() {
            break;
        }
    }
    assert_eq!(
        seen,
        ["AFTER"],
        "the iterator taken before the cancelled transaction reads the write after it, and nothing of the undone one"
    );
}
