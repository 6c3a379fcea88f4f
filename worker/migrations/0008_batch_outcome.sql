-- How each batch ended, by core's one outcome rule (issue 25): a MASSSENDJOBFINISH push and a
-- mass/get check that tell the same end give the same outcome, and the job's state follows.
--
-- `outcome_json` is core's BatchOutcome as the admin API answers it: {"delivery", "en", "zh"},
-- `delivery` one of delivered, partly_delivered, refused (the job list counts it). NULL while
-- the end is not known, and for rows written before this migration: their outcome is derived
-- by core from the stored result, progress or fail reason when they are read.
ALTER TABLE batches ADD COLUMN outcome_json TEXT;
