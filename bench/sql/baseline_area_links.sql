-- The baseline's area links (sinp-bench): the insert of sql/merge.sql's "post synthese areas",
-- run like the loader runs it: by batches of 50 000 ids ({from} .. {to}, each row read by primary
-- key), identical geometries grouped, and one probe of the areas' GiST index per distinct geometry.
INSERT INTO public.bench_cor_area_synthese (id_synthese, id_area)
SELECT o.id_synthese, a.id_area
  FROM (SELECT t.the_geom_local AS geom, array_agg(t.id_synthese) AS ids
          FROM generate_series({from}, {to}) AS w(id)
         CROSS JOIN LATERAL (
               SELECT t.id_synthese, t.the_geom_local FROM public.bench_synthese AS t
                WHERE t.id_synthese = w.id AND t.the_geom_local IS NOT NULL OFFSET 0
               ) AS t
         GROUP BY t.the_geom_local) AS g
 CROSS JOIN LATERAL (
       SELECT a.id_area
         FROM ref_geo.l_areas AS a
        WHERE a.enable
          AND public.ST_Intersects(a.geom, g.geom)
          AND (public.GeometryType(g.geom) IN ('POINT', 'MULTIPOINT')
               OR NOT public.ST_Touches(a.geom, g.geom))
       OFFSET 0
       ) AS a
 CROSS JOIN LATERAL unnest(g.ids) AS o(id_synthese);
