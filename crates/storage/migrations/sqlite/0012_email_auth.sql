-- Who really sent each email: the SMTP envelope as our listener saw it (client address,
-- HELO, MAIL FROM; empty for IMAP), and the verdict of SPF, DKIM and DMARC with the
-- sender's address and domain (issue 11). `auth` is 'pass' or 'fail'; rate limits count
-- the authenticated messages of one sender or domain.
ALTER TABLE email_inbox ADD COLUMN peer_ip TEXT;
ALTER TABLE email_inbox ADD COLUMN helo TEXT;
ALTER TABLE email_inbox ADD COLUMN mail_from TEXT;
ALTER TABLE email_inbox ADD COLUMN sender TEXT;
ALTER TABLE email_inbox ADD COLUMN sender_domain TEXT;
ALTER TABLE email_inbox ADD COLUMN auth TEXT;
ALTER TABLE email_inbox ADD COLUMN spf TEXT;
ALTER TABLE email_inbox ADD COLUMN dkim TEXT;
ALTER TABLE email_inbox ADD COLUMN dmarc TEXT;
ALTER TABLE email_inbox ADD COLUMN auth_detail TEXT;
CREATE INDEX email_inbox_sender ON email_inbox (sender, received_at);
CREATE INDEX email_inbox_sender_domain ON email_inbox (sender_domain, received_at);
