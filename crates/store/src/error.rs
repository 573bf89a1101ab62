#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule refused the write (SQLSTATE 23505); the string names what
    /// already exists.
    #[error("{0} already exists")]
    AlreadyExists(&'static str),
    /// A referenced row does not exist (SQLSTATE 23503).
    #[error("a referenced {0} does not exist")]
    MissingReference(&'static str),
    /// PostgreSQL could not be reached or the transaction was aborted; trying again
    /// later may succeed.
    #[error("the database is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// PostgreSQL refused the statement for what it holds (a value it cannot store, a
    /// rule it breaks); the same statement would be refused again.
    #[error("PostgreSQL refused the statement (SQLSTATE {sqlstate}): {message}")]
    Refused { sqlstate: String, message: String },
    /// A column holds a value this version does not know.
    #[error("column {column} holds {value:?}, which is none of {expected}")]
    UnknownValue {
        column: &'static str,
        value: String,
        expected: String,
    },
    #[error("the database answered unexpectedly")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("migrations failed")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// Reads a name stored in `column` as one of `known`, by their `name`s.
    pub(crate) fn decode<T: Copy>(
        column: &'static str,
        value: &str,
        known: &[T],
        name: impl Fn(T) -> &'static str,
    ) -> Result<T, Self> {
        known
            .iter()
            .copied()
            .find(|candidate| name(*candidate) == value)
            .ok_or_else(|| Self::UnknownValue {
                column,
                value: value.to_owned(),
                expected: known
                    .iter()
                    .map(|k| name(*k))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// Whether an SQLSTATE says the server could not do the work now rather than that the
/// statement is wrong: by class, as PostgreSQL's appendix A groups them.
fn is_transient_sqlstate(code: &str) -> bool {
    match code.get(..2) {
        // connection exception, transaction rollback (serialization failure,
        // deadlock), insufficient resources (too many connections, out of memory or
        // disk), system error (I/O)
        Some("08" | "40" | "53" | "58") => true,
        // operator intervention: shutting down, cannot connect now; a cancelled query
        // (57014, a statement timeout) is worth another try too
        Some("57") => true,
        _ => false,
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(db) => match db.code().as_deref() {
                Some("23505") => Self::AlreadyExists(constraint_subject(db.constraint())),
                Some("23503") => Self::MissingReference(constraint_subject(db.constraint())),
                Some(code) if is_transient_sqlstate(code) => Self::Unavailable(Box::new(error)),
                code => Self::Refused {
                    sqlstate: code.unwrap_or("unknown").to_owned(),
                    message: db.message().to_owned(),
                },
            },
            // A connection broken midway shows as a protocol error as often as an I/O
            // one.
            sqlx::Error::Io(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Tls(_) => Self::Unavailable(Box::new(error)),
            _ => Self::Unexpected(Box::new(error)),
        }
    }
}

fn constraint_subject(constraint: Option<&str>) -> &'static str {
    match constraint {
        Some(c) if c.starts_with("integrations") => "integration",
        Some(c) if c.starts_with("employees") => "employee",
        Some(c) if c.starts_with("provisioning_requests") => "request",
        Some(c) if c.starts_with("api_tokens") => "token",
        _ => "row",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outage_or_an_aborted_transaction_is_transient_by_its_class() {
        for code in [
            "08006", "40001", "40P01", "53300", "57P01", "57P03", "58030",
        ] {
            assert!(is_transient_sqlstate(code), "{code}");
        }
    }

    #[test]
    fn a_value_or_a_rule_postgresql_refuses_is_not_transient() {
        for code in ["22021", "22001", "23514", "23502", "42P01", "XX000"] {
            assert!(!is_transient_sqlstate(code), "{code}");
        }
    }

    #[test]
    fn an_unknown_name_is_a_typed_error_naming_the_known_ones() {
        use provisioner_core::RequestState;
        let err = StoreError::decode("state", "done", &RequestState::ALL, RequestState::as_str)
            .unwrap_err();
        assert!(!err.is_transient());
        let text = err.to_string();
        assert!(
            text.contains("\"done\"") && text.contains("in_progress"),
            "{text}"
        );
    }
}
