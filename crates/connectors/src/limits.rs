//! The call limits each vendor documents, used for an integration that sets none of its
//! own. Only what the vendor writes down is here; a generic SCIM app has no documented
//! limit, so it is not paced unless its integration says so. Each limit is the lowest
//! the vendor applies to creating an account on a plan that can provision at all; a
//! workspace allowed more sets its own.

use crate::{github, google, microsoft, slack, zoom};

/// How hard an integration's SaaS may be called, across every worker.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CallLimits {
    pub requests_per_second: Option<f64>,
    pub max_concurrent_calls: Option<u32>,
}

/// The documented limits of the service `key`; none for services that document none.
pub fn vendor_limits(key: &str) -> CallLimits {
    let (requests_per_second, max_concurrent_calls) = match key {
        // `POST /Users`: 180 per minute for the whole org, every SCIM app together
        // (https://docs.slack.dev/reference/scim-api/rate-limits).
        slack::KEY => (Some(180.0 / 60.0), None),
        // Secondary limits: at most 80 content-creating requests a minute and 100
        // concurrent requests (https://docs.github.com/en/rest/using-the-rest-api/
        // rate-limits-for-the-rest-api). The hourly and daily caps above that are left
        // to the 429s, whose reset time every worker then waits for.
        github::KEY => (Some(80.0 / 60.0), Some(100)),
        // "Create users" is a Light API: 30 requests a second per account on Pro, the
        // smallest paid plan (https://developers.zoom.us/docs/api/rate-limits/).
        zoom::KEY => (Some(30.0), None),
        // Identity and access writes: 3,000 per 150 s per app and tenant
        // (https://learn.microsoft.com/graph/throttling-limits).
        microsoft::KEY => (Some(3_000.0 / 150.0), None),
        // 2,400 queries a minute per user per Cloud project by default
        // (https://developers.google.com/admin-sdk/directory/v1/limits).
        google::KEY => (Some(2_400.0 / 60.0), None),
        _ => (None, None),
    };
    CallLimits {
        requests_per_second,
        max_concurrent_calls,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_vendors_are_paced_and_a_generic_scim_app_is_not() {
        assert_eq!(vendor_limits("slack").requests_per_second, Some(3.0));
        assert_eq!(vendor_limits("github").max_concurrent_calls, Some(100));
        assert_eq!(
            vendor_limits("microsoft365").requests_per_second,
            Some(20.0)
        );
        assert_eq!(vendor_limits("google").requests_per_second, Some(40.0));
        assert_eq!(vendor_limits("scim"), CallLimits::default());
        assert_eq!(vendor_limits("nobody"), CallLimits::default());
    }
}
