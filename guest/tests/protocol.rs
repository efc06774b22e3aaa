//! Properties of the connection's decisions (`core::Protocol`), carried
//! out against a simulated socket: whatever the peer's timing, the reader
//! gets every byte once and in order, memory stays bounded while nobody
//! reads, and the sending side delivers every written byte before end of
//! file, then lets the socket go, and never acts after that; an abort
//! lets it go at once, whatever came before.

#![cfg(not(target_os = "wasi"))]

use std::task::Poll;

use proptest::prelude::*;
use wasio::core::{
    Error, MAX_READ, MAX_ROUND, Protocol, Reason, Round, Send, StreamReader, WriteBuffer,
};

/// The peer's side of a socket: bytes that have arrived and not been read.
#[derive(Debug, Default)]
struct Socket {
    arrived: std::collections::VecDeque<u8>,
    eof: bool,
    reads: usize,
}

/// Carry out one round of reads for `reason`, as the transport does.
fn round(protocol: &mut Protocol, socket: &mut Socket, reason: Reason) {
    let mut round = Round::new(reason);
    let wanted_at_start = protocol.wants_read();
    while let Some(size) = protocol.next_read(&round) {
        assert!(
            round_reads(&mut socket.reads) < 1_000_000,
            "a round never ends"
        );
        assert!(
            wanted_at_start,
            "a round started while reading was not wanted"
        );
        assert!(size <= MAX_READ);
        if !socket.arrived.is_empty() {
            let n = size.min(socket.arrived.len());
            let bytes: Vec<u8> = socket.arrived.drain(..n).collect();
            protocol.received(&mut round, bytes);
        } else if socket.eof {
            protocol.eof_received(&mut round);
        } else {
            protocol.would_block(&mut round);
        }
    }
}

fn round_reads(reads: &mut usize) -> usize {
    *reads += 1;
    *reads
}

#[derive(Debug, Clone)]
enum Step {
    /// The peer sends this many bytes.
    Arrive(usize),
    /// The peer sends end of file.
    Eof,
    /// The socket is readable: a round.
    Ready,
    /// A read needs bytes: a round on demand.
    OnDemand,
    /// The application reads up to this many bytes.
    Read(usize),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (1usize..70_000).prop_map(Step::Arrive),
        1 => Just(Step::Eof),
        3 => Just(Step::Ready),
        2 => Just(Step::OnDemand),
        3 => (1usize..100_000).prop_map(Step::Read),
    ]
}

/// The bytes of the peer's stream: position `i` holds `i % 251`.
fn pattern(from: usize, n: usize) -> Vec<u8> {
    (from..from + n).map(|i| (i % 251) as u8).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_byte_arrives_once_and_in_order(
        limit in 1usize..100_000,
        steps in prop::collection::vec(step(), 1..60),
    ) {
        let mut protocol = Protocol::new(StreamReader::new(limit).unwrap(), WriteBuffer::new());
        let mut socket = Socket::default();
        let (mut sent, mut read) = (0, Vec::new());
        for step in steps {
            match step {
                Step::Arrive(n) if !socket.eof => {
                    socket.arrived.extend(pattern(sent, n));
                    sent += n;
                }
                Step::Arrive(_) => {}
                Step::Eof => socket.eof = true,
                Step::Ready => round(&mut protocol, &mut socket, Reason::Ready),
                Step::OnDemand => round(&mut protocol, &mut socket, Reason::OnDemand),
                Step::Read(n) => match protocol.reader_mut().read(n as i64) {
                    Poll::Ready(result) => read.extend(result.unwrap()),
                    // The transport tells the protocol a caller waits.
                    Poll::Pending => protocol.waiting(),
                },
            }
            // Reading ahead never holds more than twice the limit plus one
            // round (and the read that ends it).
            let buffered = protocol.reader().buffered().len();
            prop_assert!(buffered <= 2 * limit + MAX_ROUND + MAX_READ, "{buffered}");
        }
        // Drain everything: the reader gets exactly what was sent.
        socket.eof = true;
        for attempt in 0.. {
            prop_assert!(attempt < 10_000, "the stream never ends");
            match protocol.reader_mut().read(-1) {
                Poll::Ready(result) => {
                    read.extend(result.unwrap());
                    break;
                }
                Poll::Pending => {
                    protocol.waiting();
                    round(&mut protocol, &mut socket, Reason::OnDemand);
                }
            }
        }
        prop_assert_eq!(read, pattern(0, sent));
        prop_assert!(protocol.reader().at_eof());
    }

    #[test]
    fn a_paused_reader_is_not_read_until_it_resumes(
        limit in 1usize..10_000,
        arrivals in prop::collection::vec(1usize..50_000, 1..20),
    ) {
        let mut protocol = Protocol::new(StreamReader::new(limit).unwrap(), WriteBuffer::new());
        let mut socket = Socket::default();
        for n in arrivals {
            socket.arrived.extend(std::iter::repeat_n(0, n));
            let reads = socket.reads;
            let paused = protocol.reader().is_paused();
            round(&mut protocol, &mut socket, Reason::Ready);
            if paused {
                prop_assert_eq!(socket.reads, reads, "read while paused");
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Action {
    Write(usize),
    WriteEof,
    Close,
    Abort,
    /// The socket takes up to this many bytes from now on (0: blocked).
    Capacity(usize),
    /// Sending failed.
    Lost,
    /// The peer's end of file arrives.
    PeerEof,
    /// The transport carries out what the protocol asks.
    Run,
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (0usize..5_000).prop_map(Action::Write),
        1 => Just(Action::WriteEof),
        1 => Just(Action::Close),
        1 => Just(Action::Abort),
        2 => (0usize..3_000).prop_map(Action::Capacity),
        1 => Just(Action::Lost),
        1 => Just(Action::PeerEof),
        4 => Just(Action::Run),
    ]
}

/// What the simulated socket saw.
#[derive(Debug, Default)]
struct Wire {
    bytes: Vec<u8>,
    eof: bool,
    released: bool,
}

/// Carry out the protocol's sending decisions, as the transport does.
fn run(protocol: &mut Protocol, wire: &mut Wire, capacity: usize) {
    for _ in 0..10_000 {
        match protocol.next_send() {
            Send::Bytes(bytes) => {
                assert!(!wire.eof && !wire.released, "bytes after end of file");
                let n = capacity.min(bytes.len());
                if n == 0 {
                    return;
                }
                wire.bytes.extend_from_slice(&bytes[..n]);
                protocol.sent(n);
            }
            Send::Shutdown => {
                assert!(!wire.eof && !wire.released, "a second end of file");
                wire.eof = true;
                protocol.shut_down();
            }
            Send::Release => {
                assert!(!wire.released, "released twice");
                wire.released = true;
                protocol.released();
            }
            Send::Idle => return,
        }
    }
    panic!("the protocol never settles");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn written_bytes_go_out_in_order_before_end_of_file_and_release(
        actions in prop::collection::vec(action(), 1..40),
    ) {
        let mut protocol = Protocol::new(StreamReader::default(), WriteBuffer::new());
        let mut wire = Wire::default();
        let (mut written, mut capacity, mut cut) = (Vec::new(), 1_000, None);
        let mut aborted = false;
        for action in actions {
            match action {
                Action::Write(n) => {
                    let bytes = pattern(written.len(), n);
                    if protocol.writer_mut().write(&bytes).is_ok() {
                        written.extend(bytes);
                    }
                }
                Action::WriteEof => {
                    let _ = protocol.writer_mut().write_eof();
                }
                Action::Close => protocol.writer_mut().close(),
                Action::Abort => {
                    protocol.writer_mut().abort();
                    cut.get_or_insert(wire.bytes.len());
                    aborted = true;
                }
                Action::Capacity(n) => capacity = n,
                Action::Lost => {
                    if !wire.released {
                        protocol.send_failed(Error::ConnectionReset);
                        cut.get_or_insert(wire.bytes.len());
                    }
                }
                Action::PeerEof => protocol.eof_received(&mut Round::new(Reason::Ready)),
                Action::Run => {
                    run(&mut protocol, &mut wire, capacity);
                    prop_assert!(wire.released || !aborted, "an aborted socket is held");
                }
            }
            prop_assert!(written.starts_with(&wire.bytes), "the wire holds what was written");
            prop_assert_eq!(protocol.writer().is_closed(), wire.released);
            prop_assert_eq!(protocol.writer().wait_closed().is_ready(), wire.released);
        }
        run(&mut protocol, &mut wire, usize::MAX);
        match cut {
            // Nothing went wrong: with end of file asked for, everything
            // went out first.
            None if wire.eof => prop_assert_eq!(&wire.bytes, &written),
            None => prop_assert_eq!(wire.bytes.len(), written.len()),
            Some(at) => prop_assert_eq!(wire.bytes.len(), at),
        }
    }
}

/// A flush waits for every buffered byte to reach the transport, and
/// reports the error that lost them.
#[test]
fn flushed_waits_for_every_byte_then_reports_a_loss() {
    let mut writer = WriteBuffer::new();
    assert_eq!(writer.flushed(), Poll::Ready(Ok(())));
    writer.write(b"abc").unwrap();
    assert_eq!(writer.flushed(), Poll::Pending);
    writer.consume(2);
    assert_eq!(writer.flushed(), Poll::Pending);
    writer.consume(1);
    assert_eq!(writer.flushed(), Poll::Ready(Ok(())));
    writer.write(b"lost").unwrap();
    writer.connection_lost(Error::ConnectionReset);
    assert_eq!(writer.flushed(), Poll::Ready(Err(Error::ConnectionReset)));
}
