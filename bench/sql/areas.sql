-- The areas of the benchmark's template database (sinp-bench), over the extent of the synthetic
-- archives (Lambert-93 x 940000..990000, y 6380000..6430000):
--   DEP.05                one department covering every synthetic observation, with a margin
--   COM.05001..COM.05100  100 commune-like 5 km squares tiling the extent, row by row from the
--                         south-west corner (COM.05061 is one of them)
--   M10                   the 10 km grid over the extent (25 cells)
--   M1                    the 1 km grid over the extent (2 500 cells)
-- 2 626 enabled areas: a point observation gets 4 links (DEP, COM, M10, M1), a commune-attached
-- one about 30. The driver names the communes as the archives' area codes.
WITH t AS (SELECT type_code, id_type FROM ref_geo.bib_areas_types),
     srid AS (SELECT public.Find_SRID('ref_geo', 'l_areas', 'geom') AS local),
     areas (type_code, area_code, area_name, xmin, ymin, xmax, ymax) AS (
         VALUES ('DEP', '05', 'Hautes-Alpes (benchmark)', 900000, 6340000, 1030000, 6470000)
         UNION ALL
         SELECT 'COM', format('05%s', lpad((row * 10 + col + 1)::text, 3, '0')),
                format('Commune %s-%s', col, row),
                940000 + col * 5000, 6380000 + row * 5000,
                945000 + col * 5000, 6385000 + row * 5000
           FROM generate_series(0, 9) AS row, generate_series(0, 9) AS col
         UNION ALL
         SELECT 'M10', format('10kmL93E%sN%s', x / 10000, y / 10000), format('Maille 10 km %s %s', x, y),
                x, y, x + 10000, y + 10000
           FROM generate_series(940000, 980000, 10000) AS x,
                generate_series(6380000, 6420000, 10000) AS y
         UNION ALL
         SELECT 'M1', format('1kmL93E%sN%s', x / 1000, y / 1000), format('Maille 1 km %s %s', x, y),
                x, y, x + 1000, y + 1000
           FROM generate_series(940000, 989000, 1000) AS x,
                generate_series(6380000, 6429000, 1000) AS y
     )
INSERT INTO ref_geo.l_areas (id_type, area_code, area_name, geom, centroid, geom_4326, enable)
SELECT t.id_type, a.area_code, a.area_name, g.geom, public.ST_Centroid(g.geom),
       public.ST_Transform(g.geom, 4326), true
  FROM areas AS a
  JOIN t USING (type_code)
 CROSS JOIN srid
 CROSS JOIN LATERAL (SELECT public.ST_Multi(public.ST_Transform(
        public.ST_MakeEnvelope(a.xmin, a.ymin, a.xmax, a.ymax, 2154), srid.local)) AS geom) AS g
ON CONFLICT (id_type, area_code) DO NOTHING;
