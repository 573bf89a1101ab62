//! One module per SaaS: each holds all that is known about its vendor (its key, its
//! descriptor and schemas, its retry policy and call limits with the vendor's sources,
//! how its answers are classified, and its connector) and exposes it as one
//! [`VendorModule`](crate::vendor::VendorModule) the catalog lists.

pub(crate) mod github;
pub(crate) mod google;
pub(crate) mod listed;
pub(crate) mod microsoft;
pub(crate) mod scim;
pub(crate) mod slack;
pub(crate) mod zoom;
