//! The node's load as CloudWatch metrics, in the embedded metric format (EMF): every
//! [`Metrics::interval`] one JSON object on one line of standard output, which the
//! container's log driver (`awslogs`, infra/template.json) puts in the node's log
//! group, where CloudWatch extracts the metrics from it. Nothing here touches the
//! media: the line is made on a tokio task from the [`Stats`] the media loop copies
//! out every second.
//!
//! Namespace [`NAMESPACE`], one dimension, [`STAGE`] (the stack's stage,
//! `TELECONF_STAGE`), so a stage's nodes add up; the node's public address is a
//! property of the line (searchable in Logs Insights), not a dimension. The template's
//! alarms read these names: change them together.
//!
//! | metric | what |
//! |---|---|
//! | `Calls` | calls up, in the IVR or in a conference |
//! | `Rooms` | conferences with callers on this node |
//! | `Participants` | callers admitted to a conference |
//! | `FramesLost` | frames the callers never got since the last line: the rooms' deadlines skipped by a late media loop, and RTP sends dropped |
//! | `RtpPortsLeft` | RTP ports free for new calls |
//! | `SpoolBacklog` | CDR legs journaled and not yet written to the table |
//!
//! Every node writes one line per interval from its start, so the number of lines a
//! minute (the `SampleCount` of `Calls`) counts the nodes alive.

use std::io::Write;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::stats::{Load, Stats};

/// The metrics' namespace.
pub const NAMESPACE: &str = "Teleconf/MediaNode";
/// The one dimension: the stack's stage.
pub const STAGE: &str = "Stage";
/// The property naming the node (its public address).
pub const NODE: &str = "Node";
/// The metrics, in the order of [`emf_line`]'s values.
pub const METRICS: [&str; 6] = [
    "Calls",
    "Rooms",
    "Participants",
    "FramesLost",
    "RtpPortsLeft",
    "SpoolBacklog",
];

/// Where and how often the metrics are published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    /// The stack's stage, the metrics' dimension.
    pub stage: String,
    /// Between two lines: a divisor of a minute, so that every minute holds the
    /// same number of lines per node (60 s in the template: one).
    pub interval: Duration,
}

/// One EMF line (without its newline): `load` at `at`, from the node `node` of
/// `stage`, with `frames_lost` the frames lost since the last line.
pub fn emf_line(
    stage: &str,
    node: Ipv4Addr,
    at: DateTime<Utc>,
    load: &Load,
    frames_lost: u64,
) -> String {
    let values = [
        load.calls,
        load.rooms,
        load.participants,
        frames_lost,
        load.rtp_ports_left,
        load.spool_backlog,
    ];
    let mut line = Map::new();
    line.insert(
        "_aws".into(),
        json!({
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[STAGE]],
                "Metrics": METRICS
                    .iter()
                    .map(|name| json!({"Name": name, "Unit": "Count"}))
                    .collect::<Vec<_>>(),
            }],
        }),
    );
    line.insert(STAGE.into(), Value::String(stage.into()));
    line.insert(NODE.into(), Value::String(node.to_string()));
    for (name, value) in METRICS.iter().zip(values) {
        line.insert((*name).into(), Value::from(value));
    }
    Value::Object(line).to_string()
}

/// Writes a line every `metrics.interval`, the first at once, until the task is
/// aborted. `FramesLost` is the difference between two readings of the counter.
pub(super) async fn publish(stats: Arc<Stats>, node: Ipv4Addr, metrics: Metrics) {
    let mut ticker = tokio::time::interval(metrics.interval);
    let mut lost_before = 0;
    loop {
        ticker.tick().await;
        let load = stats.load();
        let line = emf_line(
            &metrics.stage,
            node,
            Utc::now(),
            &load,
            load.frames_lost.saturating_sub(lost_before),
        );
        lost_before = load.frames_lost;
        // One write of the whole line: the log driver reads lines whole.
        let mut out = std::io::stdout().lock();
        if let Err(error) = out
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| out.flush())
        {
            tracing::warn!(%error, "metrics line not written");
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    /// What CloudWatch requires of an EMF line
    /// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>):
    /// a root `_aws` with an integer `Timestamp` in milliseconds and
    /// `CloudWatchMetrics` directives, each naming a namespace, dimension sets of
    /// root string members, and metrics whose values are root numbers.
    #[test]
    fn the_line_is_one_emf_object_with_every_metric_under_the_namespace_and_stage() {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 14, 30, 0).unwrap();
        let load = Load {
            calls: 12,
            rooms: 3,
            participants: 10,
            rtp_ports_left: 4_987,
            frames_lost: 500,
            spool_backlog: 2,
        };
        let line = emf_line("prod", Ipv4Addr::new(203, 0, 113, 5), at, &load, 7);
        assert!(!line.contains('\n'), "one line: {line}");
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["_aws"]["Timestamp"], at.timestamp_millis());
        let directives = value["_aws"]["CloudWatchMetrics"].as_array().unwrap();
        assert_eq!(directives.len(), 1);
        let directive = &directives[0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Dimensions"], json!([[STAGE]]));
        for set in directive["Dimensions"].as_array().unwrap() {
            for dimension in set.as_array().unwrap() {
                let name = dimension.as_str().unwrap();
                assert!(value[name].is_string(), "dimension {name} at the root");
            }
        }
        let declared: Vec<&str> = directive["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                assert_eq!(m["Unit"], "Count", "{m}");
                m["Name"].as_str().unwrap()
            })
            .collect();
        assert_eq!(declared, METRICS);
        for name in METRICS {
            assert!(value[name].is_u64(), "{name} is a number at the root");
        }
        assert_eq!(value[STAGE], "prod");
        assert_eq!(value[NODE], "203.0.113.5");
        assert_eq!(value["Calls"], 12);
        assert_eq!(value["Rooms"], 3);
        assert_eq!(value["Participants"], 10);
        assert_eq!(value["RtpPortsLeft"], 4_987);
        assert_eq!(value["SpoolBacklog"], 2);
        assert_eq!(
            value["FramesLost"], 7,
            "the frames lost since the last line"
        );
    }
}
