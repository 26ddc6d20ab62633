//! ECS task scale-in protection: while the node carries calls it asks the ECS
//! agent (`$ECS_AGENT_URI/task-protection/v1/state`) to protect its task, so a
//! scale-in picks an empty node and never one whose callers would be hung up; it
//! releases the protection once it carries none. The protection is asked for
//! [`EXPIRES_MINUTES`] and renewed well before it lapses. Without
//! `ECS_AGENT_URI` (a local run) nothing is asked, said once in the log. A
//! request that fails is logged and tried again at the next look.

use std::time::Duration;

use serde_json::{Value, json};

/// How long each protection request holds (ECS allows 1 to 2880 minutes).
pub const EXPIRES_MINUTES: u32 = 60;
/// A held protection is asked again after this, well before it lapses.
const RENEW_AFTER: Duration = Duration::from_secs(15 * 60);

/// The ECS agent's task-protection endpoint.
#[derive(Debug, Clone)]
pub struct Agent {
    client: reqwest::Client,
    url: String,
}

impl Agent {
    /// The agent at `uri` (the value of `ECS_AGENT_URI`).
    pub fn new(uri: &str) -> Self {
        Self {
            client: reqwest::Client::new(),
            url: format!("{}/task-protection/v1/state", uri.trim_end_matches('/')),
        }
    }

    /// Asks for protection (`true`) or its release.
    pub async fn set(&self, enabled: bool) -> Result<(), String> {
        let body = if enabled {
            json!({"ProtectionEnabled": true, "ExpiresInMinutes": EXPIRES_MINUTES})
        } else {
            json!({"ProtectionEnabled": false})
        };
        let response = self
            .client
            .put(&self.url)
            .timeout(Duration::from_secs(5))
            .json(&body)
            .send()
            .await
            .map_err(|error| error.to_string())?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        // The agent answers {"protection": …} on success, {"failure": …} or
        // {"error": …} otherwise.
        if !status.is_success() || answer.get("failure").is_some() || answer.get("error").is_some()
        {
            return Err(format!("{status}: {answer}"));
        }
        Ok(())
    }
}

/// Holds the protection while `busy()` says the node carries calls, looking
/// every `every`, until the task is aborted (the shell then releases it with
/// [`Agent::set`] once the node is empty).
pub(super) async fn hold(agent: Option<Agent>, every: Duration, busy: impl Fn() -> bool) {
    let Some(agent) = agent else {
        tracing::info!("ECS_AGENT_URI unset: no task scale-in protection (a local run)");
        return;
    };
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Unknown at start: the first look says it either way.
    let mut held: Option<(bool, tokio::time::Instant)> = None;
    loop {
        ticks.tick().await;
        let wanted = busy();
        let due = match held {
            None => true,
            Some((now_held, since)) => {
                now_held != wanted || (wanted && since.elapsed() >= RENEW_AFTER)
            }
        };
        if !due {
            continue;
        }
        match agent.set(wanted).await {
            Ok(()) => {
                if held.map(|(h, _)| h) != Some(wanted) {
                    tracing::info!(protected = wanted, "task scale-in protection set");
                }
                held = Some((wanted, tokio::time::Instant::now()));
            }
            Err(error) => {
                tracing::warn!(%error, protected = wanted, "task scale-in protection not set; tried again");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    use axum::Json;
    use axum::extract::State;
    use axum::routing::put;

    use super::*;

    /// The ECS agent's endpoint, as a fake that keeps every body it is sent.
    async fn fake_agent() -> (String, Arc<Mutex<Vec<Value>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route(
                "/api/task-1/task-protection/v1/state",
                put(
                    |State(seen): State<Arc<Mutex<Vec<Value>>>>, Json(body): Json<Value>| async move {
                        seen.lock().unwrap().push(body.clone());
                        Json(json!({"protection": {"ProtectionEnabled": body["ProtectionEnabled"]}}))
                    },
                ),
            )
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/api/task-1"), seen)
    }

    /// Waits (at most 5 s) until the agent has seen `count` requests.
    async fn requests(seen: &Mutex<Vec<Value>>, count: usize) -> Vec<Value> {
        for _ in 0..500 {
            let now = seen.lock().unwrap().clone();
            if now.len() >= count {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        seen.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn protection_is_held_while_the_node_carries_calls_and_released_when_empty() {
        let (uri, seen) = fake_agent().await;
        let busy = Arc::new(AtomicBool::new(false));
        let flag = busy.clone();
        let task = tokio::spawn(hold(
            Some(Agent::new(&uri)),
            Duration::from_millis(10),
            move || flag.load(Ordering::Relaxed),
        ));
        let released = json!({"ProtectionEnabled": false});
        let protected = json!({"ProtectionEnabled": true, "ExpiresInMinutes": EXPIRES_MINUTES});
        assert_eq!(requests(&seen, 1).await[0], released, "empty at start");
        busy.store(true, Ordering::Relaxed);
        assert_eq!(requests(&seen, 2).await[1], protected, "a call came");
        busy.store(false, Ordering::Relaxed);
        assert_eq!(requests(&seen, 3).await[2], released, "the last call left");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(seen.lock().unwrap().len(), 3, "asked only on a change");
        task.abort();
    }

    #[tokio::test]
    async fn an_agent_that_refuses_is_asked_again() {
        let app = axum::Router::new().route(
            "/task-protection/v1/state",
            put(|| async { Json(json!({"failure": {"Reason": "TASK_NOT_FOUND"}})) }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let error = Agent::new(&format!("http://{addr}/"))
            .set(true)
            .await
            .unwrap_err();
        assert!(error.contains("TASK_NOT_FOUND"), "{error}");
    }

    #[tokio::test]
    async fn without_an_agent_nothing_is_asked() {
        // Returns at once: no loop, no request.
        tokio::time::timeout(
            Duration::from_secs(1),
            hold(None, Duration::from_millis(1), || true),
        )
        .await
        .expect("returns at once");
    }
}
