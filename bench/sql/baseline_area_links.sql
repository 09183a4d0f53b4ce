-- The baseline's area links (sinp-bench): the insert of sql/merge.sql's "post synthese areas", with
-- the same join predicate, over every row of bench_synthese.
INSERT INTO public.bench_cor_area_synthese (id_synthese, id_area)
SELECT t.id_synthese, a.id_area
  FROM public.bench_synthese AS t
  JOIN ref_geo.l_areas AS a
    ON a.enable
   AND public.ST_Intersects(a.geom, t.the_geom_local)
   AND (public.GeometryType(t.the_geom_local) IN ('POINT', 'MULTIPOINT')
        OR NOT public.ST_Touches(a.geom, t.the_geom_local))
