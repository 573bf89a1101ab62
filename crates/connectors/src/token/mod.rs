//! Calls to APIs that take bearer tokens: the client of those whose integration holds
//! a long-lived token, and the one client that fetches, caches and refreshes
//! short-lived tokens for every vendor that issues them.

mod bearer;
mod cache;
mod client;

pub(crate) use bearer::BearerClient;
pub use cache::{AccessToken, TokenCache};
pub(crate) use client::{credential, TokenClient, TokenGrant};
