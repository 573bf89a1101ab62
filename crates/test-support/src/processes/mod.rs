//! The whole system as processes: the real `provisioner` binary's subcommands run as
//! children, each logging to a file of its own, waited on with deadlines, signalled,
//! and killed when dropped so that a failed run leaves nothing running. The end-to-end
//! tests, `make bench` and `make chaos` all start their processes through this.

mod api;
mod error;
mod launcher;
mod process;

pub use api::{ApiClient, SimAdmin};
pub use error::HarnessError;
pub use launcher::{Launcher, Tenant, KEEP_LOGS_VAR};
pub use process::{Process, Signal};

/// A port nobody listens on right now, for a child to bind.
pub fn free_port() -> Result<u16, HarnessError> {
    let io = |source| HarnessError::io("finding a free port", source);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(io)?;
    Ok(listener.local_addr().map_err(io)?.port())
}

#[cfg(test)]
mod tests;
