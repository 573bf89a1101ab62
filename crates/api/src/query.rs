//! Query strings: every parameter named, so a typo in a filter is refused rather than
//! silently returning everything, and each value parsed with a clear error.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::problem::Problem;

/// Query parameters, refused when unknown so a typo in a filter never silently
/// returns everything.
pub struct Query {
    params: HashMap<String, String>,
}

impl Query {
    pub fn new(params: HashMap<String, String>, known: &[&str]) -> Result<Self, Problem> {
        if let Some(unknown) = params.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(Problem::bad_parameter(
                unknown,
                format!("unknown parameter; expected one of {}", known.join(", ")),
            ));
        }
        Ok(Self { params })
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.params.get(name).filter(|v| !v.is_empty()).cloned()
    }

    pub fn parsed<T>(&self, name: &str, expected: &str) -> Result<Option<T>, Problem>
    where
        T: std::str::FromStr,
    {
        self.string(name)
            .map(|raw| {
                raw.parse()
                    .map_err(|_| Problem::bad_parameter(name, format!("must be {expected}")))
            })
            .transpose()
    }

    /// Named but empty is refused, as any other non-time: `?to=` is no date-time.
    pub fn time(&self, name: &str) -> Result<Option<DateTime<Utc>>, Problem> {
        self.params
            .get(name)
            .map(|raw| {
                DateTime::parse_from_rfc3339(raw)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| Problem::bad_parameter(name, "must be an RFC 3339 time"))
            })
            .transpose()
    }

    /// Page size: 50 unless asked, at most 200.
    pub fn limit(&self) -> Result<i64, Problem> {
        match self.parsed::<i64>("limit", "an integer from 1 to 200")? {
            None => Ok(50),
            Some(n) if (1..=200).contains(&n) => Ok(n),
            Some(_) => Err(Problem::bad_parameter(
                "limit",
                "must be an integer from 1 to 200",
            )),
        }
    }

    pub fn cursor(&self) -> Result<Option<provisioner_core::cursor::Cursor>, Problem> {
        self.string("cursor")
            .map(|raw| {
                provisioner_core::cursor::Cursor::decode(&raw)
                    .map_err(|e| Problem::bad_parameter("cursor", e.to_string()))
            })
            .transpose()
    }
}

/// The cursor of the page after `rows`: only a full page may have one, and it starts
/// after the page's last row.
pub fn next_cursor<T>(
    rows: &[T],
    limit: i64,
    key: impl Fn(&T) -> provisioner_core::cursor::Cursor,
) -> Option<String> {
    (rows.len() as i64 == limit)
        .then(|| rows.last())
        .flatten()
        .map(|last| key(last).encode())
}
