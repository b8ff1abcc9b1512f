-- Photos uploaded and not yet part of a report or a resolution: private (not served) and
-- deleted after 24 hours if nothing uses them.
CREATE TABLE uploads (storage_key TEXT PRIMARY KEY, created_at BIGINT NOT NULL);
CREATE INDEX uploads_created ON uploads (created_at);

-- Resolution photos are listed with their report too, so serving a photo can tell whose it is.
INSERT INTO photos (report_id, role, storage_key, content_type, created_at)
  SELECT report_id, 'resolution', json_extract(payload, '$.photo'), 'image/jpeg', at FROM events
  WHERE kind = 'resolved' AND json_extract(payload, '$.photo') IS NOT NULL;
CREATE INDEX photos_key ON photos (storage_key);

-- Followers confirm their address before they hear anything (double opt-in). Those who
-- followed before this version confirmed nothing, but were already hearing: keep them.
ALTER TABLE followers ADD COLUMN confirmed_at BIGINT;
ALTER TABLE followers ADD COLUMN confirm_token TEXT;
UPDATE followers SET confirmed_at = created_at;
CREATE UNIQUE INDEX followers_confirm ON followers (confirm_token);
