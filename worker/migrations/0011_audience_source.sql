-- Audiences built from WeChat (issue 27): the followers of a tag (`user/tag/get`) or of the whole
-- account (`user/get`), paged through by the cron across runs within each invocation's budget,
-- then sealed like an uploaded audience. An audience is still its account's (`account_id`, 0006)
-- and every statement on it filters on it.
--
-- A sourced audience starts `collecting`. Each page the cron takes is stored as an
-- `audience_raw` row (part = the page's number, as uploads number their parts) in the same
-- commit that moves `cursor` on and counts it, guarded by `version`: a run stopped anywhere
-- leaves the cursor before the page it did not store, and a page stored twice is impossible
-- (the guard, and the raw row's key). Once WeChat's list is done (`listed`), a run with the
-- budget for it seals the audience (`sealed`); a final WeChat error ends it `failed`.
ALTER TABLE audiences ADD COLUMN name TEXT;                  -- the operator's, at most 200 chars
ALTER TABLE audiences ADD COLUMN source_tag_id INTEGER;      -- a tag's followers
ALTER TABLE audiences ADD COLUMN source_everyone INTEGER NOT NULL DEFAULT 0; -- 1: every follower
ALTER TABLE audiences ADD COLUMN cursor TEXT NOT NULL DEFAULT '';  -- next_openid to resume from
ALTER TABLE audiences ADD COLUMN listed INTEGER NOT NULL DEFAULT 0; -- 1: WeChat's list is done
ALTER TABLE audiences ADD COLUMN pages INTEGER NOT NULL DEFAULT 0;  -- pages stored
ALTER TABLE audiences ADD COLUMN collected INTEGER NOT NULL DEFAULT 0; -- OpenIDs stored (repeats included)
ALTER TABLE audiences ADD COLUMN total INTEGER;              -- followers in all, when user/get said
ALTER TABLE audiences ADD COLUMN fail_reason TEXT;
ALTER TABLE audiences ADD COLUMN fail_reason_zh TEXT;

-- The cron's one query for accounts with due work looks for collecting audiences too.
CREATE INDEX audiences_collecting ON audiences(state, account_id) WHERE state = 'collecting';
