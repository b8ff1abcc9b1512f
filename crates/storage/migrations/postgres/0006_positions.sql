-- A spatial index of report positions for the map's small boxes (SQLite: an R*Tree).
CREATE INDEX reports_point ON reports USING gist (point(lon, lat));
