-- Who created each job, and the Chinese twins of the texts the admin API shows (issue 26).
--
-- `jobs.created_by`: the caller of POST /api/jobs as JSON, {"tokenId", "label", "role"}
-- (`tokenId` null and label "ADMIN_TOKEN" for the deployment's secret), kept as it was when the
-- job was made (a token revoked later still names its jobs). NULL for jobs made before this
-- migration: nobody recorded who made them, and the API shows `createdBy: null`.
ALTER TABLE jobs ADD COLUMN created_by TEXT;

-- The Chinese beside each English text a batch or a push carries, made where the English is
-- (core for WeChat's rules and error codes, with WeChat's own Chinese message where one
-- exists). NULL for rows written before this migration: the API shows null for those.
ALTER TABLE batches ADD COLUMN last_outcome_zh TEXT;
ALTER TABLE batches ADD COLUMN fail_reason_zh TEXT;
ALTER TABLE events ADD COLUMN reason_zh TEXT;
