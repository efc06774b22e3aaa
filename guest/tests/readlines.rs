//! `readlines`, the batched `readline`: every complete line buffered in
//! one piece, each line one `readline` would return. The examples pin the
//! window (`limit + 1` bytes), the fall-back to `readline` and end of
//! file; the property checks that, for any input, chunking and limit, the
//! lines and errors are exactly those of `readline` called again and again.

#![cfg(not(target_os = "wasi"))]

#[allow(dead_code)]
mod support;

use std::task::Poll;

use bytes::Bytes;
use wasio::core::{Error, StreamReader};

#[track_caller]
fn ok(poll: Poll<Result<Bytes, Error>>) -> Vec<u8> {
    match poll {
        Poll::Ready(Ok(bytes)) => bytes.into(),
        other => panic!("expected bytes, got {other:?}"),
    }
}

#[test]
fn readlines_takes_every_complete_line_and_leaves_the_partial_one() {
    let mut reader = StreamReader::default();
    reader.feed_data(b"one\ntwo\nthr").unwrap();
    assert_eq!(ok(reader.readlines()), b"one\ntwo\n");
    assert_eq!(reader.buffered(), b"thr");
    assert!(reader.readlines().is_pending());
    reader.feed_data(b"ee\nfour\nfi").unwrap();
    assert_eq!(ok(reader.readlines()), b"three\nfour\n");
    reader.feed_eof();
    assert_eq!(ok(reader.readlines()), b"fi");
    assert_eq!(ok(reader.readlines()), b"");
}

#[test]
fn readlines_that_waited_takes_every_line_that_arrived_since() {
    let mut reader = StreamReader::default();
    reader.feed_data(b"par").unwrap();
    assert!(reader.readlines().is_pending());
    reader.feed_data(b"tial\nnext\nla").unwrap();
    assert_eq!(ok(reader.readlines()), b"partial\nnext\n");
    assert_eq!(reader.buffered(), b"la");
}

#[test]
fn readlines_stops_at_the_last_newline_within_limit_plus_one_bytes() {
    let mut reader = StreamReader::new(8).unwrap();
    // "12345678\n" is 8 bytes before its newline: the longest line allowed.
    reader.feed_data(b"12345678\nabc\nde\n").unwrap();
    assert_eq!(ok(reader.readlines()), b"12345678\n");
    assert_eq!(ok(reader.readlines()), b"abc\nde\n");
}

#[test]
fn readlines_reports_an_over_long_line_as_readline_does() {
    let mut reader = StreamReader::new(4).unwrap();
    reader.feed_data(b"ab\n123456\nx\n").unwrap();
    assert_eq!(ok(reader.readlines()), b"ab\n");
    assert!(matches!(
        reader.readlines(),
        Poll::Ready(Err(Error::LimitOverrun {
            separator_found: true,
            ..
        }))
    ));
    assert_eq!(ok(reader.readlines()), b"x\n");
}

#[test]
fn readlines_fails_with_the_readers_exception() {
    let mut reader = StreamReader::default();
    reader.feed_data(b"line\n").unwrap();
    reader.set_exception(Error::ConnectionReset);
    assert_eq!(reader.readlines(), Poll::Ready(Err(Error::ConnectionReset)));
    assert_eq!(reader.buffered(), b"line\n");
}

mod property {
    use super::*;
    use proptest::prelude::*;
    use support::model;

    /// What a run of reads yields: each line on its own, errors by name.
    #[derive(Debug, PartialEq)]
    enum Event {
        Line(Vec<u8>),
        Failed(String),
        End,
    }

    /// Feed `chunks`, then end of file; after each, read (`readlines` or
    /// `readline`) until a read waits.
    fn events(limit: usize, chunks: &[Vec<u8>], batched: bool) -> Vec<Event> {
        let mut reader = StreamReader::new(limit).unwrap();
        let mut events = Vec::new();
        let mut read_all = |reader: &mut StreamReader| {
            for _ in 0..10_000 {
                let poll = if batched {
                    reader.readlines()
                } else {
                    reader.readline()
                };
                match poll {
                    Poll::Pending => return,
                    Poll::Ready(Ok(bytes)) if bytes.is_empty() => {
                        events.push(Event::End);
                        return;
                    }
                    Poll::Ready(Ok(bytes)) => events.extend(
                        bytes
                            .split_inclusive(|&b| b == b'\n')
                            .map(|line| Event::Line(line.to_vec())),
                    ),
                    Poll::Ready(Err(error)) => events.push(Event::Failed(format!("{error:?}"))),
                }
            }
            panic!("the reads never stopped");
        };
        for chunk in chunks {
            reader.feed_data(chunk).unwrap();
            read_all(&mut reader);
        }
        reader.feed_eof();
        read_all(&mut reader);
        events
    }

    fn data() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::sample::select(&b"ab\n\nX"[..]), 0..300)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn readlines_yields_exactly_what_readline_yields(
            data in data(),
            cuts in prop::collection::vec(0usize..1000, 0..30),
            limit in 1usize..24,
        ) {
            let chunks = model::split(&data, &cuts);
            prop_assert_eq!(events(limit, &chunks, true), events(limit, &chunks, false));
        }
    }
}
