//! `teleconf-dispatcher-sync`: keeps the SIP entry's (Kamailio's)
//! `dispatcher.list` equal to the media nodes the registry says take calls, and
//! reloads Kamailio when it changes ([`teleconf_media_node::dispatcher`] decides;
//! this reads the table, writes the file and runs `kamcmd`). It runs beside
//! Kamailio, as the same user (it talks to Kamailio's control socket).
//!
//! | variable                        | meaning                                         | default |
//! |---------------------------------|-------------------------------------------------|---------|
//! | `TELECONF_TABLE`                | the table holding the node registry             | required |
//! | `TELECONF_DISPATCHER_LIST`      | the file Kamailio reads (`-A 'DS_LIST="…"'`)    | required |
//! | `TELECONF_KAMAILIO_CTL`         | Kamailio's control socket, as `kamcmd -s` takes it | `unix:/run/kamailio/kamailio_ctl` |
//! | `TELECONF_DISPATCHER_SYNC_SECS` | seconds between two reads of the registry       | `2` |
//!
//! The file is written whole (a temporary file renamed over it). When it does
//! not exist at start an empty list is written at once, so Kamailio can start
//! (it answers 503 until the first nodes come). A registry that cannot be read
//! leaves the list as it is. Kamailio is reloaded only when it does not already
//! hold the listed nodes (`kamcmd dispatcher.list`): a reload resets its probe
//! states and round robin. Once Kamailio holds the list it prints
//! `dispatcher sync: N node(s) listed`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;

use teleconf_adapters::process::{init_tracing, shutdown_signal};
use teleconf_adapters::settings::{Env, process_env};
use teleconf_adapters::store::NodeStore;
use teleconf_adapters::store::dynamo::DynamoStore;
use teleconf_media_node::dispatcher::{RELOADED, Step, Sync, already_held, held, render};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_tracing();
    let env = Env::new(process_env);
    let table = env.required("TELECONF_TABLE")?;
    let list = PathBuf::from(env.required("TELECONF_DISPATCHER_LIST")?);
    let ctl = env
        .get("TELECONF_KAMAILIO_CTL")
        .unwrap_or_else(|| "unix:/run/kamailio/kamailio_ctl".into());
    let every = match env.parse_or("TELECONF_DISPATCHER_SYNC_SECS", 2u64)? {
        0 => anyhow::bail!("TELECONF_DISPATCHER_SYNC_SECS: must be at least 1"),
        secs => Duration::from_secs(secs),
    };
    if !list.exists() {
        write(&list, &render(&[], Utc::now()))?;
    }
    let store = DynamoStore::new(teleconf_adapters::aws::dynamodb().await, &table);
    println!("dispatcher sync: {} from table {table}", list.display());
    tokio::select! {
        () = run(&store, &list, &ctl, every) => {}
        () = shutdown_signal() => {}
    }
    Ok(())
}

async fn run(store: &DynamoStore, list: &Path, ctl: &str, every: Duration) {
    let mut sync = Sync::new();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut unreadable = false;
    loop {
        ticks.tick().await;
        let read = store.heartbeats().await;
        match &read {
            Err(error) if !unreadable => {
                unreadable = true;
                tracing::warn!(%error, "node registry unreadable: keeping the last list");
            }
            Ok(_) if unreadable => {
                unreadable = false;
                tracing::info!("node registry readable again");
            }
            _ => {}
        }
        let Step::Apply(text) = sync.read(read.as_deref().ok(), Utc::now()) else {
            continue;
        };
        if std::fs::read_to_string(list).ok().as_deref() != Some(text.as_str())
            && let Err(error) = write(list, &text)
        {
            tracing::error!(%error, "dispatcher list not written; tried again");
            continue;
        }
        // Kamailio may hold these nodes already (it read the file at its start,
        // or this sync restarted): a reload would reset its probes and round robin.
        let holds = kamcmd(ctl, "dispatcher.list")
            .await
            .is_ok_and(|said| held(&said).is_some_and(|nodes| already_held(&text, &nodes)));
        let loaded = if holds { Ok(()) } else { reload(ctl).await };
        match loaded {
            Ok(()) => {
                let nodes = text.lines().filter(|l| !l.starts_with('#')).count();
                println!("dispatcher sync: {nodes} node(s) listed");
                tracing::info!(
                    nodes,
                    reloaded = !holds,
                    "Kamailio holds the dispatcher list"
                );
                sync.applied(text);
            }
            Err(error) => tracing::warn!(%error, "Kamailio not reloaded; tried again"),
        }
    }
}

/// Writes `text` to `path` whole: a reader sees the old file or the new one.
fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("renaming to {}", path.display()))
}

/// `kamcmd -s CTL dispatcher.reload`, judged by what it prints (it exits 0 when
/// the reload itself failed).
async fn reload(ctl: &str) -> anyhow::Result<()> {
    let said = kamcmd(ctl, "dispatcher.reload").await?;
    anyhow::ensure!(said.contains(RELOADED), "kamcmd: {}", said.trim());
    Ok(())
}

/// What `kamcmd -s CTL COMMAND` prints, when it reached Kamailio.
async fn kamcmd(ctl: &str, command: &'static str) -> anyhow::Result<String> {
    let ctl = ctl.to_string();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("kamcmd")
            .args(["-s", &ctl, command])
            .output()
    })
    .await
    .context("kamcmd's thread")?
    .context("running kamcmd")?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    anyhow::ensure!(
        output.status.success(),
        "kamcmd {command}: {} {}",
        output.status,
        said.trim()
    );
    Ok(said)
}
