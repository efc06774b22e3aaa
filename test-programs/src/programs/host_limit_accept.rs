//! A server under a connection limit of two (its listening socket and one
//! client), taking clients with `accept`: prints `listening on ADDR`,
//! echoes one line of the first client; the second client is refused by
//! the host, which `accept` reports; once the first client has left and
//! is closed (`released the first client`), a third client is accepted
//! and served.

use wasio::{Error, ServerOptions};
use wasio_test_programs::{check_eq, fail, ok};

pub fn main() {
    wasio::block_on(async {
        let server = ok(
            wasio::listen(Some("127.0.0.1"), 0, ServerOptions::default()).await,
            "listen",
        );
        println!("listening on {}", server.sockets()[0]);
        let (reader, writer) = ok(server.accept().await, "accept the first client");
        let line = ok(reader.readline().await, "first client's line");
        ok(writer.write(&line), "echo");
        match server.accept().await {
            Err(Error::Other(message)) if message.contains("limit") => {}
            Err(error) => fail(format!(
                "second client: want the limit error, got {error:?}"
            )),
            Ok(_) => fail("second client accepted past the limit"),
        }
        check_eq(
            ok(reader.read(-1).await, "first client's end of file"),
            Vec::new(),
            "bytes after the line",
        );
        writer.close();
        ok(writer.wait_closed().await, "close the first client");
        println!("released the first client");
        let (reader, writer) = ok(server.accept().await, "accept the third client");
        let line = ok(reader.readline().await, "third client's line");
        ok(writer.write(&line), "echo");
        writer.close();
        ok(writer.wait_closed().await, "close the third client");
        println!("ok: served two clients, refused one");
    });
}
