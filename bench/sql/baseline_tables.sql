-- The baseline's tables (sinp-bench), created in a database where an archive was loaded and the
-- synthese then emptied (so that its datasets, sources, users and areas exist):
--   public.bench_synthese            an empty copy of gn_synthese.synthese: same columns, defaults,
--                                    CHECK and NOT NULL constraints, indexes (LIKE ... INCLUDING ALL)
--                                    and foreign keys; no triggers
--   public.bench_cor_area_synthese   the same for gn_synthese.cor_area_synthese, its foreign key to
--                                    the synthese pointing to bench_synthese
CREATE TABLE public.bench_synthese (LIKE gn_synthese.synthese INCLUDING ALL);
CREATE TABLE public.bench_cor_area_synthese (LIKE gn_synthese.cor_area_synthese INCLUDING ALL);
DO $do$
DECLARE
    fk record;
    def text;
BEGIN
    FOR fk IN SELECT conname, pg_get_constraintdef(oid) AS def
                FROM pg_constraint
               WHERE conrelid = 'gn_synthese.synthese'::regclass AND contype = 'f'
    LOOP
        EXECUTE format('ALTER TABLE public.bench_synthese ADD CONSTRAINT %I %s', fk.conname, fk.def);
    END LOOP;
    FOR fk IN SELECT conname, confrelid, pg_get_constraintdef(oid) AS def
                FROM pg_constraint
               WHERE conrelid = 'gn_synthese.cor_area_synthese'::regclass AND contype = 'f'
    LOOP
        def := fk.def;
        IF fk.confrelid = 'gn_synthese.synthese'::regclass THEN
            def := replace(def, 'REFERENCES ' || 'gn_synthese.synthese'::regclass::text || '(',
                           'REFERENCES public.bench_synthese(');
            IF def = fk.def THEN
                RAISE EXCEPTION 'cannot point % to bench_synthese: %', fk.conname, fk.def;
            END IF;
        END IF;
        EXECUTE format('ALTER TABLE public.bench_cor_area_synthese ADD CONSTRAINT %I %s', fk.conname, def);
    END LOOP;
END
$do$;
