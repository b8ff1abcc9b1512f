-- One-time password reset links an admin hands to a staff member. Only the SHA-256 hash of
-- the token is kept; a link works once (used_at) and until expires_at.
CREATE TABLE password_resets (
  token_hash TEXT PRIMARY KEY, user_id BIGINT NOT NULL REFERENCES users (id),
  created_by BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
  used_at BIGINT);
CREATE INDEX password_resets_user ON password_resets (user_id);
