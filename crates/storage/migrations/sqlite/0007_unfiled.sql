-- Messages (SMS, email...) that could not be turned into a report by themselves: kept whole
-- for an operator to file by hand or set aside. Nothing is dropped. Personal data.
CREATE TABLE unfiled (
  id INTEGER PRIMARY KEY, channel TEXT NOT NULL, sender TEXT NOT NULL, subject TEXT, body TEXT NOT NULL,
  raw TEXT NOT NULL, reason TEXT NOT NULL, received_at BIGINT NOT NULL,
  handled_at BIGINT, handled_by BIGINT, report_code TEXT, note TEXT);
CREATE INDEX unfiled_open ON unfiled (handled_at, received_at);
