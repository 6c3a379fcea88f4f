//! The plumbing every table's file shares: the [`Store`] handle, bound parameters, one round
//! trip per `db.batch` counted against the invocation's budget, and reading results back.

use std::rc::Rc;

use serde::de::DeserializeOwned;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, D1Result};

use crate::budget::Budget;
use crate::error::AppError;

pub(super) fn n(v: i64) -> JsValue {
    JsValue::from_f64(v as f64)
}

pub(super) fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}

pub(super) fn opt(v: Option<&str>) -> JsValue {
    v.map_or(JsValue::NULL, JsValue::from_str)
}

pub(super) fn opt_n(v: Option<i64>) -> JsValue {
    v.map_or(JsValue::NULL, n)
}

/// The rows of one statement's result.
pub(super) fn rows<T: DeserializeOwned>(
    results: &[D1Result],
    i: usize,
) -> Result<Vec<T>, AppError> {
    match results.get(i) {
        Some(r) => Ok(r.results()?),
        None => Err(AppError::Internal(format!("D1 returned no result {i}"))),
    }
}

pub(super) fn first<T: DeserializeOwned>(
    results: &[D1Result],
    i: usize,
) -> Result<Option<T>, AppError> {
    Ok(rows(results, i)?.into_iter().next())
}

/// Whether statement `i` of a commit changed a row (a guarded update that matched).
pub fn changed(results: &[D1Result], i: usize) -> bool {
    results
        .get(i)
        .and_then(|r| r.meta().ok().flatten())
        .and_then(|m| m.changes)
        .unwrap_or(0)
        > 0
}

/// The ids statement `i` of a commit returned (`RETURNING id`): the rows it changed.
pub fn returned_ids(results: &[D1Result], i: usize) -> Result<Vec<String>, AppError> {
    #[derive(serde::Deserialize)]
    struct Id {
        id: String,
    }
    Ok(rows::<Id>(results, i)?.into_iter().map(|r| r.id).collect())
}

/// The D1 database, with every statement counted against the invocation's budget.
pub struct Store {
    /// Shared by the stores of one invocation (one per account in a cron run).
    pub(super) db: Rc<D1Database>,
    budget: Rc<Budget>,
    /// The account every statement is about: its rows are the only ones read or written.
    account: String,
}

impl Store {
    pub fn new(db: D1Database, budget: Rc<Budget>, account: &str) -> Self {
        Store {
            db: Rc::new(db),
            budget,
            account: account.to_owned(),
        }
    }

    /// The same database and budget, about another account.
    pub fn for_account(&self, account: &str) -> Store {
        Store {
            db: self.db.clone(),
            budget: self.budget.clone(),
            account: account.to_owned(),
        }
    }

    /// The account, as a bound parameter.
    pub(super) fn acc(&self) -> JsValue {
        s(&self.account)
    }

    pub(super) fn sql(&self, sql: &str, args: &[JsValue]) -> Result<D1PreparedStatement, AppError> {
        Ok(self.db.prepare(sql).bind(args)?)
    }

    /// Runs statements as one `db.batch`: one round trip, one transaction (all or nothing).
    pub(super) async fn batch(
        &self,
        stmts: Vec<D1PreparedStatement>,
    ) -> Result<Vec<D1Result>, AppError> {
        if stmts.is_empty() {
            return Ok(Vec::new());
        }
        self.budget
            .spend_queries(u32::try_from(stmts.len()).unwrap_or(u32::MAX))?;
        Ok(self.db.batch(stmts).await?)
    }

    /// One statement's first row, in a round trip of its own.
    pub(super) async fn one<T: DeserializeOwned>(
        &self,
        sql: &str,
        args: &[JsValue],
    ) -> Result<Option<T>, AppError> {
        let r = self.batch(vec![self.sql(sql, args)?]).await?;
        first(&r, 0)
    }

    /// One statement's rows, in a round trip of its own.
    pub(super) async fn all<T: DeserializeOwned>(
        &self,
        sql: &str,
        args: &[JsValue],
    ) -> Result<Vec<T>, AppError> {
        let r = self.batch(vec![self.sql(sql, args)?]).await?;
        rows(&r, 0)
    }

    /// Writes a decision: every statement applies, or none does.
    pub async fn commit(&self, stmts: Vec<D1PreparedStatement>) -> Result<Vec<D1Result>, AppError> {
        self.batch(stmts).await
    }
}
