//! Audiences collected from WeChat: the followers of a tag (`user/tag/get`) or of the whole
//! account (`user/get`), paged through across cron runs and then sealed like an uploaded
//! audience ([`super::AudienceSealer`]).
//!
//! The cron's [`super::CronTurn`] works on them with what the account's share of the run leaves
//! after its due batches and overdue checks (sends first): [`CronTurn::with_collecting`] hands
//! it the audiences that are still collecting, and its polls then give
//! [`super::Step::Collect`] (one page: build the request with [`CollectStep::pager`], call, and
//! hand the answer to [`CronTurn::on_collect_outcome`]) and [`super::Step::Seal`] (the list is
//! done: seal it). What [`Collected`] says to store is one commit: the page's OpenIDs with the
//! cursor after them, so a run that stops anywhere neither loses nor repeats a page (the
//! driver's commit is guarded, and a page asked again after a lost commit is the same page).
//!
//! A WeChat error that waiting can cure (busy, a rate or daily limit, an unreadable answer)
//! leaves the audience as it was for the next run; a refused token is refreshed and the page
//! asked once more in the turn; any other error ends the audience with a reason in English and
//! Chinese (WeChat's own message from the error table, e.g. 45159 非法的 tag_id).
//!
//! [`CronTurn::with_collecting`]: super::CronTurn::with_collecting
//! [`CronTurn::on_collect_outcome`]: super::CronTurn::on_collect_outcome

use super::turn::Spend;
use crate::error_code::{ErrorClass, ReplyError};
use crate::followers::{FollowerPager, FollowerSource, PagerError};
use crate::limits::MAX_OPENIDS_PER_SEND;

/// An audience still collecting, as the driver stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collecting {
    /// Whose followers.
    pub source: FollowerSource,
    /// The `next_openid` to resume from (empty: from the start).
    pub cursor: String,
    /// Whether WeChat's list is done: only the seal is left.
    pub listed: bool,
    /// Pages stored so far.
    pub pages: u64,
    /// OpenIDs stored so far (repeats included; the seal drops them).
    pub collected: u64,
}

/// What collecting costs the driver, in its units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectCosts {
    /// One page: the call, and the commit of its OpenIDs with the cursor.
    pub page: Spend,
    /// The seal's queries that do not grow with the audience (its state, the uploads' cleanup).
    pub seal_fixed: Spend,
    /// Stored pages one read of the seal brings.
    pub seal_pages_per_read: u32,
    /// Chunks one statement of the seal stores.
    pub seal_chunks_per_insert: u32,
    /// The most one run can give a seal (the driver's whole budget less what a turn needs
    /// before it): a list whose seal would cost more could never be sealed, so it ends
    /// `failed` at the page that makes it so instead of collecting forever.
    pub seal_max: Spend,
}

impl CollectCosts {
    /// Why a list of `pages` pages holding `openids` OpenIDs can never be sealed, in English
    /// and in Chinese; `None` while its seal fits in [`CollectCosts::seal_max`].
    pub fn too_large(&self, pages: u64, openids: u64) -> Option<(String, String)> {
        let need = self.seal(pages, openids);
        if need.fits_in(self.seal_max) {
            return None;
        }
        let (need, max) = (need.queries, self.seal_max.queries);
        Some((
            format!(
                "the list has reached {openids} OpenIDs in {pages} pages: sealing it would take {need} D1 queries, more than a cron run can give it ({max}); choose a smaller tag, or raise D1_QUERIES_PER_INVOCATION on a paid plan"
            ),
            format!(
                "名单已达 {openids} 个 OpenID（{pages} 页）：封存需要 {need} 次 D1 查询，超过一次定时任务所能提供的 {max} 次；请选择粉丝较少的标签，或在付费套餐上调高 D1_QUERIES_PER_INVOCATION"
            ),
        ))
    }

    /// What sealing `pages` stored pages holding `openids` OpenIDs costs: its reads, its chunk
    /// inserts (at most ⌈openids / 10,000⌉ chunks: repeats only make fewer) and the rest.
    pub fn seal(&self, pages: u64, openids: u64) -> Spend {
        let reads = pages.div_ceil(u64::from(self.seal_pages_per_read.max(1)));
        let chunks = openids.div_ceil(MAX_OPENIDS_PER_SEND as u64);
        let inserts = chunks.div_ceil(u64::from(self.seal_chunks_per_insert.max(1)));
        let queries = u32::try_from(reads.saturating_add(inserts)).unwrap_or(u32::MAX);
        self.seal_fixed.plus(Spend::new(queries, 0))
    }
}

/// A page to collect: build the request with `pager.next_request`, send it with the token, and
/// hand the answer to [`super::CronTurn::on_collect_outcome`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectStep {
    /// The audience (index into the driver's list given to `with_collecting`).
    pub audience: usize,
    /// The pager, resumed at the stored cursor.
    pub pager: FollowerPager,
    pub(super) before: Collecting,
    pub(super) token_retried: bool,
}

/// What a page's answer makes of the audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collected {
    /// Store the page's OpenIDs, the cursor and the counts in one guarded commit.
    Page {
        /// The page's OpenIDs, in WeChat's order (none for the empty page that ends a list).
        openids: Vec<String>,
        /// The cursor to resume from.
        cursor: String,
        /// Pages stored once this commits.
        pages: u64,
        /// OpenIDs stored once this commits.
        collected: u64,
        /// The account's follower count, when `user/get` said it.
        total: Option<u64>,
        /// Whether the list is done (the seal comes next).
        listed: bool,
    },
    /// Nothing to store: the same page is asked again later (why, for the log).
    Again {
        /// Why.
        why: String,
    },
    /// The audience ends failed.
    Failed {
        /// Why, in English.
        reason: String,
        /// Why, in Chinese.
        reason_zh: String,
    },
}

/// What the turn does after an answer (besides what it tells the driver).
pub(super) enum Next {
    /// The same audience goes on at the front (a page taken, or the page again after a
    /// token refresh).
    Continue(Collecting, bool),
    /// The audience waits for the next run (or has ended).
    Leave,
    /// The token was refused: refresh it before the next call, and ask the page once more
    /// (`None`: it was the second refusal; the audience waits for the next run).
    RefreshThen(Option<Collecting>),
}

/// Reads one page's answer for `step`.
pub(super) fn settle(mut step: CollectStep, status: Option<u16>, body: &[u8]) -> (Collected, Next) {
    let path = step.pager.endpoint().path();
    match status {
        None => return again(format!("{path}: no answer")),
        Some(200) => {}
        Some(s) => return again(format!("{path}: HTTP {s}")),
    }
    match step.pager.feed(body) {
        Ok(page) => {
            let before = &step.before;
            let after = Collecting {
                source: before.source,
                cursor: step.pager.cursor().to_owned(),
                listed: page.done,
                pages: before.pages + 1,
                collected: before.collected + page.openids.len() as u64,
            };
            let collected = Collected::Page {
                openids: page.openids,
                cursor: after.cursor.clone(),
                pages: after.pages,
                collected: after.collected,
                total: page.total,
                listed: after.listed,
            };
            (collected, Next::Continue(after, false))
        }
        Err(PagerError::Reply(ReplyError::Api(e))) => match e.class() {
            ErrorClass::RefreshToken => (
                Collected::Again {
                    why: format!("{path}: {e}"),
                },
                Next::RefreshThen((!step.token_retried).then_some(step.before)),
            ),
            ErrorClass::Retry | ErrorClass::Quota => again(format!("{path}: {e}")),
            ErrorClass::Duplicate | ErrorClass::Fatal => {
                let (en, zh) = match e.known {
                    Some(k) => (k.en, k.zh),
                    None => ("an error code wxmass does not know", "未知的错误码"),
                };
                failed(
                    format!(
                        "WeChat refused {path}: error {} ({en}); server said {:?}",
                        e.code, e.server_message
                    ),
                    format!("微信拒绝了 {path}：错误码 {}（{zh}）", e.code),
                )
            }
        },
        Err(PagerError::Reply(e)) => again(format!("{path}: unreadable answer: {e}")),
        Err(e) => failed(
            format!("{path}: {e}"),
            format!("{path}：关注者列表无法继续翻页（{e}）"),
        ),
    }
}

fn again(why: String) -> (Collected, Next) {
    (Collected::Again { why }, Next::Leave)
}

fn failed(reason: String, reason_zh: String) -> (Collected, Next) {
    (Collected::Failed { reason, reason_zh }, Next::Leave)
}

#[cfg(test)]
mod tests {
    use super::*;

    const COSTS: CollectCosts = CollectCosts {
        page: Spend::new(2, 1),
        seal_fixed: Spend::new(2, 0),
        seal_pages_per_read: 20,
        seal_chunks_per_insert: 5,
        seal_max: Spend::new(40, 50),
    };

    fn step(source: FollowerSource, cursor: &str) -> CollectStep {
        let before = Collecting {
            source,
            cursor: cursor.into(),
            listed: false,
            pages: 3,
            collected: 30,
        };
        CollectStep {
            audience: 0,
            pager: FollowerPager::resume(source, cursor),
            before,
            token_retried: false,
        }
    }

    const A: &str = "ocYxcuAEy30bX0NXmGn4ypqx3tI0";
    const B: &str = "ocYxcuBt0mRugKZ7tGAHPnUaOW7Y";

    #[test]
    fn a_seal_costs_its_reads_and_its_chunk_inserts() {
        // 1,000,000 OpenIDs in 100 pages: 5 reads, 100 chunks in 20 inserts, and the fixed 2.
        assert_eq!(COSTS.seal(100, 1_000_000), Spend::new(27, 0));
        assert_eq!(COSTS.seal(3, 25_001), Spend::new(2 + 1 + 1, 0));
        assert_eq!(COSTS.seal(0, 0), Spend::new(2, 0));
    }

    #[test]
    fn a_page_moves_the_cursor_and_the_counts_together() {
        let body =
            format!(r#"{{"count":2,"data":{{"openid":["{A}","{B}"]}},"next_openid":"{B}"}}"#);
        let (c, _) = settle(step(FollowerSource::Tag(2), A), Some(200), body.as_bytes());
        assert_eq!(
            c,
            Collected::Page {
                openids: vec![A.into(), B.into()],
                cursor: B.into(),
                pages: 4,
                collected: 32,
                total: None,
                listed: false,
            }
        );
    }

    #[test]
    fn the_same_page_asked_twice_gives_the_same_commit() {
        // A run that dies between WeChat's answer and its commit leaves the cursor where it
        // was: the next run asks the same page and is told to store the same counts, not more.
        let body =
            format!(r#"{{"total":5,"count":1,"data":{{"openid":["{B}"]}},"next_openid":""}}"#);
        let first = settle(
            step(FollowerSource::Everyone, A),
            Some(200),
            body.as_bytes(),
        )
        .0;
        let again = settle(
            step(FollowerSource::Everyone, A),
            Some(200),
            body.as_bytes(),
        )
        .0;
        assert_eq!(first, again);
        let Collected::Page {
            collected,
            listed,
            total,
            ..
        } = first
        else {
            panic!("expected a page")
        };
        assert_eq!((collected, listed, total), (31, true, Some(5)));
    }

    #[test]
    fn an_unknown_tag_fails_with_wechat_s_chinese_message() {
        let body = br#"{"errcode":45159,"errmsg":"invalid tag id"}"#;
        let (c, _) = settle(step(FollowerSource::Tag(999), ""), Some(200), body);
        let Collected::Failed { reason, reason_zh } = c else {
            panic!("expected a failure, got {c:?}")
        };
        assert!(
            reason.contains("45159") && reason.contains("user/tag/get"),
            "{reason}"
        );
        assert!(reason_zh.contains("非法的 tag_id"), "{reason_zh}");
    }

    #[test]
    fn busy_limits_and_lost_answers_wait_for_the_next_run() {
        for body in [
            &br#"{"errcode":-1,"errmsg":"system error"}"#[..],
            br#"{"errcode":45009,"errmsg":"reach max api daily quota limit"}"#,
            b"<html>bad gateway</html>",
        ] {
            let (c, _) = settle(step(FollowerSource::Everyone, ""), Some(200), body);
            assert!(matches!(c, Collected::Again { .. }), "{c:?}");
        }
        let (c, _) = settle(step(FollowerSource::Everyone, ""), None, b"");
        assert!(matches!(c, Collected::Again { .. }));
        let (c, _) = settle(step(FollowerSource::Everyone, ""), Some(502), b"");
        assert!(matches!(c, Collected::Again { .. }));
    }

    #[test]
    fn a_page_that_repeats_its_cursor_fails_instead_of_looping() {
        let body = format!(r#"{{"count":1,"data":{{"openid":["{B}"]}},"next_openid":"{A}"}}"#);
        let (c, _) = settle(step(FollowerSource::Tag(2), A), Some(200), body.as_bytes());
        assert!(matches!(c, Collected::Failed { .. }), "{c:?}");
    }
}
