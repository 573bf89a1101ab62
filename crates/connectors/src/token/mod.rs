//! Calls to APIs that take short-lived bearer tokens: the cache of the tokens, and the
//! one client that fetches, reuses and refreshes them for every such vendor.

mod cache;
mod client;

pub use cache::{AccessToken, TokenCache};
pub(crate) use client::{credential, TokenClient, TokenGrant};
