-- Zalo OA token pairs. A refresh token works once: a refresh stores the new pair and marks
-- the old one used in one transaction, so a crash or a second process never loses the
-- chain. The newest row not used is the current pair; refreshing_by/refreshing_until is the
-- lease of the one process allowed to refresh it.
CREATE TABLE zalo_tokens (
  id INTEGER PRIMARY KEY, access_token TEXT NOT NULL, refresh_token TEXT NOT NULL,
  access_expires_at BIGINT NOT NULL, source TEXT NOT NULL, created_at BIGINT NOT NULL,
  used_at BIGINT, refreshing_by TEXT, refreshing_until BIGINT);
CREATE INDEX zalo_tokens_current ON zalo_tokens (used_at, id);
