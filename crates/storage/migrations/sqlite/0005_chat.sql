-- Chat deliveries (Messenger, Viber), kept before the platform gets its 200 and processed
-- after; (provider, message_id) makes a retried or replayed delivery a no-op.
CREATE TABLE chat_inbox (
  id INTEGER PRIMARY KEY, provider TEXT NOT NULL, message_id TEXT NOT NULL, user_id TEXT NOT NULL,
  at BIGINT NOT NULL, event TEXT NOT NULL, raw TEXT NOT NULL, received_at BIGINT NOT NULL,
  processed_at BIGINT, UNIQUE (provider, message_id));
CREATE INDEX chat_inbox_pending ON chat_inbox (provider, user_id, processed_at);

-- Each person's conversation (personal data: the platform id links to a person).
CREATE TABLE chat_users (
  provider TEXT NOT NULL, user_id TEXT NOT NULL, state TEXT NOT NULL, version BIGINT NOT NULL,
  last_inbound_at BIGINT, subscribed BIGINT NOT NULL, updated_at BIGINT NOT NULL,
  PRIMARY KEY (provider, user_id));

-- What was said, both ways, for the report's history in the console.
CREATE TABLE chat_log (
  id INTEGER PRIMARY KEY, provider TEXT NOT NULL, user_id TEXT NOT NULL, inbound BIGINT NOT NULL,
  text TEXT NOT NULL, at BIGINT NOT NULL);
CREATE INDEX chat_log_user ON chat_log (provider, user_id, at);
