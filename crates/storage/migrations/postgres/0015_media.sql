-- Video and voice notes (issue 13): remuxed without metadata when uploaded, private until a
-- report uses them (`report_id` set when it is filed), deleted after a day if none does.
-- `poster_key` is a video's poster frame (a JPEG in the same store).
CREATE TABLE media (
  storage_key TEXT PRIMARY KEY, report_id BIGINT REFERENCES reports (id), kind TEXT NOT NULL,
  content_type TEXT NOT NULL, poster_key TEXT, size_bytes BIGINT NOT NULL,
  duration_ms BIGINT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX media_report ON media (report_id);
CREATE INDEX media_created ON media (created_at);
