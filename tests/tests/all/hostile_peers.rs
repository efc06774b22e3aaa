//! Hostile peers, over TCP and Unix sockets: guest programs (the
//! `hostile_*` test programs) read from and write to native peers that
//! reset mid-line or while the guest is writing, half-close, never send a
//! newline, send over-long lines, or close at once, and check that each
//! gives wasio's documented result: the bytes that arrived, then the
//! documented error, never a hang, a spin or a trap.

use wasio_tests::hostile::{Peer, Script, Transport};
use wasio_tests::loopback_host;

use crate::support::{over_tcp_and_unix, programs, run};

/// Run the test program `name` against a `script` peer over `transport`
/// with `args` after the target; the peer, for what it received.
async fn against(transport: Transport, script: Script, name: &str, args: &[&str]) -> Peer {
    let peer = Peer::listen(transport, script).await.expect("a peer");
    let host = loopback_host(peer.unix_dir());
    let mut argv = vec![peer.target()];
    argv.extend(args.iter().map(|a| a.to_string()));
    run(&host, name, &argv).await.assert_success();
    peer
}

async fn reset_mid_line(transport: Transport) {
    // The guest sends `hello\nunread\n` in one write.
    let script = Script::ResetAfterReading {
        read: "hello\n".len(),
        send: b"line one\nline two\npartial".to_vec(),
    };
    against(transport, script, programs::HOSTILE_RESET, &[]).await;
}

async fn half_close(transport: Transport) {
    let script = Script::SendThenHalfClose(b"hello\n".to_vec());
    let mut peer = against(transport, script, programs::HOSTILE_HALF_CLOSE, &[]).await;
    let received = peer.received().await.expect("what the guest sent");
    assert_eq!(
        String::from_utf8_lossy(&received),
        "still here after your eof\n"
    );
}

async fn no_newline(transport: Transport) {
    let script = Script::SendThenHalfClose(b"no newline here".to_vec());
    let mut peer = against(transport, script, programs::HOSTILE_NO_NEWLINE, &[]).await;
    // Three connections, on none of which the guest sent anything.
    for _ in 0..3 {
        assert_eq!(peer.received().await.expect("a report"), b"");
    }
}

async fn long_line(transport: Transport) {
    // The line arrives in one piece (wasio reads up to 4 KiB at first): a
    // longer one arriving in pieces is discarded piece by piece, as asyncio
    // does.
    let (limit, length) = (1024, 3000);
    let mut bytes = vec![b'x'; length];
    bytes.extend_from_slice(b"\nnext line\n");
    let args = [limit.to_string(), length.to_string()];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    against(
        transport,
        Script::SendThenHalfClose(bytes),
        programs::HOSTILE_LONG_LINE,
        &args,
    )
    .await;
}

async fn write_after_close(transport: Transport) {
    let program = programs::HOSTILE_WRITE_AFTER_CLOSE;
    against(transport, Script::CloseAtOnce, program, &[]).await;
}

async fn reset_while_writing(transport: Transport) {
    // The guest sends 100 KiB at a time: most of it stays unread.
    let script = Script::ResetAfterReading {
        read: 6,
        send: b"response\n".to_vec(),
    };
    against(
        transport,
        script,
        programs::HOSTILE_RESET_WHILE_WRITING,
        &[],
    )
    .await;
}

over_tcp_and_unix! {
    reset_mid_line_returns_complete_lines_then_connection_reset => reset_mid_line;
    half_close_gives_eof_and_the_guest_can_still_write_back => half_close;
    no_newline_then_close_gives_the_partial_line_or_incomplete_read => no_newline;
    over_long_line_is_a_limit_overrun_and_the_next_line_reads_fine => long_line;
    write_after_the_peer_closed_fails_with_a_connection_error => write_after_close;
    reset_while_writing_still_returns_the_bytes_that_arrived_first => reset_while_writing;
}
