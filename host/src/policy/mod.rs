//! The network policy: what a guest may connect to, listen on and look up.
//!
//! Everything is denied unless a rule allows it. TCP rules pair an address
//! (an IP address or a CIDR block) with a port, a port range or any port;
//! Unix rules name directories inside which the guest may connect to and
//! create sockets. UDP is never allowed. Each refusal is logged at `warn`
//! with the address and the kind of rule that was missing, and reaches the
//! guest as `access-denied`.

mod rule;
mod unix_path;

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::sockets::SocketAddrUse;

pub use self::rule::{AddrRule, PolicyParseError, Ports};
use self::unix_path::{lexical_absolute, resolve_path};

/// What a Unix path is wanted for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnixUse {
    Connect,
    Listen,
}

impl fmt::Display for UnixUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnixUse::Connect => "unix connect",
            UnixUse::Listen => "unix listen",
        })
    }
}

/// Why a Unix path may not be used.
#[derive(Debug)]
pub enum UnixPathError {
    /// The path is empty or names no file (`/`, `dir/..`).
    Invalid,
    /// The path resolves outside every allowed directory.
    Denied { path: PathBuf },
    /// The path could not be resolved (for example its directory is missing).
    Io(io::Error),
}

/// The network policy of one host: immutable once built, shared by all
/// instances.
#[derive(Clone, Debug, Default)]
pub struct NetworkPolicy {
    connect: Vec<AddrRule>,
    listen: Vec<AddrRule>,
    unix_dirs: Vec<PathBuf>,
    name_lookup: bool,
    inherit_network: bool,
}

impl NetworkPolicy {
    /// A policy that denies everything.
    pub fn deny_all() -> Self {
        Self::default()
    }

    /// Allow TCP connections to addresses matching `rule`.
    pub fn allow_connect(&mut self, rule: AddrRule) -> &mut Self {
        self.connect.push(rule);
        self
    }

    /// Allow TCP listening on (and binding to) addresses matching `rule`.
    pub fn allow_listen(&mut self, rule: AddrRule) -> &mut Self {
        self.listen.push(rule);
        self
    }

    /// Allow Unix sockets inside `dir` and its subdirectories.
    ///
    /// The directory is resolved now (symlinks and `..`), so it must exist.
    pub fn allow_unix_dir(&mut self, dir: impl AsRef<Path>) -> io::Result<&mut Self> {
        let dir = dir.as_ref().canonicalize()?;
        if !dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} is not a directory", dir.display()),
            ));
        }
        self.unix_dirs.push(dir);
        Ok(self)
    }

    /// Allow or forbid `wasi:sockets/ip-name-lookup`.
    pub fn allow_name_lookup(&mut self, allow: bool) -> &mut Self {
        self.name_lookup = allow;
        self
    }

    /// Allow every TCP connect, bind and listen, and name lookup, as
    /// `wasmtime run -S inherit-network` does. Unix paths still need rules.
    pub fn inherit_network(&mut self, inherit: bool) -> &mut Self {
        self.inherit_network = inherit;
        self
    }

    /// Whether `wasi:sockets/ip-name-lookup` is allowed.
    pub fn name_lookup_enabled(&self) -> bool {
        self.inherit_network || self.name_lookup
    }

    /// Decide one use of a socket address, as wasmtime-wasi asks it.
    ///
    /// wasmtime-wasi checks `TcpBind` of the unspecified address with port 0
    /// before every connect and listen of an unbound socket (the implicit
    /// bind), `TcpBind` of the given address on an explicit bind, `TcpListen`
    /// of the bound address, `TcpConnect` of the peer, and `TcpAccept` of each
    /// client. So:
    /// - the implicit bind is always allowed: it grants nothing by itself,
    ///   and the connect or listen that follows is checked with the real
    ///   address (and logged with it when refused);
    /// - any other bind must match a listen rule, except that port 0 needs
    ///   only the address to match: the system picks the port and
    ///   `TcpListen` checks the real one;
    /// - clients of an allowed listener are always accepted;
    /// - UDP is always denied.
    pub fn allows_socket_addr(&self, addr: SocketAddr, usage: SocketAddrUse) -> bool {
        let any = |rules: &[AddrRule]| rules.iter().any(|r| r.allows(addr));
        let system_picks_port =
            || addr.port() == 0 && self.listen.iter().any(|r| r.allows_ip(addr.ip()));
        match usage {
            SocketAddrUse::TcpConnect => self.inherit_network || any(&self.connect),
            SocketAddrUse::TcpListen => self.inherit_network || any(&self.listen),
            SocketAddrUse::TcpBind => {
                self.inherit_network
                    || is_implicit_bind(addr)
                    || any(&self.listen)
                    || system_picks_port()
            }
            SocketAddrUse::TcpAccept => true,
            SocketAddrUse::UdpBind | SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => false,
        }
    }

    /// [`Self::allows_socket_addr`], logging a denial at `warn`.
    pub fn check_socket_addr(&self, addr: SocketAddr, usage: SocketAddrUse) -> bool {
        let allowed = self.allows_socket_addr(addr, usage);
        if !allowed {
            let (rule, why) = match usage {
                SocketAddrUse::TcpConnect => ("tcp connect", "no allow-connect rule matches"),
                SocketAddrUse::TcpBind => ("tcp bind", "no allow-listen rule matches"),
                SocketAddrUse::TcpListen => ("tcp listen", "no allow-listen rule matches"),
                _ => ("udp", "UDP is never allowed"),
            };
            tracing::warn!(%addr, rule, "network policy denied {rule} to {addr}: {why}");
        }
        allowed
    }

    /// Resolve `path` for `usage` and check it lies inside an allowed
    /// directory. Returns the resolved path, which the caller should use
    /// instead of the guest's, so that symlinks are followed only once, here.
    /// (A symlink created inside an allowed directory between this check and
    /// the use can still redirect a connect: only who may write there can.)
    ///
    /// The directory part is resolved with the file system (symlinks, `..`);
    /// for a connect the file itself is resolved too when it is a symlink.
    /// Relative paths are relative to the host's working directory.
    pub fn resolve_unix_path(&self, path: &str, usage: UnixUse) -> Result<PathBuf, UnixPathError> {
        let resolved = resolve_path(Path::new(path), usage);
        let candidate = match &resolved {
            Ok(p) => p.clone(),
            Err(UnixPathError::Invalid) => return Err(UnixPathError::Invalid),
            // Refuse to tell "missing" from "denied" outside the allowed dirs.
            Err(_) => lexical_absolute(Path::new(path)),
        };
        let inside = self
            .unix_dirs
            .iter()
            .any(|dir| candidate.starts_with(dir) && candidate != *dir);
        if !inside {
            tracing::warn!(
                path,
                resolved = %candidate.display(),
                rule = %usage,
                "network policy denied {usage} to {path}: no allow-unix directory contains it"
            );
            return Err(UnixPathError::Denied { path: candidate });
        }
        resolved
    }
}

/// Whether `addr` is the address wasmtime-wasi checks for an implicit bind.
fn is_implicit_bind(addr: SocketAddr) -> bool {
    addr.ip().is_unspecified() && addr.port() == 0
}

/// Install the TCP part of `policy` into a WASI context: UDP off, name
/// lookup as configured, and every TCP address checked (and each denial
/// logged) by the policy. TCP itself stays on even with no rules, so that a
/// refused connect is logged with its address like any other denial.
pub fn apply_to_wasi(policy: &Arc<NetworkPolicy>, builder: &mut WasiCtxBuilder) {
    builder
        .allow_tcp(true)
        .allow_udp(false)
        .allow_ip_name_lookup(policy.name_lookup_enabled());
    let policy = Arc::clone(policy);
    builder.socket_addr_check(move |addr, usage| {
        let allowed = policy.check_socket_addr(addr, usage);
        Box::pin(std::future::ready(allowed))
    });
}

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
    fn deny_all_denies_every_use_but_the_implicit_bind() {
        let p = NetworkPolicy::deny_all();
        for usage in [
            SocketAddrUse::TcpBind,
            SocketAddrUse::TcpConnect,
            SocketAddrUse::TcpListen,
            SocketAddrUse::UdpBind,
            SocketAddrUse::UdpSend,
        ] {
            assert!(!p.allows_socket_addr(sa("127.0.0.1:80"), usage));
        }
        assert!(!p.allows_socket_addr(sa("0.0.0.0:0"), SocketAddrUse::TcpListen));
        assert!(!p.allows_socket_addr(sa("0.0.0.0:0"), SocketAddrUse::UdpBind));
        assert!(p.allows_socket_addr(sa("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(p.allows_socket_addr(sa("[::]:0"), SocketAddrUse::TcpBind));
        assert!(!p.name_lookup_enabled());
    }

    #[test]
    fn connect_rule_allows_no_listening() {
        let mut p = NetworkPolicy::deny_all();
        p.allow_connect(rule("127.0.0.1:8080"));
        assert!(p.allows_socket_addr(sa("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(p.allows_socket_addr(sa("[::]:0"), SocketAddrUse::TcpBind));
        assert!(p.allows_socket_addr(sa("127.0.0.1:8080"), SocketAddrUse::TcpConnect));
        assert!(!p.allows_socket_addr(sa("127.0.0.1:8081"), SocketAddrUse::TcpConnect));
        assert!(!p.allows_socket_addr(sa("0.0.0.0:8080"), SocketAddrUse::TcpBind));
        assert!(!p.allows_socket_addr(sa("0.0.0.0:0"), SocketAddrUse::TcpListen));
    }

    #[test]
    fn listen_rule_allows_bind_and_listen_on_its_addresses() {
        let mut p = NetworkPolicy::deny_all();
        p.allow_listen(rule("127.0.0.1:8000-8999"));
        assert!(p.allows_socket_addr(sa("127.0.0.1:8080"), SocketAddrUse::TcpBind));
        assert!(p.allows_socket_addr(sa("127.0.0.1:8080"), SocketAddrUse::TcpListen));
        // Port 0: the system picks the port, `TcpListen` sees the real one.
        assert!(p.allows_socket_addr(sa("127.0.0.1:0"), SocketAddrUse::TcpBind));
        assert!(!p.allows_socket_addr(sa("127.0.0.1:40000"), SocketAddrUse::TcpListen));
        assert!(!p.allows_socket_addr(sa("0.0.0.0:8080"), SocketAddrUse::TcpBind));
        assert!(p.allows_socket_addr(sa("0.0.0.0:0"), SocketAddrUse::TcpBind));
        assert!(!p.allows_socket_addr(sa("0.0.0.0:0"), SocketAddrUse::TcpListen));
        assert!(!p.allows_socket_addr(sa("127.0.0.1:8080"), SocketAddrUse::TcpConnect));
        assert!(p.allows_socket_addr(sa("192.0.2.1:5555"), SocketAddrUse::TcpAccept));
    }

    #[test]
    fn inherit_network_allows_all_tcp_but_no_udp() {
        let mut p = NetworkPolicy::deny_all();
        p.inherit_network(true);
        assert!(p.name_lookup_enabled());
        assert!(p.allows_socket_addr(sa("0.0.0.0:0"), SocketAddrUse::TcpListen));
        assert!(p.allows_socket_addr(sa("[2001:db8::1]:443"), SocketAddrUse::TcpConnect));
        assert!(!p.allows_socket_addr(sa("127.0.0.1:53"), SocketAddrUse::UdpSend));
    }
}
