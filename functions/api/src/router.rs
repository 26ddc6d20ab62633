//! The routes.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use teleconf_core::store::Store;

/// What every handler may use, built once in `main`.
#[derive(Clone)]
pub struct AppState {
    /// Persistence.
    pub store: Arc<dyn Store>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

/// The API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(state)
}

/// Liveness: answers without touching the store, so a cold start is measured
/// without a network round trip and a store outage does not restart the function.
async fn healthz() -> &'static str {
    "ok"
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use teleconf_core::store::memory::MemoryStore;
    use tower::ServiceExt;

    #[tokio::test]
    async fn an_api_gateway_event_reaches_the_router() {
        // The same conversion lambda_http applies to every invocation in AWS.
        let request = lambda_http::request::from_str(include_str!("../../../events/api-healthz.json")).unwrap();
        let app = router(AppState { store: Arc::new(MemoryStore::new()) });
        let res = app.oneshot(request.map(|b| Body::from(b.to_vec()))).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn healthz_answers_ok() {
        let app = router(AppState {
            store: Arc::new(MemoryStore::new()),
        });
        let res = app
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
}
