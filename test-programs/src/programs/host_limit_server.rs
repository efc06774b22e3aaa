//! `start_server` under a connection limit of two (its listening socket
//! and one client): prints `listening on ADDR`; each client gets one line
//! echoed, and is closed at its end of file (`closed client N`). A client
//! that arrives while another is connected is refused by the host; the
//! server must go on serving the clients after it. Exits once two clients
//! have been served (waiting at most 30 s).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use wasio::{ServerOptions, StreamReader, StreamWriter};
use wasio_test_programs::{check_eq, ok};

async fn serve(reader: StreamReader, writer: StreamWriter, served: Rc<Cell<usize>>) {
    let line = ok(reader.readline().await, "client's line");
    ok(writer.write(&line), "echo");
    ok(reader.read(-1).await, "client's end of file");
    writer.close();
    ok(writer.wait_closed().await, "close the client");
    served.set(served.get() + 1);
    println!("closed client {}", served.get());
}

pub fn main() {
    wasio::block_on(async {
        let served = Rc::new(Cell::new(0));
        let counter = served.clone();
        let server = ok(
            wasio::start_server(
                move |reader, writer| serve(reader, writer, counter.clone()),
                Some("127.0.0.1"),
                0,
                ServerOptions::default(),
            )
            .await,
            "start_server",
        );
        println!("listening on {}", server.sockets()[0]);
        for _ in 0..3000 {
            if served.get() >= 2 {
                break;
            }
            wasio::sleep(Duration::from_millis(10)).await;
        }
        check_eq(served.get(), 2, "clients served");
        check_eq(server.is_serving(), true, "is_serving");
        println!("ok: served two clients");
    });
}
