-- Open311: API keys per integrator, extra questions per field, answers and media per report.
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL,
  rate_per_minute BIGINT NOT NULL, active BIGINT NOT NULL DEFAULT 1, created_at BIGINT NOT NULL,
  revoked_at BIGINT);
ALTER TABLE fields ADD COLUMN attributes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE reports ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
