//! Opens a connection to TARGET (HOST:PORT or unix:PATH) that must fail
//! with the error EXPECT, given by its WIT name: `connection-refused`,
//! `name-unresolvable` or `access-denied`.

use wasio::Error;
use wasio_test_programs::{arg, check_eq, connect, fail};

pub fn main() {
    let target: String = arg(0, "a target");
    let expect: String = arg(1, "an error name");
    let want = match expect.as_str() {
        "connection-refused" => Error::ConnectionRefused,
        "name-unresolvable" => Error::NameUnresolvable,
        "access-denied" => Error::AccessDenied,
        other => fail(format!("unknown error name {other:?}")),
    };
    wasio::block_on(async {
        let got = connect(&target).await.map(|_| ());
        check_eq(got, Err(want), &format!("connect to {target}"));
        println!("ok: {expect}");
    });
}
