//! The 20 ms clock: a thread of its own sleeping to absolute deadlines, so frames
//! neither drift nor bunch (a tokio interval runs 1–2 ms late, worse under load;
//! see the shared notes). A tick that finds the shell busy is dropped, not queued:
//! the node catches up from its own deadlines.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

/// The frame period of G.711 at ptime 20.
pub(super) const PERIOD: Duration = Duration::from_millis(20);

/// Starts the clock; it stops when the receiver is dropped.
pub(super) fn start() -> std::io::Result<mpsc::Receiver<Instant>> {
    let (tx, rx) = mpsc::channel(2);
    std::thread::Builder::new()
        .name("media-clock".into())
        .spawn(move || {
            let mut deadline = Instant::now() + PERIOD;
            loop {
                let now = Instant::now();
                if deadline > now {
                    std::thread::sleep(deadline - now);
                }
                match tx.try_send(deadline) {
                    Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => {}
                    Err(mpsc::error::TrySendError::Closed(_)) => return,
                }
                deadline += PERIOD;
                // Asleep far too long (a suspended machine): start again from now
                // rather than fire a burst of stale ticks.
                let now = Instant::now();
                if now > deadline + PERIOD * 5 {
                    deadline = now + PERIOD;
                }
            }
        })?;
    Ok(rx)
}
