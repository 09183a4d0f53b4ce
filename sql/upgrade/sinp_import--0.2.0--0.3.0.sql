-- sinp_import 0.2.0 -> 0.3.0 (ALTER EXTENSION sinp_import UPDATE): every function runs with a
-- pinned search_path (pg_catalog, sinp_import, pg_temp), load_inbox() names every function and
-- operator by its schema (a procedure that commits cannot pin it), and loads are serialised by a
-- lock on sinp_import.load_lock instead of an advisory lock any role could hold. tests/e2e.sh
-- checks that 0.1.0 updated to this version has exactly the objects of a fresh install.

CREATE TABLE sinp_import.load_lock ();
COMMENT ON TABLE sinp_import.load_lock IS 'Locked by every load and validation while it runs (they wait for each other); loaders need UPDATE on it.';

-- GeoNature's sensitivity triggers are replaced by the loader's own application of the rules (never
-- lowering the archive's sensitivity); its trigger that rewrites synthese.observers from the linked
-- users is disabled during loads: the archive's text is the truth.
INSERT INTO sinp_import.managed_triggers (table_name, trigger_name, replaced_by) VALUES
    ('gn_synthese.synthese', 'tri_insert_calculate_sensitivity', 'gn_sensitivity''s rules applied once to the written observations; the stricter of their result and the archive''s sensitivity is kept'),
    ('gn_synthese.synthese', 'tri_update_calculate_sensitivity', 'gn_sensitivity''s rules applied once to the written observations; the stricter of their result and the archive''s sensitivity is kept'),
    ('gn_commons.t_validations', 'tri_insert_synthese_update_validation_status', 'nothing: the observations already hold the archive''s validation status, comment and validator text (GeoNature''s trigger would replace the validator text by a user''s name)'),
    ('gn_synthese.cor_observer_synthese', 'trg_maj_synthese_observers_txt', 'nothing: the archive''s observers text is kept as written (GeoNature''s trigger would rewrite it from the linked users, losing e-mails, organisms, [uuid]s and observers without a user)')
ON CONFLICT DO NOTHING;

ALTER FUNCTION sinp_import.load_archive(text, text, boolean) SET search_path TO pg_catalog, sinp_import, pg_temp;
ALTER FUNCTION sinp_import.load_archive(bytea, text, text, boolean) SET search_path TO pg_catalog, sinp_import, pg_temp;
ALTER FUNCTION sinp_import.validate_archive(text) SET search_path TO pg_catalog, sinp_import, pg_temp;
ALTER FUNCTION sinp_import.validate_archive(bytea, text) SET search_path TO pg_catalog, sinp_import, pg_temp;
ALTER FUNCTION sinp_import.create_target_schema() SET search_path TO pg_catalog, sinp_import, pg_temp;
ALTER FUNCTION sinp_import.inbox_files(text) SET search_path TO pg_catalog, sinp_import, pg_temp;
ALTER FUNCTION sinp_import.begin_load_inbox(text, text) SET search_path TO pg_catalog, sinp_import, pg_temp;
ALTER FUNCTION sinp_import.unprojectable_geometries(regclass, integer) SET search_path = pg_catalog, sinp_import, pg_temp;
ALTER FUNCTION sinp_import.inbox(text) SET search_path = pg_catalog, sinp_import, pg_temp;

CREATE OR REPLACE PROCEDURE sinp_import.load_inbox(dir text DEFAULT NULL, mode text DEFAULT 'strict')
LANGUAGE plpgsql AS $procedure$
DECLARE
    inbox_dir text := sinp_import.begin_load_inbox(dir, mode);
    load_mode text := pg_catalog.lower(pg_catalog.btrim(mode));
    archive record;
    outcome record;
    attempt_started timestamptz;
    failure_state text;
    failure_message text;
    failure_detail text;
    failed_import_id bigint;
    outcomes text[] := '{}'::text[];
    not_retried bigint := 0;
BEGIN
    FOR archive IN
        SELECT f.*
          FROM sinp_import.inbox(inbox_dir) AS f
         WHERE f.state OPERATOR(pg_catalog.=) ANY (ARRAY['pending', 'rejected']::text[])
         ORDER BY coalesce(f.archive_date, f.modified::date), f.archive_name
    LOOP
        IF archive.state OPERATOR(pg_catalog.=) 'rejected'::text
           AND archive.import_mode OPERATOR(pg_catalog.=) load_mode THEN
            not_retried := not_retried OPERATOR(pg_catalog.+) 1::bigint;
            CONTINUE;
        END IF;
        attempt_started := pg_catalog.clock_timestamp();
        BEGIN
            PERFORM FROM sinp_import.load_archive(archive.path, load_mode);
            -- The journal row of that load: the last import id this session drew.
            SELECT i.import_id, i.status INTO outcome
              FROM sinp_import.imports AS i
             WHERE i.import_id OPERATOR(pg_catalog.=)
                   pg_catalog.currval('sinp_import.imports_import_id_seq'::pg_catalog.regclass);
            RAISE NOTICE 'sinp_import.load_inbox: % %, import %',
                archive.archive_name, outcome.status, outcome.import_id;
            outcomes := outcomes OPERATOR(pg_catalog.||) outcome.status::text;
        EXCEPTION WHEN OTHERS THEN
            -- The load's own work is undone with its subtransaction; the failure is journaled.
            GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE,
                                    failure_message = MESSAGE_TEXT,
                                    failure_detail = PG_EXCEPTION_DETAIL;
            INSERT INTO sinp_import.imports (archive_name, sha256, size_bytes, archive_date, region,
                                             provider, mode, status, error_count, started_at,
                                             finished_at)
            VALUES (archive.archive_name, archive.sha256, archive.size_bytes, archive.archive_date,
                    archive.region, archive.provider, load_mode, 'failed', 1, attempt_started, pg_catalog.clock_timestamp())
            RETURNING import_id INTO failed_import_id;
            INSERT INTO sinp_import.import_errors (import_id, file, severity, code, message, value)
            VALUES (failed_import_id, archive.archive_name, 'error', 'LOAD_FAILED',
                    failure_message OPERATOR(pg_catalog.||)
                        coalesce(' — '::text OPERATOR(pg_catalog.||) nullif(failure_detail, ''::text), ''::text),
                    failure_state);
            RAISE WARNING 'sinp_import.load_inbox: % failed, import %: % (SQLSTATE %)',
                archive.archive_name, failed_import_id, failure_message, failure_state
                USING HINT = 'Nothing of it was applied. Later archives were still loaded; this one is tried again at the next run.';
            outcomes := outcomes OPERATOR(pg_catalog.||) 'failed'::text;
        END;
        COMMIT;
    END LOOP;
    RAISE NOTICE '%', pg_catalog.format('sinp_import.load_inbox: %s archive(s) tried in %s%s%s',
        pg_catalog.cardinality(outcomes), inbox_dir,
        (SELECT ': '::text OPERATOR(pg_catalog.||) pg_catalog.string_agg(
                   c.n::text OPERATOR(pg_catalog.||) ' '::text OPERATOR(pg_catalog.||) c.status, ', '::text ORDER BY c.status)
           FROM (SELECT o AS status, pg_catalog.count(*) AS n FROM pg_catalog.unnest(outcomes) AS o GROUP BY o) AS c),
        CASE WHEN not_retried OPERATOR(pg_catalog.>) 0::bigint
             THEN pg_catalog.format('; %s rejected earlier in %s mode, not tried again (see sinp_import.inbox())',
                         not_retried, load_mode)
        END);
END
$procedure$;

-- sinp_import.grant_loader(role): what a role needs of the extension to load (sql/access.sql).
CREATE FUNCTION sinp_import.grant_loader(role regrole) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, sinp_import, pg_temp
AS $function$
DECLARE
    extension_owner oid := (SELECT c.relowner FROM pg_catalog.pg_class AS c
                             WHERE c.oid = 'sinp_import.imports'::pg_catalog.regclass);
    not_owned text;
BEGIN
    IF role IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'sinp_import.grant_loader(): the role is NULL',
              HINT = 'Name the role that loads: SELECT sinp_import.grant_loader(''geonatadmin'');';
    END IF;
    -- GRANT would refuse it too; said here with what to do.
    IF NOT pg_catalog.pg_has_role(CURRENT_USER, extension_owner, 'USAGE') THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
              MESSAGE = pg_catalog.format('permission denied: only %s (the owner of the extension''s objects) or a superuser may grant what a load needs',
                                          pg_catalog.quote_ident(extension_owner::pg_catalog.regrole::text)),
              DETAIL = pg_catalog.format('%s is not a member of %s.', pg_catalog.quote_ident(CURRENT_USER::text),
                                         pg_catalog.quote_ident(extension_owner::pg_catalog.regrole::text)),
              HINT = 'Ask a superuser to run it.';
    END IF;
    EXECUTE pg_catalog.format('GRANT USAGE ON SCHEMA sinp_import TO %s', role);
    -- The lock that serialises loads (LOCK ... IN EXCLUSIVE MODE needs UPDATE).
    EXECUTE pg_catalog.format('GRANT UPDATE ON sinp_import.load_lock TO %s', role);
    -- The journal, written as the caller: the import row and its counts, the problems, the
    -- description of additional fields; the registry of the target triggers a load replaces.
    EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE ON sinp_import.imports, sinp_import.additional_fields TO %s', role);
    EXECUTE pg_catalog.format('GRANT SELECT, INSERT ON sinp_import.import_errors TO %s', role);
    EXECUTE pg_catalog.format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA sinp_import TO %s', role);
    EXECUTE pg_catalog.format('GRANT SELECT ON sinp_import.managed_triggers TO %s', role);
    EXECUTE pg_catalog.format('GRANT EXECUTE ON ALL ROUTINES IN SCHEMA sinp_import TO %s', role);
    -- What the role must have of the target, and does not (until a non-owner may load).
    SELECT pg_catalog.string_agg(t.name, ', ' ORDER BY t.name) INTO not_owned
      FROM (VALUES ('gn_synthese.synthese'), ('gn_synthese.t_sources'), ('gn_synthese.cor_area_synthese'),
                   ('gn_synthese.cor_observer_synthese'), ('gn_synthese.t_log_synthese'),
                   ('gn_meta.t_acquisition_frameworks'), ('gn_meta.t_datasets'),
                   ('utilisateurs.bib_organismes'), ('utilisateurs.t_roles')) AS t(name)
      JOIN pg_catalog.pg_class AS c ON c.oid = pg_catalog.to_regclass(t.name)
     WHERE NOT pg_catalog.pg_has_role(role, c.relowner, 'USAGE');
    IF not_owned IS NOT NULL THEN
        RAISE WARNING USING
              MESSAGE = pg_catalog.format('sinp_import: %s does not own %s', role, not_owned),
              HINT = 'A load disables the target''s known triggers inside its transaction, which only the owner of a table may do: load as the owner of the GeoNature tables.';
    END IF;
    RETURN pg_catalog.format('%s may load: usage of schema sinp_import, its journal and its lock granted', role);
END
$function$;
COMMENT ON FUNCTION sinp_import.grant_loader(regrole) IS
  'Grants a role what the extension needs of it to load, validate and run the inbox (its schema, journal and lock); warns of the target tables it does not own.';
