//! What the command components share (feature `cli`).

use std::rc::Rc;

/// Complete at the end of standard input (or when it fails), discarding
/// what it reads: how a driver or a terminal (Ctrl-D) stops a server that
/// was started to stop at the end of its input.
pub async fn stdin_closed() {
    let stdin = wasip2::cli::stdin::get_stdin();
    let ready = Rc::new(stdin.subscribe());
    loop {
        match stdin.read(4096) {
            Ok(bytes) if bytes.is_empty() => crate::runtime::wait_for(ready.clone()).await,
            Ok(_) => {}
            Err(_) => return,
        }
    }
}
