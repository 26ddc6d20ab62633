//! The media node's settings, read once from the environment by `main`.
//!
//! | variable                  | meaning                                              | default          |
//! |---------------------------|------------------------------------------------------|------------------|
//! | `TELECONF_SIP_ADDR`       | SIP address, UDP and TCP                             | `127.0.0.1:5060` |
//! | `TELECONF_PUBLIC_IP`      | address put in Contact and SDP (needed when the SIP address is `0.0.0.0`) | the SIP address's |
//! | `TELECONF_RTP_PORTS`      | RTP port range, `low-high` (even ports are used)     | `20000-29999`    |
//! | `TELECONF_TRUNK_SOURCES`  | comma-separated trunk addresses or CIDR blocks allowed to call | `127.0.0.1,::1` |
//! | `TELECONF_SIP_ENTRY_SOURCES` | comma-separated addresses or CIDR blocks of the SIP entry (Kamailio) in front of the node: their requests are served, and the caller they name in `X-Teleconf-Source` is the one the trunk allow-list, `*44` and the IVR's guessing counters judge | none |
//! | `TELECONF_TRUNK_MEDIA_SOURCES` | comma-separated addresses or CIDR blocks the trunk's RTP may come from when not from the address its SDP gives (NAT); a call latches once on one of them, and takes nothing from anywhere else | `TELECONF_TRUNK_SOURCES` |
//! | `TELECONF_IP_PHONES_REFRESH_SECS` | how often the accounts' IP phones (who may dial `*44`) are read from the store | `10` |
//! | `TELECONF_SIP_TCP_MAX_CONNECTIONS` | SIP TCP connections held at once; one more is closed as soon as accepted | `256` |
//! | `TELECONF_SIP_TCP_MAX_PER_SOURCE` | SIP TCP connections held at once from one address | `16` |
//! | `TELECONF_SIP_TCP_IDLE_SECS` | a SIP TCP connection with no message nor keep-alive for this long is closed | `300` |
//! | `TELECONF_SIP_TCP_MESSAGE_SECS` | a SIP TCP connection whose message is still incomplete this long after its first byte is closed | `10` |
//! | `TELECONF_MEDIA_IO`       | how the RTP sockets are read and written: `io_uring` (one submission for every call's frames, multishot receives into a provided buffer ring), `epoll` (`recvmmsg` per ready socket, a `sendto` per datagram), or `auto`: io_uring unless the kernel refuses it (logged at start) | `auto` |
//! | `TELECONF_DRAIN_GRACE_SECS` | on stop (SIGTERM), new calls get 503 and each call up goes on until it hangs up or its conference's planned end plus this many seconds (the drain's start plus this for a caller still in the IVR), then is hung up; the node exits when it has no call left. `TELECONF_DRAIN_SECS` (the former fixed cut) is retired: set, the node refuses to start | `600` |
//! | `TELECONF_NODE_ID`        | the node's name in the registry (letters, digits, `.`, `_`, `-`) | the registry SIP address, `<ip>-<port>` |
//! | `TELECONF_NODE_SIP_ADDR`  | the SIP address the SIP entry reaches the node at, written in the registry | `TELECONF_PUBLIC_IP` and the SIP port |
//! | `TELECONF_NODE_SOURCES`   | comma-separated addresses or CIDR blocks of the media nodes (their subnet): the only sources of another node's cascade INVITE taken; set with `TELECONF_CASCADE_SECRET` or not at all | none: every cascade INVITE refused |
//! | `TELECONF_CASCADE_SECRET` | the nodes' shared secret (at least 16 bytes) that signs a cascade INVITE (HMAC-SHA256, [cascade](crate::app::cascade)); on ECS, injected from Secrets Manager | none |
//! | `ECS_AGENT_URI`           | set by ECS: the node holds task scale-in protection there while it carries calls ([protection](super::protection)); unset, protection is skipped | none |
//! | `TELECONF_SPOOL_DIR`      | the CDR spool's directory (kept across restarts)    | `/var/lib/teleconf/spool` |
//! | `TELECONF_RECORDING_DIR`  | where recordings are written until uploaded         | `/var/lib/teleconf/recordings` |
//! | `TELECONF_RECORDING_SEGMENT_SECS` | a recording reaches S3 one segment of this many seconds at a time, as each closes (a lost node loses at most the last one) | `60` |
//! | `TELECONF_STAGE`          | the stack's stage: the dimension of the node's CloudWatch metrics ([metrics](super::metrics)); unset, no metrics are written | none |
//! | `TELECONF_METRICS_INTERVAL_SECS` | seconds between two metrics lines: a divisor of 60 (10, 60…) | `60` |

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::Range;
use std::time::Duration;

use teleconf_adapters::settings::{self, Env, invalid};

use super::metrics::Metrics;
use crate::Error;
use crate::app::cascade::{CascadeSecret, MIN_SECRET_BYTES};
use crate::node::{CascadeConfig, NodeConfig};
use teleconf_domain::NodeId;
use teleconf_sip::connections::ConnectionLimits;
use teleconf_sip::sources::Sources;
use teleconf_sip::transaction::Timers;

/// Where the node listens and whom it serves.
#[derive(Debug, Clone)]
pub struct Config {
    /// The SIP socket (UDP and TCP); port 0 takes a free one (tests).
    pub sip_addr: SocketAddr,
    /// The address callers reach us at, in Contact and SDP.
    pub public_ip: Ipv4Addr,
    /// The RTP ports (even ones are used; the odd one above is RTCP's).
    pub rtp_ports: Range<u16>,
    /// Trunk addresses allowed to call.
    pub trunk_sources: Sources,
    /// Where the trunk's RTP may come from besides the SDP's address (NAT).
    pub trunk_media: Sources,
    /// The SIP entry's addresses, whose `X-Teleconf-Source` is believed.
    pub entry_sources: Sources,
    /// The other nodes' addresses and the secret of their cascade INVITEs.
    pub cascade: Option<(Sources, CascadeSecret)>,
    /// How often the accounts' IP phones are read from the store: a phone the
    /// owner adds may dial `*44`, and one removed no longer may, within this.
    pub ip_phones_refresh: Duration,
    /// SIP over TCP: connections held, and how long each may wait for a message.
    pub tcp: ConnectionLimits,
    /// On stop, how long past its conference's planned end a call may go on
    /// before it is hung up (new calls get 503 meanwhile). A conference is never
    /// cut by its schedule; a node going away is the one case a caller may be
    /// hung up on, and only this long after the conference was planned to end.
    pub drain_grace: Duration,
    /// The node's name in the registry (`None`: from its registry address).
    pub node_id: Option<NodeId>,
    /// The SIP address the registry gives the SIP entry (`None`: the public IP
    /// and the SIP port bound).
    pub node_sip_addr: Option<SocketAddr>,
    /// The ECS agent's endpoint, for task scale-in protection.
    pub ecs_agent_uri: Option<String>,
    /// The CDR spool's directory: it must outlive the process (a crash is
    /// recovered from it on the next start).
    pub spool_dir: std::path::PathBuf,
    /// Where recordings are written while the conference lasts.
    pub recording_dir: std::path::PathBuf,
    /// The length of a recording's segments, each uploaded as it closes.
    pub recording_segment: Duration,
    /// The node's CloudWatch metrics, when its stage is known.
    pub metrics: Option<Metrics>,
    /// How the media loop does its RTP I/O (`TELECONF_MEDIA_IO`).
    pub media_io: MediaIo,
}

/// How the media loop reads and writes its RTP sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaIo {
    /// io_uring when the kernel allows it, else epoll (chosen at start, logged).
    Auto,
    /// io_uring or nothing: the node does not start where it is refused.
    IoUring,
    /// The epoll path, io_uring or not.
    Epoll,
}

impl std::str::FromStr for MediaIo {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim() {
            "auto" => Ok(Self::Auto),
            "io_uring" => Ok(Self::IoUring),
            "epoll" => Ok(Self::Epoll),
            _ => Err("expects auto, io_uring or epoll".into()),
        }
    }
}

impl Config {
    /// Reads the settings through `var` (the environment in `main`, a map in tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        Self::read(&Env::new(var)).map_err(Error::Config)
    }

    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, Error> {
        Self::from_vars(settings::process_env)
    }

    fn read(env: &Env<impl Fn(&str) -> Option<String>>) -> teleconf_adapters::Result<Self> {
        let sip_addr: SocketAddr = env.parse_or(
            "TELECONF_SIP_ADDR",
            SocketAddr::from(([127, 0, 0, 1], 5060)),
        )?;
        let public_ip = match env.parse("TELECONF_PUBLIC_IP")? {
            Some(ip) => ip,
            None => match sip_addr.ip() {
                IpAddr::V4(ip) if !ip.is_unspecified() => ip,
                _ => {
                    return Err(teleconf_adapters::Error::Config(
                        "TELECONF_PUBLIC_IP is not set: it is needed (an IPv4 address) when \
                         TELECONF_SIP_ADDR is not a specific IPv4 address"
                            .into(),
                    ));
                }
            },
        };
        let rtp_ports = rtp_ports(
            &env.get("TELECONF_RTP_PORTS")
                .unwrap_or_else(|| "20000-29999".into()),
        )?;
        let trunk_sources: Sources = env.parse_or(
            "TELECONF_TRUNK_SOURCES",
            [
                IpAddr::from(Ipv4Addr::LOCALHOST),
                IpAddr::from(Ipv6Addr::LOCALHOST),
            ]
            .into_iter()
            .collect(),
        )?;
        let trunk_media = env.parse_or("TELECONF_TRUNK_MEDIA_SOURCES", trunk_sources.clone())?;
        if let Some(value) = env.get("TELECONF_DRAIN_SECS") {
            return Err(invalid(
                "TELECONF_DRAIN_SECS",
                &value,
                "is retired: a stopping node keeps each call until it hangs up or its \
                 conference's planned end plus TELECONF_DRAIN_GRACE_SECS",
            ));
        }
        let entry_sources = env.parse_or("TELECONF_SIP_ENTRY_SOURCES", Sources::none())?;
        let cascade = match (
            env.parse::<Sources>("TELECONF_NODE_SOURCES")?,
            env.get("TELECONF_CASCADE_SECRET"),
        ) {
            (None, None) => None,
            (Some(sources), Some(secret)) => Some((
                sources,
                CascadeSecret::new(secret.as_bytes()).ok_or_else(|| {
                    invalid(
                        "TELECONF_CASCADE_SECRET",
                        "(hidden)",
                        format!("must be at least {MIN_SECRET_BYTES} bytes"),
                    )
                })?,
            )),
            (Some(_), None) => {
                return Err(teleconf_adapters::Error::Config(
                    "TELECONF_NODE_SOURCES is set without TELECONF_CASCADE_SECRET".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(teleconf_adapters::Error::Config(
                    "TELECONF_CASCADE_SECRET is set without TELECONF_NODE_SOURCES".into(),
                ));
            }
        };
        let defaults = ConnectionLimits::default();
        let at_least_one = |name: &str, default: u64| match env.parse_or(name, default)? {
            0 => Err(invalid(name, "0", "must be at least 1")),
            n => Ok(n),
        };
        let count = |name: &str, default: usize| {
            at_least_one(name, default as u64).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        let secs = |name: &str, default: Duration| {
            at_least_one(name, default.as_secs()).map(Duration::from_secs)
        };
        let tcp = ConnectionLimits {
            max_total: count("TELECONF_SIP_TCP_MAX_CONNECTIONS", defaults.max_total)?,
            max_per_source: count("TELECONF_SIP_TCP_MAX_PER_SOURCE", defaults.max_per_source)?,
            idle: secs("TELECONF_SIP_TCP_IDLE_SECS", defaults.idle)?,
            message: secs("TELECONF_SIP_TCP_MESSAGE_SECS", defaults.message)?,
        };
        let interval = secs("TELECONF_METRICS_INTERVAL_SECS", Duration::from_secs(60))?;
        let recording_segment = secs("TELECONF_RECORDING_SEGMENT_SECS", Duration::from_secs(60))?;
        if 60 % interval.as_secs() != 0 {
            return Err(invalid(
                "TELECONF_METRICS_INTERVAL_SECS",
                &interval.as_secs().to_string(),
                "must divide a minute (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60)",
            ));
        }
        let metrics = env.get("TELECONF_STAGE").map(|stage| Metrics {
            stage: stage.trim().to_string(),
            interval,
        });
        Ok(Self {
            sip_addr,
            public_ip,
            rtp_ports,
            trunk_sources,
            trunk_media,
            entry_sources,
            cascade,
            ip_phones_refresh: secs("TELECONF_IP_PHONES_REFRESH_SECS", Duration::from_secs(10))?,
            tcp,
            drain_grace: Duration::from_secs(env.parse_or("TELECONF_DRAIN_GRACE_SECS", 600)?),
            node_id: env.parse("TELECONF_NODE_ID")?,
            node_sip_addr: env.parse("TELECONF_NODE_SIP_ADDR")?,
            ecs_agent_uri: env
                .get("ECS_AGENT_URI")
                .filter(|uri| !uri.trim().is_empty()),
            spool_dir: env
                .get("TELECONF_SPOOL_DIR")
                .unwrap_or_else(|| "/var/lib/teleconf/spool".into())
                .into(),
            recording_dir: env
                .get("TELECONF_RECORDING_DIR")
                .unwrap_or_else(|| "/var/lib/teleconf/recordings".into())
                .into(),
            recording_segment,
            metrics,
            media_io: env.parse_or("TELECONF_MEDIA_IO", MediaIo::Auto)?,
        })
    }

    /// The sans-IO node's configuration, once the SIP socket is bound at `local`,
    /// for the node named `node`, reached by the other nodes at `between_nodes`.
    pub fn node_config(
        &self,
        local: SocketAddr,
        node: &NodeId,
        between_nodes: SocketAddr,
    ) -> NodeConfig {
        NodeConfig {
            trunk_sources: self.trunk_sources.clone(),
            trunk_media: self.trunk_media.clone(),
            entry_sources: self.entry_sources.clone(),
            local_addr: SocketAddr::new(IpAddr::V4(self.public_ip), local.port()),
            rtp_addr: self.public_ip,
            rtp_ports: self.rtp_ports.clone(),
            timers: Timers::default(),
            drain_grace: self.drain_grace,
            node_id: node.clone(),
            cascade: self.cascade.clone().map(|(sources, secret)| CascadeConfig {
                sources,
                secret,
                addr: between_nodes,
            }),
        }
    }
}

/// `low-high`, inclusive, with at least one even port.
fn rtp_ports(value: &str) -> teleconf_adapters::Result<Range<u16>> {
    const NAME: &str = "TELECONF_RTP_PORTS";
    const RULE: &str =
        "expects low-high with 1024 <= low <= high and an even port, e.g. 20000-29999";
    let bad = || invalid(NAME, value, RULE);
    let (low, high) = value.split_once('-').ok_or_else(bad)?;
    let low: u16 = low.trim().parse().map_err(|_| bad())?;
    let high: u16 = high.trim().parse().map_err(|_| bad())?;
    if low < 1024 || high < low || !(low..=high).any(|p| p % 2 == 0) {
        return Err(bad());
    }
    Ok(low..high.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Config, Error> {
        Config::from_vars(settings::lookup_in(vars))
    }

    #[test]
    fn defaults_serve_loopback_on_5060() {
        let config = read(&[]).unwrap();
        assert_eq!(config.sip_addr, "127.0.0.1:5060".parse().unwrap());
        assert_eq!(config.public_ip, Ipv4Addr::LOCALHOST);
        assert_eq!(config.rtp_ports, 20000..30000);
        let loopback = [IpAddr::from(Ipv4Addr::LOCALHOST), "::1".parse().unwrap()];
        assert_eq!(config.trunk_sources, loopback.into_iter().collect());
        assert_eq!(
            config.trunk_media, config.trunk_sources,
            "the trunk's own by default"
        );
        assert!(config.entry_sources.is_empty(), "no SIP entry by default");
        assert_eq!(config.tcp, ConnectionLimits::default());
        assert_eq!(config.ip_phones_refresh, Duration::from_secs(10));
        assert_eq!(config.metrics, None, "no stage, no metrics");
        assert_eq!(config.media_io, MediaIo::Auto);
        assert_eq!(config.drain_grace, Duration::from_secs(600));
        assert_eq!(
            (config.node_id, config.node_sip_addr, config.ecs_agent_uri),
            (None, None, None)
        );
    }

    #[test]
    fn every_setting_is_read() {
        let config = read(&[
            ("TELECONF_SIP_ADDR", "0.0.0.0:5080"),
            ("TELECONF_PUBLIC_IP", "203.0.113.7"),
            ("TELECONF_RTP_PORTS", "30000-30099"),
            ("TELECONF_TRUNK_SOURCES", "198.51.100.1, 198.51.100.2"),
            ("TELECONF_TRUNK_MEDIA_SOURCES", "203.0.113.0/24"),
            ("TELECONF_SIP_ENTRY_SOURCES", "10.0.1.0/24"),
            ("TELECONF_IP_PHONES_REFRESH_SECS", "30"),
            ("TELECONF_DRAIN_GRACE_SECS", "900"),
            ("TELECONF_NODE_ID", "node-a"),
            ("TELECONF_NODE_SIP_ADDR", "10.0.0.7:5080"),
            ("ECS_AGENT_URI", "http://169.254.170.2/api/task-1"),
            ("TELECONF_SIP_TCP_MAX_CONNECTIONS", "64"),
            ("TELECONF_SIP_TCP_MAX_PER_SOURCE", "4"),
            ("TELECONF_SIP_TCP_IDLE_SECS", "120"),
            ("TELECONF_SIP_TCP_MESSAGE_SECS", "5"),
            ("TELECONF_STAGE", "prod"),
            ("TELECONF_METRICS_INTERVAL_SECS", "10"),
            ("TELECONF_MEDIA_IO", "epoll"),
        ])
        .unwrap();
        assert_eq!(config.media_io, MediaIo::Epoll);
        assert_eq!(config.sip_addr.port(), 5080);
        assert_eq!(config.public_ip, Ipv4Addr::new(203, 0, 113, 7));
        assert_eq!(config.rtp_ports, 30000..30100);
        assert!(
            config
                .trunk_sources
                .contains("198.51.100.2".parse().unwrap())
        );
        assert!(
            !config
                .trunk_sources
                .contains("198.51.100.3".parse().unwrap())
        );
        assert!(config.trunk_media.contains("203.0.113.77".parse().unwrap()));
        assert!(!config.trunk_media.contains("198.51.100.1".parse().unwrap()));
        assert!(config.entry_sources.contains("10.0.1.9".parse().unwrap()));
        assert_eq!(config.drain_grace, Duration::from_secs(900));
        assert_eq!(config.node_id, Some("node-a".parse().unwrap()));
        assert_eq!(config.node_sip_addr, Some("10.0.0.7:5080".parse().unwrap()));
        assert_eq!(
            config.ecs_agent_uri.as_deref(),
            Some("http://169.254.170.2/api/task-1")
        );
        assert_eq!(
            config.tcp,
            ConnectionLimits {
                max_total: 64,
                max_per_source: 4,
                idle: Duration::from_secs(120),
                message: Duration::from_secs(5),
            }
        );
        assert_eq!(config.ip_phones_refresh, Duration::from_secs(30));
        assert_eq!(
            config.metrics,
            Some(Metrics {
                stage: "prod".into(),
                interval: Duration::from_secs(10),
            })
        );
        let node = config.node_config(
            "0.0.0.0:5080".parse().unwrap(),
            &"node-a".parse().unwrap(),
            "10.0.0.7:5080".parse().unwrap(),
        );
        assert_eq!(node.local_addr, "203.0.113.7:5080".parse().unwrap());
    }

    #[test]
    fn the_cascade_needs_both_the_nodes_sources_and_a_long_enough_secret() {
        assert!(
            read(&[]).unwrap().cascade.is_none(),
            "no cascade by default"
        );
        let secret = "a secret of thirty-two bytes ...";
        let config = read(&[
            ("TELECONF_NODE_SOURCES", "10.0.2.0/24"),
            ("TELECONF_CASCADE_SECRET", secret),
        ])
        .unwrap();
        let (sources, read_secret) = config.cascade.expect("a cascade");
        assert_eq!(sources, "10.0.2.0/24".parse().unwrap());
        assert_eq!(Some(read_secret), CascadeSecret::new(secret.as_bytes()));
        for (vars, named) in [
            (
                &[("TELECONF_NODE_SOURCES", "10.0.2.0/24")][..],
                "TELECONF_CASCADE_SECRET",
            ),
            (
                &[("TELECONF_CASCADE_SECRET", secret)][..],
                "TELECONF_NODE_SOURCES",
            ),
            (
                &[
                    ("TELECONF_NODE_SOURCES", "10.0.2.0/24"),
                    ("TELECONF_CASCADE_SECRET", "too short"),
                ][..],
                "TELECONF_CASCADE_SECRET",
            ),
            (
                &[
                    ("TELECONF_NODE_SOURCES", "the nodes"),
                    ("TELECONF_CASCADE_SECRET", secret),
                ][..],
                "TELECONF_NODE_SOURCES",
            ),
        ] {
            let err = read(vars).unwrap_err().to_string();
            assert!(err.contains(named), "{vars:?}: {err}");
            assert!(!err.contains(secret), "the secret is never printed: {err}");
        }
    }

    #[test]
    fn an_unknown_media_io_is_refused_naming_the_setting() {
        assert_eq!(
            read(&[("TELECONF_MEDIA_IO", "io_uring")]).unwrap().media_io,
            MediaIo::IoUring
        );
        let err = read(&[("TELECONF_MEDIA_IO", "kqueue")]).unwrap_err();
        assert!(err.to_string().contains("TELECONF_MEDIA_IO"), "{err}");
    }

    #[test]
    fn a_wildcard_address_needs_a_public_ip() {
        let err = read(&[("TELECONF_SIP_ADDR", "0.0.0.0:5060")]).unwrap_err();
        assert!(err.to_string().contains("TELECONF_PUBLIC_IP"), "{err}");
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("TELECONF_SIP_ADDR", "localhost"),
            ("TELECONF_RTP_PORTS", "3000"),
            ("TELECONF_RTP_PORTS", "20001-20001"),
            ("TELECONF_RTP_PORTS", "100-200"),
            ("TELECONF_TRUNK_SOURCES", "10.0.0.300"),
            ("TELECONF_TRUNK_MEDIA_SOURCES", "10.0.0.0/33"),
            ("TELECONF_SIP_ENTRY_SOURCES", "kamailio"),
            ("TELECONF_IP_PHONES_REFRESH_SECS", "0"),
            ("TELECONF_IP_PHONES_REFRESH_SECS", "often"),
            ("TELECONF_DRAIN_GRACE_SECS", "soon"),
            ("TELECONF_DRAIN_SECS", "600"),
            ("TELECONF_NODE_ID", "node #1"),
            ("TELECONF_NODE_SIP_ADDR", "10.0.0.7"),
            ("TELECONF_SIP_TCP_MAX_CONNECTIONS", "0"),
            ("TELECONF_SIP_TCP_MAX_PER_SOURCE", "many"),
            ("TELECONF_SIP_TCP_IDLE_SECS", "-1"),
            ("TELECONF_SIP_TCP_MESSAGE_SECS", "0"),
            ("TELECONF_METRICS_INTERVAL_SECS", "0"),
            ("TELECONF_METRICS_INTERVAL_SECS", "45"),
        ] {
            let err = read(&[(name, value)]).unwrap_err();
            assert!(err.to_string().contains(name), "{name}={value}: {err}");
        }
    }
}
