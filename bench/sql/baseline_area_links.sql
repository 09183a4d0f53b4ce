-- The baseline's area links (sinp-bench): the insert of sql/merge.sql's "post synthese areas", with
-- the same per-observation probe of the areas' GiST index, over every row of bench_synthese.
INSERT INTO public.bench_cor_area_synthese (id_synthese, id_area)
SELECT t.id_synthese, a.id_area
  FROM public.bench_synthese AS t
 CROSS JOIN LATERAL (
       SELECT a.id_area
         FROM ref_geo.l_areas AS a
        WHERE a.enable
          AND public.ST_Intersects(a.geom, t.the_geom_local)
          AND (public.GeometryType(t.the_geom_local) IN ('POINT', 'MULTIPOINT')
               OR NOT public.ST_Touches(a.geom, t.the_geom_local))
       OFFSET 0
       ) AS a
