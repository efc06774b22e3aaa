//! TCP rules: an IP block and the ports allowed on it, parsed from
//! `ADDR:PORTS` text. Blocks are `ipnet` networks.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;

/// Parse `ADDR` or `ADDR/PREFIX` into a block. An IPv4-mapped IPv6
/// address (`::ffff:a.b.c.d/n`) becomes the IPv4 block with the same bits,
/// so that it matches as [`AddrRule::allows_ip`] matches addresses.
fn parse_block(s: &str) -> Result<IpNet, PolicyParseError> {
    let (addr, prefix) = match s.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (s, None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| PolicyParseError::BadAddress(s.to_owned()))?;
    let bad_prefix = || PolicyParseError::BadPrefix(s.to_owned());
    let prefix = match prefix {
        None => IpNet::from(addr).max_prefix_len(),
        Some(p) => p.parse::<u8>().map_err(|_| bad_prefix())?,
    };
    let block = IpNet::new(addr, prefix).map_err(|_| bad_prefix())?;
    let canonical = addr.to_canonical();
    if canonical == addr {
        return Ok(block);
    }
    // `::ffff:a.b.c.d/n` with n >= 96 names IPv4 addresses only.
    IpNet::new(canonical, prefix.saturating_sub(96)).map_err(|_| bad_prefix())
}

/// The ports a rule allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ports {
    /// Every port (`*`).
    Any,
    /// An inclusive range (`8080`, `1024-65535`).
    Range(u16, u16),
}

impl Ports {
    /// Whether `port` is allowed.
    pub fn contains(&self, port: u16) -> bool {
        match *self {
            Ports::Any => true,
            Ports::Range(lo, hi) => (lo..=hi).contains(&port),
        }
    }
}

impl fmt::Display for Ports {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Ports::Any => f.write_str("*"),
            Ports::Range(lo, hi) if lo == hi => write!(f, "{lo}"),
            Ports::Range(lo, hi) => write!(f, "{lo}-{hi}"),
        }
    }
}

impl FromStr for Ports {
    type Err = PolicyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || PolicyParseError::BadPort(s.to_owned());
        if s == "*" {
            return Ok(Ports::Any);
        }
        let (lo, hi) = s.split_once('-').unwrap_or((s, s));
        let lo: u16 = lo.parse().map_err(|_| bad())?;
        let hi: u16 = hi.parse().map_err(|_| bad())?;
        if lo > hi {
            return Err(bad());
        }
        Ok(Ports::Range(lo, hi))
    }
}

/// One TCP rule: a block of addresses and the ports allowed on them.
///
/// Written `ADDR:PORTS`, where `ADDR` is an IP address or a CIDR block
/// (IPv6 in brackets) and `PORTS` is a port, a range or `*`:
/// `127.0.0.1:8080`, `127.0.0.0/8:1024-65535`, `[::1]:*`, `[fd00::/8]:443`,
/// `0.0.0.0/0:*`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrRule {
    pub block: IpNet,
    pub ports: Ports,
}

impl AddrRule {
    /// Whether `addr` is allowed by this rule.
    pub fn allows(&self, addr: SocketAddr) -> bool {
        self.allows_ip(addr.ip()) && self.ports.contains(addr.port())
    }

    /// Whether `ip` lies in this rule's block, whatever the port.
    /// IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are treated as the
    /// IPv4 address they carry.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        self.block.contains(&ip.to_canonical())
    }
}

impl fmt::Display for AddrRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.block {
            IpNet::V4(_) => write!(f, "{}:{}", self.block, self.ports),
            IpNet::V6(_) => write!(f, "[{}]:{}", self.block, self.ports),
        }
    }
}

impl FromStr for AddrRule {
    type Err = PolicyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, ports) = if let Some(rest) = s.strip_prefix('[') {
            // `[v6]:ports`, `[v6/len]:ports` or `[v6]/len:ports`.
            let (inside, after) = rest
                .split_once(']')
                .ok_or_else(|| PolicyParseError::MissingPort(s.to_owned()))?;
            let (prefix, ports) = after
                .rsplit_once(':')
                .ok_or_else(|| PolicyParseError::MissingPort(s.to_owned()))?;
            (format!("{inside}{prefix}"), ports)
        } else {
            let (addr, ports) = s
                .rsplit_once(':')
                .ok_or_else(|| PolicyParseError::MissingPort(s.to_owned()))?;
            if addr.contains(':') {
                return Err(PolicyParseError::UnbracketedIpv6(s.to_owned()));
            }
            (addr.to_owned(), ports)
        };
        Ok(Self {
            block: parse_block(&addr)?,
            ports: ports.parse()?,
        })
    }
}

/// Why a policy rule could not be parsed. The messages show a valid form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyParseError {
    #[error("`{0}` has no port: {forms}", forms = FORMS)]
    MissingPort(String),
    #[error("`{0}`: put an IPv6 address in brackets, e.g. [::1]:8080")]
    UnbracketedIpv6(String),
    #[error(
        "`{0}` is not an IP address or CIDR block (host names are not accepted): {forms}",
        forms = FORMS
    )]
    BadAddress(String),
    #[error("`{0}` has a bad prefix length (0-32 for IPv4, 0-128 for IPv6)")]
    BadPrefix(String),
    #[error("`{0}` is not a port, a range LOW-HIGH or `*` (ports are 0-65535)")]
    BadPort(String),
}

/// The forms a rule may take, for the error messages.
const FORMS: &str =
    "expected ADDR:PORTS such as 127.0.0.1:8080, 127.0.0.0/8:1024-65535, [::1]:* or 0.0.0.0/0:*";

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> AddrRule {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_address_port_forms() {
        assert_eq!(rule("127.0.0.1:8080").to_string(), "127.0.0.1/32:8080");
        assert_eq!(
            rule("127.0.0.0/8:1024-65535").to_string(),
            "127.0.0.0/8:1024-65535"
        );
        assert_eq!(rule("[::1]:*").to_string(), "[::1/128]:*");
        assert_eq!(rule("0.0.0.0/0:*").to_string(), "0.0.0.0/0:*");
        assert_eq!(rule("[fd00::/8]:443").to_string(), "[fd00::/8]:443");
        assert_eq!(rule("[fd00::]/8:443").to_string(), "[fd00::/8]:443");
        assert_eq!(rule(" 10.0.0.1:0 ").ports, Ports::Range(0, 0));
    }

    #[test]
    fn rejects_malformed_rules_with_a_reason() {
        let err = |s: &str| s.parse::<AddrRule>().unwrap_err();
        assert!(matches!(err("127.0.0.1"), PolicyParseError::MissingPort(_)));
        assert!(matches!(
            err("::1:80"),
            PolicyParseError::UnbracketedIpv6(_)
        ));
        assert!(matches!(
            err("localhost:80"),
            PolicyParseError::BadAddress(_)
        ));
        assert!(matches!(
            err("10.0.0.0/33:80"),
            PolicyParseError::BadPrefix(_)
        ));
        assert!(matches!(
            err("[::1]/129:80"),
            PolicyParseError::BadPrefix(_)
        ));
        assert!(matches!(
            err("10.0.0.1:70000"),
            PolicyParseError::BadPort(_)
        ));
        assert!(matches!(
            err("10.0.0.1:90-80"),
            PolicyParseError::BadPort(_)
        ));
        assert!(matches!(err("10.0.0.1:"), PolicyParseError::BadPort(_)));
        assert!(matches!(err("[::1]"), PolicyParseError::MissingPort(_)));
        assert!(err("localhost:80").to_string().contains("127.0.0.1:8080"));
    }

    #[test]
    fn cidr_matches_only_its_prefix() {
        let r = rule("127.0.0.0/8:*");
        assert!(r.allows(sa("127.0.0.1:1")));
        assert!(r.allows(sa("127.255.255.255:65535")));
        assert!(!r.allows(sa("128.0.0.1:1")));
        assert!(!r.allows(sa("[::1]:1")));
        let r = rule("10.1.2.3/31:*");
        assert!(r.allows(sa("10.1.2.2:1")));
        assert!(!r.allows(sa("10.1.2.4:1")));
        let r = rule("[fd00::/8]:*");
        assert!(r.allows(sa("[fdff::1]:1")));
        assert!(!r.allows(sa("[fe00::1]:1")));
    }

    #[test]
    fn zero_prefix_matches_every_address_of_its_family() {
        assert!(rule("0.0.0.0/0:*").allows(sa("203.0.113.9:1")));
        assert!(!rule("0.0.0.0/0:*").allows(sa("[2001:db8::1]:1")));
        assert!(rule("[::]/0:*").allows(sa("[2001:db8::1]:1")));
    }

    #[test]
    fn ipv4_mapped_ipv6_is_matched_as_ipv4() {
        assert!(rule("127.0.0.1:80").allows(sa("[::ffff:127.0.0.1]:80")));
        assert_eq!(rule("[::ffff:10.0.0.0/104]:*").to_string(), "10.0.0.0/8:*");
    }

    #[test]
    fn port_ranges_are_inclusive() {
        let r = rule("127.0.0.1:1024-2048");
        assert!(!r.allows(sa("127.0.0.1:1023")));
        assert!(r.allows(sa("127.0.0.1:1024")));
        assert!(r.allows(sa("127.0.0.1:2048")));
        assert!(!r.allows(sa("127.0.0.1:2049")));
        assert!(rule("127.0.0.1:8080").allows(sa("127.0.0.1:8080")));
        assert!(!rule("127.0.0.1:8080").allows(sa("127.0.0.1:8081")));
    }
}
