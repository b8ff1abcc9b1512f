-- The unit in the field (issue 14): where a staff member's photo was taken, read from its
-- EXIF block before it was stripped, kept with the upload until a resolution uses it (the
-- distance to the report's place goes into the history). Citizens' uploads never keep it.
ALTER TABLE uploads ADD COLUMN gps_lat DOUBLE PRECISION;
ALTER TABLE uploads ADD COLUMN gps_lon DOUBLE PRECISION;
