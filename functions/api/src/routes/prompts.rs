//! Audio prompts (greetings, intro messages): uploaded as WAV in any common format,
//! stored as 8 kHz mono 16-bit PCM, read back as WAV (the rules:
//! [`crate::usecases::prompts`]).

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use teleconf_domain::audio::MAX_PROMPT_BYTES;
use teleconf_views::prompts::PromptView;

use crate::error::{ApiResult, Error, ErrorBody};
use crate::state::AppState;
use crate::usecases::Caller;
use crate::usecases::prompts::{self, too_large};

/// Room for multipart framing around the largest accepted file.
pub const MAX_UPLOAD_BYTES: usize = MAX_PROMPT_BYTES + 64 * 1024;

/// The WAV bytes of an upload: the raw body (`audio/wav`) or the first file part
/// of a `multipart/form-data` body.
async fn upload_bytes(req: Request, state: &AppState) -> Result<Vec<u8>, Error> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|e| Error::invalid("audio", e.body_text()))?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| upload_error(e.status(), e.body_text()))?
        {
            if field.file_name().is_some() || field.name() == Some("file") {
                return Ok(field
                    .bytes()
                    .await
                    .map_err(|e| upload_error(e.status(), e.body_text()))?
                    .to_vec());
            }
        }
        return Err(Error::invalid("audio", "the form has no file part"));
    }
    if !matches!(
        content_type.as_str(),
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" | "application/octet-stream"
    ) {
        return Err(Error::invalid(
            "audio",
            "send the WAV as audio/wav, or as a file in multipart/form-data",
        ));
    }
    let bytes = axum::body::to_bytes(req.into_body(), MAX_UPLOAD_BYTES)
        .await
        .map_err(|_| too_large())?;
    Ok(bytes.to_vec())
}

fn upload_error(status: StatusCode, text: String) -> Error {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        Error::invalid("audio", text)
    }
}

/// Uploads a prompt (`audio/wav` body, or multipart with a file): PCM 8/16/24/32-bit,
/// float, µ-law or A-law, any common rate, mono or stereo; at most 10 MB and 5 minutes.
#[utoipa::path(post, path = "/v1/prompts", tag = "prompts",
    request_body(content = Vec<u8>, content_type = "audio/wav"),
    responses((status = 201, body = PromptView), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn upload_prompt(
    State(state): State<AppState>,
    caller: Caller,
    req: Request,
) -> ApiResult<(StatusCode, Json<PromptView>)> {
    let body = upload_bytes(req, &state);
    let prompt = prompts::upload(&*state.store, &*state.blobs, state.now(), &caller, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(PromptView {
            id: prompt.id,
            duration_ms: prompt.duration_ms,
        }),
    ))
}

/// A prompt, as 8 kHz mono WAV.
#[utoipa::path(get, path = "/v1/prompts/{id}", tag = "prompts", params(("id" = String, Path)),
    responses((status = 200, content_type = "audio/wav", body = Vec<u8>), (status = 404, body = ErrorBody)))]
pub async fn get_prompt(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let wav = prompts::get(&*state.blobs, &caller, &id).await?;
    Ok(([(header::CONTENT_TYPE, "audio/wav")], Body::from(wav)))
}
