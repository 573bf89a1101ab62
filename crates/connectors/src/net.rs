//! Which addresses connectors may call. A base URL is typed by a tenant, so without a
//! rule it could reach the loopback interface or the private network the service runs
//! in (server-side request forgery). Names are checked when they are resolved, which
//! also defeats a name that resolves to a public address once and a private one later.
//! Behind an egress proxy the proxy resolves names; only literal addresses are checked.
//! A test that lets a fuzzer choose base URLs narrows the rule to loopback, so that no
//! test ever sends traffic off the machine.

use std::error::Error;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The addresses a client may connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    Public,
    /// 127.0.0.0/8 and ::1 only.
    Loopback,
}

impl Reach {
    fn allows(self, address: IpAddr) -> bool {
        match self {
            Self::Public => is_public(address),
            Self::Loopback => is_loopback(address),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddressRefused {
    host: String,
    address: IpAddr,
    reach: Reach,
}

impl fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let literal = self.host.trim_start_matches('[').trim_end_matches(']');
        if literal == self.address.to_string() {
            write!(f, "{}", self.host)?;
        } else {
            write!(f, "{} ({})", self.host, self.address)?;
        }
        f.write_str(match self.reach {
            Reach::Public => {
                " is a loopback or private address; connectors call only public addresses \
                 unless PROVISIONER_ALLOW_PRIVATE_NETWORKS=true"
            }
            Reach::Loopback => {
                " is not a loopback address; this client calls only 127.0.0.0/8 and ::1"
            }
        })
    }
}

impl Error for AddressRefused {}

/// Refuses a URL whose host is a literal address out of `reach`; names are left to
/// [`Within`], because the HTTP client resolves literals without asking it.
pub(crate) fn check_literal(url: &Url, reach: Reach) -> Result<(), AddressRefused> {
    let address = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(Host::Domain(_)) | None => return Ok(()),
    };
    if reach.allows(address) {
        return Ok(());
    }
    Err(AddressRefused {
        host: url.host_str().unwrap_or_default().to_owned(),
        address,
        reach,
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

/// A resolver that keeps only the addresses within its reach, and refuses a name that
/// has none.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Within(pub(crate) Reach);

impl Resolve for Within {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let reach = self.0;
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|address| reach.allows(address.ip()))
                .collect();
            if let (true, Some(first)) = (allowed.is_empty(), resolved.first()) {
                let refused = AddressRefused {
                    host,
                    address: first.ip(),
                    reach,
                };
                return Err(Box::new(refused) as Box<dyn Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
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

fn is_loopback(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.is_loopback(),
            None => v6.is_loopback(),
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
        let refused = check_literal(&url, Reach::Public).unwrap_err();
        assert!(refused
            .to_string()
            .contains("PROVISIONER_ALLOW_PRIVATE_NETWORKS"));
        let public = Url::parse("https://example.com/scim").unwrap();
        assert!(check_literal(&public, Reach::Public).is_ok());
    }

    #[test]
    fn loopback_reach_refuses_public_and_private_addresses_and_keeps_loopback() {
        for url in [
            "https://93.184.216.34/scim",
            "https://[2606:2800:220:1::1]/scim",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let refused = check_literal(&Url::parse(url).unwrap(), Reach::Loopback);
            assert!(refused.is_err(), "{url}");
        }
        for url in [
            "http://127.0.0.1:8080/",
            "http://127.8.9.10/",
            "http://[::1]/",
        ] {
            assert!(
                check_literal(&Url::parse(url).unwrap(), Reach::Loopback).is_ok(),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn loopback_reach_refuses_a_name_that_resolves_to_a_public_address() {
        // A literal address resolves without any network, so the test stays offline.
        let name: Name = "93.184.216.34".parse().unwrap();
        let refusal = Within(Reach::Loopback).resolve(name).await.err().unwrap();
        assert!(refusal.downcast_ref::<AddressRefused>().is_some());
        let name: Name = "127.0.0.1".parse().unwrap();
        let kept: Vec<SocketAddr> = Within(Reach::Loopback)
            .resolve(name)
            .await
            .unwrap()
            .collect();
        assert_eq!(kept.len(), 1);
    }
}
