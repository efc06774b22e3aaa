//! asyncio conformance: every behaviour of CPython's
//! `Lib/test/test_asyncio/test_streams.py` (3.13) and the flow-control
//! checks of `test_transports.py` that apply to a reader and writer without
//! a transport, one test each, named after the CPython test it follows.
//!
//! Where CPython schedules `feed_data` after starting a read, the sans-IO
//! form is: the read answers `Pending`, the data is fed, the same read is
//! called again.

use std::task::{Poll, Waker};

use bytes::Bytes;

use wasio::core::{Error, StreamReader, WriteBuffer};

const DATA: &[u8] = b"line1\nline2\nline3\n";

fn reader() -> StreamReader {
    StreamReader::default()
}

fn limited(limit: usize) -> StreamReader {
    StreamReader::new(limit).unwrap()
}

/// The result of an operation that must complete without waiting.
#[track_caller]
fn ready<T: std::fmt::Debug>(poll: Poll<Result<T, Error>>) -> Result<T, Error> {
    match poll {
        Poll::Ready(result) => result,
        Poll::Pending => panic!("expected the operation to complete, it waits for data"),
    }
}

#[track_caller]
fn ok(poll: Poll<Result<Bytes, Error>>) -> Vec<u8> {
    ready(poll).expect("expected success").into()
}

#[track_caller]
fn pending<T: std::fmt::Debug>(poll: Poll<Result<T, Error>>) {
    assert!(
        poll.is_pending(),
        "expected the operation to wait, got {poll:?}"
    );
}

fn feed(reader: &mut StreamReader, data: &[u8]) {
    reader.feed_data(data).unwrap();
}

// --- feed -----------------------------------------------------------------

#[test]
fn feed_empty_data() {
    let mut stream = reader();
    feed(&mut stream, b"");
    assert_eq!(stream.buffered(), b"");
}

#[test]
fn feed_nonempty_data() {
    let mut stream = reader();
    feed(&mut stream, DATA);
    assert_eq!(stream.buffered(), DATA);
}

#[test]
fn feed_data_after_feed_eof_is_an_error() {
    let mut stream = reader();
    stream.feed_eof();
    assert!(matches!(
        stream.feed_data(b"x"),
        Err(Error::InvalidState(_))
    ));
}

// --- read -----------------------------------------------------------------

#[test]
fn read_zero() {
    let mut stream = reader();
    feed(&mut stream, DATA);
    assert_eq!(ok(stream.read(0)), b"");
    assert_eq!(stream.buffered(), DATA);
}

#[test]
fn read() {
    let mut stream = reader();
    pending(stream.read(30));
    feed(&mut stream, DATA);
    assert_eq!(ok(stream.read(30)), DATA);
    assert_eq!(stream.buffered(), b"");
}

#[test]
fn read_line_breaks() {
    let mut stream = reader();
    feed(&mut stream, b"line1");
    feed(&mut stream, b"line2");
    assert_eq!(ok(stream.read(5)), b"line1");
    assert_eq!(stream.buffered(), b"line2");
}

#[test]
fn read_eof() {
    let mut stream = reader();
    pending(stream.read(1024));
    stream.feed_eof();
    assert_eq!(ok(stream.read(1024)), b"");
    assert_eq!(stream.buffered(), b"");
}

#[test]
fn read_until_eof() {
    let mut stream = reader();
    pending(stream.read(-1));
    feed(&mut stream, b"chunk1\n");
    feed(&mut stream, b"chunk2");
    pending(stream.read(-1));
    stream.feed_eof();
    assert_eq!(ok(stream.read(-1)), b"chunk1\nchunk2");
    assert_eq!(stream.buffered(), b"");
}

#[test]
fn read_exception() {
    let mut stream = reader();
    feed(&mut stream, b"line\n");
    assert_eq!(ok(stream.read(2)), b"li");
    stream.set_exception(Error::invalid_argument("boom"));
    assert_eq!(ready(stream.read(2)), Err(Error::invalid_argument("boom")));
}

#[test]
fn invalid_limit() {
    assert!(matches!(StreamReader::new(0), Err(Error::InvalidArgument(m)) if m.contains("imit")));
}

#[test]
fn read_limit() {
    let mut stream = limited(3);
    feed(&mut stream, b"chunk");
    assert_eq!(ok(stream.read(5)), b"chunk");
    assert_eq!(stream.buffered(), b"");
}

// --- readline -------------------------------------------------------------

#[test]
fn readline() {
    let mut stream = reader();
    feed(&mut stream, b"chunk1 ");
    pending(stream.readline());
    feed(&mut stream, b"chunk2 ");
    feed(&mut stream, b"chunk3 ");
    feed(&mut stream, b"\n chunk4");
    assert_eq!(ok(stream.readline()), b"chunk1 chunk2 chunk3 \n");
    assert_eq!(stream.buffered(), b" chunk4");
}

#[test]
fn readline_limit_with_existing_data() {
    let mut stream = limited(3);
    feed(&mut stream, b"li");
    feed(&mut stream, b"ne1\nline2\n");
    assert!(matches!(
        ready(stream.readline()),
        Err(Error::LimitOverrun { .. })
    ));
    // The over-long line is discarded up to and including its newline.
    assert_eq!(stream.buffered(), b"line2\n");

    let mut stream = limited(3);
    feed(&mut stream, b"li");
    feed(&mut stream, b"ne1");
    feed(&mut stream, b"li");
    assert!(matches!(
        ready(stream.readline()),
        Err(Error::LimitOverrun { .. })
    ));
    // No newline yet: the whole buffer is discarded.
    assert_eq!(stream.buffered(), b"");
}

#[test]
fn at_eof() {
    let mut stream = reader();
    assert!(!stream.at_eof());
    feed(&mut stream, b"some data\n");
    assert!(!stream.at_eof());
    ok(stream.readline());
    assert!(!stream.at_eof());
    feed(&mut stream, b"some data\n");
    stream.feed_eof();
    ok(stream.readline());
    assert!(stream.at_eof());
}

#[test]
fn readline_limit() {
    // One over-long line followed by EOF: discarded whole.
    let mut stream = limited(7);
    pending(stream.readline());
    feed(&mut stream, b"chunk1");
    pending(stream.readline());
    feed(&mut stream, b"chunk2");
    feed(&mut stream, b"chunk3\n");
    stream.feed_eof();
    assert!(matches!(
        ready(stream.readline()),
        Err(Error::LimitOverrun { .. })
    ));
    assert_eq!(stream.buffered(), b"");

    let mut stream = limited(7);
    feed(&mut stream, b"chunk1");
    feed(&mut stream, b"chunk2\n");
    feed(&mut stream, b"chunk3\n");
    stream.feed_eof();
    assert!(matches!(
        ready(stream.readline()),
        Err(Error::LimitOverrun { .. })
    ));
    assert_eq!(stream.buffered(), b"chunk3\n");

    // The limit is strict: 7 bytes before the newline pass, 8 do not.
    let mut stream = limited(7);
    feed(&mut stream, b"1234567\n");
    assert_eq!(ok(stream.readline()), b"1234567\n");
    assert_eq!(stream.buffered(), b"");

    feed(&mut stream, b"12345678\n");
    assert!(matches!(
        ready(stream.readline()),
        Err(Error::LimitOverrun { .. })
    ));
    assert_eq!(stream.buffered(), b"");

    feed(&mut stream, b"12345678");
    assert!(matches!(
        ready(stream.readline()),
        Err(Error::LimitOverrun { .. })
    ));
    assert_eq!(stream.buffered(), b"");
}

#[test]
fn readline_nolimit_nowait() {
    let mut stream = reader();
    feed(&mut stream, &DATA[..6]);
    feed(&mut stream, &DATA[6..]);
    assert_eq!(ok(stream.readline()), b"line1\n");
    assert_eq!(stream.buffered(), b"line2\nline3\n");
}

#[test]
fn readline_eof() {
    let mut stream = reader();
    feed(&mut stream, b"some data");
    stream.feed_eof();
    assert_eq!(ok(stream.readline()), b"some data");
}

#[test]
fn readline_empty_eof() {
    let mut stream = reader();
    stream.feed_eof();
    assert_eq!(ok(stream.readline()), b"");
}

#[test]
fn readline_read_byte_count() {
    let mut stream = reader();
    feed(&mut stream, DATA);
    ok(stream.readline());
    assert_eq!(ok(stream.read(7)), b"line2\nl");
    assert_eq!(stream.buffered(), b"ine3\n");
}

#[test]
fn readline_exception() {
    let mut stream = reader();
    feed(&mut stream, b"line\n");
    assert_eq!(ok(stream.readline()), b"line\n");
    stream.set_exception(Error::ConnectionReset);
    assert_eq!(ready(stream.readline()), Err(Error::ConnectionReset));
    assert_eq!(stream.buffered(), b"");
}

#[test]
fn readline_overrun_reports_consumed_and_which_case() {
    let mut stream = limited(3);
    feed(&mut stream, b"abcdef\nxy");
    assert_eq!(
        ready(stream.readline()),
        Err(Error::LimitOverrun {
            consumed: 6,
            separator_found: true
        })
    );
    assert_eq!(stream.buffered(), b"xy");
}

// --- readuntil ------------------------------------------------------------

#[test]
fn readuntil_separator() {
    let mut stream = reader();
    let empty: &[&[u8]] = &[b""];
    assert!(matches!(
        ready(stream.readuntil(empty)),
        Err(Error::InvalidArgument(m)) if m.starts_with("Separator should be")
    ));
    let with_empty: &[&[u8]] = &[b"A", b""];
    assert!(matches!(
        ready(stream.readuntil(with_empty)),
        Err(Error::InvalidArgument(m)) if m.starts_with("Separator should be")
    ));
    assert!(matches!(
        ready(stream.readuntil(&[])),
        Err(Error::InvalidArgument(m)) if m.starts_with("Separator should contain")
    ));
}

#[test]
fn readuntil_multi_chunks() {
    let aaa: &[&[u8]] = &[b"AAA"];
    let mut stream = reader();
    feed(&mut stream, b"lineAAA");
    assert_eq!(ok(stream.readuntil(aaa)), b"lineAAA");
    assert_eq!(stream.buffered(), b"");

    feed(&mut stream, b"lineAAA");
    assert_eq!(ok(stream.readuntil(aaa)), b"lineAAA");
    assert_eq!(stream.buffered(), b"");

    feed(&mut stream, b"lineAAAxxx");
    assert_eq!(ok(stream.readuntil(aaa)), b"lineAAA");
    assert_eq!(stream.buffered(), b"xxx");
}

#[test]
fn readuntil_multi_chunks_1() {
    let aaa: &[&[u8]] = &[b"aaa"];
    let mut stream = reader();
    for chunks in [
        &[&b"QWEaa"[..], b"XYaa", b"a"][..],
        &[b"QWEaa", b"XYa", b"aa"],
        &[b"aaa"],
        &[b"Xaaa"],
        &[b"XXX", b"a", b"a", b"a"],
    ] {
        let whole: Vec<u8> = chunks.concat();
        // Started before the data arrives, resumed after every chunk.
        for chunk in chunks {
            pending(stream.readuntil(aaa));
            feed(&mut stream, chunk);
        }
        assert_eq!(ok(stream.readuntil(aaa)), whole);
        assert_eq!(stream.buffered(), b"");
    }
}

#[test]
fn readuntil_eof() {
    let mut stream = reader();
    feed(&mut stream, b"some dataAA");
    stream.feed_eof();
    let error = ready(stream.readuntil(&[b"AAA"])).unwrap_err();
    assert_eq!(
        error.to_string(),
        "11 bytes read on a total of undefined expected bytes"
    );
    assert_eq!(
        error,
        Error::IncompleteRead {
            partial: b"some dataAA".to_vec(),
            expected: None
        }
    );
    assert_eq!(stream.buffered(), b"");
}

#[test]
fn readuntil_limit_found_sep() {
    let mut stream = limited(3);
    feed(&mut stream, b"some dataAA");
    let error = ready(stream.readuntil(&[b"AAA"])).unwrap_err();
    assert!(error.to_string().contains("not found"), "{error}");
    assert_eq!(stream.buffered(), b"some dataAA");

    feed(&mut stream, b"A");
    let error = ready(stream.readuntil(&[b"AAA"])).unwrap_err();
    assert!(error.to_string().contains("is found"), "{error}");
    assert_eq!(
        error,
        Error::LimitOverrun {
            consumed: 9,
            separator_found: true
        }
    );
    assert_eq!(stream.buffered(), b"some dataAAA");
}

#[test]
fn readuntil_limit_not_found_reports_consumed() {
    let mut stream = limited(3);
    feed(&mut stream, b"some dataAA");
    assert_eq!(
        ready(stream.readuntil(&[b"AAA"])),
        Err(Error::LimitOverrun {
            consumed: 9,
            separator_found: false
        })
    );
}

#[test]
fn readuntil_multiple_separators() {
    let seps: &[&[u8]] = &[b"\r", b"\n"];
    let mut stream = reader();
    feed(&mut stream, b"line 1\nline 2\r");
    assert_eq!(ok(stream.readuntil(seps)), b"line 1\n");
    assert_eq!(ok(stream.readuntil(seps)), b"line 2\r");
    assert_eq!(stream.buffered(), b"");

    // The first end position wins, even when that is the longer separator.
    feed(&mut stream, b"ABCDEFG");
    assert_eq!(ok(stream.readuntil(&[b"DEF", b"BCDE"])), b"ABCDE");
    assert_eq!(stream.buffered(), b"FG");
}

#[test]
fn readuntil_multi_separator_limit() {
    let mut stream = limited(3);
    feed(&mut stream, b"some dataA");
    let error = ready(stream.readuntil(&[b"A", b"ome dataA"])).unwrap_err();
    assert!(error.to_string().contains("is found"), "{error}");
    assert_eq!(stream.buffered(), b"some dataA");
}

#[test]
fn readuntil_equal_ends_take_the_shorter_separator_for_the_limit() {
    // b"\r\n" starts at 3 and b"\n" at 4; both end at 5. asyncio keeps the
    // shorter one, so the limit of 3 is checked against 4 and overruns.
    let mut stream = limited(3);
    feed(&mut stream, b"abc\r\n");
    assert_eq!(
        ready(stream.readuntil(&[b"\r\n", b"\n"])),
        Err(Error::LimitOverrun {
            consumed: 4,
            separator_found: true
        })
    );
    let mut stream = limited(4);
    feed(&mut stream, b"abc\r\n");
    assert_eq!(ok(stream.readuntil(&[b"\r\n", b"\n"])), b"abc\r\n");
}

#[test]
fn readuntil_multi_separator_negative_offset() {
    // The buffer fits the shortest separator but not the longest: the
    // resume offset must not go below zero.
    let seps: &[&[u8]] = &[b"A", b"long sep"];
    let mut stream = reader();
    feed(&mut stream, b"data");
    pending(stream.readuntil(seps));
    feed(&mut stream, b"Z");
    pending(stream.readuntil(seps));
    feed(&mut stream, b"Aaaa");
    assert_eq!(ok(stream.readuntil(seps)), b"dataZA");
    assert_eq!(stream.buffered(), b"aaa");
}

#[test]
fn readuntil_resumed_search_finds_separator_split_across_chunks() {
    let mut stream = reader();
    feed(&mut stream, b"xx\r");
    pending(stream.readuntil(&[b"\r\n"]));
    feed(&mut stream, b"\nyy");
    assert_eq!(ok(stream.readuntil(&[b"\r\n"])), b"xx\r\n");
}

#[test]
fn readuntil_with_other_separators_restarts_the_search() {
    let mut stream = reader();
    feed(&mut stream, b"abcXdef");
    pending(stream.readuntil(&[b"\n"]));
    assert_eq!(ok(stream.readuntil(&[b"X"])), b"abcX");
}

// --- readexactly ----------------------------------------------------------

#[test]
fn readexactly_zero_or_less() {
    let mut stream = reader();
    feed(&mut stream, DATA);
    assert_eq!(ok(stream.readexactly(0)), b"");
    assert_eq!(stream.buffered(), DATA);
    assert!(matches!(
        ready(stream.readexactly(-1)),
        Err(Error::InvalidArgument(m)) if m.contains("less than zero")
    ));
    assert_eq!(stream.buffered(), DATA);
}

#[test]
fn readexactly() {
    let mut stream = reader();
    let n = 2 * DATA.len() as i64;
    pending(stream.readexactly(n));
    feed(&mut stream, DATA);
    pending(stream.readexactly(n));
    feed(&mut stream, DATA);
    feed(&mut stream, DATA);
    assert_eq!(ok(stream.readexactly(n)), [DATA, DATA].concat());
    assert_eq!(stream.buffered(), DATA);
}

#[test]
fn readexactly_limit() {
    let mut stream = limited(3);
    feed(&mut stream, b"chunk");
    assert_eq!(ok(stream.readexactly(5)), b"chunk");
    assert_eq!(stream.buffered(), b"");
}

#[test]
fn readexactly_eof() {
    let mut stream = reader();
    let n = 2 * DATA.len() as i64;
    pending(stream.readexactly(n));
    feed(&mut stream, DATA);
    stream.feed_eof();
    let error = ready(stream.readexactly(n)).unwrap_err();
    assert_eq!(
        error,
        Error::IncompleteRead {
            partial: DATA.to_vec(),
            expected: Some(36)
        }
    );
    assert_eq!(
        error.to_string(),
        "18 bytes read on a total of 36 expected bytes"
    );
    assert_eq!(stream.buffered(), b"");
}

#[test]
fn readexactly_exception() {
    let mut stream = reader();
    feed(&mut stream, b"line\n");
    assert_eq!(ok(stream.readexactly(2)), b"li");
    stream.set_exception(Error::ConnectionReset);
    assert_eq!(ready(stream.readexactly(2)), Err(Error::ConnectionReset));
}

#[test]
fn readexactly_huge_size_waits_without_allocating_it() {
    let mut stream = reader();
    feed(&mut stream, b"abc");
    pending(stream.readexactly(i64::MAX));
    assert!(stream.capacity() < 1024);
}

// --- exceptions -----------------------------------------------------------

#[test]
fn exception() {
    let mut stream = reader();
    assert_eq!(stream.exception(), None);
    stream.set_exception(Error::Other("failed".into()));
    assert_eq!(stream.exception(), Some(&Error::Other("failed".into())));
}

#[test]
fn exception_waiter() {
    let mut stream = reader();
    pending(stream.readline());
    stream.set_exception(Error::ConnectionReset);
    assert_eq!(ready(stream.readline()), Err(Error::ConnectionReset));
}

#[test]
fn exception_cancel() {
    // A waiting read that is cancelled releases the waiter slot, so
    // setting an exception afterwards leaves no waiter behind.
    let mut stream = reader();
    pending(stream.readline());
    let mut waiter = 0;
    stream.claim_waiter(&mut waiter, Waker::noop()).unwrap();
    stream.release_waiter(waiter);
    stream.set_exception(Error::Other("message".into()));
    assert!(!stream.has_waiter());
}

#[test]
fn exception_is_checked_before_buffered_data() {
    let mut stream = reader();
    feed(&mut stream, b"line\n");
    stream.set_exception(Error::ConnectionAborted);
    assert_eq!(ready(stream.read(0)), Err(Error::ConnectionAborted));
    assert_eq!(stream.buffered(), b"line\n");
}

// --- one waiter -----------------------------------------------------------

#[test]
fn second_concurrent_read_is_an_error() {
    let mut stream = reader();
    let (mut first, mut second) = (0, 0);
    pending(stream.readline());
    stream.claim_waiter(&mut first, Waker::noop()).unwrap();
    pending(stream.read(10));
    assert_eq!(
        stream.claim_waiter(&mut second, Waker::noop()),
        Err(Error::ConcurrentRead)
    );
    // The first reader may keep waiting.
    stream.claim_waiter(&mut first, Waker::noop()).unwrap();
    stream.release_waiter(first);
    stream.claim_waiter(&mut second, Waker::noop()).unwrap();
}

// --- back-pressure --------------------------------------------------------

#[test]
fn pauses_above_twice_the_limit_and_resumes_at_the_limit() {
    let mut stream = limited(4);
    feed(&mut stream, b"12345678");
    assert!(!stream.is_paused(), "exactly 2 x limit does not pause");
    feed(&mut stream, b"9");
    assert!(stream.is_paused());
    assert_eq!(ok(stream.read(4)), b"1234");
    assert!(stream.is_paused(), "5 bytes left, above the limit");
    assert_eq!(ok(stream.read(1)), b"5");
    assert!(!stream.is_paused(), "4 bytes left, at the limit");
}

#[test]
fn waiting_for_data_resumes_a_paused_reader() {
    let mut stream = limited(2);
    feed(&mut stream, b"abcdef");
    assert!(stream.is_paused());
    pending(stream.readexactly(10));
    assert!(!stream.is_paused());
    feed(&mut stream, b"ghij");
    assert_eq!(ok(stream.readexactly(10)), b"abcdefghij");
}

// --- writer ---------------------------------------------------------------

#[test]
fn flowcontrol_mixin_set_write_limits() {
    let mut writer = WriteBuffer::new();
    writer.write(&[0; 512]).unwrap();
    assert!(matches!(
        writer.set_write_buffer_limits(Some(0), Some(1)),
        Err(Error::InvalidArgument(_))
    ));
    writer
        .set_write_buffer_limits(Some(1024), Some(128))
        .unwrap();
    assert!(writer.drain().is_ready());
    assert_eq!(writer.write_buffer_limits(), (128, 1024));
    writer
        .set_write_buffer_limits(Some(256), Some(128))
        .unwrap();
    assert!(writer.drain().is_pending());
    assert_eq!(writer.write_buffer_limits(), (128, 256));
}

#[test]
fn write_buffer_limits_defaults() {
    let mut writer = WriteBuffer::new();
    assert_eq!(writer.write_buffer_limits(), (16 * 1024, 64 * 1024));
    writer.set_write_buffer_limits(None, Some(100)).unwrap();
    assert_eq!(writer.write_buffer_limits(), (100, 400));
    writer.set_write_buffer_limits(Some(1000), None).unwrap();
    assert_eq!(writer.write_buffer_limits(), (250, 1000));
}

#[test]
fn multiple_drain() {
    // Every drain waiting on a paused writer completes once it resumes.
    let mut writer = WriteBuffer::new();
    writer.set_write_buffer_limits(Some(8), Some(2)).unwrap();
    writer.write(b"0123456789").unwrap();
    let drains = [writer.drain(), writer.drain(), writer.drain()];
    assert!(drains.iter().all(Poll::is_pending));
    writer.consume(7);
    assert!(writer.drain().is_pending(), "3 bytes left, above low water");
    writer.consume(1);
    for _ in 0..10 {
        assert_eq!(writer.drain(), Poll::Ready(Ok(())));
    }
}

#[test]
fn drain_raises() {
    // The peer went away: drain fails instead of waiting forever.
    let mut writer = WriteBuffer::new();
    writer.set_write_buffer_limits(Some(4), None).unwrap();
    writer.write(b"foo\nfoo\n").unwrap();
    assert!(writer.drain().is_pending());
    writer.connection_lost(Error::ConnectionReset);
    assert_eq!(writer.drain(), Poll::Ready(Err(Error::ConnectionReset)));
    assert_eq!(writer.write(b"foo\n"), Err(Error::ConnectionReset));
    assert_eq!(writer.write_buffer_size(), 0);
}

#[test]
fn wait_closed_on_close() {
    let mut writer = WriteBuffer::new();
    writer.write(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    assert!(!writer.is_closing());
    writer.close();
    assert!(writer.is_closing());
    assert!(writer.wait_closed().is_pending());
    // The transport sends what is left, shuts down, releases the socket.
    assert!(!writer.wants_shutdown());
    let n = writer.pending().len();
    writer.consume(n);
    assert!(writer.wants_shutdown());
    writer.shutdown_done();
    assert!(writer.wants_release());
    writer.closed_done();
    assert_eq!(writer.wait_closed(), Poll::Ready(Ok(())));
}

#[test]
fn async_writer_api_exception_after_close() {
    // A write after close is an error (asyncio drops it silently); drain
    // returns while the buffer goes out and fails as "Connection lost"
    // once the socket is gone.
    let mut writer = WriteBuffer::new();
    writer.write(b"last").unwrap();
    writer.close();
    assert_eq!(writer.write(b"data"), Err(Error::Closed));
    assert_eq!(writer.drain(), Poll::Ready(Ok(())));
    writer.consume(4);
    writer.shutdown_done();
    writer.closed_done();
    assert_eq!(writer.drain(), Poll::Ready(Err(Error::ConnectionReset)));
}

#[test]
fn drain_waiting_when_the_writer_closes_returns_normally() {
    // asyncio wakes its drain waiters without an error when the
    // connection goes after a close.
    let mut writer = WriteBuffer::new();
    writer.set_write_buffer_limits(Some(4), Some(1)).unwrap();
    writer.write(b"0123456789").unwrap();
    assert!(writer.drain().is_pending());
    writer.close();
    assert!(writer.drain_waited().is_pending(), "still being sent");
    writer.consume(10);
    writer.shutdown_done();
    writer.closed_done();
    assert_eq!(writer.drain_waited(), Poll::Ready(Ok(())));
    assert_eq!(writer.drain(), Poll::Ready(Err(Error::ConnectionReset)));
}

#[test]
fn abort_drops_the_buffer_and_lets_the_socket_go() {
    let mut writer = WriteBuffer::new();
    writer.set_write_buffer_limits(Some(4), Some(1)).unwrap();
    writer.write(b"0123456789").unwrap();
    writer.abort();
    assert_eq!(writer.write_buffer_size(), 0);
    assert!(writer.is_closing());
    assert!(!writer.wants_shutdown(), "nothing more goes out");
    assert!(writer.wants_release());
    writer.closed_done();
    assert_eq!(writer.wait_closed(), Poll::Ready(Ok(())));
}

#[test]
fn wait_closed_reports_the_error_the_connection_was_lost_with() {
    let mut writer = WriteBuffer::new();
    writer.close();
    writer.connection_lost(Error::ConnectionReset);
    assert!(writer.wants_release());
    writer.closed_done();
    assert_eq!(
        writer.wait_closed(),
        Poll::Ready(Err(Error::ConnectionReset))
    );
}

#[test]
fn write_after_write_eof_is_an_error() {
    let mut writer = WriteBuffer::new();
    writer.write(b"last").unwrap();
    writer.write_eof().unwrap();
    writer.write_eof().unwrap();
    assert!(matches!(writer.write(b"more"), Err(Error::InvalidState(_))));
    assert!(!writer.wants_shutdown(), "unsent bytes go before the FIN");
    writer.consume(4);
    assert!(writer.wants_shutdown());
}

#[test]
fn write_never_waits_and_pauses_above_high_water() {
    let mut writer = WriteBuffer::new();
    writer.write(&vec![1; 64 * 1024]).unwrap();
    assert!(
        writer.drain().is_ready(),
        "at the high-water mark: not paused"
    );
    writer.write(b"x").unwrap();
    assert!(writer.drain().is_pending());
    assert_eq!(writer.write_buffer_size(), 64 * 1024 + 1);
    writer.consume(48 * 1024);
    assert!(writer.drain().is_pending(), "16 KiB + 1 left");
    writer.consume(1);
    assert!(writer.drain().is_ready(), "at the low-water mark");
}

// --- transport failures (wasio: bytes received before a failure are kept) --

#[test]
fn transport_error_comes_after_the_buffered_bytes() {
    let mut stream = reader();
    feed(&mut stream, b"line1\npart");
    stream.feed_error(Error::ConnectionReset);
    assert_eq!(stream.exception(), Some(&Error::ConnectionReset));
    assert_eq!(ok(stream.readline()), b"line1\n");
    assert_eq!(ready(stream.readline()), Err(Error::ConnectionReset));
    assert_eq!(stream.buffered(), b"part", "the partial line is kept");
    assert_eq!(ready(stream.readexactly(10)), Err(Error::ConnectionReset));
    assert_eq!(ok(stream.read(2)), b"pa");
    assert_eq!(ready(stream.read(-1)), Err(Error::ConnectionReset));
}

#[test]
fn set_exception_takes_precedence_over_a_transport_error() {
    let mut stream = reader();
    stream.feed_error(Error::ConnectionReset);
    stream.set_exception(Error::Other("mine".into()));
    assert_eq!(stream.exception(), Some(&Error::Other("mine".into())));
    assert_eq!(ready(stream.read(1)), Err(Error::Other("mine".into())));
}
