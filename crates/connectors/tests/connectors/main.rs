//! The SCIM connector against the simulator, over real HTTP on a loopback port. One test
//! binary, for build time (STYLE.md).

mod helpers;
mod independent_server;
mod provisioning;
mod transport;
