//! Opens CLIENTS connections to a native line-echo server at TARGET at
//! once, from tasks of one component, each exchanging LINES lines; every
//! echo must come back on its own connection, in order.

use std::rc::Rc;

use wasio_test_programs::{arg, check_eq, connect, ok};

pub fn main() {
    let target: Rc<str> = arg::<String>(0, "a target").into();
    let clients: usize = arg(1, "a client count");
    let lines: usize = arg(2, "a line count");
    wasio::block_on(async {
        let tasks: Vec<_> = (0..clients)
            .map(|client| {
                let target = target.clone();
                wasio::spawn(async move {
                    let (reader, writer) = ok(connect(&target).await, "connect");
                    // Pairs of lines: written in one burst, then both echoes read.
                    for pair in (0..lines).step_by(2) {
                        let sent: Vec<String> = (pair..lines.min(pair + 2))
                            .map(|line| format!("client {client} line {line}\n"))
                            .collect();
                        ok(writer.writelines(&sent), "writelines");
                        for line in sent {
                            check_eq(
                                ok(reader.readline().await, "readline"),
                                line.into_bytes(),
                                "echo",
                            );
                        }
                    }
                    writer.close();
                    ok(writer.wait_closed().await, "wait_closed");
                })
            })
            .collect();
        for task in tasks {
            task.await;
        }
        println!("ok: {clients} clients x {lines} lines");
    });
}
