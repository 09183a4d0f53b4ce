-- Test areas around the generator's observations (Hautes-Alpes, Lambert 93), used by the demo,
-- the in-database tests and the end-to-end tests. Idempotent.
--   DEP.05     a department-sized square covering every synthetic observation
--   COM.05061  a 10 km commune-sized square around SRID=2154;POINT(959204.517 6405928.812)
--   M10        the 10 km grid over 900000..1050000 x 6350000..6500000 (225 cells)
--   COM.99999  a disabled area covering everything: it must never get links
WITH t AS (SELECT type_code, id_type FROM ref_geo.bib_areas_types),
     srid AS (SELECT public.Find_SRID('ref_geo', 'l_areas', 'geom') AS local),
     areas (type_code, area_code, area_name, xmin, ymin, xmax, ymax, enable) AS (
         VALUES ('DEP', '05', 'Hautes-Alpes (test)', 850000, 6300000, 1100000, 6550000, true),
                ('COM', '05061', 'Commune de test', 955000, 6400000, 965000, 6410000, true),
                ('COM', '99999', 'Zone désactivée', 800000, 6200000, 1200000, 6600000, false)
         UNION ALL
         SELECT 'M10', format('10kmL93E%sN%s', x / 10000, y / 10000), format('Maille %s %s', x, y),
                x, y, x + 10000, y + 10000, true
           FROM generate_series(900000, 1040000, 10000) AS x,
                generate_series(6350000, 6490000, 10000) AS y
     )
INSERT INTO ref_geo.l_areas (id_type, area_code, area_name, geom, centroid, geom_4326, enable)
SELECT t.id_type, a.area_code, a.area_name, g.geom, public.ST_Centroid(g.geom),
       public.ST_Transform(g.geom, 4326), a.enable
  FROM areas AS a
  JOIN t USING (type_code)
 CROSS JOIN srid
 CROSS JOIN LATERAL (SELECT public.ST_Multi(public.ST_Transform(
        public.ST_MakeEnvelope(a.xmin, a.ymin, a.xmax, a.ymax, 2154), srid.local)) AS geom) AS g
ON CONFLICT (id_type, area_code) DO NOTHING;
