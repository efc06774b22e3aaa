//! Allocates MIB mebibytes one at a time, writing to and keeping each:
//! over its memory limit the allocation fails and the guest aborts, which
//! the host reports as the memory limit. Prints `ok: allocated MIB MiB`
//! when it gets them all.

use std::hint::black_box;

use wasio_test_programs::arg;

pub fn main() {
    let mib: usize = arg(0, "a size in MiB");
    let mut kept = Vec::with_capacity(mib);
    for i in 0..mib {
        let mut chunk = vec![0u8; 1 << 20];
        chunk.fill(i as u8);
        kept.push(black_box(chunk));
    }
    println!("ok: allocated {} MiB", black_box(&kept).len());
}
