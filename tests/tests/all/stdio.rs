//! The suite's capture of a guest's output (`wasio_tests::stdio`), through
//! the `Output` a guest's options carry: what the end-to-end tests rely
//! on to wait for a server's announcements and to see what a guest
//! printed.

use std::time::Duration;

use bytes::Bytes;
use wasio_host::Output;
use wasio_tests::stdio::Capture;
use wasmtime_wasi::p2::{OutputStream, StreamError};

/// A stream the guest would write through, as a store opens one.
fn stream(output: &Output) -> Box<dyn OutputStream> {
    let Output::Stream(shared) = output else {
        panic!("a capture is a stream output");
    };
    shared.p2_stream()
}

fn write(stream: &mut Box<dyn OutputStream>, bytes: &'static [u8]) {
    stream.write(Bytes::from_static(bytes)).unwrap();
}

#[tokio::test]
async fn contents_show_writes_while_a_sink_lives() {
    let capture = Capture::new();
    let output = capture.output();
    let mut first = stream(&output);
    let mut second = stream(&output);
    write(&mut first, b"one ");
    write(&mut second, b"two");
    assert_eq!(capture.contents(), b"one two");
    assert_eq!(capture.text(), "one two");
    assert!(!capture.has_ended());
    drop((first, second));
    assert!(!capture.has_ended());
    drop(output);
    assert!(capture.has_ended());
}

#[tokio::test]
async fn output_past_the_limit_is_dropped_and_the_stream_closes() {
    let capture = Capture::with_limit(5);
    let output = capture.output();
    let mut stream = stream(&output);
    assert_eq!(stream.check_write().unwrap(), 5);
    write(&mut stream, b"abc");
    assert_eq!(stream.check_write().unwrap(), 2);
    write(&mut stream, b"defg");
    assert_eq!(capture.contents(), b"abcde");
    assert!(matches!(stream.check_write(), Err(StreamError::Closed)));
}

#[tokio::test]
async fn wait_for_line_sees_a_line_written_later_in_pieces() {
    let capture = Capture::new();
    let output = capture.output();
    let mut stream = stream(&output);
    let waiter = tokio::spawn({
        let capture = capture.clone();
        async move {
            capture
                .wait_for_line(|line| line.strip_prefix("listening on ").map(str::to_owned))
                .await
        }
    });
    write(&mut stream, b"starting\r\nlistening on 127.0");
    tokio::task::yield_now().await;
    write(&mut stream, b".0.1:80\n");
    let found = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("the line was seen")
        .unwrap();
    assert_eq!(found.as_deref(), Some("127.0.0.1:80"));
}

#[tokio::test]
async fn wait_for_returns_none_once_the_output_ends() {
    let capture = Capture::new();
    let output = capture.output();
    let mut stream = stream(&output);
    let waiter = tokio::spawn({
        let capture = capture.clone();
        async move { capture.wait_for_line(|_| Some(())).await }
    });
    write(&mut stream, b"no newline");
    tokio::task::yield_now().await;
    drop((stream, output));
    let found = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("the end was seen")
        .unwrap();
    assert_eq!(found, None);
}

#[tokio::test]
async fn wait_for_waits_until_a_sink_exists() {
    let capture = Capture::new();
    let waiting = capture.wait_for(|bytes| (!bytes.is_empty()).then_some(()));
    assert!(
        tokio::time::timeout(Duration::from_millis(20), waiting)
            .await
            .is_err(),
        "an unused capture has not ended"
    );
}
