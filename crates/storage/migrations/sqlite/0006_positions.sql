-- A spatial index of report positions (an R*Tree; positions never change after intake),
-- for the map's small boxes. PostgreSQL uses a GiST index on point(lon, lat) instead.
CREATE VIRTUAL TABLE reports_pos USING rtree(id, min_lat, max_lat, min_lon, max_lon);
INSERT INTO reports_pos (id, min_lat, max_lat, min_lon, max_lon)
  SELECT id, lat, lat, lon, lon FROM reports WHERE lat IS NOT NULL AND lon IS NOT NULL;
