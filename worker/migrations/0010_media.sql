-- Media the worker made (issue 27; issue 26's checks before a send): every id an upload route
-- answered, so a job page shows what an id is (kind, name, titles and covers) and a job whose
-- temporary media will have expired when it starts is refused before it is stored.
--
-- One row per upload, written in the same commit as the call's ledger rows, only after WeChat
-- answered with the id. `source` is core's endpoint name: uploadimg (no media_id, only the url
-- to put in an article), uploadnews, uploadvideo, media/upload (temporary: expires_at is WeChat's
-- created_at + 3 days), material/add_material (permanent: expires_at NULL; an image's WeChat
-- url kept so a cover can be shown).
CREATE TABLE media (
  id            INTEGER PRIMARY KEY,
  account_id    TEXT NOT NULL,
  media_id      TEXT,                -- WeChat's id; NULL for uploadimg, which answers a url only
  source        TEXT NOT NULL,       -- core's EndpointName of the upload
  kind          TEXT NOT NULL,       -- image | voice | video | thumb | news | mpvideo
  name          TEXT,                -- the file name, or a video's title
  url           TEXT,                -- uploadimg's url; add_material's url of an image
  articles_json TEXT,                -- uploadnews: [{"title", "thumbMediaId"}]
  created_at    INTEGER NOT NULL,    -- Unix ms
  expires_at    INTEGER              -- Unix ms; NULL: kept until deleted, or not known
);
CREATE UNIQUE INDEX media_account_media_id ON media(account_id, media_id);
CREATE INDEX media_account_created ON media(account_id, created_at);
