//! Which addresses connectors may call. A base URL is typed by a tenant, so without a
//! rule it could reach the loopback interface or the private network the service runs
//! in (server-side request forgery). Names are checked when they are resolved, which
//! also defeats a name that resolves to a public address once and a private one later.
//! Behind an egress proxy the proxy resolves names; only literal addresses are checked.

use std::error::Error;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddressRefused {
    host: String,
    address: IpAddr,
}

impl fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let literal = self.host.trim_start_matches('[').trim_end_matches(']');
        if literal == self.address.to_string() {
            write!(f, "{}", self.host)?;
        } else {
            write!(f, "{} ({})", self.host, self.address)?;
        }
        f.write_str(
            " is a loopback or private address; connectors call only public addresses \
             unless PROVISIONER_ALLOW_PRIVATE_NETWORKS=true",
        )
    }
}

impl Error for AddressRefused {}

/// Refuses a URL whose host is a literal non-public address; names are left to
/// [`PublicOnly`], because the HTTP client resolves literals without asking it.
pub(crate) fn check_literal(url: &Url) -> Result<(), AddressRefused> {
    let address = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(Host::Domain(_)) | None => return Ok(()),
    };
    if is_public(address) {
        return Ok(());
    }
    Err(AddressRefused {
        host: url.host_str().unwrap_or_default().to_owned(),
        address,
    })
}

/// Finds the refusal in the chain of errors a failed request carries.
pub(crate) fn refusal_in<'a>(error: &'a (dyn Error + 'static)) -> Option<&'a AddressRefused> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(refused) = error.downcast_ref::<AddressRefused>() {
            return Some(refused);
        }
        current = error.source();
    }
    None
}

/// A resolver that keeps only public addresses, and refuses a name that has none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|address| is_public(address.ip()))
                .collect();
            if let (true, Some(first)) = (public.is_empty(), resolved.first()) {
                let refused = AddressRefused {
                    host,
                    address: first.ip(),
                };
                return Err(Box::new(refused) as Box<dyn Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

pub(crate) fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, ..] = v4.octets();
    let shared = a == 100 && (64..128).contains(&b); // RFC 6598 carrier-grade NAT
    let benchmarking = a == 198 && (b == 18 || b == 19); // RFC 2544
    !(v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || a == 0
        || a >= 240
        || shared
        || benchmarking)
}

fn is_public_v6(v6: Ipv6Addr) -> bool {
    let first = v6.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00; // fc00::/7
    let link_local = first & 0xffc0 == 0xfe80; // fe80::/10
    !(v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || unique_local || link_local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_and_link_local_addresses_are_not_public() {
        for address in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(address.parse().unwrap()), "{address}");
        }
        for address in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(is_public(address.parse().unwrap()), "{address}");
        }
    }

    #[test]
    fn a_literal_private_address_in_a_url_is_refused_with_the_way_out() {
        let url = Url::parse("http://169.254.169.254/latest/meta-data").unwrap();
        let refused = check_literal(&url).unwrap_err();
        assert!(refused
            .to_string()
            .contains("PROVISIONER_ALLOW_PRIVATE_NETWORKS"));
        assert!(check_literal(&Url::parse("https://example.com/scim").unwrap()).is_ok());
    }
}
