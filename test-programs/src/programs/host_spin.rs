//! Computes for ITERATIONS rounds without waiting on anything: a guest
//! that never yields on its own, which only the host's CPU-time limit (or
//! dropping the run) stops. Prints `ok: ...` when it finishes.

use std::hint::black_box;

use wasio_test_programs::arg;

pub fn main() {
    let iterations: u64 = arg(0, "an iteration count");
    let mut x = 1u64;
    for i in 0..iterations {
        x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
    }
    println!("ok: {iterations} iterations ({x:x})");
}
