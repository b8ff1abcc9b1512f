-- Duplicates (issue 14): a report merged into another (status 'duplicate') names it in
-- reports.duplicate_of. Its reporter follows the original through a follower row naming the
-- duplicate (the news goes to that reporter's own channel: email, SMS, chat), and its photos
-- are linked to the original by rows naming the duplicate they came from (pointers: what the
-- public sees of a photo is still decided on the duplicate's own row); undoing the merge
-- deletes both by those columns. A field says how far apart two reports may be and still be
-- the same problem (150 m unless it says otherwise).
ALTER TABLE followers ADD COLUMN duplicate_id BIGINT;
ALTER TABLE photos ADD COLUMN linked_from BIGINT;
CREATE INDEX reports_duplicate_of ON reports (duplicate_of) WHERE duplicate_of IS NOT NULL;
CREATE INDEX followers_duplicate ON followers (duplicate_id) WHERE duplicate_id IS NOT NULL;
CREATE INDEX photos_linked_from ON photos (linked_from) WHERE linked_from IS NOT NULL;
ALTER TABLE fields ADD COLUMN duplicate_radius_m BIGINT NOT NULL DEFAULT 150;
