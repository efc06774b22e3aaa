//! Tries one network operation that the host's policy decides, and checks
//! the outcome: `host_policy OP TARGET EXPECT`.
//!
//! - `connect TARGET`: open a connection (HOST:PORT or unix:PATH), send
//!   `hello from the guest\n` and close.
//! - `listen TARGET`: listen on HOST:PORT (`*` for every address) or
//!   unix:PATH, print `listening on ADDR`, echo one line of one client,
//!   then close the client and the server.
//!
//! EXPECT is `ok` (the operation works) or `denied` (it fails with
//! `access-denied`, the one error a policy refusal may look like).

use wasio::{Error, ServerOptions};
use wasio_test_programs::{arg, check_eq, connect, fail, host_port, ok};

pub fn main() {
    let op: String = arg(0, "connect or listen");
    let target: String = arg(1, "a target");
    let expect: String = arg(2, "ok or denied");
    wasio::block_on(async {
        let outcome = match op.as_str() {
            "connect" => connect_and_send(&target).await,
            "listen" => listen_and_echo(&target).await,
            other => fail(format!("unknown operation {other:?}")),
        };
        let what = format!("{op} {target}");
        match expect.as_str() {
            "ok" => ok(outcome, &what),
            "denied" => check_eq(outcome, Err(Error::AccessDenied), &what),
            other => fail(format!("unknown expectation {other:?}")),
        }
        println!("ok: {what} {expect}");
    });
}

async fn connect_and_send(target: &str) -> Result<(), Error> {
    let (_reader, writer) = connect(target).await?;
    writer.write(b"hello from the guest\n")?;
    writer.close();
    writer.wait_closed().await
}

async fn listen_and_echo(target: &str) -> Result<(), Error> {
    let server = match target.strip_prefix("unix:") {
        #[cfg(feature = "p2")]
        Some(path) => wasio::listen_unix(path, ServerOptions::default())?,
        _ => {
            let (host, port) = host_port(target);
            let host = (host != "*").then_some(host);
            wasio::listen(host, port, ServerOptions::default()).await?
        }
    };
    println!("listening on {}", server.sockets()[0]);
    let (reader, writer) = server.accept().await?;
    let line = reader.readline().await?;
    writer.write(&line)?;
    writer.close();
    writer.wait_closed().await?;
    server.close();
    Ok(())
}
