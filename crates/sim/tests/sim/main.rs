//! The simulator seen from outside, through its router. One test binary, for build
//! time (STYLE.md).

mod admin;
mod allowance;
mod faults;
mod helpers;
mod users;
