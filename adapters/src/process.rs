//! What every binary of the service does the same way: log set-up, the shutdown
//! signal, and the wall clock its handlers read.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The time source handlers read "now" from: [`system_clock`] in `main`, a fixed or
/// moving instant in tests. The domain never reads a clock; its callers pass `now`.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system's wall clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// Logs to stderr, filtered by `RUST_LOG` read as targets (`info`,
/// `teleconf_api=debug,info`; `info` when unset). EnvFilter's regex engine would
/// add half a megabyte to a Lambda binary for nothing.
///
/// One JSON object per line where logs are read by machines ([`json_logs`]):
/// the event's fields at the top level and the span it happened in under
/// `span` (under Lambda, the runtime's invocation span: `requestId`). Text
/// otherwise, coloured only on a terminal.
pub fn init_tracing() {
    let filter: Targets = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    if json_logs(|name| std::env::var(name).ok()) {
        tracing_subscriber::registry()
            .with(
                layer
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .with(filter)
            .init();
    } else {
        tracing_subscriber::registry()
            .with(layer.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())))
            .with(filter)
            .init();
    }
}

/// Whether logs are JSON: `TELECONF_LOG_FORMAT=json` (the media node's task
/// definition) or `text`; otherwise JSON under Lambda (`AWS_LAMBDA_FUNCTION_NAME`
/// is set; `AWS_LAMBDA_LOG_FORMAT`, the function's LoggingConfig, may say `Text`).
pub fn json_logs(var: impl Fn(&str) -> Option<String>) -> bool {
    match var("TELECONF_LOG_FORMAT").as_deref() {
        Some("json") => true,
        Some("text") => false,
        _ => {
            var("AWS_LAMBDA_FUNCTION_NAME").is_some()
                && !var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("text"))
        }
    }
}

/// Completes on Ctrl-C or SIGTERM (what ECS and `make run` send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

#[cfg(test)]
mod tests {
    use super::json_logs;
    use crate::settings::lookup_in as with;

    #[test]
    fn logs_are_json_under_lambda_and_where_the_container_asks() {
        assert!(!json_logs(with(&[])));
        assert!(json_logs(with(&[("AWS_LAMBDA_FUNCTION_NAME", "api")])));
        assert!(!json_logs(with(&[
            ("AWS_LAMBDA_FUNCTION_NAME", "api"),
            ("AWS_LAMBDA_LOG_FORMAT", "Text")
        ])));
        assert!(json_logs(with(&[("TELECONF_LOG_FORMAT", "json")])));
        assert!(!json_logs(with(&[
            ("AWS_LAMBDA_FUNCTION_NAME", "api"),
            ("TELECONF_LOG_FORMAT", "text")
        ])));
    }
}
