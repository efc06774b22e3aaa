//! A WASI 0.3 command component for the host's tests: it exports the async
//! `wasi:cli/run@0.3` and talks TCP over `wasi:sockets@0.3` (`stream<u8>`),
//! while Rust's standard library prints through `wasi:cli@0.2`, so it
//! imports both versions of WASI, as any Rust 0.3 component does.
//!
//! `p3 connect HOST:PORT LINE`: connect, send LINE and a newline, shut down
//! the sending side, print `echo: ` and what came back up to the newline.
//! `p3 hold HOST:PORT N`: try to open N connections, keeping those that
//! open until the end; print `held K of N` and, if one failed, the first
//! failure.
//! `p3 hold-streams HOST:PORT N`: like `hold`, but of each connection keep
//! only the streams of `send` and `receive`, dropping the `tcp-socket`.
//! `p3 cycle HOST:PORT N`: `connect` N times, one after the other, each
//! connection closed before the next opens; print `cycled N`.
//! `p3 listen IP:PORT N`: listen there, print `listening on ` and the
//! address, serve N clients one after the other (echo the first line of
//! each, closing it), printing `served: ` and the line for each.
//! `p3 udp IP:PORT`: create a UDP socket for the address's family, print
//! `udp socket created`.
//! `p3 spin`: compute forever without waiting on anything (only the host's
//! CPU-time limit stops it).
//! `p3 hog MIB`: allocate MIB mebibytes, writing to each; print
//! `allocated MIB MiB`.
//! `p3 exit N`: `std::process::exit(N)` from inside the async `run`.
//! HOST is an IP address or a name to look up. Failures print `error: `,
//! the step and the error code, and exit 1.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use wasip3::sockets::ip_name_lookup::resolve_addresses;
use wasip3::sockets::types::{
    ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
    TcpSocket, UdpSocket,
};
use wit_bindgen::StreamResult;

wasip3::cli::command::export!(P3);

struct P3;

impl wasip3::exports::cli::run::Guest for P3 {
    async fn run() -> Result<(), ()> {
        let args = wasip3::cli::environment::get_arguments();
        let args: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
        let outcome = match args.as_slice() {
            ["connect", target, line] => connect(target, line).await,
            ["hold", target, count] => match count.parse() {
                Ok(count) => hold(target, count).await,
                Err(_) => Err(Failure::usage()),
            },
            ["hold-streams", target, count] => match count.parse() {
                Ok(count) => hold_streams(target, count).await,
                Err(_) => Err(Failure::usage()),
            },
            ["cycle", target, count] => match count.parse() {
                Ok(count) => cycle(target, count).await,
                Err(_) => Err(Failure::usage()),
            },
            ["listen", target, count] => match count.parse() {
                Ok(count) => serve(target, count).await,
                Err(_) => Err(Failure::usage()),
            },
            ["udp", target] => udp(target),
            ["spin"] => spin(),
            ["hog", mib] => match mib.parse() {
                Ok(mib) => hog(mib),
                Err(_) => Err(Failure::usage()),
            },
            ["exit", code] => match code.parse() {
                Ok(code) => std::process::exit(code),
                Err(_) => Err(Failure::usage()),
            },
            _ => Err(Failure::usage()),
        };
        outcome.map_err(|failure| println!("error: {failure}"))
    }
}

const USAGE: &str = "connect HOST:PORT LINE | hold HOST:PORT N | hold-streams HOST:PORT N \
                     | cycle HOST:PORT N | listen IP:PORT N | udp IP:PORT | spin | hog MIB \
                     | exit N";

/// Why a command failed: the step and the error code it got.
#[derive(Debug)]
struct Failure {
    step: &'static str,
    code: String,
}

impl Failure {
    fn usage() -> Self {
        Failure {
            step: "usage",
            code: USAGE.into(),
        }
    }

    fn bad_target(target: &str) -> Self {
        Failure {
            step: "target",
            code: format!("{target} is not HOST:PORT"),
        }
    }

    fn at(step: &'static str) -> impl FnOnce(ErrorCode) -> Self {
        move |code| Failure {
            step,
            code: format!("{code:?}"),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.step, self.code)
    }
}

async fn connect(target: &str, line: &str) -> Result<(), Failure> {
    let socket = open(target).await?;
    send(&socket, format!("{line}\n").into_bytes()).await?;
    let echoed = receive_line(&socket).await?;
    println!("echo: {}", String::from_utf8_lossy(&echoed));
    Ok(())
}

async fn hold(target: &str, count: usize) -> Result<(), Failure> {
    let mut held = Vec::new();
    let mut failure = None;
    for _ in 0..count {
        match open(target).await {
            Ok(socket) => held.push(socket),
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    println!("held {} of {count}", held.len());
    failure.map_or(Ok(()), Err)
}

async fn hold_streams(target: &str, count: usize) -> Result<(), Failure> {
    let mut held = Vec::new();
    let mut failure = None;
    for _ in 0..count {
        match open(target).await {
            Ok(socket) => {
                let (writer, reader) = wasip3::wit_stream::new();
                let sent = socket.send(reader);
                let received = socket.receive();
                drop(socket);
                held.push((writer, sent, received));
            }
            Err(e) => {
                failure.get_or_insert(e);
            }
        }
    }
    println!("held {} of {count}", held.len());
    failure.map_or(Ok(()), Err)
}

async fn cycle(target: &str, count: usize) -> Result<(), Failure> {
    for i in 0..count {
        connect(target, &format!("cycle {i}")).await?;
    }
    println!("cycled {count}");
    Ok(())
}

fn spin() -> Result<(), Failure> {
    let mut x = 1u64;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
}

fn hog(mib: usize) -> Result<(), Failure> {
    let mut kept = Vec::with_capacity(mib);
    for i in 0..mib {
        let mut chunk = vec![0u8; 1 << 20];
        chunk.fill(i as u8);
        kept.push(std::hint::black_box(chunk));
    }
    println!("allocated {} MiB", std::hint::black_box(&kept).len());
    Ok(())
}

/// Listen on `target` and serve `count` clients, one after the other:
/// the first line of each goes back.
async fn serve(target: &str, count: usize) -> Result<(), Failure> {
    let addr = ip_target(target)?;
    let socket = TcpSocket::create(family(addr)).map_err(Failure::at("create"))?;
    socket
        .bind(socket_address(addr))
        .map_err(Failure::at("bind"))?;
    let mut clients = socket.listen().map_err(Failure::at("listen"))?;
    let local = socket
        .get_local_address()
        .map_err(Failure::at("local address"))?;
    println!("listening on {}", std_address(local));
    for _ in 0..count {
        let client = clients.next().await.ok_or(Failure {
            step: "accept",
            code: "the stream of clients ended".into(),
        })?;
        let line = receive_line(&client).await?;
        send(&client, [line.as_slice(), b"\n"].concat()).await?;
        println!("served: {}", String::from_utf8_lossy(&line));
    }
    Ok(())
}

fn udp(target: &str) -> Result<(), Failure> {
    UdpSocket::create(family(ip_target(target)?)).map_err(Failure::at("create"))?;
    println!("udp socket created");
    Ok(())
}

fn ip_target(target: &str) -> Result<SocketAddr, Failure> {
    target.parse().map_err(|_| Failure::bad_target(target))
}

/// A socket connected to `target`: to the first of its host's addresses
/// that accepts, if the host is a name to look up.
async fn open(target: &str) -> Result<TcpSocket, Failure> {
    let mut failure = None;
    for addr in resolve(target).await? {
        match open_one(addr).await {
            Ok(socket) => return Ok(socket),
            Err(e) => failure = Some(e),
        }
    }
    Err(failure.unwrap_or_else(|| Failure::bad_target(target)))
}

async fn open_one(addr: SocketAddr) -> Result<TcpSocket, Failure> {
    let socket = TcpSocket::create(family(addr)).map_err(Failure::at("create"))?;
    socket
        .connect(socket_address(addr))
        .await
        .map_err(Failure::at("connect"))?;
    Ok(socket)
}

async fn resolve(target: &str) -> Result<Vec<SocketAddr>, Failure> {
    if let Ok(addr) = target.parse() {
        return Ok(vec![addr]);
    }
    let (host, port) = target
        .rsplit_once(':')
        .ok_or_else(|| Failure::bad_target(target))?;
    let port: u16 = port.parse().map_err(|_| Failure::bad_target(target))?;
    let addresses = resolve_addresses(host.to_owned())
        .await
        .map_err(|code| Failure {
            step: "lookup",
            code: format!("{code:?}"),
        })?;
    let ip = |address| match address {
        IpAddress::Ipv4((a, b, c, d)) => IpAddr::from([a, b, c, d]),
        IpAddress::Ipv6((a, b, c, d, e, f, g, h)) => IpAddr::from([a, b, c, d, e, f, g, h]),
    };
    Ok(addresses
        .into_iter()
        .map(|address| SocketAddr::new(ip(address), port))
        .collect())
}

fn family(addr: SocketAddr) -> IpAddressFamily {
    match addr {
        SocketAddr::V4(_) => IpAddressFamily::Ipv4,
        SocketAddr::V6(_) => IpAddressFamily::Ipv6,
    }
}

fn std_address(addr: IpSocketAddress) -> SocketAddr {
    match addr {
        IpSocketAddress::Ipv4(v4) => {
            let (a, b, c, d) = v4.address;
            SocketAddr::from(([a, b, c, d], v4.port))
        }
        IpSocketAddress::Ipv6(v6) => {
            let (a, b, c, d, e, f, g, h) = v6.address;
            SocketAddr::from(([a, b, c, d, e, f, g, h], v6.port))
        }
    }
}

fn socket_address(addr: SocketAddr) -> IpSocketAddress {
    match addr {
        SocketAddr::V4(v4) => {
            let [a, b, c, d] = v4.ip().octets();
            IpSocketAddress::Ipv4(Ipv4SocketAddress {
                port: v4.port(),
                address: (a, b, c, d),
            })
        }
        SocketAddr::V6(v6) => {
            let [a, b, c, d, e, f, g, h] = v6.ip().segments();
            IpSocketAddress::Ipv6(Ipv6SocketAddress {
                port: v6.port(),
                flow_info: v6.flowinfo(),
                address: (a, b, c, d, e, f, g, h),
                scope_id: v6.scope_id(),
            })
        }
    }
}

/// Send `bytes`, then end the stream: the host then shuts the sending
/// side down (the peer reads end of file).
async fn send(socket: &TcpSocket, bytes: Vec<u8>) -> Result<(), Failure> {
    let (mut writer, reader) = wasip3::wit_stream::new();
    let sent = socket.send(reader);
    let unsent = writer.write_all(bytes).await;
    drop(writer);
    sent.await.map_err(Failure::at("send"))?;
    if !unsent.is_empty() {
        return Err(Failure {
            step: "send",
            code: format!("{} bytes unsent", unsent.len()),
        });
    }
    Ok(())
}

/// What the peer sends up to its first newline (or its end of file).
async fn receive_line(socket: &TcpSocket) -> Result<Vec<u8>, Failure> {
    let (mut reader, result) = socket.receive();
    let mut line = Vec::new();
    loop {
        let (status, chunk) = reader.read(Vec::with_capacity(1024)).await;
        line.extend_from_slice(&chunk);
        if let Some(end) = line.iter().position(|&b| b == b'\n') {
            line.truncate(end);
            break;
        }
        if !matches!(status, StreamResult::Complete(_)) {
            break;
        }
    }
    // Done with the stream: the result says how it ended (or that it was
    // dropped before its end).
    drop(reader);
    result.await.map_err(Failure::at("receive"))?;
    Ok(line)
}
