//! TCP rules: an IP block and the ports allowed on it, parsed from
//! `ADDR:PORTS` text.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// A block of IP addresses: an address and the number of leading bits that
/// must match (`127.0.0.0/8`; a plain address is a block of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpBlock {
    addr: IpAddr,
    prefix: u8,
}

impl IpBlock {
    /// Whether `ip` lies in this block. IPv4-mapped IPv6 addresses
    /// (`::ffff:a.b.c.d`) are treated as the IPv4 address they carry.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(u32::from(net).into(), u32::from(ip).into(), 32, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(u128::from(net), u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` of `width` bits of `a` and `b` are equal.
fn prefix_eq(a: u128, b: u128, width: u32, prefix: u8) -> bool {
    let host_bits = width - u32::from(prefix);
    host_bits >= width || (a ^ b) >> host_bits == 0
}

impl fmt::Display for IpBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for IpBlock {
    type Err = PolicyParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| PolicyParseError::BadAddress(s.to_owned()))?;
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width)
                .ok_or_else(|| PolicyParseError::BadPrefix(s.to_owned()))?,
        };
        Ok(Self {
            addr: addr.to_canonical(),
            prefix: if addr.is_ipv4() || addr.to_canonical().is_ipv6() {
                prefix
            } else {
                // `::ffff:a.b.c.d/n` became an IPv4 address: keep the same bits.
                prefix.saturating_sub(96)
            },
        })
    }
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
    pub block: IpBlock,
    pub ports: Ports,
}

impl AddrRule {
    /// Whether `addr` is allowed by this rule.
    pub fn allows(&self, addr: SocketAddr) -> bool {
        self.block.contains(addr.ip()) && self.ports.contains(addr.port())
    }
}

impl fmt::Display for AddrRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.block.addr {
            IpAddr::V4(_) => write!(f, "{}:{}", self.block, self.ports),
            IpAddr::V6(_) => write!(f, "[{}]:{}", self.block, self.ports),
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
            block: addr.parse()?,
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
