-- Calls to the hotline, as the telephone exchange reports them, and the report each led to.
CREATE TABLE calls (
  id INTEGER PRIMARY KEY, call_id TEXT NOT NULL UNIQUE, caller TEXT NOT NULL, operator_id BIGINT,
  operator TEXT, state TEXT NOT NULL, started_at BIGINT NOT NULL, answered_at BIGINT,
  ended_at BIGINT, report_id BIGINT REFERENCES reports (id));
CREATE INDEX calls_report ON calls (report_id);
-- The dashboard finds the reports with units' activity in a period.
CREATE INDEX events_kind_at ON events (kind, at);
