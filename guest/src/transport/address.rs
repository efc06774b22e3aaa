//! Socket addresses: `wasi:sockets` values to and from `std::net`, and what
//! `get_extra_info` reports.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// Where a socket is: an IP address and port, or a Unix path (empty for
/// an unnamed Unix socket, as asyncio reports it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SocketAddress {
    Ip(SocketAddr),
    Unix(String),
}

impl fmt::Display for SocketAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip(address) => address.fmt(f),
            Self::Unix(path) => f.write_str(path),
        }
    }
}

/// A socket's family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressFamily {
    Ipv4,
    Ipv6,
    Unix,
}

/// What asyncio's `get_extra_info` reports about a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraInfo {
    /// The peer's address (`peername`).
    pub peername: Option<SocketAddress>,
    /// This end's address (`sockname`).
    pub sockname: Option<SocketAddress>,
    /// The socket's family.
    pub family: AddressFamily,
}

/// The conversions between `std::net` and the socket addresses of one WASI
/// version: WASI 0.2's `wasi:sockets/network` and 0.3's
/// `wasi:sockets/types` have types of the same shape.
macro_rules! wasi_conversions {
    ($($wasi:ident)::+) => {
        use $($wasi)::+::{
            IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
        };

        /// A WASI socket address as a `std` one.
        pub fn to_std(address: IpSocketAddress) -> SocketAddr {
            match address {
                IpSocketAddress::Ipv4(a) => {
                    let (x, y, z, w) = a.address;
                    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(x, y, z, w), a.port))
                }
                IpSocketAddress::Ipv6(a) => {
                    let (s0, s1, s2, s3, s4, s5, s6, s7) = a.address;
                    SocketAddr::V6(SocketAddrV6::new(
                        Ipv6Addr::new(s0, s1, s2, s3, s4, s5, s6, s7),
                        a.port,
                        a.flow_info,
                        a.scope_id,
                    ))
                }
            }
        }

        /// A `std` socket address as a WASI one.
        pub fn from_std(address: SocketAddr) -> IpSocketAddress {
            match address {
                SocketAddr::V4(a) => {
                    let [x, y, z, w] = a.ip().octets();
                    IpSocketAddress::Ipv4(Ipv4SocketAddress {
                        port: a.port(),
                        address: (x, y, z, w),
                    })
                }
                SocketAddr::V6(a) => {
                    let [s0, s1, s2, s3, s4, s5, s6, s7] = a.ip().segments();
                    IpSocketAddress::Ipv6(Ipv6SocketAddress {
                        port: a.port(),
                        flow_info: a.flowinfo(),
                        address: (s0, s1, s2, s3, s4, s5, s6, s7),
                        scope_id: a.scope_id(),
                    })
                }
            }
        }

        /// A WASI IP address as a `std` one.
        pub fn ip_to_std(address: IpAddress) -> IpAddr {
            to_std(match address {
                IpAddress::Ipv4(address) => IpSocketAddress::Ipv4(Ipv4SocketAddress { port: 0, address }),
                IpAddress::Ipv6(address) => IpSocketAddress::Ipv6(Ipv6SocketAddress {
                    port: 0,
                    flow_info: 0,
                    address,
                    scope_id: 0,
                }),
            })
            .ip()
        }

        /// The WASI family of a `std` address.
        pub fn family_of(address: &SocketAddr) -> IpAddressFamily {
            match address {
                SocketAddr::V4(_) => IpAddressFamily::Ipv4,
                SocketAddr::V6(_) => IpAddressFamily::Ipv6,
            }
        }
    };
}

#[cfg(not(feature = "p3"))]
wasi_conversions!(wasip2::sockets::network);
#[cfg(feature = "p3")]
wasi_conversions!(wasip3::sockets::types);

/// `host` as an IP literal, with or without IPv6 brackets.
pub fn parse_ip(host: &str) -> Option<IpAddr> {
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    bare.parse().ok()
}

/// Whether `address` belongs to `family` (any address when `None`).
pub fn in_family(address: &IpAddr, family: Option<AddressFamily>) -> bool {
    match family {
        Some(AddressFamily::Ipv4) => address.is_ipv4(),
        Some(AddressFamily::Ipv6) => address.is_ipv6(),
        Some(AddressFamily::Unix) => false,
        None => true,
    }
}
