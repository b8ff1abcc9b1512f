-- Moderation (issue 14): whether a field's reports wait for review before their words
-- and photos are public; whether a report's words and photos are public yet
-- ('published', 'review', 'hidden'), the text a moderator wrote for the public, and per
-- photo whether it is hidden and the key of its redacted public copy.
ALTER TABLE reports ADD COLUMN publication TEXT NOT NULL DEFAULT 'published';
ALTER TABLE reports ADD COLUMN public_text TEXT;
ALTER TABLE photos ADD COLUMN hidden BIGINT NOT NULL DEFAULT 0;
ALTER TABLE photos ADD COLUMN public_key TEXT;
CREATE INDEX reports_review ON reports (created_at) WHERE publication = 'review';
ALTER TABLE fields ADD COLUMN review BIGINT NOT NULL DEFAULT 0;
