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
    #[error("the database answered unexpectedly")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("migrations failed")]
    Migration(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(db) => match db.code().as_deref() {
                Some("23505") => Self::AlreadyExists(constraint_subject(db.constraint())),
                Some("23503") => Self::MissingReference(constraint_subject(db.constraint())),
                // serialization failure, deadlock, too many connections, shutting down
                Some("40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03") => {
                    Self::Unavailable(Box::new(error))
                }
                _ => Self::Unexpected(Box::new(error)),
            },
            sqlx::Error::Io(_)
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
