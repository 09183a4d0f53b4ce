-- Restricted observations kept from public roles (FORMAT.md §5, docs/restricted.md): row-level
-- security on the synthese and the tables that reveal something of its rows, installed by
-- protect_restricted(public_roles) and removed by unprotect_restricted().

-- The roles that see only unrestricted observations, as protect_restricted() last set them.
CREATE TABLE sinp_import.protected_roles (
    role_oid oid PRIMARY KEY
);
COMMENT ON TABLE sinp_import.protected_roles IS 'The public roles of protect_restricted(): they see only unrestricted observations.';
COMMENT ON COLUMN sinp_import.protected_roles.role_oid IS 'The role (pg_roles.oid).';

-- The tables protect_restricted() put under row-level security, and whether it was already on.
CREATE TABLE sinp_import.protected_tables (
    table_name text PRIMARY KEY,
    rls_was_enabled boolean NOT NULL
);
COMMENT ON TABLE sinp_import.protected_tables IS 'The tables protect_restricted() put under row-level security; unprotect_restricted() undoes it.';
COMMENT ON COLUMN sinp_import.protected_tables.table_name IS 'The table, schema-qualified.';
COMMENT ON COLUMN sinp_import.protected_tables.rls_was_enabled IS 'Row-level security was on before: only the restrictive policy was added, and it stays on after unprotect_restricted().';

-- A table's oid found through the catalog (NULL if there is none): to_regclass() raises for a
-- role without USAGE on the schema, and protect_restricted() answers such a role with its own
-- 42501 and HINT.
CREATE FUNCTION sinp_import.table_oid(qualified_name text) RETURNS oid
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT c.oid FROM pg_catalog.pg_class AS c
          JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
         WHERE n.nspname OPERATOR(pg_catalog.=) pg_catalog.split_part(qualified_name, '.', 1)
           AND c.relname OPERATOR(pg_catalog.=) pg_catalog.split_part(qualified_name, '.', 2));
COMMENT ON FUNCTION sinp_import.table_oid(text) IS
  'The oid of a schema-qualified table, read from the catalog (NULL if absent), for roles that may not look into its schema.';

-- The id of a nomenclature in this database, for the definition below: called once per query
-- (as an InitPlan), with the extension owner's rights, so that a public role needs no privilege
-- on ref_nomenclatures. NULL when the database has no such code (then every non-NULL value is
-- restricted: the definition fails closed).
CREATE FUNCTION sinp_import.nomenclature_id(type_mnemonic text, code text) RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
    IF pg_catalog.to_regclass('ref_nomenclatures.t_nomenclatures') IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT n.id_nomenclature
              FROM ref_nomenclatures.t_nomenclatures AS n
              JOIN ref_nomenclatures.bib_nomenclatures_types AS t ON t.id_type = n.id_type
             WHERE t.mnemonique OPERATOR(pg_catalog.=) type_mnemonic
               AND n.cd_nomenclature OPERATOR(pg_catalog.=) code);
END
$function$;
COMMENT ON FUNCTION sinp_import.nomenclature_id(text, text) IS
  'The id_nomenclature of a code of a nomenclature type in this database (NULL if absent); used by the definition of restricted observations.';

-- THE definition of a restricted observation (FORMAT.md §5), as an SQL condition on the synthese
-- row named row_alias (NULL: the columns unqualified, as in a policy): additional_data.confidential
-- true, or a sensitivity other than code 0, or a diffusion level other than code 5 (NULL counts
-- as not restricted). The policies, the view public_observations and the loader all use it.
CREATE FUNCTION sinp_import.restricted_condition(row_alias text DEFAULT NULL) RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.replace(
  '(coalesce(R.additional_data -> ''confidential'' IN (''true''::jsonb, ''"true"''::jsonb), false)'
  ' OR (R.id_nomenclature_sensitivity IS NOT NULL AND R.id_nomenclature_sensitivity IS DISTINCT FROM'
  ' (SELECT sinp_import.nomenclature_id(''SENSIBILITE'', ''0'')))'
  ' OR (R.id_nomenclature_diffusion_level IS NOT NULL AND R.id_nomenclature_diffusion_level IS DISTINCT FROM'
  ' (SELECT sinp_import.nomenclature_id(''NIV_PRECIS'', ''5''))))',
  'R.', CASE WHEN row_alias IS NULL THEN '' ELSE pg_catalog.quote_ident(row_alias) || '.' END);
COMMENT ON FUNCTION sinp_import.restricted_condition(text) IS
  'The SQL condition that a synthese row (of the alias given) is restricted (FORMAT.md §5): the one definition the policies, public_observations and the loader use.';

-- The definition above with this database's nomenclature ids written in (NULL where a code is
-- missing: the rule still fails closed). The policies use it: a condition on the row's own
-- columns and constants is one PostgreSQL can match to the partial index protect_restricted()
-- makes, and evaluate in parallel workers. Made again by protect_restricted() if ids change.
CREATE FUNCTION sinp_import.restricted_condition_now(row_alias text DEFAULT NULL) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN pg_catalog.replace(pg_catalog.replace(sinp_import.restricted_condition(row_alias),
  '(SELECT sinp_import.nomenclature_id(''SENSIBILITE'', ''0''))',
  coalesce(sinp_import.nomenclature_id('SENSIBILITE', '0')::text, 'NULL')),
  '(SELECT sinp_import.nomenclature_id(''NIV_PRECIS'', ''5''))',
  coalesce(sinp_import.nomenclature_id('NIV_PRECIS', '5')::text, 'NULL'));
COMMENT ON FUNCTION sinp_import.restricted_condition_now(text) IS
  'restricted_condition() with this database''s nomenclature ids written in: the form the policies use.';

-- The roles that see every row of a protected table: those granted SELECT on it that are not
-- protected roles (their members inherit the policy), quoted, comma separated; NULL if none. The
-- owner and superusers are not subject to row-level security; a grant to PUBLIC shows no
-- restricted row (it would show them to the protected roles too).
CREATE FUNCTION sinp_import.restricted_readers(table_name regclass) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
RETURN (SELECT pg_catalog.string_agg(DISTINCT a.grantee::pg_catalog.regrole::text, ', ')
          FROM pg_catalog.pg_class AS c
         CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) AS a
         WHERE c.oid OPERATOR(pg_catalog.=) table_name
           AND a.privilege_type OPERATOR(pg_catalog.=) 'SELECT'
           AND a.grantee OPERATOR(pg_catalog.<>) 0::oid
           AND a.grantee OPERATOR(pg_catalog.<>) c.relowner
           AND a.grantee NOT IN (SELECT p.role_oid FROM sinp_import.protected_roles AS p));
COMMENT ON FUNCTION sinp_import.restricted_readers(regclass) IS
  'The roles granted SELECT on a protected table that see its restricted rows: not protected roles, not PUBLIC.';

-- The readers' policy of a protected table whose row-level security protect_restricted() turned
-- on: made, replaced or dropped to follow its grants.
CREATE FUNCTION sinp_import.follow_readers(table_name text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    readers text := sinp_import.restricted_readers(table_name::pg_catalog.regclass);
BEGIN
    EXECUTE pg_catalog.format('DROP POLICY IF EXISTS sinp_all_rows ON %s', table_name);
    IF readers IS NOT NULL THEN
        EXECUTE pg_catalog.format('CREATE POLICY sinp_all_rows ON %s AS PERMISSIVE FOR SELECT TO %s USING (true)',
                                  table_name, readers);
    END IF;
END
$function$;
COMMENT ON FUNCTION sinp_import.follow_readers(text) IS
  'Makes the policy that shows every row of a protected table to the roles granted SELECT on it (other than the protected ones).';

-- GRANT and REVOKE change who sees every row of a protected table: its readers' policy follows
-- them (as the extension's owner, who may replace policies). A failure never undoes the grant:
-- it is said, with what to do.
CREATE FUNCTION sinp_import.follow_grants() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT p.table_name FROM sinp_import.protected_tables AS p
              WHERE NOT p.rls_was_enabled AND pg_catalog.to_regclass(p.table_name) IS NOT NULL
              ORDER BY p.table_name
    LOOP
        BEGIN
            PERFORM sinp_import.follow_readers(t.table_name);
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'sinp_import: who sees every row of % could not follow this grant: %', t.table_name, SQLERRM
                  USING HINT = 'Call sinp_import.protect_restricted() again as the owner of the table.';
        END;
    END LOOP;
END
$function$;
COMMENT ON FUNCTION sinp_import.follow_grants() IS
  'Event trigger: after GRANT or REVOKE, the policies that show every row of the protected tables follow their grants.';
CREATE EVENT TRIGGER sinp_import_follow_grants ON ddl_command_end
    WHEN TAG IN ('GRANT', 'REVOKE') EXECUTE FUNCTION sinp_import.follow_grants();

-- Whether the role sees restricted rows of the table: it is not one of the protected roles (nor
-- has their privileges), or it may read the table through a grant to another role (read_only_all
-- is a member of read_only_public in the Atlas, and has its own grants), or owns it. Evaluated once
-- per query (an InitPlan of the policies), with the extension owner's rights to read the catalog
-- and sinp_import.protected_roles.
CREATE FUNCTION sinp_import.sees_restricted(table_name regclass, role_name name) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
RETURN NOT EXISTS (SELECT FROM sinp_import.protected_roles AS p
                     JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) p.role_oid
                    WHERE pg_catalog.pg_has_role(role_name, p.role_oid, 'USAGE'))
    OR EXISTS (SELECT FROM pg_catalog.pg_class AS c
                CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) AS a
                WHERE c.oid OPERATOR(pg_catalog.=) table_name
                  AND a.privilege_type OPERATOR(pg_catalog.=) 'SELECT'
                  AND a.grantee OPERATOR(pg_catalog.<>) 0::oid
                  AND a.grantee NOT IN (SELECT p.role_oid FROM sinp_import.protected_roles AS p)
                  AND pg_catalog.pg_has_role(role_name, a.grantee, 'USAGE'))
    OR EXISTS (SELECT FROM pg_catalog.pg_class AS c
                WHERE c.oid OPERATOR(pg_catalog.=) table_name
                  AND pg_catalog.pg_has_role(role_name, c.relowner, 'USAGE'));
COMMENT ON FUNCTION sinp_import.sees_restricted(regclass, name) IS
  'Whether the role sees the restricted observations of the table: not a protected role, or granted SELECT through another role, or its owner.';

CREATE FUNCTION sinp_import.protect_restricted(public_roles regrole[]) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, sinp_import, pg_temp
AS $function$
DECLARE
    protected text[] := '{}';
    t record;
    rls boolean;
    not_owned text;
    roles text;
BEGIN
    IF public_roles IS NULL OR pg_catalog.cardinality(public_roles) OPERATOR(pg_catalog.=) 0 THEN
        RAISE EXCEPTION USING ERRCODE = '22004',
              MESSAGE = 'sinp_import.protect_restricted(): no role given',
              HINT = 'Name the roles that must see only unrestricted observations: SELECT sinp_import.protect_restricted(ARRAY[''read_only_public'']::regrole[]);';
    END IF;
    -- Policies are the tables' owner's to make: said here with what to do.
    -- The tables and, for a partitioned one, its partitions (a role granted a partition reads it
    -- without the parent's policies).
    SELECT pg_catalog.string_agg(CASE WHEN tree.level OPERATOR(pg_catalog.=) 0 THEN v.name ELSE tree.relid::text END, ', '
                                  ORDER BY v.n, tree.level, tree.relid::text) INTO not_owned
      FROM (VALUES ('gn_synthese.synthese', 1), ('gn_synthese.cor_area_synthese', 2),
                   ('gn_synthese.cor_observer_synthese', 3), ('sinp_import.import_errors', 4)) AS v(name, n)
     CROSS JOIN LATERAL (SELECT sinp_import.table_oid(v.name)::pg_catalog.regclass AS relid, 0 AS level
                         UNION ALL
                         SELECT p.relid, p.level FROM pg_catalog.pg_partition_tree(sinp_import.table_oid(v.name)::pg_catalog.regclass) AS p
                          WHERE p.level OPERATOR(pg_catalog.>) 0) AS tree
      JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) tree.relid
     WHERE NOT pg_catalog.pg_has_role(CURRENT_USER, c.relowner, 'USAGE');
    IF not_owned IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
              MESSAGE = pg_catalog.format('permission denied: %s does not own %s', CURRENT_USER, not_owned),
              DETAIL = 'Row-level security and its policies are made by the owner of each table.',
              HINT = 'Run it as the owner of the GeoNature tables, or as a superuser.';
    END IF;
    DELETE FROM sinp_import.protected_roles;
    INSERT INTO sinp_import.protected_roles (role_oid)
    SELECT DISTINCT r::oid FROM pg_catalog.unnest(public_roles) AS r WHERE r IS NOT NULL;
    SELECT pg_catalog.string_agg(p.role_oid::pg_catalog.regrole::text, ', ') INTO roles
      FROM sinp_import.protected_roles AS p;
    -- The synthese, and the tables whose rows tell something of an observation (a 1 km cell is a
    -- location; an observer link names who was there): a row of these is visible with its
    -- observation.
    FOR t IN
        SELECT CASE WHEN tree.level OPERATOR(pg_catalog.=) 0 THEN v.name
                    ELSE pg_catalog.format('%I.%I', n.nspname, c.relname) END AS name,
               pg_catalog.replace(v.visible, '{relation}', pg_catalog.quote_ident(c.relname)) AS visible,
               c.oid AS relation, c.relrowsecurity
          FROM (VALUES ('gn_synthese.synthese', 1,
                        'NOT ' || sinp_import.restricted_condition_now(NULL)),
                       ('gn_synthese.cor_area_synthese', 2,
                        'EXISTS (SELECT FROM gn_synthese.synthese AS s WHERE s.id_synthese OPERATOR(pg_catalog.=) {relation}.id_synthese AND NOT '
                        || sinp_import.restricted_condition_now('s') || ')'),
                       ('gn_synthese.cor_observer_synthese', 3,
                        'EXISTS (SELECT FROM gn_synthese.synthese AS s WHERE s.id_synthese OPERATOR(pg_catalog.=) {relation}.id_synthese AND NOT '
                        || sinp_import.restricted_condition_now('s') || ')'),
                       -- The journal: raw records and values of rows that are, or may be,
                       -- restricted observations (the loader marks them).
                       ('sinp_import.import_errors', 4, 'restricted IS FALSE'))
               AS v(name, n, visible)
         CROSS JOIN LATERAL (SELECT sinp_import.table_oid(v.name)::pg_catalog.regclass AS relid, 0 AS level
                         UNION ALL
                         SELECT p.relid, p.level FROM pg_catalog.pg_partition_tree(sinp_import.table_oid(v.name)::pg_catalog.regclass) AS p
                          WHERE p.level OPERATOR(pg_catalog.>) 0) AS tree
          JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) tree.relid
          JOIN pg_catalog.pg_namespace AS n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
         ORDER BY v.n, tree.level, c.relname
    LOOP
        SELECT p.rls_was_enabled INTO rls FROM sinp_import.protected_tables AS p
         WHERE p.table_name OPERATOR(pg_catalog.=) t.name;
        IF NOT FOUND THEN
            rls := t.relrowsecurity;
            INSERT INTO sinp_import.protected_tables (table_name, rls_was_enabled) VALUES (t.name, rls);
        END IF;
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS sinp_unrestricted_only ON %s', t.name);
        IF rls THEN
            -- The table has policies of its own: a restrictive one narrows whatever they let a
            -- role see, never widens it (the role's rights evaluated once per query).
            EXECUTE pg_catalog.format(
                'CREATE POLICY sinp_unrestricted_only ON %s AS RESTRICTIVE FOR SELECT TO PUBLIC USING ((SELECT sinp_import.sees_restricted(%L::pg_catalog.regclass, CURRENT_USER)) OR %s)',
                t.name, t.name, t.visible);
        ELSE
            -- Row-level security was off: every row stays writable as before (the table's
            -- privileges decide), the protected roles see the unrestricted rows, the roles
            -- granted SELECT (and their members) every row. Role by role, so that the protected
            -- roles' condition is their only one: index-friendly, and parallel.
            EXECUTE pg_catalog.format(
                'CREATE POLICY sinp_unrestricted_only ON %s AS PERMISSIVE FOR SELECT TO %s USING (%s)',
                t.name, roles, t.visible);
            PERFORM sinp_import.follow_readers(t.name);
            EXECUTE pg_catalog.format('DROP POLICY IF EXISTS sinp_writes_insert ON %s', t.name);
            EXECUTE pg_catalog.format('DROP POLICY IF EXISTS sinp_writes_update ON %s', t.name);
            EXECUTE pg_catalog.format('DROP POLICY IF EXISTS sinp_writes_delete ON %s', t.name);
            EXECUTE pg_catalog.format('CREATE POLICY sinp_writes_insert ON %s FOR INSERT TO PUBLIC WITH CHECK (true)', t.name);
            EXECUTE pg_catalog.format('CREATE POLICY sinp_writes_update ON %s FOR UPDATE TO PUBLIC USING (true) WITH CHECK (true)', t.name);
            EXECUTE pg_catalog.format('CREATE POLICY sinp_writes_delete ON %s FOR DELETE TO PUBLIC USING (true)', t.name);
            EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', t.name);
        END IF;
        protected := protected || t.name;
    END LOOP;
    -- The unrestricted observations' ids, under the protected roles' condition: a count or a
    -- lookup of theirs reads this index only (and the link tables' policies probe it). Made
    -- again each time: the condition holds this database's ids.
    DROP INDEX IF EXISTS gn_synthese.sinp_unrestricted_observations;
    IF pg_catalog.to_regclass('gn_synthese.synthese') IS NOT NULL
       AND NOT (SELECT p.rls_was_enabled FROM sinp_import.protected_tables AS p
                 WHERE p.table_name OPERATOR(pg_catalog.=) 'gn_synthese.synthese') THEN
        EXECUTE pg_catalog.format(
            'CREATE INDEX sinp_unrestricted_observations ON gn_synthese.synthese (id_synthese) WHERE NOT %s',
            sinp_import.restricted_condition_now(NULL));
        COMMENT ON INDEX gn_synthese.sinp_unrestricted_observations IS
          'The unrestricted observations (sinp_import.protect_restricted()): what the protected roles count and look up.';
        -- How many rows are confidential: without it the planner guesses, and a guess of a few
        -- rows turns the protected roles' plans to index scans of the whole table.
        DROP STATISTICS IF EXISTS gn_synthese.sinp_confidential_observations;
        CREATE STATISTICS gn_synthese.sinp_confidential_observations
            ON (coalesce(additional_data -> 'confidential' IN ('true'::jsonb, '"true"'::jsonb), false))
          FROM gn_synthese.synthese;
        COMMENT ON STATISTICS gn_synthese.sinp_confidential_observations IS
          'How many observations are confidential (sinp_import.protect_restricted()), for the plans of the protected roles.';
        ANALYZE gn_synthese.synthese;
    END IF;
    -- The public view: unrestricted observations as they are, restricted ones blurred (their
    -- geometry the cells of the blur area type they lie in, identifying details removed). The
    -- area type is read now, as a superuser set it, and written into the view.
    IF pg_catalog.to_regclass('gn_synthese.synthese') IS NOT NULL THEN
        EXECUTE pg_catalog.format($view$
CREATE OR REPLACE VIEW sinp_import.public_observations WITH (security_barrier = true) AS
SELECT s.id_synthese, s.unique_id_sinp, s.id_source, s.id_dataset, s.cd_nom, s.cd_hab, s.nom_cite,
       s.count_min, s.count_max,
       s.id_nomenclature_obs_technique, s.id_nomenclature_bio_status, s.id_nomenclature_life_stage,
       s.id_nomenclature_sex, s.id_nomenclature_observation_status, s.id_nomenclature_valid_status,
       s.id_nomenclature_sensitivity, s.id_nomenclature_diffusion_level,
       CASE WHEN r.restricted THEN pg_catalog.date_trunc('day', s.date_min) ELSE s.date_min END AS date_min,
       CASE WHEN r.restricted THEN pg_catalog.date_trunc('day', s.date_max) ELSE s.date_max END AS date_max,
       CASE WHEN r.restricted THEN NULL ELSE s.altitude_min END AS altitude_min,
       CASE WHEN r.restricted THEN NULL ELSE s.altitude_max END AS altitude_max,
       CASE WHEN r.restricted THEN NULL ELSE s.place_name END AS place_name,
       CASE WHEN r.restricted THEN NULL ELSE s."precision" END AS "precision",
       CASE WHEN r.restricted THEN blur.geom ELSE s.the_geom_local END AS the_geom_local,
       CASE WHEN r.restricted THEN public.ST_Transform(blur.geom, 4326) ELSE s.the_geom_4326 END AS the_geom_4326,
       CASE WHEN r.restricted THEN public.ST_Transform(public.ST_Centroid(blur.geom), 4326) ELSE s.the_geom_point END AS the_geom_point,
       CASE WHEN r.restricted THEN blur.id_area ELSE s.id_area_attachment END AS id_area_attachment,
       CASE WHEN r.restricted THEN NULL ELSE s.observers END AS observers,
       CASE WHEN r.restricted THEN NULL ELSE s.determiner END AS determiner,
       CASE WHEN r.restricted THEN NULL ELSE s.comment_context END AS comment_context,
       CASE WHEN r.restricted THEN NULL ELSE s.comment_description END AS comment_description,
       CASE WHEN r.restricted THEN NULL ELSE s.digital_proof END AS digital_proof,
       CASE WHEN r.restricted THEN NULL ELSE s.non_digital_proof END AS non_digital_proof,
       CASE WHEN r.restricted THEN NULL ELSE s.additional_data END AS additional_data,
       s.meta_update_date,
       r.restricted AS blurred
  FROM gn_synthese.synthese AS s
 CROSS JOIN LATERAL (SELECT %s AS restricted) AS r
  LEFT JOIN LATERAL (
        SELECT public.ST_Multi(public.ST_Union(a.geom)) AS geom, pg_catalog.min(a.id_area) AS id_area
          FROM gn_synthese.cor_area_synthese AS c
          JOIN ref_geo.l_areas AS a ON a.id_area OPERATOR(pg_catalog.=) c.id_area
          JOIN ref_geo.bib_areas_types AS t ON t.id_type OPERATOR(pg_catalog.=) a.id_type
         WHERE c.id_synthese OPERATOR(pg_catalog.=) s.id_synthese
           AND t.type_code OPERATOR(pg_catalog.=) %L) AS blur ON r.restricted
$view$, sinp_import.restricted_condition('s'),
            coalesce(NULLIF(pg_catalog.current_setting('sinp_import.blur_area_type', true), ''), 'M10'));
        EXECUTE pg_catalog.format('COMMENT ON VIEW sinp_import.public_observations IS %L',
            pg_catalog.format('Every observation for the public: unrestricted ones as they are, restricted ones (blurred = true) with their geometry the %s cells they lie in and no observers, comments, proofs, additional data, place, altitude or time of day.',
                coalesce(NULLIF(pg_catalog.current_setting('sinp_import.blur_area_type', true), ''), 'M10')));
        FOR t IN SELECT r::oid AS role_oid FROM pg_catalog.unnest(public_roles) AS r WHERE r IS NOT NULL LOOP
            EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA sinp_import TO %s', t.role_oid::pg_catalog.regrole);
            EXECUTE pg_catalog.format('GRANT SELECT ON sinp_import.public_observations TO %s', t.role_oid::pg_catalog.regrole);
        END LOOP;
    END IF;
    RETURN pg_catalog.format('%s see only unrestricted rows of %s',
                             pg_catalog.array_to_string(public_roles::text[], ', '),
                             pg_catalog.array_to_string(protected, ', '));
END
$function$;
COMMENT ON FUNCTION sinp_import.protect_restricted(regrole[]) IS
  'Installs row-level security so that these roles see only unrestricted observations (FORMAT.md §5) in the synthese, its area and observer links and the journal''s problems, and the view public_observations (restricted ones blurred) for them; idempotent.';

CREATE FUNCTION sinp_import.unprotect_restricted() RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, sinp_import, pg_temp
AS $function$
DECLARE
    t record;
    undone text[] := '{}';
BEGIN
    FOR t IN SELECT p.table_name, p.rls_was_enabled FROM sinp_import.protected_tables AS p
              WHERE pg_catalog.to_regclass(p.table_name) IS NOT NULL ORDER BY p.table_name
    LOOP
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS sinp_unrestricted_only ON %s', t.table_name);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS sinp_all_rows ON %s', t.table_name);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS sinp_writes_insert ON %s', t.table_name);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS sinp_writes_update ON %s', t.table_name);
        EXECUTE pg_catalog.format('DROP POLICY IF EXISTS sinp_writes_delete ON %s', t.table_name);
        IF NOT t.rls_was_enabled THEN
            EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t.table_name);
        END IF;
        undone := undone || t.table_name;
    END LOOP;
    DROP VIEW IF EXISTS sinp_import.public_observations;
    DROP INDEX IF EXISTS gn_synthese.sinp_unrestricted_observations;
    DROP STATISTICS IF EXISTS gn_synthese.sinp_confidential_observations;
    DELETE FROM sinp_import.protected_tables;
    DELETE FROM sinp_import.protected_roles;
    RETURN pg_catalog.format('row-level security of sinp_import removed from %s',
                             coalesce(NULLIF(pg_catalog.array_to_string(undone, ', '), ''), 'no table'));
END
$function$;
COMMENT ON FUNCTION sinp_import.unprotect_restricted() IS
  'Removes what protect_restricted() installed: its policies, the view public_observations, and row-level security where it turned it on.';
