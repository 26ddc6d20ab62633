//! The sets of addresses the node trusts, one notion for each of them: the SIP
//! trunk's signalling sources (`TELECONF_TRUNK_SOURCES`, the template's
//! `TrunkSources`) and its media sources (`TELECONF_TRUNK_MEDIA_SOURCES`, the
//! template's `TrunkMediaCidr`). Each is written as comma-separated addresses or
//! CIDR blocks (`198.51.100.7, 203.0.113.0/24, 2001:db8::/32`).

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// A set of addresses, as host addresses and CIDR blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources(Vec<IpNet>);

/// A source that is neither an address nor a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an address nor a CIDR block: {0:?}")]
pub struct InvalidSource(pub String);

impl Sources {
    /// No address at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether `ip` is in the set (an IPv4-mapped IPv6 address counts as its IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<IpAddr> for Sources {
    fn from_iter<T: IntoIterator<Item = IpAddr>>(addresses: T) -> Self {
        Self(addresses.into_iter().map(IpNet::from).collect())
    }
}

impl FromStr for Sources {
    type Err = InvalidSource;

    /// Comma-separated addresses or CIDR blocks; blanks around each are ignored,
    /// an empty list is the empty set.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse::<IpNet>()
                    .map(|net| net.trunc())
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| InvalidSource(item.to_string()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn addresses_and_cidr_blocks_are_read_and_matched() {
        let sources: Sources = "198.51.100.7, 203.0.113.0/24 ,2001:db8::/32"
            .parse()
            .expect("a list");
        assert!(sources.contains(ip("198.51.100.7")));
        assert!(!sources.contains(ip("198.51.100.8")));
        assert!(sources.contains(ip("203.0.113.200")));
        assert!(!sources.contains(ip("203.0.114.1")));
        assert!(sources.contains(ip("2001:db8::1")));
        assert!(sources.contains(ip("::ffff:203.0.113.9")), "IPv4-mapped");
    }

    #[test]
    fn a_block_written_with_host_bits_is_the_whole_block() {
        let sources: Sources = "10.1.2.3/8".parse().expect("a block");
        assert!(sources.contains(ip("10.200.0.1")));
    }

    #[test]
    fn an_empty_list_trusts_nobody_and_garbage_is_named() {
        let none: Sources = " ".parse().expect("empty");
        assert!(none.is_empty());
        assert!(!none.contains(ip("127.0.0.1")));
        assert_eq!(
            "10.0.0.300".parse::<Sources>(),
            Err(InvalidSource("10.0.0.300".into()))
        );
        assert_eq!(
            "10.0.0.0/40".parse::<Sources>(),
            Err(InvalidSource("10.0.0.0/40".into()))
        );
    }
}
