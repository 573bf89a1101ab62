//! Which vendor a workspace imitates and the credentials its callers must show.
//!
//! A SCIM workspace is named in the path; the vendors whose paths carry no workspace
//! (Slack, Zoom, Microsoft Graph, Google) are told apart by the credentials: a static
//! token, or an access token issued by the simulated token endpoint and bound to the
//! workspace that issued it.

use serde::{Deserialize, Serialize};

/// What `PUT /_sim/workspaces/{ws}` accepts when it names a vendor; the body
/// `{"token": "…"}` alone still means a SCIM workspace.
/// Deserialize only: it holds secrets, so nothing echoes it back.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "vendor", rename_all = "snake_case", deny_unknown_fields)]
pub enum WorkspaceSetup {
    /// Generic SCIM 2.0 under `/scim/{ws}/v2`, with a bearer token.
    Scim { token: String },
    /// Slack's SCIM API under `/scim/v2`, with an OAuth token holding the admin scope.
    Slack { token: String },
    /// A GitHub organization, with a token allowed to administer it.
    Github { token: String, org: String },
    /// A Zoom account, with a Server-to-Server OAuth app's credentials.
    Zoom {
        account_id: String,
        client_id: String,
        client_secret: String,
    },
    /// A Microsoft Entra tenant, with an app registration's client credentials.
    Microsoft {
        tenant_id: String,
        client_id: String,
        client_secret: String,
    },
    /// A Google Workspace customer, with a service account allowed domain-wide
    /// delegation. `public_key_pem` is the service account key's public half, PKCS#1
    /// (`-----BEGIN RSA PUBLIC KEY-----`), against which assertions are verified.
    Google {
        client_email: String,
        public_key_pem: String,
        customer_id: String,
        domain: String,
    },
}

/// Secrets never reach a log through `{:?}`, even in a test double.
impl std::fmt::Debug for WorkspaceSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WorkspaceSetup::{:?}(<redacted>)", self.vendor())
    }
}

/// The wire formats the simulator speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vendor {
    Scim,
    Slack,
    Github,
    Zoom,
    Microsoft,
    Google,
}

impl WorkspaceSetup {
    pub fn vendor(&self) -> Vendor {
        match self {
            Self::Scim { .. } => Vendor::Scim,
            Self::Slack { .. } => Vendor::Slack,
            Self::Github { .. } => Vendor::Github,
            Self::Zoom { .. } => Vendor::Zoom,
            Self::Microsoft { .. } => Vendor::Microsoft,
            Self::Google { .. } => Vendor::Google,
        }
    }

    /// The token a caller presents as is, for vendors that issue long-lived ones.
    pub(crate) fn static_token(&self) -> Option<&str> {
        match self {
            Self::Scim { token } | Self::Slack { token } | Self::Github { token, .. } => {
                Some(token)
            }
            _ => None,
        }
    }

    pub(crate) fn check(&self) -> Result<(), &'static str> {
        let fields: Vec<&str> = match self {
            Self::Scim { token } | Self::Slack { token } => vec![token],
            Self::Github { token, org } => vec![token, org],
            Self::Zoom {
                account_id,
                client_id,
                client_secret,
            } => vec![account_id, client_id, client_secret],
            Self::Microsoft {
                tenant_id,
                client_id,
                client_secret,
            } => vec![tenant_id, client_id, client_secret],
            Self::Google {
                client_email,
                public_key_pem,
                customer_id,
                domain,
            } => vec![client_email, public_key_pem, customer_id, domain],
        };
        if fields.iter().any(|field| field.trim().is_empty()) {
            return Err("every field of the workspace setup must be non-empty");
        }
        Ok(())
    }
}
