-- phananh schema, SQLite flavour. Keep in step with ../postgres/0001_init.sql:
-- a contract test checks that both expose the same tables and columns.
-- Times are unix milliseconds, UTC. Booleans are 0/1.
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE wards (
  code TEXT PRIMARY KEY, name_vi TEXT NOT NULL, name_en TEXT NOT NULL, short_vi TEXT NOT NULL,
  old_names TEXT NOT NULL, geometry TEXT NOT NULL);

CREATE TABLE units (
  code TEXT PRIMARY KEY, name_vi TEXT NOT NULL, name_en TEXT NOT NULL, kind TEXT NOT NULL,
  parent TEXT, ward TEXT, email TEXT, phone TEXT, sample BIGINT NOT NULL DEFAULT 0,
  webhook_url TEXT, active BIGINT NOT NULL DEFAULT 1);

CREATE TABLE fields (
  code TEXT PRIMARY KEY, name_vi TEXT NOT NULL, name_en TEXT NOT NULL, icon TEXT NOT NULL,
  ack_hours BIGINT NOT NULL, resolve_days BIGINT NOT NULL, keywords TEXT NOT NULL,
  position BIGINT NOT NULL DEFAULT 0, active BIGINT NOT NULL DEFAULT 1);

CREATE TABLE rules (
  id INTEGER PRIMARY KEY, field TEXT NOT NULL, ward TEXT, unit TEXT NOT NULL,
  priority BIGINT NOT NULL DEFAULT 0);

CREATE TABLE calendar_days (day TEXT PRIMARY KEY, kind TEXT NOT NULL);

CREATE TABLE reports (
  id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, field TEXT NOT NULL,
  description TEXT NOT NULL, lat DOUBLE PRECISION, lon DOUBLE PRECISION, address TEXT, ward TEXT,
  channel TEXT NOT NULL, status TEXT NOT NULL, unit TEXT NOT NULL, assignee BIGINT,
  due_at BIGINT, paused_at BIGINT, duplicate_of TEXT,
  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, last_seq BIGINT NOT NULL);
CREATE INDEX reports_created ON reports (created_at, id);
CREATE INDEX reports_unit ON reports (unit, status, created_at);
CREATE INDEX reports_status ON reports (status, created_at);
CREATE INDEX reports_ward ON reports (ward, created_at);
CREATE INDEX reports_field ON reports (field, created_at);
CREATE INDEX reports_due ON reports (due_at);
CREATE INDEX reports_updated ON reports (updated_at);
CREATE INDEX reports_lat_lon ON reports (lat, lon);

CREATE TABLE events (
  report_id BIGINT NOT NULL REFERENCES reports (id), seq BIGINT NOT NULL, at BIGINT NOT NULL,
  actor_kind TEXT NOT NULL, actor_id TEXT, actor_name TEXT, kind TEXT NOT NULL,
  payload TEXT NOT NULL, PRIMARY KEY (report_id, seq));

-- Personal data, apart from the public record.
CREATE TABLE reporters (
  report_id BIGINT PRIMARY KEY REFERENCES reports (id), name TEXT, phone TEXT, email TEXT,
  channel_identity TEXT, consent BIGINT NOT NULL DEFAULT 0);
CREATE INDEX reporters_phone ON reporters (phone);
CREATE INDEX reporters_email ON reporters (email);

CREATE TABLE photos (
  id INTEGER PRIMARY KEY, report_id BIGINT NOT NULL REFERENCES reports (id), role TEXT NOT NULL,
  storage_key TEXT NOT NULL, content_type TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX photos_report ON photos (report_id);

CREATE TABLE idempotency (
  key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, report_id BIGINT NOT NULL,
  created_at BIGINT NOT NULL);

-- The outbox: written in the same transaction as the change it follows.
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL, dedupe_key TEXT UNIQUE,
  status TEXT NOT NULL, run_at BIGINT NOT NULL, attempts BIGINT NOT NULL DEFAULT 0,
  max_attempts BIGINT NOT NULL, locked_by TEXT, locked_until BIGINT, last_error TEXT,
  report_id BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);
CREATE INDEX jobs_due ON jobs (status, run_at);

CREATE TABLE users (
  id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,
  unit TEXT, password_hash TEXT NOT NULL, active BIGINT NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL);

CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users (id), csrf TEXT NOT NULL,
  lang TEXT NOT NULL DEFAULT 'vi', created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL);
