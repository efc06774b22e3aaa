//! bench-raw: the benchmark protocol on raw `wasi:sockets`, without
//! wasio: the floor a WASI 0.2 guest on this runtime can reach.
//!
//! ```text
//! bench-raw [--listen HOST:PORT] [--startup]
//! ```
//!
//! The same modes as `bench-server` (TCP only), in one `poll` loop with no
//! stream buffering: each wake-up reads once (up to 64 KiB) and writes
//! what it has with one `check-write` / `write` pair. `echo` sends back
//! the bytes it read as they are (the same bytes as echoing each line);
//! `frames` counts frames with a small state machine.

use std::net::Ipv4Addr;

use wasip2::io::poll::{Pollable, poll};
use wasip2::io::streams::{InputStream, OutputStream, StreamError};
use wasip2::sockets::network::{IpAddressFamily, IpSocketAddress, Ipv4SocketAddress};
use wasip2::sockets::tcp::{ShutdownType, TcpSocket};

/// The listen backlog of every subject.
const BACKLOG: u64 = 1024;
/// Largest read, and the piece size of `source`.
const PIECE: usize = 64 * 1024;

#[derive(Debug)]
enum Mode {
    /// Reading the mode line.
    Head(Vec<u8>),
    Echo,
    Frames {
        header: [u8; 4],
        have: usize,
        remaining: u64,
        total: u64,
    },
    Sink {
        total: u64,
    },
    Source {
        left: u64,
    },
}

/// One client. Fields drop in order: pollables, streams, socket.
struct Conn {
    input_ready: Pollable,
    output_ready: Pollable,
    input: InputStream,
    output: OutputStream,
    socket: TcpSocket,
    mode: Mode,
    out: Vec<u8>,
    sent: usize,
    reading: bool,
    close_when_sent: bool,
}

impl Conn {
    fn new(socket: TcpSocket, input: InputStream, output: OutputStream) -> Self {
        Self {
            input_ready: input.subscribe(),
            output_ready: output.subscribe(),
            input,
            output,
            socket,
            mode: Mode::Head(Vec::new()),
            out: Vec::new(),
            sent: 0,
            reading: true,
            close_when_sent: false,
        }
    }

    fn wants_write(&self) -> bool {
        self.sent < self.out.len() || matches!(self.mode, Mode::Source { left } if left > 0)
    }

    /// What to wait on: the output while there is something to send,
    /// else the input while reading, else nothing (done).
    fn pollable(&self) -> Option<&Pollable> {
        if self.wants_write() {
            Some(&self.output_ready)
        } else if self.reading {
            Some(&self.input_ready)
        } else {
            None
        }
    }

    /// Handle a wake-up; `false` once the connection is finished.
    fn step(&mut self) -> bool {
        if !self.wants_write() && self.reading {
            match self.input.read(PIECE as u64) {
                Ok(bytes) => self.received(bytes),
                Err(StreamError::Closed) => self.end_of_input(),
                Err(StreamError::LastOperationFailed(_)) => return false,
            }
        }
        if !self.send() {
            return false;
        }
        if self.close_when_sent && !self.wants_write() {
            let _ = self.socket.shutdown(ShutdownType::Send);
            return false;
        }
        true
    }

    fn received(&mut self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let rest = match &mut self.mode {
            Mode::Head(head) => {
                let Some(end) = bytes.iter().position(|&b| b == b'\n') else {
                    head.extend_from_slice(&bytes);
                    return;
                };
                head.extend_from_slice(&bytes[..=end]);
                self.mode = match head.as_slice() {
                    b"echo\n" => Mode::Echo,
                    b"frames\n" => Mode::Frames {
                        header: [0; 4],
                        have: 0,
                        remaining: 0,
                        total: 0,
                    },
                    b"sink\n" => Mode::Sink { total: 0 },
                    other => {
                        let left = std::str::from_utf8(other)
                            .ok()
                            .and_then(|m| m.strip_prefix("source "))
                            .and_then(|n| n.trim_end().parse().ok())
                            .unwrap_or(0);
                        self.out = vec![b'x'; PIECE];
                        self.sent = PIECE;
                        self.reading = false;
                        self.close_when_sent = true;
                        Mode::Source { left }
                    }
                };
                &bytes[end + 1..]
            }
            _ => &bytes[..],
        };
        match &mut self.mode {
            Mode::Head(_) | Mode::Source { .. } => {}
            Mode::Echo => {
                if self.sent == self.out.len() {
                    self.out = rest.to_vec();
                    self.sent = 0;
                } else {
                    self.out.extend_from_slice(rest);
                }
            }
            Mode::Sink { total } => *total += rest.len() as u64,
            Mode::Frames {
                header,
                have,
                remaining,
                total,
            } => {
                let mut at = 0;
                while at < rest.len() {
                    if *remaining > 0 {
                        let n = (*remaining).min((rest.len() - at) as u64);
                        *remaining -= n;
                        *total += n;
                        at += n as usize;
                        continue;
                    }
                    header[*have] = rest[at];
                    *have += 1;
                    at += 1;
                    if *have == 4 {
                        *have = 0;
                        *remaining = u64::from(u32::from_be_bytes(*header));
                        if *remaining == 0 {
                            let answer = format!("{total}\n").into_bytes();
                            self.finish_with(answer);
                            return;
                        }
                    }
                }
            }
        }
    }

    fn end_of_input(&mut self) {
        let answer = match self.mode {
            Mode::Sink { total } => format!("{total}\n").into_bytes(),
            _ => Vec::new(),
        };
        self.finish_with(answer);
    }

    /// Stop reading; send `answer` after what is pending, then close.
    fn finish_with(&mut self, answer: Vec<u8>) {
        self.reading = false;
        self.close_when_sent = true;
        self.out.drain(..self.sent);
        self.sent = 0;
        self.out.extend_from_slice(&answer);
    }

    /// Write what the socket takes now; `false` on a write error.
    fn send(&mut self) -> bool {
        loop {
            if self.sent == self.out.len() {
                match &mut self.mode {
                    Mode::Source { left } if *left > 0 => {
                        let n = (*left).min(PIECE as u64) as usize;
                        *left -= n as u64;
                        self.sent = self.out.len() - n;
                    }
                    _ => return true,
                }
            }
            let granted = match self.output.check_write() {
                Ok(0) => return true,
                Ok(n) => n as usize,
                Err(_) => return false,
            };
            let end = self.out.len().min(self.sent + granted);
            if self.output.write(&self.out[self.sent..end]).is_err() {
                return false;
            }
            self.sent = end;
        }
    }
}

fn listen(address: &str) -> Result<(TcpSocket, Pollable, String), String> {
    let (host, port) = address
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.parse::<Ipv4Addr>().ok()?, p.parse::<u16>().ok()?)))
        .ok_or_else(|| format!("--listen {address:?}: expected IPV4:PORT"))?;
    let network = wasip2::sockets::instance_network::instance_network();
    let socket = wasip2::sockets::tcp_create_socket::create_tcp_socket(IpAddressFamily::Ipv4)
        .map_err(|e| format!("socket: {e:?}"))?;
    let local = IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port,
        address: host.octets().into(),
    });
    socket
        .start_bind(&network, local)
        .and_then(|()| socket.finish_bind())
        .and_then(|()| socket.set_listen_backlog_size(BACKLOG))
        .and_then(|()| socket.start_listen())
        .and_then(|()| socket.finish_listen())
        .map_err(|e| format!("listen on {address}: {e:?}"))?;
    let bound = match socket.local_address() {
        Ok(IpSocketAddress::Ipv4(local)) => {
            let (a, b, c, d) = local.address;
            format!("{a}.{b}.{c}.{d}:{}", local.port)
        }
        _ => address.to_owned(),
    };
    let ready = socket.subscribe();
    Ok((socket, ready, bound))
}

fn serve(address: &str, startup: bool) -> Result<(), String> {
    let (listener, listener_ready, bound) = listen(address)?;
    if startup {
        return Ok(());
    }
    println!("listening on {bound}");
    let stdin = wasip2::cli::stdin::get_stdin();
    let stdin_ready = stdin.subscribe();
    let mut conns: Vec<Conn> = Vec::new();
    loop {
        let mut list: Vec<&Pollable> = vec![&listener_ready, &stdin_ready];
        let mut owners = Vec::new();
        for (index, conn) in conns.iter().enumerate() {
            if let Some(pollable) = conn.pollable() {
                list.push(pollable);
                owners.push(index);
            }
        }
        let ready = poll(&list);
        drop(list);
        let mut woken = Vec::new();
        for index in ready {
            match index {
                0 => {
                    while let Ok((socket, input, output)) = listener.accept() {
                        conns.push(Conn::new(socket, input, output));
                    }
                }
                1 => match stdin.read(4096) {
                    Ok(_) => {}
                    Err(_) => return Ok(()),
                },
                n => woken.push(owners[n as usize - 2]),
            }
        }
        let mut finished = Vec::new();
        for index in woken {
            if !conns[index].step() {
                finished.push(index);
            }
        }
        finished.sort_unstable();
        for index in finished.into_iter().rev() {
            conns.swap_remove(index);
        }
    }
}

fn main() -> std::process::ExitCode {
    let mut listen = "127.0.0.1:0".to_owned();
    let mut startup = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--listen" => listen = args.next().unwrap_or_default(),
            "--startup" => startup = true,
            other => {
                eprintln!("bench-raw: unknown argument {other:?}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    match serve(&listen, startup) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench-raw: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
