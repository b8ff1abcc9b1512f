//! Statements built at run time (multi-row inserts, `IN (…)` lists, optional filters):
//! one type for a bound value ([`Val`]) and one placeholder scheme ([`Args`]).
//!
//! Fixed statements keep writing `$1, $2, …` in their text, which both backends accept.

use sqlx::Any;
use sqlx::any::AnyArguments;

use crate::{Backend, Result};

/// A value bound to a statement built at run time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    I(Option<i64>),
    F(Option<f64>),
    S(Option<String>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::I(Some(v))
    }
}

impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::F(Some(v))
    }
}

impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::S(Some(v))
    }
}

impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::S(Some(v.to_string()))
    }
}

pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, Any, AnyArguments<'q>>;
pub(crate) type AnyQueryAs<'q, O> = sqlx::query::QueryAs<'q, Any, O, AnyArguments<'q>>;

/// The values of one statement, bound in the order their placeholders appear in its text.
///
/// Placeholders are anonymous `?` on SQLite (with thousands of numbered parameters in one
/// statement, looking up each parameter's name is quadratic there) and numbered `$n` on
/// PostgreSQL. So the text must be written in the order the values are pushed: a value's
/// placeholder is the next one in the text.
pub(crate) struct Args {
    backend: Backend,
    values: Vec<Val>,
}

impl Args {
    pub(crate) fn new(backend: Backend) -> Args {
        Args {
            backend,
            values: Vec::new(),
        }
    }

    /// Binds `v` and writes its placeholder at the end of `sql`.
    pub(crate) fn push(&mut self, sql: &mut String, v: impl Into<Val>) {
        let v = v.into();
        // sqlx 0.8's `Any` binds a NULL `f64` as a `float4` NULL, and PostgreSQL keeps the
        // parameter types of the first preparation of a statement's text: the same text
        // then bound with a real `f64` fails ("incorrect binary data format"). A NULL float
        // is therefore written into the text, so each shape of a statement has its own
        // preparation and a float parameter is always bound as a float8.
        if let Val::F(None) = v {
            sql.push_str("NULL");
            return;
        }
        self.values.push(v);
        match self.backend {
            Backend::Sqlite => sql.push('?'),
            Backend::Postgres => {
                sql.push('$');
                sql.push_str(&self.values.len().to_string());
            }
        }
    }

    /// Binds `v` and returns its placeholder.
    pub(crate) fn mark(&mut self, v: impl Into<Val>) -> String {
        let mut s = String::new();
        self.push(&mut s, v);
        s
    }

    /// Binds every value of `vs` and writes their placeholders, comma-separated.
    pub(crate) fn push_list<V: Into<Val>>(
        &mut self,
        sql: &mut String,
        vs: impl IntoIterator<Item = V>,
    ) {
        for (i, v) in vs.into_iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            self.push(sql, v);
        }
    }

    /// `sql` with these values bound.
    pub(crate) fn query(self, sql: &str) -> AnyQuery<'_> {
        let mut q = sqlx::query(sql);
        for v in self.values {
            q = match v {
                Val::I(v) => q.bind(v),
                Val::F(v) => q.bind(v),
                Val::S(v) => q.bind(v),
            };
        }
        q
    }

    /// `sql` with these values bound, read as `O`.
    pub(crate) fn query_as<O>(self, sql: &str) -> AnyQueryAs<'_, O>
    where
        O: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let mut q = sqlx::query_as::<_, O>(sql);
        for v in self.values {
            q = match v {
                Val::I(v) => q.bind(v),
                Val::F(v) => q.bind(v),
                Val::S(v) => q.bind(v),
            };
        }
        q
    }
}

/// Bound parameters stay well under SQLite's limit (32,766) and PostgreSQL's (65,535).
pub(crate) const MAX_PARAMS: usize = 30_000;

/// `INSERT INTO {table} VALUES (...), (...) {suffix}` in as few statements as the parameter
/// limits allow, returning what `suffix` returns (if anything).
pub(crate) async fn bulk_insert<O>(
    backend: Backend,
    tx: &mut sqlx::Transaction<'static, Any>,
    table: &str,
    rows: Vec<Vec<Val>>,
    suffix: &str,
) -> Result<Vec<O>>
where
    O: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let mut out = Vec::new();
    let Some(width) = rows.first().map(Vec::len) else {
        return Ok(out);
    };
    let per_statement = (MAX_PARAMS / width).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = format!("INSERT INTO {table} VALUES ");
        let mut args = Args::new(backend);
        for (r, row) in rows.by_ref().take(per_statement).enumerate() {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            args.push_list(&mut sql, row);
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(suffix);
        let q = args.query_as::<O>(&sql);
        if suffix.contains("RETURNING") {
            out.extend(q.fetch_all(&mut **tx).await?);
        } else {
            q.fetch_all(&mut **tx).await?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_values() {
        for (backend, expected) in [
            (
                Backend::Sqlite,
                "a = ? AND b IN (?, ?) AND c = ? AND d = NULL",
            ),
            (
                Backend::Postgres,
                "a = $1 AND b IN ($2, $3) AND c = $4 AND d = NULL",
            ),
        ] {
            let mut args = Args::new(backend);
            let mut sql = format!("a = {}", args.mark(1_i64));
            sql.push_str(" AND b IN (");
            args.push_list(&mut sql, ["x", "y"]);
            sql.push_str(") AND c = ");
            args.push(&mut sql, 2.5_f64);
            sql.push_str(" AND d = ");
            args.push(&mut sql, Val::F(None));
            assert_eq!(sql, expected);
            assert_eq!(
                args.values,
                [Val::I(Some(1)), "x".into(), "y".into(), Val::F(Some(2.5))]
            );
        }
    }
}
