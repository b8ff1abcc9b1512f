-- Forwarding to units' own systems: how to reach them, and which of our reports is which of theirs.
ALTER TABLE units ADD COLUMN forward TEXT;
CREATE TABLE forwards (
  report_id BIGINT NOT NULL REFERENCES reports (id), unit TEXT NOT NULL, external_id TEXT NOT NULL,
  created_at BIGINT NOT NULL, PRIMARY KEY (report_id, unit));
CREATE INDEX forwards_external ON forwards (unit, external_id);
