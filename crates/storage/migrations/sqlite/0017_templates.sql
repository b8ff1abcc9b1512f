-- Response templates (issue 14): ready texts per field (NULL: any field) and step of the
-- procedure, in Vietnamese and English, with placeholders; `automatic` makes one the public
-- response the system adds when the step is taken.
CREATE TABLE templates (
  id INTEGER PRIMARY KEY, field TEXT, action TEXT NOT NULL, name TEXT NOT NULL,
  text_vi TEXT NOT NULL, text_en TEXT NOT NULL DEFAULT '', automatic BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL);
CREATE INDEX templates_field ON templates (field, action);
