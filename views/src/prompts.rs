//! A stored prompt.

use serde::{Deserialize, Serialize};
use teleconf_domain::PromptId;
use utoipa::ToSchema;

/// A stored prompt.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PromptView {
    /// Use it in an access number's prompts or a conference's intro.
    #[schema(value_type = String)]
    pub id: PromptId,
    /// Length of the audio.
    pub duration_ms: u64,
}
