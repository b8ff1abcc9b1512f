-- Daily counts behind the public statistics, kept up to date in the same transaction as
-- every change to a report (see counts.rs). day = local (UTC+7) day number of created_at.
CREATE TABLE report_counts (
  day BIGINT NOT NULL, field TEXT NOT NULL, ward TEXT NOT NULL, unit TEXT NOT NULL, status TEXT NOT NULL,
  on_time BIGINT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (day, field, ward, unit, status, on_time)) WITHOUT ROWID;
INSERT INTO report_counts (day, field, ward, unit, status, on_time, n)
  SELECT (created_at + 25200000) / 86400000, field, COALESCE(ward, ''), unit, status,
    CASE WHEN status IN ('resolved', 'closed') AND due_at IS NOT NULL AND updated_at <= due_at THEN 1 ELSE 0 END,
    COUNT(*) FROM reports GROUP BY 1, 2, 3, 4, 5, 6;

-- Citizens who follow a report ("the same problem"): personal data, never public.
CREATE TABLE followers (
  id INTEGER PRIMARY KEY, report_id BIGINT NOT NULL REFERENCES reports (id),
  email TEXT, phone TEXT, token TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, cancelled_at BIGINT);
CREATE INDEX followers_report ON followers (report_id);
CREATE UNIQUE INDEX followers_report_email ON followers (report_id, email);
