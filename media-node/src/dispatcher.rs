//! The SIP entry's list of media nodes, from the node registry
//! ([`teleconf_domain::node`]), sans-IO: `teleconf-dispatcher-sync` (the binary
//! beside Kamailio) reads the heartbeats every few seconds and hands them here;
//! this says whether Kamailio's `dispatcher.list` must be rewritten and
//! reloaded.
//!
//! - The list holds the active nodes with a fresh heartbeat
//!   ([`NodeHeartbeat::is_dispatchable`]), one line each, sorted, with flag 8
//!   (probed with OPTIONS from the start): `1 sip:10.0.0.7:5060 8 0 node=<id>`.
//!   A draining node is left out rather than written inactive: a reload resets
//!   every node's state to the file's flags, so a draining node in the file would
//!   take calls again until its next probe (`/work/brief/kamailio-notes.md`,
//!   pitfall 1). Between two syncs, the entry's OPTIONS probe and failover keep
//!   new calls off a node that drains or dies.
//! - Rewritten and reloaded only when the list changes, and only when Kamailio
//!   does not already hold those nodes (it read the file at its start, or the
//!   sync restarted): a reload resets every node's probed state to the file's
//!   flags and restarts the round robin at the first node, so a needless one
//!   sends the next call to a node that just had one, or to a dead node it had
//!   already found out. A reload that failed is tried again at the next sync.
//! - A registry that cannot be read changes nothing: the last list stays.

use chrono::{DateTime, Utc};
use teleconf_domain::NodeHeartbeat;

/// The dispatcher set the entry's config routes to (`ds_select_dst("1", …)`).
pub const SET: u32 = 1;

/// What `kamcmd dispatcher.reload` prints when the reload took (it exits 0 on
/// a failed reload too).
pub const RELOADED: &str = "successfully reloaded";

/// `dispatcher.list`'s text for the nodes the entry may send new calls to at `now`.
pub fn render(heartbeats: &[NodeHeartbeat], now: DateTime<Utc>) -> String {
    let mut lines: Vec<String> = heartbeats
        .iter()
        .filter(|heartbeat| heartbeat.is_dispatchable(now))
        .map(|heartbeat| {
            format!(
                "{SET} sip:{} 8 0 node={}\n",
                heartbeat.sip, heartbeat.node_id
            )
        })
        .collect();
    lines.sort();
    lines.dedup();
    let mut text = String::from(
        "# teleconf-dispatcher-sync, from the node registry: setid uri flags priority attrs\n",
    );
    text.extend(lines);
    text
}

/// The nodes a `dispatcher.list` text lists (`sip:…` of each line), sorted.
pub fn listed(text: &str) -> Vec<String> {
    let mut nodes: Vec<String> = text
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_whitespace().nth(1).map(str::to_string))
        .collect();
    nodes.sort();
    nodes
}

/// Each node Kamailio holds and its flags (`AP`: active, probed; `IP`:
/// inactive), from what `kamcmd dispatcher.list` prints, sorted; `None` when it
/// printed no listing (an error, such as `500 - No Destination Sets`).
pub fn held(kamcmd_output: &str) -> Option<Vec<(String, String)>> {
    if !kamcmd_output.contains("NRSETS:") {
        return None;
    }
    let mut nodes = Vec::new();
    let mut uri = None;
    for line in kamcmd_output.lines().map(str::trim) {
        if let Some(u) = line.strip_prefix("URI: ") {
            uri = Some(u.to_string());
        } else if let (Some(flags), Some(u)) = (line.strip_prefix("FLAGS: "), uri.take()) {
            nodes.push((u, flags.to_string()));
        }
    }
    nodes.sort();
    Some(nodes)
}

/// Whether Kamailio, holding `held` ([`held`]), already routes to exactly the
/// nodes `text` lists: then it needs no reload.
pub fn already_held(text: &str, held: &[(String, String)]) -> bool {
    let mut uris: Vec<&str> = held.iter().map(|(uri, _)| uri.as_str()).collect();
    uris.sort_unstable();
    listed(text) == uris
}

/// What the binary does after a read of the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The list Kamailio has is the registry's: nothing.
    Unchanged,
    /// Write this list (if the file differs) and, unless Kamailio already
    /// holds its nodes ([`already_held`]), reload Kamailio; tell
    /// [`Sync::applied`] once Kamailio holds it.
    Apply(String),
    /// The registry could not be read: the last list stays.
    Keep,
}

/// The list Kamailio holds, as far as the sync knows.
#[derive(Debug, Default)]
pub struct Sync {
    applied: Option<String>,
}

impl Sync {
    /// A sync that has applied nothing yet (its first read applies the list).
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry read at `now` (`None`: it could not be read).
    pub fn read(&self, heartbeats: Option<&[NodeHeartbeat]>, now: DateTime<Utc>) -> Step {
        let Some(heartbeats) = heartbeats else {
            return Step::Keep;
        };
        let text = render(heartbeats, now);
        if self.applied.as_ref() == Some(&text) {
            Step::Unchanged
        } else {
            Step::Apply(text)
        }
    }

    /// Kamailio holds `text`'s nodes (reloaded, or found holding them).
    pub fn applied(&mut self, text: String) {
        self.applied = Some(text);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;
    use teleconf_domain::NodeState;

    use super::*;

    fn beat(
        id: &str,
        sip: &str,
        state: NodeState,
        age_secs: i64,
        now: DateTime<Utc>,
    ) -> NodeHeartbeat {
        NodeHeartbeat {
            node_id: id.parse().unwrap(),
            sip: sip.parse().unwrap(),
            state,
            calls: 0,
            participants: 0,
            heartbeat_at: now - TimeDelta::seconds(age_secs),
        }
    }

    #[test]
    fn the_list_holds_the_active_nodes_heard_from_lately_sorted() {
        let now = Utc::now();
        let text = render(
            &[
                beat("node-b", "10.0.0.9:5060", NodeState::Active, 1, now),
                beat("node-a", "10.0.0.7:5060", NodeState::Active, 4, now),
                beat("node-c", "10.0.0.8:5060", NodeState::Draining, 1, now),
                beat("node-d", "10.0.0.6:5060", NodeState::Active, 60, now),
                beat("node-e", "10.0.0.5:5060", NodeState::Stopped, 1, now),
                beat("node-v6", "[2001:db8::7]:5060", NodeState::Active, 1, now),
            ],
            now,
        );
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "1 sip:10.0.0.7:5060 8 0 node=node-a",
                "1 sip:10.0.0.9:5060 8 0 node=node-b",
                "1 sip:[2001:db8::7]:5060 8 0 node=node-v6",
            ]
        );
    }

    #[test]
    fn the_list_is_applied_once_per_change_and_kept_when_the_registry_is_unreadable() {
        let now = Utc::now();
        let a = beat("node-a", "10.0.0.7:5060", NodeState::Active, 1, now);
        let mut sync = Sync::new();
        let Step::Apply(first) = sync.read(Some(std::slice::from_ref(&a)), now) else {
            panic!("the first read applies the list");
        };
        // The reload failed: the next read tries again.
        assert_eq!(
            sync.read(Some(std::slice::from_ref(&a)), now),
            Step::Apply(first.clone())
        );
        sync.applied(first.clone());
        assert_eq!(
            sync.read(Some(std::slice::from_ref(&a)), now),
            Step::Unchanged
        );
        assert_eq!(
            sync.read(None, now),
            Step::Keep,
            "unreadable: the last list stays"
        );
        let mut draining = a.clone();
        draining.state = NodeState::Draining;
        let Step::Apply(empty) = sync.read(Some(&[draining]), now) else {
            panic!("a node that drains leaves the list");
        };
        assert!(!empty.contains("node-a"), "{empty}");
        // A heartbeat a second newer changes nothing.
        sync.applied(first);
        let newer = beat("node-a", "10.0.0.7:5060", NodeState::Active, 0, now);
        assert_eq!(sync.read(Some(&[newer]), now), Step::Unchanged);
    }

    /// `kamcmd dispatcher.list` as Kamailio 5.6 prints it, for two nodes.
    const KAMCMD_TWO_NODES: &str = "{
	NRSETS: 1
	RECORDS: {
		SET: {
			ID: 1
			TARGETS: {
				DEST: {
					URI: sip:10.0.0.9:5060
					FLAGS: IP
					PRIORITY: 0
					ATTRS: {
						BODY: node=node-b
						DUID: <null string>
					}
				}
				DEST: {
					URI: sip:10.0.0.7:5060
					FLAGS: AP
					PRIORITY: 0
					ATTRS: {
						BODY: node=node-a
						DUID: <null string>
					}
				}
			}
		}
	}
}
";

    #[test]
    fn kamailio_holding_the_nodes_of_the_list_needs_no_reload() {
        let now = Utc::now();
        let a = beat("node-a", "10.0.0.7:5060", NodeState::Active, 1, now);
        let b = beat("node-b", "10.0.0.9:5060", NodeState::Active, 1, now);
        let c = beat("node-c", "10.0.0.8:5060", NodeState::Active, 1, now);
        let nodes = held(KAMCMD_TWO_NODES).expect("a listing");
        assert_eq!(
            nodes,
            [
                ("sip:10.0.0.7:5060".to_string(), "AP".to_string()),
                ("sip:10.0.0.9:5060".to_string(), "IP".to_string()),
            ]
        );
        // Whatever their probed state: a reload would only reset it.
        assert!(already_held(&render(&[b.clone(), a.clone()], now), &nodes));
        assert!(
            !already_held(&render(std::slice::from_ref(&a), now), &nodes),
            "one left"
        );
        assert!(
            !already_held(&render(&[a, b, c], now), &nodes),
            "one joined"
        );
        assert!(!already_held(&render(&[], now), &nodes));
        assert!(already_held(&render(&[], now), &[]), "nothing, as held");
        assert_eq!(held("error: 500 - No Destination Sets"), None);
    }
}
