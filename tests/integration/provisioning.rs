//! Provisioning from `infra/template.json` on the emulator.

use teleconf_adapters::store::UserStore;
use teleconf_infra::{demo, provision};
use teleconf_tests::stack::Stack;

#[tokio::test]
async fn provisioning_twice_is_harmless_and_keeps_the_data() {
    let stack = Stack::new().await;
    let logins = demo::seed(&stack.store, chrono::Utc::now()).await.unwrap();
    provision::provision(&stack.clients, &stack.settings)
        .await
        .unwrap();
    let owner = stack
        .store
        .user_by_email(&logins.owner.email)
        .await
        .unwrap()
        .unwrap();
    assert!(owner.password.verify(&logins.owner.password));
}

#[tokio::test]
async fn the_table_has_the_templates_indexes_and_stream() {
    let stack = Stack::new().await;
    let table = stack
        .clients
        .dynamodb
        .describe_table()
        .table_name(&stack.settings.table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let mut indexes: Vec<_> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name())
        .collect();
    indexes.sort_unstable();
    assert_eq!(indexes, ["gsi1", "gsi2"]);
    assert_eq!(
        table.stream_specification().map(|s| s.stream_enabled()),
        Some(true)
    );
}
