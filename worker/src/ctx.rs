//! What every handler needs for one invocation: the configuration, the store, the transport,
//! the budget they share, and the account the request or cron step acts for.

use std::rc::Rc;

use worker::{Date, Env};

use crate::account::Account;
use crate::budget::Budget;
use crate::config::{Config, DEFAULT_ACCOUNT};
use crate::error::AppError;
use crate::store::Store;
use crate::wechat::Transport;

/// What every handler needs, for one invocation.
pub struct Ctx {
    pub env: Env,
    pub cfg: Config,
    /// D1, scoped to [`Ctx::account`] (the default account's until one is chosen).
    pub store: Store,
    pub wechat: Transport,
    pub budget: Rc<Budget>,
    /// The official account this request or cron step acts for; `None` for the routes that
    /// manage accounts and tokens.
    pub account: Option<Account>,
    /// The test clock's offset (0 unless `TEST_CLOCK=1`).
    clock_offset_ms: i64,
}

impl Ctx {
    pub async fn new(env: Env) -> Result<Ctx, AppError> {
        let cfg = Config::from_env(&env)?;
        let budget = Rc::new(Budget::new(cfg.max_queries, cfg.max_subrequests));
        let store = Store::new(env.d1("DB")?, budget.clone(), DEFAULT_ACCOUNT);
        let clock_offset_ms = if cfg.test_clock {
            store.test_clock_offset().await
        } else {
            0
        };
        Ok(Ctx {
            wechat: Transport::new(budget.clone()),
            env,
            cfg,
            store,
            budget,
            account: None,
            clock_offset_ms,
        })
    }

    /// This invocation's context for `account`: the store scoped to it, the same budget.
    pub fn with_account(&self, account: Account) -> Ctx {
        Ctx {
            env: self.env.clone(),
            cfg: self.cfg.clone(),
            store: self.store.for_account(&account.id),
            wechat: Transport::new(self.budget.clone()),
            budget: self.budget.clone(),
            account: Some(account),
            clock_offset_ms: self.clock_offset_ms,
        }
    }

    /// The account this request acts for.
    pub fn acct(&self) -> Result<&Account, AppError> {
        self.account
            .as_ref()
            .ok_or_else(|| AppError::Internal("no account chosen for this route".into()))
    }

    /// Now, in ms: the runtime's clock, plus the test offset when `TEST_CLOCK=1`.
    pub fn now(&self) -> i64 {
        Date::now().as_millis() as i64 + self.clock_offset_ms
    }
}
