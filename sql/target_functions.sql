-- sinp_import: GeoNature-compatible target schema, part 2 of 3 (after sql/target_schema.sql):
-- the functions, triggers and constraints, created only where missing. Same rules and contract as
-- part 1; run in the same SPI call.

-- -----------------------------------------------------------------------------------------------------
-- Trigger functions: created only when missing (a real GeoNature's own versions are kept).
-- -----------------------------------------------------------------------------------------------------
DO $do$
BEGIN
    -- meta dates, as GeoNature's public.fct_trg_meta_dates_change(): overwrites the dates. Not
    -- created where GeoNature's own is (in public): the triggers below then call that one.
    IF pg_catalog.to_regprocedure('gn_commons.fct_trg_meta_dates_change()') IS NULL
       AND pg_catalog.to_regprocedure('public.fct_trg_meta_dates_change()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_commons.fct_trg_meta_dates_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF (TG_OP = 'INSERT') THEN
        NEW.meta_create_date = now();
    ELSIF (TG_OP = 'UPDATE') THEN
        NEW.meta_update_date = now();
        IF (NEW.meta_create_date IS NULL) THEN
            NEW.meta_create_date = now();
        END IF;
    END IF;
    RETURN NEW;
END;
$fn$
$ddl$;
    END IF;

    -- UsersHub's copy of the same function, for utilisateurs.bib_organismes.
    IF pg_catalog.to_regprocedure('utilisateurs.fct_trg_meta_dates_change()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION utilisateurs.fct_trg_meta_dates_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF (TG_OP = 'INSERT') THEN
        NEW.meta_create_date = now();
    ELSIF (TG_OP = 'UPDATE') THEN
        NEW.meta_update_date = now();
        IF (NEW.meta_create_date IS NULL) THEN
            NEW.meta_create_date = now();
        END IF;
    END IF;
    RETURN NEW;
END;
$fn$
$ddl$;
    END IF;

    IF pg_catalog.to_regprocedure('utilisateurs.modify_date_insert()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION utilisateurs.modify_date_insert() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.date_insert := now();
    NEW.date_update := now();
    RETURN NEW;
END;
$fn$
$ddl$;
    END IF;

    IF pg_catalog.to_regprocedure('utilisateurs.modify_date_update()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION utilisateurs.modify_date_update() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.date_update := now();
    RETURN NEW;
END;
$fn$
$ddl$;
    END IF;

    -- Area links of new observations, per statement, from the transition table "new".
    -- Points: ST_Intersects; other shapes: intersects and does not merely touch. Enabled areas only.
    IF pg_catalog.to_regprocedure('gn_synthese.fct_trig_insert_in_cor_area_synthese_on_each_statement()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_synthese.fct_trig_insert_in_cor_area_synthese_on_each_statement() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO gn_synthese.cor_area_synthese (id_synthese, id_area)
    SELECT n.id_synthese, a.id_area
    FROM new AS n
    JOIN ref_geo.l_areas AS a ON public.st_intersects(n.the_geom_local, a.geom)
    WHERE a.enable IS TRUE
      AND (public.st_geometrytype(n.the_geom_local) = 'ST_Point'
           OR NOT public.st_touches(n.the_geom_local, a.geom))
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END;
$fn$
$ddl$;
    END IF;

    -- Area links of one updated observation: delete and recompute.
    IF pg_catalog.to_regprocedure('gn_synthese.fct_trig_update_in_cor_area_synthese()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_synthese.fct_trig_update_in_cor_area_synthese() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM gn_synthese.cor_area_synthese WHERE id_synthese = NEW.id_synthese;
    INSERT INTO gn_synthese.cor_area_synthese (id_synthese, id_area)
    SELECT NEW.id_synthese, a.id_area
    FROM ref_geo.l_areas AS a
    WHERE a.enable IS TRUE
      AND public.st_intersects(NEW.the_geom_local, a.geom)
      AND (public.st_geometrytype(NEW.the_geom_local) = 'ST_Point'
           OR NOT public.st_touches(NEW.the_geom_local, a.geom));
    RETURN NULL;
END;
$fn$
$ddl$;
    END IF;

    -- Deletion log, per statement, from the transition table "old_table".
    IF pg_catalog.to_regprocedure('gn_synthese.fct_tri_log_delete_on_synthese()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_synthese.fct_tri_log_delete_on_synthese() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF (TG_OP = 'DELETE') THEN
        INSERT INTO gn_synthese.t_log_synthese (id_synthese, last_action, meta_last_action_date)
        SELECT o.id_synthese, 'D', now()
        FROM old_table AS o
        ON CONFLICT (id_synthese)
        DO UPDATE SET last_action = 'D', meta_last_action_date = now();
    END IF;
    RETURN NULL;
END;
$fn$
$ddl$;
    END IF;

    -- The id of a nomenclature from its type's mnemonic and its code (NULL when there is none).
    IF pg_catalog.to_regprocedure('ref_nomenclatures.get_id_nomenclature(character varying, character varying)') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION ref_nomenclatures.get_id_nomenclature(mytype character varying, mycdnomenclature character varying)
RETURNS integer
LANGUAGE sql STABLE AS $fn$
    SELECT n.id_nomenclature
      FROM ref_nomenclatures.t_nomenclatures AS n
      JOIN ref_nomenclatures.bib_nomenclatures_types AS t ON t.id_type = n.id_type
     WHERE t.mnemonique OPERATOR(pg_catalog.=) mytype
       AND n.cd_nomenclature OPERATOR(pg_catalog.=) mycdnomenclature
$fn$
$ddl$;
    END IF;

    -- The id of a nomenclature type from its mnemonic.
    IF pg_catalog.to_regprocedure('ref_nomenclatures.get_id_nomenclature_type(character varying)') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION ref_nomenclatures.get_id_nomenclature_type(mytype character varying) RETURNS integer
LANGUAGE sql STABLE AS $fn$
    SELECT t.id_type FROM ref_nomenclatures.bib_nomenclatures_types AS t
     WHERE t.mnemonique OPERATOR(pg_catalog.=) mytype
$fn$
$ddl$;
    END IF;

    -- The code of a nomenclature from its id.
    IF pg_catalog.to_regprocedure('ref_nomenclatures.get_cd_nomenclature(integer)') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION ref_nomenclatures.get_cd_nomenclature(myidnomenclature integer) RETURNS character varying
LANGUAGE sql STABLE AS $fn$
    SELECT n.cd_nomenclature FROM ref_nomenclatures.t_nomenclatures AS n
     WHERE n.id_nomenclature OPERATOR(pg_catalog.=) myidnomenclature
$fn$
$ddl$;
    END IF;

    -- GeoNature's per-row type check of a nomenclature column: true when the id is NULL or a
    -- nomenclature of the type; RAISEs (P0001) otherwise, as GeoNature's does.
    IF pg_catalog.to_regprocedure('ref_nomenclatures.check_nomenclature_type_by_mnemonique(integer, character varying)') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION ref_nomenclatures.check_nomenclature_type_by_mnemonique(id integer, mytype character varying)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $fn$
BEGIN
    IF id IS NULL OR EXISTS (
           SELECT FROM ref_nomenclatures.t_nomenclatures AS n
            WHERE n.id_nomenclature OPERATOR(pg_catalog.=) id
              AND n.id_type OPERATOR(pg_catalog.=) ref_nomenclatures.get_id_nomenclature_type(mytype)) THEN
        RETURN true;
    END IF;
    RAISE EXCEPTION 'Error : id_nomenclature --> (%) and nomenclature --> (%) type didn''t match. Use id_nomenclature in corresponding type (mnemonique field). See ref_nomenclatures.t_nomenclatures.id_type.', id, mytype;
END;
$fn$
$ddl$;
    END IF;

    -- The cd_ref (valid name) of a taxon, from its cd_nom.
    IF pg_catalog.to_regprocedure('taxonomie.find_cdref(integer)') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION taxonomie.find_cdref(id integer) RETURNS integer
LANGUAGE sql STABLE AS $fn$
    SELECT t.cd_ref FROM taxonomie.taxref AS t WHERE t.cd_nom OPERATOR(pg_catalog.=) id
$fn$
$ddl$;
    END IF;

    -- The sensitivity GeoNature's rules give an observation: the strictest (highest code) of the
    -- rules of its cd_ref that match its day of the year, its year (within the rule's duration),
    -- its geometry (when the rule has areas) and its biological status or behaviour (when the rule
    -- has criteria); code 0 (not sensitive) when none matches.
    IF pg_catalog.to_regprocedure('gn_sensitivity.get_id_nomenclature_sensitivity(date, integer, public.geometry, jsonb)') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_sensitivity.get_id_nomenclature_sensitivity(my_date_obs date, my_cd_ref integer,
                                                               my_geom public.geometry, my_criterias jsonb)
RETURNS integer
LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(
        (SELECT r.id_nomenclature_sensitivity
           FROM gn_sensitivity.t_sensitivity_rules_cd_ref AS r
           JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = r.id_nomenclature_sensitivity
           LEFT JOIN gn_sensitivity.cor_sensitivity_area AS ra ON ra.id_sensitivity = r.id_sensitivity
           LEFT JOIN ref_geo.l_areas AS a ON a.id_area = ra.id_area
           LEFT JOIN gn_sensitivity.cor_sensitivity_criteria AS c ON c.id_sensitivity = r.id_sensitivity
          WHERE r.cd_ref = my_cd_ref
            AND (a.geom IS NULL OR public.st_intersects(my_geom, a.geom))
            AND pg_catalog.to_char(my_date_obs, 'MMDD') BETWEEN pg_catalog.to_char(r.date_min, 'MMDD')
                                                            AND pg_catalog.to_char(r.date_max, 'MMDD')
            AND pg_catalog.date_part('year', CURRENT_TIMESTAMP) - r.sensitivity_duration
                <= pg_catalog.date_part('year', my_date_obs)
            AND (c.id_criteria IS NULL
                 OR c.id_criteria IN (SELECT e.value::integer FROM pg_catalog.jsonb_each_text(my_criterias) AS e))
          ORDER BY n.cd_nomenclature DESC
          LIMIT 1),
        ref_nomenclatures.get_id_nomenclature('SENSIBILITE', '0'))
$fn$
$ddl$;
    END IF;

    -- Sensitivity of new observations, per statement, from the transition table "new": GeoNature
    -- overwrites whatever was written with the rules' result.
    IF pg_catalog.to_regprocedure('gn_synthese.fct_tri_calculate_sensitivity_on_each_statement()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_synthese.fct_tri_calculate_sensitivity_on_each_statement() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE gn_synthese.synthese AS s
       SET id_nomenclature_sensitivity = gn_sensitivity.get_id_nomenclature_sensitivity(
               n.date_min::date, taxonomie.find_cdref(n.cd_nom), n.the_geom_local,
               pg_catalog.jsonb_build_object('STATUT_BIO', n.id_nomenclature_bio_status,
                                             'OCC_COMPORTEMENT', n.id_nomenclature_behaviour))
      FROM new AS n
     WHERE s.id_synthese = n.id_synthese;
    RETURN NULL;
END;
$fn$
$ddl$;
    END IF;

    -- Sensitivity of an updated observation (its date, taxon, geometry, status or behaviour written).
    IF pg_catalog.to_regprocedure('gn_synthese.fct_tri_update_sensitivity_on_each_row()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_synthese.fct_tri_update_sensitivity_on_each_row() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.id_nomenclature_sensitivity = gn_sensitivity.get_id_nomenclature_sensitivity(
        NEW.date_min::date, taxonomie.find_cdref(NEW.cd_nom), NEW.the_geom_local,
        pg_catalog.jsonb_build_object('STATUT_BIO', NEW.id_nomenclature_bio_status,
                                      'OCC_COMPORTEMENT', NEW.id_nomenclature_behaviour));
    RETURN NEW;
END;
$fn$
$ddl$;
    END IF;

    -- A new validation is copied into its observation: status, comment, date, and the validator's
    -- name from utilisateurs.t_roles (replacing the synthese's validator text), as GeoNature does.
    IF pg_catalog.to_regprocedure('gn_commons.fct_trg_update_synthese_validation_status()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_commons.fct_trg_update_synthese_validation_status() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    UPDATE gn_synthese.synthese AS s
       SET id_nomenclature_valid_status = NEW.id_nomenclature_valid_status,
           validation_comment = NEW.validation_comment,
           meta_validation_date = NEW.validation_date,
           validator = (SELECT r.nom_role || ' ' || r.prenom_role FROM utilisateurs.t_roles AS r
                         WHERE r.id_role = NEW.id_validator)
     WHERE s.unique_id_sinp = NEW.uuid_attached_row;
    RETURN NEW;
END;
$fn$
$ddl$;
    END IF;

    -- The observers text of an observation, rewritten from its linked users ("NAME First, ...") on
    -- every change of its links, as GeoNature does.
    IF pg_catalog.to_regprocedure('gn_synthese.fct_tri_maj_observers_txt()') IS NULL THEN
        EXECUTE $ddl$
CREATE FUNCTION gn_synthese.fct_tri_maj_observers_txt() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    observation integer;
BEGIN
    IF TG_OP = 'DELETE' THEN
        observation := OLD.id_synthese;
    ELSE
        observation := NEW.id_synthese;
    END IF;
    UPDATE gn_synthese.synthese AS s
       SET observers = (SELECT pg_catalog.array_to_string(pg_catalog.array_agg(r.nom_role || ' ' || r.prenom_role), ', ')
                          FROM utilisateurs.t_roles AS r
                         WHERE r.id_role IN (SELECT c.id_role FROM gn_synthese.cor_observer_synthese AS c
                                              WHERE c.id_synthese = observation))
     WHERE s.id_synthese = observation;
    RETURN NULL;
END;
$fn$
$ddl$;
    END IF;
END
$do$;

-- -----------------------------------------------------------------------------------------------------
-- Triggers: created only when the table has no trigger of that name. A meta-dates trigger is also
-- skipped when the table already has a trigger calling a function named fct_trg_meta_dates_change
-- (GeoNature names two of them differently: tri_meta_dates_t_sources, tri_meta_dates_change_organisms).
-- -----------------------------------------------------------------------------------------------------
DO $do$
DECLARE
    r record;
    -- GeoNature's meta-dates function where it has one, else the one created above.
    meta_dates text := coalesce(pg_catalog.to_regprocedure('public.fct_trg_meta_dates_change()'),
                                pg_catalog.to_regprocedure('gn_commons.fct_trg_meta_dates_change()'))::text;
BEGIN
    FOR r IN
        SELECT *
        FROM (VALUES
            ('gn_synthese.synthese', 'tri_meta_dates_change_synthese',
             'BEFORE INSERT OR UPDATE', 'FOR EACH ROW',
             'gn_commons.fct_trg_meta_dates_change()', true),
            ('gn_synthese.synthese', 'tri_insert_cor_area_synthese',
             'AFTER INSERT', 'REFERENCING NEW TABLE AS new FOR EACH STATEMENT',
             'gn_synthese.fct_trig_insert_in_cor_area_synthese_on_each_statement()', false),
            ('gn_synthese.synthese', 'tri_update_cor_area_synthese',
             'AFTER UPDATE OF the_geom_local, the_geom_4326', 'FOR EACH ROW',
             'gn_synthese.fct_trig_update_in_cor_area_synthese()', false),
            ('gn_synthese.synthese', 'tri_log_delete_synthese',
             'AFTER DELETE', 'REFERENCING OLD TABLE AS old_table FOR EACH STATEMENT',
             'gn_synthese.fct_tri_log_delete_on_synthese()', false),
            ('gn_synthese.synthese', 'tri_insert_calculate_sensitivity',
             'AFTER INSERT', 'REFERENCING NEW TABLE AS new FOR EACH STATEMENT',
             'gn_synthese.fct_tri_calculate_sensitivity_on_each_statement()', false),
            ('gn_synthese.synthese', 'tri_update_calculate_sensitivity',
             'BEFORE UPDATE OF date_min, date_max, cd_nom, the_geom_local, id_nomenclature_bio_status, id_nomenclature_behaviour',
             'FOR EACH ROW', 'gn_synthese.fct_tri_update_sensitivity_on_each_row()', false),
            ('gn_commons.t_validations', 'tri_insert_synthese_update_validation_status',
             'AFTER INSERT', 'FOR EACH ROW',
             'gn_commons.fct_trg_update_synthese_validation_status()', false),
            ('gn_synthese.cor_observer_synthese', 'trg_maj_synthese_observers_txt',
             'AFTER INSERT OR UPDATE OR DELETE', 'FOR EACH ROW',
             'gn_synthese.fct_tri_maj_observers_txt()', false),
            ('gn_synthese.t_sources', 'tri_meta_dates_change_t_sources',
             'BEFORE INSERT OR UPDATE', 'FOR EACH ROW',
             'gn_commons.fct_trg_meta_dates_change()', true),
            ('gn_meta.t_acquisition_frameworks', 'tri_meta_dates_change_t_acquisition_frameworks',
             'BEFORE INSERT OR UPDATE', 'FOR EACH ROW',
             'gn_commons.fct_trg_meta_dates_change()', true),
            ('gn_meta.t_datasets', 'tri_meta_dates_change_t_datasets',
             'BEFORE INSERT OR UPDATE', 'FOR EACH ROW',
             'gn_commons.fct_trg_meta_dates_change()', true),
            ('utilisateurs.bib_organismes', 'tri_meta_dates_change_bib_organismes',
             'BEFORE INSERT OR UPDATE', 'FOR EACH ROW',
             'utilisateurs.fct_trg_meta_dates_change()', true),
            ('utilisateurs.t_roles', 'tri_modify_date_insert_t_roles',
             'BEFORE INSERT', 'FOR EACH ROW',
             'utilisateurs.modify_date_insert()', false),
            ('utilisateurs.t_roles', 'tri_modify_date_update_t_roles',
             'BEFORE UPDATE', 'FOR EACH ROW',
             'utilisateurs.modify_date_update()', false)
        ) AS v(table_name, trigger_name, timing_events, for_each, function_call, is_meta_dates)
    LOOP
        IF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t
                   WHERE t.tgrelid = r.table_name::regclass AND t.tgname = r.trigger_name) THEN
            CONTINUE;
        END IF;
        IF r.is_meta_dates AND EXISTS (
                SELECT 1 FROM pg_catalog.pg_trigger t
                JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
                WHERE t.tgrelid = r.table_name::regclass AND NOT t.tgisinternal
                  AND p.proname = 'fct_trg_meta_dates_change') THEN
            CONTINUE;
        END IF;
        EXECUTE format('CREATE TRIGGER %I %s ON %s %s EXECUTE FUNCTION %s',
                       r.trigger_name, r.timing_events, r.table_name, r.for_each,
                       CASE WHEN r.function_call = 'gn_commons.fct_trg_meta_dates_change()'
                            THEN meta_dates ELSE r.function_call END);
    END LOOP;
END
$do$;

-- -----------------------------------------------------------------------------------------------------
-- GeoNature's constraints of the synthese, added only to a synthese this run created (never to an
-- existing table): a foreign key per nomenclature column and to TAXREF, HABREF and the modules; the
-- per-row nomenclature type checks; an attachment for observations located by an area.
-- -----------------------------------------------------------------------------------------------------
DO $do$
DECLARE
    r record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_temp.sinp_target_new_tables WHERE table_name = 'gn_synthese.synthese') THEN
        RETURN;
    END IF;
    FOR r IN
        SELECT a.attname::text AS column_name
          FROM pg_catalog.pg_attribute AS a
         WHERE a.attrelid = 'gn_synthese.synthese'::pg_catalog.regclass AND a.attnum > 0
           AND NOT a.attisdropped AND a.attname::text LIKE 'id\_nomenclature\_%'
         ORDER BY a.attnum
    LOOP
        EXECUTE pg_catalog.format(
            'ALTER TABLE gn_synthese.synthese ADD CONSTRAINT %I FOREIGN KEY (%I)
                 REFERENCES ref_nomenclatures.t_nomenclatures (id_nomenclature) ON UPDATE CASCADE',
            'fk_synthese_' || r.column_name, r.column_name);
    END LOOP;
    FOR r IN
        SELECT * FROM (VALUES
            ('check_synthese_obs_meth', 'id_nomenclature_obs_technique', 'METH_OBS'),
            ('check_synthese_geo_object_nature', 'id_nomenclature_geo_object_nature', 'NAT_OBJ_GEO'),
            ('check_synthese_typ_grp', 'id_nomenclature_grp_typ', 'TYP_GRP'),
            ('check_synthese_bio_status', 'id_nomenclature_bio_status', 'STATUT_BIO'),
            ('check_synthese_bio_condition', 'id_nomenclature_bio_condition', 'ETA_BIO'),
            ('check_synthese_naturalness', 'id_nomenclature_naturalness', 'NATURALITE'),
            ('check_synthese_exist_proof', 'id_nomenclature_exist_proof', 'PREUVE_EXIST'),
            ('check_synthese_valid_status', 'id_nomenclature_valid_status', 'STATUT_VALID'),
            ('check_synthese_diffusion_level', 'id_nomenclature_diffusion_level', 'NIV_PRECIS'),
            ('check_synthese_life_stage', 'id_nomenclature_life_stage', 'STADE_VIE'),
            ('check_synthese_sex', 'id_nomenclature_sex', 'SEXE'),
            ('check_synthese_obj_count', 'id_nomenclature_obj_count', 'OBJ_DENBR'),
            ('check_synthese_type_count', 'id_nomenclature_type_count', 'TYP_DENBR'),
            ('check_synthese_sensitivity', 'id_nomenclature_sensitivity', 'SENSIBILITE'),
            ('check_synthese_observation_status', 'id_nomenclature_observation_status', 'STATUT_OBS'),
            ('check_synthese_blurring', 'id_nomenclature_blurring', 'DEE_FLOU'),
            ('check_synthese_source_status', 'id_nomenclature_source_status', 'STATUT_SOURCE'),
            ('check_synthese_biogeo_status', 'id_nomenclature_biogeo_status', 'STAT_BIOGEO')
        ) AS v(constraint_name, column_name, mnemonique)
    LOOP
        EXECUTE pg_catalog.format(
            'ALTER TABLE gn_synthese.synthese ADD CONSTRAINT %I
                 CHECK (ref_nomenclatures.check_nomenclature_type_by_mnemonique(%I, %L::character varying)) NOT VALID',
            r.constraint_name, r.column_name, r.mnemonique);
    END LOOP;
    ALTER TABLE gn_synthese.synthese
        ADD CONSTRAINT check_synthese_info_geo_type_id_area_attachment
            CHECK (NOT (ref_nomenclatures.get_cd_nomenclature(id_nomenclature_info_geo_type) = '2'
                        AND id_area_attachment IS NULL)) NOT VALID,
        ADD CONSTRAINT fk_synthese_cd_nom FOREIGN KEY (cd_nom)
            REFERENCES taxonomie.taxref (cd_nom) ON UPDATE CASCADE,
        ADD CONSTRAINT fk_synthese_cd_hab FOREIGN KEY (cd_hab)
            REFERENCES ref_habitats.habref (cd_hab) ON UPDATE CASCADE,
        ADD CONSTRAINT fk_synthese_id_module FOREIGN KEY (id_module)
            REFERENCES gn_commons.t_modules (id_module) ON UPDATE CASCADE;
END
$do$;

DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_temp.sinp_target_new_tables WHERE table_name = 'gn_commons.t_validations') THEN
        ALTER TABLE gn_commons.t_validations
            ADD CONSTRAINT check_t_validations_valid_status
                CHECK (ref_nomenclatures.check_nomenclature_type_by_mnemonique(id_nomenclature_valid_status,
                                                                               'STATUT_VALID'::character varying)) NOT VALID;
    END IF;
END
$do$;

DO $do$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_temp.sinp_target_new_tables WHERE table_name = 'gn_synthese.t_sources') THEN
        ALTER TABLE gn_synthese.t_sources
            ADD CONSTRAINT fk_t_sources_id_module FOREIGN KEY (id_module)
                REFERENCES gn_commons.t_modules (id_module) ON UPDATE CASCADE;
    END IF;
END
$do$;
