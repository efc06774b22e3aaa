//! The `wasio` command line: `wasio run [OPTIONS] COMPONENT [ARGS]...`.
//!
//! The policy, limit, directory and cache options can also come from
//! `WASIO_*` environment variables (lists comma-separated), so that
//! `wasio run` works as cargo's `CARGO_TARGET_WASM32_WASIP2_RUNNER`, where
//! cargo adds only the component path and the test arguments.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::FalseyValueParser;
use clap::{Args, Parser, Subcommand};

use wasio_host::policy::AddrRule;
use wasio_host::{
    CacheSetting, DirMapping, HostConfig, Limits, NetworkPolicy, Output, RunOptions, Stdin,
    TlsConfig,
};

/// Exit code when the host cannot run the component at all.
pub const EXIT_HOST_ERROR: i32 = 125;
/// Exit code when the guest trapped or was stopped by a limit (as a process
/// killed by SIGABRT, which is what `wasmtime run` returns for a trap).
pub const EXIT_GUEST_TRAP: i32 = 134;

#[derive(Debug, Parser)]
#[command(
    name = "wasio",
    version,
    about = "Run WebAssembly components with Unix sockets, a network policy and limits",
    long_about = "Run WASI 0.2 and 0.3 command components (wasm32-wasip2 binaries, or \
        components exporting the async wasi:cli/run@0.3) with the wasio:streams/unix \
        import, a deny-by-default network policy and per-instance limits.\n\nLogs go to stderr; set WASIO_LOG (or RUST_LOG) to e.g. `debug` for \
        more, `error` for less. Policy denials are logged at `warn`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The policy, exit codes and examples, after `wasio run --help`'s options.
const RUN_AFTER_HELP: &str = "\
NETWORK POLICY:
  Nothing is allowed by default: a denied TCP connect, bind or listen, Unix path
  or name lookup reaches the guest as `access-denied` and is logged as a warning
  naming the missing rule (allow-connect: add --allow-connect, and so on).
  UDP is never allowed.

EXIT STATUS:
  The guest's own exit code; 125 if wasio could not run the component;
  134 if the guest trapped or exceeded a limit.

EXAMPLES:
  wasio run --allow-connect 127.0.0.1:8080 client.wasm --verbose
  wasio run --allow-listen 127.0.0.1:8000-8999 --allow-unix /tmp/app server.wasm
  wasio run --tls --tls-ca ca.pem --allow-dns --allow-connect 10.0.0.5:6380 client.wasm
  CARGO_TARGET_WASM32_WASIP2_RUNNER=\"wasio run\" WASIO_ALLOW_UNIX=/tmp \\
    cargo test --target wasm32-wasip2";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a command component and exit with its exit code.
    #[command(after_help = RUN_AFTER_HELP)]
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Allow TCP connections to ADDR:PORTS. ADDR is an IP address or CIDR block
    /// (IPv6 in brackets); PORTS is a port, a range LOW-HIGH or `*`. E.g.
    /// 127.0.0.1:8080, 127.0.0.0/8:1024-65535, [::1]:*, 0.0.0.0/0:*. Repeatable.
    #[arg(
        long,
        value_name = "ADDR:PORTS",
        env = "WASIO_ALLOW_CONNECT",
        value_delimiter = ',',
        help_heading = "Network policy"
    )]
    pub allow_connect: Vec<AddrRule>,

    /// Allow binding and listening on TCP ADDR:PORTS (same forms as
    /// --allow-connect). Binding to port 0 needs only the address to match;
    /// the port the system picks must then match to listen. Repeatable.
    #[arg(
        long,
        value_name = "ADDR:PORTS",
        env = "WASIO_ALLOW_LISTEN",
        value_delimiter = ',',
        help_heading = "Network policy"
    )]
    pub allow_listen: Vec<AddrRule>,

    /// Allow Unix-socket connect and listen on paths inside DIR (resolved
    /// through symlinks and `..`; it must exist). Repeatable.
    #[arg(
        long,
        value_name = "DIR",
        env = "WASIO_ALLOW_UNIX",
        value_delimiter = ',',
        help_heading = "Network policy"
    )]
    pub allow_unix: Vec<PathBuf>,

    /// Allow host-name lookup (wasi:sockets/ip-name-lookup).
    #[arg(
        long,
        env = "WASIO_ALLOW_DNS",
        value_parser = FalseyValueParser::new(),
        help_heading = "Network policy"
    )]
    pub allow_dns: bool,

    /// Allow every TCP connect, bind and listen, and name lookup (like
    /// `wasmtime run -S inherit-network`). Unix paths still need --allow-unix.
    #[arg(
        long,
        env = "WASIO_INHERIT_NETWORK",
        value_parser = FalseyValueParser::new(),
        help_heading = "Network policy"
    )]
    pub inherit_network: bool,

    /// Give the guest TLS (wasi:tls@0.2.0-draft, client side), trusting the
    /// system's CA certificates and any --tls-ca. TLS runs over sockets the
    /// network policy has already allowed.
    #[arg(
        long,
        env = "WASIO_TLS",
        value_parser = FalseyValueParser::new(),
        help_heading = "TLS"
    )]
    pub tls: bool,

    /// Also trust the CA certificates in FILE (PEM), e.g. a private or test
    /// CA. Repeatable; needs --tls.
    #[arg(
        long,
        value_name = "FILE",
        env = "WASIO_TLS_CA",
        value_delimiter = ',',
        requires = "tls",
        help_heading = "TLS"
    )]
    pub tls_ca: Vec<PathBuf>,

    /// Limit the guest's linear memory to BYTES (suffixes K, M, G: 64M).
    #[arg(
        long,
        value_name = "BYTES",
        env = "WASIO_MAX_MEMORY",
        value_parser = parse_bytes,
        help_heading = "Limits"
    )]
    pub max_memory: Option<usize>,

    /// Limit the sockets the guest holds at once: TCP sockets (listeners
    /// included; a WASI 0.3 one until its send and receive streams are
    /// done too) and connected Unix sockets.
    #[arg(
        long,
        value_name = "N",
        env = "WASIO_MAX_CONNECTIONS",
        help_heading = "Limits"
    )]
    pub max_connections: Option<usize>,

    /// Stop the guest after SECONDS of WebAssembly execution (time spent
    /// waiting for I/O is not counted). Fractions are allowed: 0.5.
    #[arg(
        long,
        value_name = "SECONDS",
        env = "WASIO_CPU_TIME_LIMIT",
        value_parser = parse_seconds,
        help_heading = "Limits"
    )]
    pub cpu_time_limit: Option<Duration>,

    /// Set an environment variable for the guest; NAME alone passes the
    /// host's value on. Repeatable. The guest sees no other variables.
    #[arg(long = "env", value_name = "NAME[=VALUE]")]
    pub env: Vec<String>,

    /// Give the guest a host directory, as GUEST (default: the same path).
    /// Repeatable.
    #[arg(
        long = "dir",
        value_name = "HOST[::GUEST]",
        env = "WASIO_DIR",
        value_delimiter = ',',
        value_parser = parse_dir
    )]
    pub dirs: Vec<DirMapping>,

    /// Cache compiled code in DIR [default: $XDG_CACHE_HOME/wasio or
    /// ~/.cache/wasio].
    #[arg(
        long,
        value_name = "DIR",
        env = "WASIO_CACHE_DIR",
        help_heading = "Compilation"
    )]
    pub cache_dir: Option<PathBuf>,

    /// Compile the component every time instead of using the cache.
    #[arg(
        long,
        env = "WASIO_NO_CACHE",
        value_parser = FalseyValueParser::new(),
        conflicts_with = "cache_dir",
        help_heading = "Compilation"
    )]
    pub no_cache: bool,

    /// The component to run (a .wasm file built for wasm32-wasip2), then
    /// the arguments for the guest: everything after COMPONENT, unchanged,
    /// even those that look like wasio's flags (`wcat-tls.wasm --tls ...`).
    /// The guest's argv[0] is the component's file name.
    #[arg(
        value_name = "COMPONENT [ARGS]",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub component_and_args: Vec<String>,
}

impl RunArgs {
    /// The component to run.
    pub fn component(&self) -> PathBuf {
        PathBuf::from(&self.component_and_args[0])
    }

    /// The guest's arguments after its name.
    pub fn guest_args(&self) -> &[String] {
        &self.component_and_args[1..]
    }

    /// The host configuration these flags describe.
    pub fn host_config(&self) -> Result<HostConfig, String> {
        let mut policy = NetworkPolicy::deny_all();
        for rule in &self.allow_connect {
            policy.allow_connect(*rule);
        }
        for rule in &self.allow_listen {
            policy.allow_listen(*rule);
        }
        for dir in &self.allow_unix {
            policy.allow_unix_dir(dir).map_err(|e| {
                format!(
                    "--allow-unix {}: {e} (the directory must exist)",
                    dir.display()
                )
            })?;
        }
        policy
            .allow_name_lookup(self.allow_dns)
            .inherit_network(self.inherit_network);
        let cache = match (&self.cache_dir, self.no_cache) {
            (_, true) => CacheSetting::Disabled,
            (Some(dir), false) => CacheSetting::Dir(dir.clone()),
            (None, false) => CacheSetting::Default,
        };
        Ok(HostConfig {
            policy,
            limits: Limits {
                max_memory: self.max_memory,
                cpu_time: self.cpu_time_limit,
                max_connections: self.max_connections,
            },
            cache,
            tls: self.tls.then(|| TlsConfig {
                ca_files: self.tls_ca.clone(),
                ..TlsConfig::default()
            }),
        })
    }

    /// What the guest sees: argv (the file name first), env, directories, and
    /// the host's stdin, stdout and stderr.
    pub fn run_options(&self) -> Result<RunOptions, String> {
        let component = self.component();
        let program = component
            .file_name()
            .unwrap_or(component.as_os_str())
            .to_string_lossy()
            .into_owned();
        let mut env = Vec::new();
        for spec in &self.env {
            match spec.split_once('=') {
                Some((name, value)) => env.push((name.to_owned(), value.to_owned())),
                None => match std::env::var(spec) {
                    Ok(value) => env.push((spec.clone(), value)),
                    Err(std::env::VarError::NotPresent) => {}
                    Err(std::env::VarError::NotUnicode(_)) => {
                        return Err(format!("--env {spec}: the host's value is not UTF-8"));
                    }
                },
            }
        }
        Ok(RunOptions {
            args: std::iter::once(program)
                .chain(self.guest_args().iter().cloned())
                .collect(),
            env,
            dirs: self.dirs.clone(),
            stdin: Stdin::Inherit,
            stdout: Output::Inherit,
            stderr: Output::Inherit,
        })
    }
}

/// `64M`, `512k`, `1G`, `1048576`: binary multiples.
fn parse_bytes(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let digits = s.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &s[digits.len()..];
    let shift = match suffix.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(format!("unknown size suffix `{suffix}` (use K, M or G)")),
    };
    let n: usize = digits
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size such as 65536, 512K or 64M"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// `30`, `0.5`: non-negative seconds.
fn parse_seconds(s: &str) -> Result<Duration, String> {
    s.trim()
        .parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("`{s}` is not a number of seconds such as 10 or 0.5"))
}

/// `HOST` or `HOST::GUEST`.
fn parse_dir(s: &str) -> Result<DirMapping, String> {
    let (host, guest) = s.split_once("::").unwrap_or((s, s));
    if host.is_empty() || guest.is_empty() {
        return Err(format!("`{s}` is not HOST or HOST::GUEST"));
    }
    Ok(DirMapping {
        host: PathBuf::from(host),
        guest: guest.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(parse_bytes("65536"), Ok(65536));
        assert_eq!(parse_bytes("64M"), Ok(64 << 20));
        assert_eq!(parse_bytes("512k"), Ok(512 << 10));
        assert_eq!(parse_bytes("1GiB"), Ok(1 << 30));
        assert!(parse_bytes("64X").is_err());
        assert!(parse_bytes("M").is_err());
    }

    #[test]
    fn seconds_take_fractions() {
        assert_eq!(parse_seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_seconds("2"), Ok(Duration::from_secs(2)));
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("soon").is_err());
    }

    #[test]
    fn dir_defaults_guest_to_host_path() {
        assert_eq!(
            parse_dir("/data").unwrap(),
            DirMapping {
                host: "/data".into(),
                guest: "/data".into()
            }
        );
        assert_eq!(parse_dir("/data::/d").unwrap().guest, "/d");
        assert!(parse_dir("::/d").is_err());
    }

    #[test]
    fn guest_args_may_look_like_wasio_flags() {
        let cli =
            Cli::try_parse_from(["wasio", "run", "--tls", "wcat.wasm", "--tls", "h", "1"]).unwrap();
        let Command::Run(run) = cli.command;
        assert!(run.tls);
        assert_eq!(run.component(), PathBuf::from("wcat.wasm"));
        assert_eq!(
            run.run_options().unwrap().args,
            ["wcat.wasm", "--tls", "h", "1"]
        );
        assert!(Cli::try_parse_from(["wasio", "run", "--tls"]).is_err());
    }

    #[test]
    fn tls_ca_needs_tls() {
        let parse = |args: &[&str]| Cli::try_parse_from([&["wasio", "run"], args].concat());
        assert!(parse(&["--tls-ca", "ca.pem", "app.wasm"]).is_err());
        let Command::Run(run) = parse(&[
            "--tls", "--tls-ca", "a.pem", "--tls-ca", "b.pem", "app.wasm",
        ])
        .unwrap()
        .command;
        let tls = run.host_config().unwrap().tls.unwrap();
        assert!(tls.system_roots);
        assert_eq!(
            tls.ca_files,
            [PathBuf::from("a.pem"), PathBuf::from("b.pem")]
        );
        let Command::Run(run) = parse(&["app.wasm"]).unwrap().command;
        assert_eq!(run.host_config().unwrap().tls, None);
    }

    #[test]
    fn trailing_args_go_to_the_guest() {
        let cli = Cli::try_parse_from([
            "wasio",
            "run",
            "--allow-connect",
            "127.0.0.1:80",
            "dir/app.wasm",
            "--flag",
            "--",
            "x",
        ])
        .unwrap();
        let Command::Run(run) = cli.command;
        assert_eq!(run.allow_connect.len(), 1);
        assert_eq!(
            run.run_options().unwrap().args,
            ["app.wasm", "--flag", "--", "x"]
        );
    }
}
