//! The routes, and the OpenAPI document generated from them (never hand-kept:
//! each handler's `#[utoipa::path]` sits on the handler itself).

use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth;
use crate::error::{ApiError, ErrorBody};
use crate::routes::{
    accounts, activity, cdrs, conferences, controls, exports, health, invitations, invoices,
    ip_phones, me, numbers, participants, prompts, recordings, users,
};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "teleconf API", description = "Self-service audio teleconference: accounts, users, access numbers, IP phones (*44), prompts, conferences, logs, recordings, invoices. Errors are JSON {\"error\": {\"code\", \"message\", \"field\"?}}."),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The API: every route, `/v1/openapi.json`, JSON 404s for unknown paths. The
/// binary mounts the portal onto it (`main.rs`).
pub fn router(state: AppState) -> axum::Router {
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(me::me))
        .routes(routes!(accounts::list_accounts, accounts::create_account))
        .routes(routes!(accounts::get_account, accounts::patch_account))
        .routes(routes!(
            numbers::list_account_numbers,
            numbers::assign_number
        ))
        .routes(routes!(numbers::unassign_number))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(
            users::get_user,
            users::patch_user,
            users::delete_user
        ))
        .routes(routes!(numbers::list_numbers))
        .routes(routes!(numbers::get_number, numbers::patch_number))
        .routes(routes!(ip_phones::list_ip_phones, ip_phones::add_ip_phone))
        .routes(routes!(ip_phones::remove_ip_phone))
        .routes(routes!(prompts::get_prompt))
        .routes(routes!(
            conferences::list_conferences,
            conferences::create_conference
        ))
        .routes(routes!(
            conferences::get_conference,
            conferences::patch_conference,
            conferences::delete_conference
        ))
        .routes(routes!(conferences::intro_by_phone))
        .routes(routes!(invitations::confirmation))
        .routes(routes!(invitations::invite))
        .routes(routes!(cdrs::list_cdrs))
        .routes(routes!(participants::list_participants))
        .routes(routes!(controls::control_conference))
        .routes(routes!(recordings::list_recordings))
        .routes(routes!(recordings::get_recording))
        .routes(routes!(invoices::list_invoices))
        .routes(routes!(invoices::get_invoice))
        .routes(routes!(exports::get_export))
        .routes(routes!(activity::list_activity))
        .split_for_parts();
    // Prompt uploads carry up to 10 MB of audio: their own body limit.
    let (uploads, upload_api) = OpenApiRouter::new()
        .routes(routes!(prompts::upload_prompt))
        .layer(DefaultBodyLimit::max(prompts::MAX_UPLOAD_BYTES))
        .split_for_parts();
    let mut openapi = openapi;
    openapi.merge(upload_api);
    let openapi = Json(openapi);
    router
        .merge(uploads)
        .route(
            "/v1/openapi.json",
            get(move || async move { openapi.clone().into_response() }),
        )
        .fallback(|| async { ApiError::not_found("route") })
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use teleconf_adapters::blobs::MemoryBlobs;
    use teleconf_adapters::store::memory::MemoryStore;
    use tower::ServiceExt;

    fn app() -> axum::Router {
        router(AppState {
            store: Arc::new(MemoryStore::new()),
            blobs: Arc::new(MemoryBlobs::default()),
            tokens: Arc::new(crate::tokens::Tokens::new(&[1; 32]).unwrap()),
            clock: teleconf_adapters::process::system_clock(),
            branding: Arc::new(Default::default()),
        })
    }

    #[tokio::test]
    async fn an_api_gateway_event_reaches_the_router() {
        // The same conversion lambda_http applies to every invocation in AWS.
        let request =
            lambda_http::request::from_str(include_str!("../../../events/api-healthz.json"))
                .unwrap();
        let res = app()
            .oneshot(request.map(|b| Body::from(b.to_vec())))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn the_openapi_document_lists_every_route() {
        let res = app()
            .oneshot(
                Request::get("/v1/openapi.json")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        for path in [
            "/v1/auth/login",
            "/v1/auth/logout",
            "/v1/accounts/{id}/numbers",
            "/v1/accounts/{id}/numbers/{e164}",
            "/v1/conferences",
            "/v1/conferences/{id}/invitations",
            "/v1/conferences/{id}/participants",
            "/v1/prompts",
            "/v1/cdrs",
            "/healthz",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing");
        }
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }

    #[tokio::test]
    async fn an_unknown_route_is_a_json_404() {
        let res = app()
            .oneshot(Request::get("/v2/nothing").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
}
