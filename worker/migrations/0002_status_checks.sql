-- A submitted batch whose MASSSENDJOBFINISH never arrives is asked about with mass/get (cron.rs,
-- core's plan::status_check). While a batch is `submitted`, next_attempt_at is its next check.
ALTER TABLE batches ADD COLUMN submitted_at INTEGER;          -- when WeChat accepted it
ALTER TABLE batches ADD COLUMN status_checks INTEGER NOT NULL DEFAULT 0;  -- mass/get checks so far
UPDATE batches SET submitted_at = updated_at WHERE state = 'submitted';
