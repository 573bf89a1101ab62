use std::process::ExitStatus;
use std::time::Duration;

/// Why a process of the system could not be started, did not come up, or a call to
/// it failed.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{name} exited with {status}:\n{tail}")]
    Exited {
        name: String,
        status: ExitStatus,
        tail: String,
    },
    #[error("{name} did not answer {url} within {timeout:?}:\n{tail}")]
    NotReady {
        name: String,
        url: String,
        timeout: Duration,
        tail: String,
    },
    #[error("`provisioner {command}` failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: ExitStatus,
        stderr: String,
    },
    #[error("`provisioner {command}` printed {stdout:?}")]
    Unreadable {
        command: String,
        stdout: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{what} answered {status}: {body}")]
    Refused {
        what: String,
        status: reqwest::StatusCode,
        body: String,
    },
    #[error("{what}")]
    Http {
        what: String,
        #[source]
        source: reqwest::Error,
    },
}

impl HarnessError {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }
}
