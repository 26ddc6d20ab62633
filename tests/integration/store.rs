//! The DynamoDB store on the emulator passes the same conformance suite as the
//! in-memory store.

use teleconf_adapters::store::conformance;
use teleconf_tests::stack::Stack;

#[tokio::test]
async fn account_user_number_and_conference_read_back_by_every_key() {
    let stack = Stack::new().await;
    conformance::account_user_number_and_conference_read_back_by_every_key(&stack.store).await;
}

#[tokio::test]
async fn a_second_conference_cannot_take_an_existing_number() {
    let stack = Stack::new().await;
    conformance::a_second_conference_cannot_take_an_existing_number(&stack.store).await;
}

#[tokio::test]
async fn an_email_belongs_to_one_user_and_moves_with_it() {
    let stack = Stack::new().await;
    conformance::an_email_belongs_to_one_user_and_moves_with_it(&stack.store).await;
}

#[tokio::test]
async fn an_access_number_is_assigned_once() {
    let stack = Stack::new().await;
    conformance::an_access_number_is_assigned_once(&stack.store).await;
}

#[tokio::test]
async fn updates_and_deletes_take_effect() {
    let stack = Stack::new().await;
    conformance::updates_and_deletes_take_effect(&stack.store).await;
}

#[tokio::test]
async fn legs_are_written_idempotently_and_listed_by_conference_and_month() {
    let stack = Stack::new().await;
    conformance::legs_are_written_idempotently_and_listed_by_conference_and_month(&stack.store)
        .await;
}

#[tokio::test]
async fn activity_is_listed_newest_first() {
    let stack = Stack::new().await;
    conformance::activity_is_listed_newest_first(&stack.store).await;
}

#[tokio::test]
async fn recordings_are_listed_by_account_and_conference() {
    let stack = Stack::new().await;
    conformance::recordings_are_listed_by_account_and_conference(&stack.store).await;
}

#[tokio::test]
async fn the_provider_keeps_its_last_administrator() {
    let stack = Stack::new().await;
    conformance::the_provider_keeps_its_last_administrator(&stack.store).await;
}

#[tokio::test]
async fn a_users_token_version_never_goes_back() {
    let stack = Stack::new().await;
    conformance::a_users_token_version_never_goes_back(&stack.store).await;
}

#[tokio::test]
async fn an_invoice_is_issued_once_per_month() {
    let stack = Stack::new().await;
    conformance::an_invoice_is_issued_once_per_month(&stack.store).await;
}

#[tokio::test]
async fn invitations_are_queued_per_conference() {
    let stack = Stack::new().await;
    conformance::invitations_are_queued_per_conference(&stack.store).await;
}

#[tokio::test]
async fn an_intro_code_is_granted_once() {
    let stack = Stack::new().await;
    conformance::an_intro_code_is_granted_once(&stack.store).await;
}

#[tokio::test]
async fn failures_are_counted_per_attempt_and_window() {
    let stack = Stack::new().await;
    conformance::failures_are_counted_per_attempt_and_window(&stack.store).await;
}

#[tokio::test]
async fn a_caller_with_a_very_long_caller_id_is_counted_and_locked() {
    let stack = Stack::new().await;
    conformance::a_caller_with_a_very_long_caller_id_is_counted_and_locked(&stack.store).await;
}

#[tokio::test]
async fn an_account_keeps_its_last_owner() {
    let stack = Stack::new().await;
    conformance::an_account_keeps_its_last_owner(&stack.store).await;
}

#[tokio::test]
async fn an_ip_phone_belongs_to_one_account() {
    let stack = Stack::new().await;
    conformance::an_ip_phone_belongs_to_one_account(&stack.store).await;
}

#[tokio::test]
async fn a_nodes_open_legs_are_found_and_closed_once() {
    let stack = Stack::new().await;
    conformance::a_nodes_open_legs_are_found_and_closed_once(&stack.store).await;
}

#[tokio::test]
async fn a_lost_nodes_recordings_are_found_and_cut_once() {
    let stack = Stack::new().await;
    conformance::a_lost_nodes_recordings_are_found_and_cut_once(&stack.store).await;
}

#[tokio::test]
async fn a_lost_node_is_marked_reaped_once_unless_it_came_back() {
    let stack = Stack::new().await;
    conformance::a_lost_node_is_marked_reaped_once_unless_it_came_back(&stack.store).await;
}

#[tokio::test]
async fn a_nodes_heartbeat_replaces_its_last_and_every_node_is_listed() {
    let stack = Stack::new().await;
    conformance::a_nodes_heartbeat_replaces_its_last_and_every_node_is_listed(&stack.store).await;
}

#[tokio::test]
async fn a_room_is_held_by_one_node_until_its_lease_expires_or_is_released() {
    let stack = Stack::new().await;
    conformance::a_room_is_held_by_one_node_until_its_lease_expires_or_is_released(&stack.store)
        .await;
}

#[tokio::test]
async fn the_whole_suite_runs_in_one_go() {
    // Guards against a check being added to `run_all` and forgotten above.
    let stack = Stack::new().await;
    conformance::run_all(&stack.store).await;
}

#[tokio::test]
async fn lifecycles_queued_mail_and_deliveries_follow_the_suite() {
    let stack = Stack::new().await;
    conformance::run_lifecycle_and_deliveries(&stack.store).await;
}
