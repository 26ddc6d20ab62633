//! Liveness.

/// Answers without touching the store, so a cold start is measured without a
/// network round trip and a store outage does not get the function restarted.
#[utoipa::path(get, path = "/healthz", tag = "health", security(()), responses((status = 200, body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}
