-- Emails received for the 1022 address (IMAP or the inbound SMTP listener), kept whole
-- before the mailbox is told they were read. Deduplicated on the Message-ID. The raw
-- message is base64 text (one dialect for both backends). Personal data.
CREATE TABLE email_inbox (
  id INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, source TEXT NOT NULL,
  size BIGINT NOT NULL, raw TEXT NOT NULL, truncated BIGINT NOT NULL, received_at BIGINT NOT NULL,
  processed_at BIGINT, outcome TEXT);
