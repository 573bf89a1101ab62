//! The SCIM connector against the simulator, over real HTTP on a loopback port. One test
//! binary, for build time (STYLE.md).

mod github;
mod google;
mod helpers;
mod independent_server;
mod microsoft;
mod provisioning;
mod slack;
mod transport;
mod zoom;
