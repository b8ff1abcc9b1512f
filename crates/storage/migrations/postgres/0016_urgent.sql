-- Urgent cases (issue 14): a field can be urgent by itself or by keywords in the
-- description, with its own deadline in clock hours; a unit names a duty phone and email
-- that are alerted at once; a report carries whether it is urgent so the queues sort it first.
ALTER TABLE fields ADD COLUMN urgent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE fields ADD COLUMN urgent_hours BIGINT NOT NULL DEFAULT 4;
ALTER TABLE fields ADD COLUMN urgent_keywords TEXT NOT NULL DEFAULT '[]';
ALTER TABLE units ADD COLUMN duty_phone TEXT;
ALTER TABLE units ADD COLUMN duty_email TEXT;
ALTER TABLE reports ADD COLUMN urgent BIGINT NOT NULL DEFAULT 0;
CREATE INDEX reports_urgent ON reports (unit, created_at) WHERE urgent = 1;
