-- sinp_import 0.2.0 -> 0.3.0 (ALTER EXTENSION sinp_import UPDATE): every function runs with a
-- pinned search_path (pg_catalog, sinp_import, pg_temp), load_inbox() names every function and
-- operator by its schema (a procedure that commits cannot pin it), and loads are serialised by a
-- lock on sinp_import.load_lock instead of an advisory lock any role could hold. tests/e2e.sh
-- checks that 0.1.0 updated to this version has exactly the objects of a fresh install.

CREATE TABLE sinp_import.load_lock ();
COMMENT ON TABLE sinp_import.load_lock IS 'Locked by every load and validation while it runs (they wait for each other); loaders need UPDATE on it.';

-- Who connected, beside the role the load ran as (imports before 0.3.0 keep NULL).
ALTER TABLE sinp_import.imports ADD COLUMN session_role name;
ALTER TABLE sinp_import.imports ALTER COLUMN session_role SET DEFAULT session_user;
-- Whether a problem's row is a restricted observation (problems journaled before 0.3.0: unknown).
ALTER TABLE sinp_import.import_errors ADD COLUMN restricted boolean;

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

-- One row per export_archive() call (docs/export.md): the file it wrote, what it was asked, and
-- the rows of each file. Written in the export's transaction: an export rolled back leaves no row
-- (and no file: it is removed when the export fails).
CREATE TABLE sinp_import.exports (
    export_id          bigserial PRIMARY KEY,
    path               text NOT NULL,
    archive_name       text NOT NULL,
    since              timestamptz,
    sources            text[],
    datasets           uuid[],
    include_restricted boolean NOT NULL,
    format             text NOT NULL,
    size_bytes         bigint,
    sha256             text,
    -- Per entity: {"synthese": {"inserted": n, "updated": 0, "deleted": 0}, ...}
    entity_counts      jsonb NOT NULL DEFAULT '{}',
    started_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at        timestamptz,
    -- Where the next differential export can begin and miss nothing of what this one did not
    -- carry: the start of the oldest transaction running when this one began (its writes could
    -- commit after this export read the tables).
    next_since         timestamptz,
    -- The outbox feed it was written for (sinp_import.outbox_feeds), if any.
    feed               text,
    -- 'written', or 'failed' (an export of export_outbox() that raised an ERROR: no file left).
    status             text NOT NULL DEFAULT 'written' CHECK (status IN ('written', 'failed')),
    error              text,
    exported_by        name NOT NULL DEFAULT current_user,
    session_role       name DEFAULT session_user
);
COMMENT ON TABLE sinp_import.exports IS 'One row per call of export_archive: the file written, what was asked, and the rows of each file.';
SELECT pg_catalog.pg_extension_config_dump('sinp_import.exports', '');
SELECT pg_catalog.pg_extension_config_dump('sinp_import.exports_export_id_seq', '');

-- The change log's write triggers (sql/changes.sql), replaced by the loader.
INSERT INTO sinp_import.managed_triggers (table_name, trigger_name, replaced_by) VALUES
    ('gn_synthese.synthese', 'sinp_import_log_inserted_rows', 'sinp_import.changed_rows written once for the written rows'),
    ('gn_synthese.synthese', 'sinp_import_log_updated_rows', 'sinp_import.changed_rows written once for the written rows'),
    ('gn_synthese.t_sources', 'sinp_import_log_inserted_rows', 'sinp_import.changed_rows written once for the written rows'),
    ('gn_synthese.t_sources', 'sinp_import_log_updated_rows', 'sinp_import.changed_rows written once for the written rows'),
    ('utilisateurs.bib_organismes', 'sinp_import_log_inserted_rows', 'sinp_import.changed_rows written once for the written rows'),
    ('utilisateurs.bib_organismes', 'sinp_import_log_updated_rows', 'sinp_import.changed_rows written once for the written rows'),
    ('utilisateurs.t_roles', 'sinp_import_log_inserted_rows', 'sinp_import.changed_rows written once for the written rows'),
    ('utilisateurs.t_roles', 'sinp_import_log_updated_rows', 'sinp_import.changed_rows written once for the written rows'),
    ('gn_meta.t_acquisition_frameworks', 'sinp_import_log_inserted_rows', 'sinp_import.changed_rows written once for the written rows'),
    ('gn_meta.t_acquisition_frameworks', 'sinp_import_log_updated_rows', 'sinp_import.changed_rows written once for the written rows'),
    ('gn_meta.t_datasets', 'sinp_import_log_inserted_rows', 'sinp_import.changed_rows written once for the written rows'),
    ('gn_meta.t_datasets', 'sinp_import_log_updated_rows', 'sinp_import.changed_rows written once for the written rows');

-- The change log (sql/changes.sql).
-- The change log (docs/export.md): when each row of the tables the loader writes was created and
-- last changed, and every row deleted from them, by a load or by anything else (GeoNature's own
-- interface, a plain UPDATE or DELETE), with the keys a differential export must send as D rows.
-- GeoNature's t_log_synthese keeps only id_synthese: once an observation is gone, nobody could
-- tell a receiver which unique_id_sinp to delete. sinp_import.log_changes() installs it
-- (statement triggers on each table, as their owner); a load writes it itself, set-based.

CREATE TABLE sinp_import.deleted_rows (
    entity      text NOT NULL,
    key         text NOT NULL,
    -- The synthese: its source's name (only an archive of that source deletes it, FORMAT.md §7),
    -- entity_source_pk_value, and its dataset's UUID.
    code_source text,
    source_id   text,
    dataset     uuid,
    -- When the row had been created (sinp_import.changed_rows), NULL before the log began: a
    -- differential since a later time sends no D row for a row its receiver never had.
    created_at  timestamptz,
    deleted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_by  name NOT NULL DEFAULT current_user
);
CREATE INDEX deleted_rows_deleted_at_idx ON sinp_import.deleted_rows (deleted_at);
CREATE INDEX deleted_rows_entity_key_idx ON sinp_import.deleted_rows (entity, key);
COMMENT ON TABLE sinp_import.deleted_rows IS 'Every row deleted from the tables the loader writes since log_changes(), with its keys: the D rows of differential exports.';
COMMENT ON COLUMN sinp_import.deleted_rows.entity IS 'The entity of the row (synthese, dataset, ...).';
COMMENT ON COLUMN sinp_import.deleted_rows.key IS 'Its key in the format: unique_id_sinp, the UUID, or the source''s name.';
COMMENT ON COLUMN sinp_import.deleted_rows.code_source IS 'An observation''s source (name): the D row''s code_source.';
COMMENT ON COLUMN sinp_import.deleted_rows.source_id IS 'An observation''s entity_source_pk_value: the D row''s source_id.';
COMMENT ON COLUMN sinp_import.deleted_rows.dataset IS 'An observation''s dataset (UUID), for exports of some datasets.';
COMMENT ON COLUMN sinp_import.deleted_rows.created_at IS 'When it had been created, if after the log began.';
COMMENT ON COLUMN sinp_import.deleted_rows.deleted_at IS 'When it was deleted.';
COMMENT ON COLUMN sinp_import.deleted_rows.deleted_by IS 'The role that deleted it.';

CREATE TABLE sinp_import.logged_tables (
    table_name   text PRIMARY KEY,
    entity       text NOT NULL,
    logged_since timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE sinp_import.logged_tables IS 'The tables whose changes sinp_import.changed_rows and deleted_rows record, and since when.';
COMMENT ON COLUMN sinp_import.logged_tables.table_name IS 'The table, schema-qualified.';
COMMENT ON COLUMN sinp_import.logged_tables.entity IS 'The entity its rows are.';
COMMENT ON COLUMN sinp_import.logged_tables.logged_since IS 'When log_changes() started recording its changes: a differential export cannot start earlier.';

-- One row per row of those tables created or changed since the log began: the I and U rows of
-- differential exports. Times are the clock at the write (clock_timestamp()): never earlier than
-- the writing transaction's start, which is what sinp_import.exports.next_since relies on.
CREATE TABLE sinp_import.changed_rows (
    entity     text NOT NULL,
    id         integer NOT NULL,
    created_at timestamptz,
    changed_at timestamptz NOT NULL,
    -- An observation: when a write last made it restricted (it was not): a differential export
    -- that leaves restricted observations out withdraws it from its receivers with a D row.
    withdrawn_at timestamptz,
    PRIMARY KEY (entity, id)
);
CREATE INDEX changed_rows_changed_at_idx ON sinp_import.changed_rows (entity, changed_at);
COMMENT ON TABLE sinp_import.changed_rows IS 'When each row of the tables the loader writes was created and last changed, since log_changes(): the I and U rows of differential exports.';
COMMENT ON COLUMN sinp_import.changed_rows.entity IS 'The entity of the row (synthese, dataset, ...).';
COMMENT ON COLUMN sinp_import.changed_rows.id IS 'The row''s serial id in its table (id_synthese, id_dataset, ...).';
COMMENT ON COLUMN sinp_import.changed_rows.created_at IS 'When it was inserted; NULL when before the log began.';
COMMENT ON COLUMN sinp_import.changed_rows.changed_at IS 'When it was last inserted or updated.';
COMMENT ON COLUMN sinp_import.changed_rows.withdrawn_at IS 'An observation: when a write last made it restricted (it was not before).';

SELECT pg_catalog.pg_extension_config_dump('sinp_import.deleted_rows', '');
SELECT pg_catalog.pg_extension_config_dump('sinp_import.changed_rows', '');
SELECT pg_catalog.pg_extension_config_dump('sinp_import.logged_tables', '');

-- The delete trigger: once per DELETE statement, the deleted rows' keys from its transition
-- table, with when they had been created; their changed_rows go. With the extension owner's
-- rights: the deleter need not read the sources and datasets, nor write the log.
CREATE FUNCTION sinp_import.log_deleted_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    ids integer[];
BEGIN
    CASE TG_ARGV[0]
    WHEN 'synthese' THEN
        SELECT pg_catalog.array_agg(d.id_synthese) INTO ids FROM deleted AS d;
        INSERT INTO sinp_import.deleted_rows (entity, key, code_source, source_id, dataset, created_at)
        SELECT 'synthese', d.unique_id_sinp::text, s.name_source, d.entity_source_pk_value, t.unique_dataset_id, c.created_at
          FROM deleted AS d
          LEFT JOIN gn_synthese.t_sources AS s ON s.id_source OPERATOR(pg_catalog.=) d.id_source
          LEFT JOIN gn_meta.t_datasets AS t ON t.id_dataset OPERATOR(pg_catalog.=) d.id_dataset
          LEFT JOIN sinp_import.changed_rows AS c ON c.entity OPERATOR(pg_catalog.=) 'synthese'
                                                 AND c.id OPERATOR(pg_catalog.=) d.id_synthese
         WHERE d.unique_id_sinp IS NOT NULL;
    WHEN 'source' THEN
        SELECT pg_catalog.array_agg(d.id_source) INTO ids FROM deleted AS d;
        INSERT INTO sinp_import.deleted_rows (entity, key, created_at)
        SELECT 'source', d.name_source, c.created_at FROM deleted AS d
          LEFT JOIN sinp_import.changed_rows AS c ON c.entity OPERATOR(pg_catalog.=) 'source'
                                                 AND c.id OPERATOR(pg_catalog.=) d.id_source;
    WHEN 'organism' THEN
        SELECT pg_catalog.array_agg(d.id_organisme) INTO ids FROM deleted AS d;
        INSERT INTO sinp_import.deleted_rows (entity, key, created_at)
        SELECT 'organism', d.uuid_organisme::text, c.created_at FROM deleted AS d
          LEFT JOIN sinp_import.changed_rows AS c ON c.entity OPERATOR(pg_catalog.=) 'organism'
                                                 AND c.id OPERATOR(pg_catalog.=) d.id_organisme;
    WHEN 'user' THEN
        SELECT pg_catalog.array_agg(d.id_role) INTO ids FROM deleted AS d;
        INSERT INTO sinp_import.deleted_rows (entity, key, created_at)
        SELECT 'user', d.uuid_role::text, c.created_at FROM deleted AS d
          LEFT JOIN sinp_import.changed_rows AS c ON c.entity OPERATOR(pg_catalog.=) 'user'
                                                 AND c.id OPERATOR(pg_catalog.=) d.id_role;
    WHEN 'acquisition_framework' THEN
        SELECT pg_catalog.array_agg(d.id_acquisition_framework) INTO ids FROM deleted AS d;
        INSERT INTO sinp_import.deleted_rows (entity, key, created_at)
        SELECT 'acquisition_framework', d.unique_acquisition_framework_id::text, c.created_at FROM deleted AS d
          LEFT JOIN sinp_import.changed_rows AS c ON c.entity OPERATOR(pg_catalog.=) 'acquisition_framework'
                                                 AND c.id OPERATOR(pg_catalog.=) d.id_acquisition_framework;
    WHEN 'dataset' THEN
        SELECT pg_catalog.array_agg(d.id_dataset) INTO ids FROM deleted AS d;
        INSERT INTO sinp_import.deleted_rows (entity, key, created_at)
        SELECT 'dataset', d.unique_dataset_id::text, c.created_at FROM deleted AS d
          LEFT JOIN sinp_import.changed_rows AS c ON c.entity OPERATOR(pg_catalog.=) 'dataset'
                                                 AND c.id OPERATOR(pg_catalog.=) d.id_dataset;
    END CASE;
    DELETE FROM sinp_import.changed_rows AS c
     WHERE c.entity OPERATOR(pg_catalog.=) TG_ARGV[0] AND c.id OPERATOR(pg_catalog.=) ANY (ids);
    RETURN NULL;
END
$function$;
COMMENT ON FUNCTION sinp_import.log_deleted_rows() IS
  'Trigger of log_changes(): records the keys of the rows a DELETE statement removed in sinp_import.deleted_rows.';

-- The write triggers: once per INSERT or UPDATE statement (two triggers: a trigger with a
-- transition table has one event), the written rows' ids and the time. A load disables them
-- (sinp_import.managed_triggers) and writes the same once, from its list of written rows.
CREATE FUNCTION sinp_import.log_written_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    ids integer[];
    inserted boolean := TG_OP OPERATOR(pg_catalog.=) 'INSERT';
    written_at timestamptz := pg_catalog.clock_timestamp();
BEGIN
    CASE TG_ARGV[0]
    WHEN 'synthese' THEN SELECT pg_catalog.array_agg(w.id_synthese) INTO ids FROM written AS w;
    WHEN 'source' THEN SELECT pg_catalog.array_agg(w.id_source) INTO ids FROM written AS w;
    WHEN 'organism' THEN SELECT pg_catalog.array_agg(w.id_organisme) INTO ids FROM written AS w;
    WHEN 'user' THEN SELECT pg_catalog.array_agg(w.id_role) INTO ids FROM written AS w;
    WHEN 'acquisition_framework' THEN SELECT pg_catalog.array_agg(w.id_acquisition_framework) INTO ids FROM written AS w;
    WHEN 'dataset' THEN SELECT pg_catalog.array_agg(w.id_dataset) INTO ids FROM written AS w;
    END CASE;
    INSERT INTO sinp_import.changed_rows AS c (entity, id, created_at, changed_at)
    SELECT DISTINCT TG_ARGV[0], i.id, CASE WHEN inserted THEN written_at END, written_at
      FROM pg_catalog.unnest(ids) AS i(id)
    ON CONFLICT (entity, id) DO UPDATE
       SET changed_at = excluded.changed_at, created_at = coalesce(c.created_at, excluded.created_at);
    -- The observations this UPDATE made restricted (the trigger's OLD table is "previous"), by
    -- the one definition, sinp_import.restricted_condition().
    IF TG_ARGV[0] OPERATOR(pg_catalog.=) 'synthese' AND NOT inserted THEN
        EXECUTE pg_catalog.format(
            'UPDATE sinp_import.changed_rows AS c SET withdrawn_at = $1
               FROM written AS t JOIN previous AS o ON o.id_synthese OPERATOR(pg_catalog.=) t.id_synthese
              WHERE c.entity OPERATOR(pg_catalog.=) ''synthese'' AND c.id OPERATOR(pg_catalog.=) t.id_synthese
                AND %s AND NOT %s',
            sinp_import.restricted_condition('t'), sinp_import.restricted_condition('o'))
        USING written_at;
    END IF;
    RETURN NULL;
END
$function$;
COMMENT ON FUNCTION sinp_import.log_written_rows() IS
  'Trigger of log_changes(): records when the rows an INSERT or UPDATE statement wrote were created and changed in sinp_import.changed_rows.';

-- Installs the change log on the tables the loader writes that exist: statement triggers
-- sinp_import_log_deleted_rows, sinp_import_log_inserted_rows and sinp_import_log_updated_rows
-- on each (a load leaves the first enabled, and does the others' work itself). Idempotent. As
-- the tables' owner.
CREATE FUNCTION sinp_import.log_changes() RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    t record;
    g record;
    logged text[] := '{}';
    not_owned text;
BEGIN
    -- Found through the catalog: a role without USAGE on the schemas gets this answer, not a
    -- raw "permission denied for schema".
    SELECT pg_catalog.string_agg(v.schema || '.' || v.name, ', ' ORDER BY v.n) INTO not_owned
      FROM (VALUES ('gn_synthese', 't_sources', 1), ('utilisateurs', 'bib_organismes', 2), ('utilisateurs', 't_roles', 3),
                   ('gn_meta', 't_acquisition_frameworks', 4), ('gn_meta', 't_datasets', 5), ('gn_synthese', 'synthese', 6))
           AS v(schema, name, n)
      JOIN pg_catalog.pg_namespace AS s ON s.nspname OPERATOR(pg_catalog.=) v.schema
      JOIN pg_catalog.pg_class AS c ON c.relnamespace OPERATOR(pg_catalog.=) s.oid
                                   AND c.relname OPERATOR(pg_catalog.=) v.name
     WHERE NOT pg_catalog.pg_has_role(CURRENT_USER, c.relowner, 'USAGE');
    IF not_owned IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
              MESSAGE = pg_catalog.format('permission denied: %s does not own %s', CURRENT_USER, not_owned),
              DETAIL = 'The change log is made of triggers on each table, made by its owner.',
              HINT = 'Run it as the owner of the GeoNature tables, or as a superuser.';
    END IF;
    FOR t IN
        SELECT v.name, v.entity, c.oid AS relation
          FROM (VALUES ('gn_synthese.t_sources', 'source', 1), ('utilisateurs.bib_organismes', 'organism', 2),
                       ('utilisateurs.t_roles', 'user', 3), ('gn_meta.t_acquisition_frameworks', 'acquisition_framework', 4),
                       ('gn_meta.t_datasets', 'dataset', 5), ('gn_synthese.synthese', 'synthese', 6)) AS v(name, entity, n)
          JOIN pg_catalog.pg_class AS c ON c.oid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(v.name)
         ORDER BY v.n
    LOOP
        FOR g IN
            SELECT x.trigger, x.event, x.referencing, x.function
              FROM (VALUES ('sinp_import_log_deleted_rows', 'DELETE', 'OLD TABLE AS deleted', 'log_deleted_rows'),
                           ('sinp_import_log_inserted_rows', 'INSERT', 'NEW TABLE AS written', 'log_written_rows'),
                           -- An observation's old row too: whether the update made it restricted.
                           ('sinp_import_log_updated_rows', 'UPDATE',
                            CASE t.entity WHEN 'synthese' THEN 'OLD TABLE AS previous NEW TABLE AS written'
                                          ELSE 'NEW TABLE AS written' END, 'log_written_rows'))
                   AS x(trigger, event, referencing, function)
             WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_trigger AS r
                                WHERE r.tgrelid OPERATOR(pg_catalog.=) t.relation
                                  AND r.tgname OPERATOR(pg_catalog.=) x.trigger)
        LOOP
            EXECUTE pg_catalog.format(
                'CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT EXECUTE FUNCTION sinp_import.%I(%L)',
                g.trigger, g.event, t.name, g.referencing, g.function, t.entity);
        END LOOP;
        INSERT INTO sinp_import.logged_tables (table_name, entity) VALUES (t.name, t.entity)
        ON CONFLICT (table_name) DO NOTHING;
        logged := logged || t.name;
    END LOOP;
    RETURN pg_catalog.format('changes of %s are logged in sinp_import.changed_rows and deleted_rows',
                             pg_catalog.array_to_string(logged, ', '));
END
$function$;
COMMENT ON FUNCTION sinp_import.log_changes() IS
  'Installs the change log: statement triggers on each table the loader writes record when rows are written and the keys of deleted rows (docs/export.md); idempotent.';

-- Where a differential export that follows an export started now can begin and miss nothing: the
-- start of the oldest transaction running now (its writes, committed later, are timed after it),
-- else now. Read as the extension's owner: a caller would not see other roles' transactions.
CREATE FUNCTION sinp_import.oldest_running_transaction() RETURNS timestamptz
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
    SELECT LEAST(pg_catalog.clock_timestamp(), pg_catalog.min(a.xact_start))
      FROM pg_catalog.pg_stat_activity AS a
     WHERE a.xact_start IS NOT NULL AND a.pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid();
$function$;
COMMENT ON FUNCTION sinp_import.oldest_running_transaction() IS
  'The start of the oldest transaction running in the cluster, else now: where the next differential export begins (sinp_import.exports.next_since).';

-- Pruning: the log's rows older than every export that may still be asked for.
CREATE FUNCTION sinp_import.prune_changes(before timestamptz) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    pruned bigint;
BEGIN
    IF before IS NULL THEN
        RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'sinp_import.prune_changes(): the time is NULL',
              HINT = 'Name the time before which no differential export will be asked: SELECT sinp_import.prune_changes(now() - interval ''90 days'');';
    END IF;
    IF NOT (pg_catalog.has_table_privilege('sinp_import.deleted_rows', 'DELETE')
            AND pg_catalog.has_table_privilege('sinp_import.logged_tables', 'UPDATE')) THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
              MESSAGE = pg_catalog.format('permission denied: %s may not prune the change log', CURRENT_USER),
              DETAIL = 'Pruning removes what differential exports would send: it needs DELETE on sinp_import.deleted_rows and UPDATE on sinp_import.logged_tables.',
              HINT = 'Run it as the extension''s owner, or as a superuser.';
    END IF;
    DELETE FROM sinp_import.deleted_rows AS d WHERE d.deleted_at OPERATOR(pg_catalog.<) before;
    GET DIAGNOSTICS pruned = ROW_COUNT;
    -- Differential exports can no longer start before it.
    UPDATE sinp_import.logged_tables AS l SET logged_since = before
     WHERE l.logged_since OPERATOR(pg_catalog.<) before;
    RETURN pruned;
END
$function$;
COMMENT ON FUNCTION sinp_import.prune_changes(timestamptz) IS
  'Removes the deletions logged before a time; differential exports may then start from it only. Returns the rows removed.';

-- sinp_import.progress: the loads running now (sql/progress.sql).
-- The loads and validations running now, as their backends report them in pg_stat_activity
-- (src/load/progress.rs writes the text this view reads): a load's journal row is not visible
-- to other sessions before it commits, so the text itself carries the import and the archive.
-- Only this database's loads: import ids are those of its journal. A caller sees the loads of
-- its own role (all of them as a superuser or a member of
-- pg_read_all_stats), as pg_stat_activity shows it the query texts.
CREATE VIEW sinp_import.progress WITH (security_invoker = true) AS
SELECT a.pid,
       m[6]::bigint AS import_id,
       m[8] AS archive,
       m[2] AS step,
       m[3]::bigint AS done,
       m[4]::bigint AS total,
       m[5] AS unit,
       m[7]::timestamptz AS started,
       pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) m[7]::timestamptz AS elapsed
  FROM pg_catalog.pg_stat_activity AS a
 CROSS JOIN LATERAL pg_catalog.regexp_match(a.query,
        '^sinp_import\.(load_archive|validate_archive): (.*?)(?:: ([0-9]+)(?: / ([0-9]+))? ([a-z]+))? '
        '\((?:import ([0-9]+) )?since ([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+\+00) of (.*)\)$') AS m
 WHERE a.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()
   AND a.state OPERATOR(pg_catalog.=) 'active' AND m IS NOT NULL;

COMMENT ON VIEW sinp_import.progress IS
  'The loads and validations running now in this database (of the roles whose queries the caller may see): the step, how far it is (done of total unit), and since when.';
COMMENT ON COLUMN sinp_import.progress.pid IS 'The backend running the load (pg_stat_activity.pid, for pg_cancel_backend).';
COMMENT ON COLUMN sinp_import.progress.import_id IS 'The import being loaded (sinp_import.imports, visible once it commits); NULL for a validation.';
COMMENT ON COLUMN sinp_import.progress.archive IS 'The archive''s name (its first 200 characters).';
COMMENT ON COLUMN sinp_import.progress.step IS 'The current step, as the NOTICE said it: reading a file, checking, writing an entity, its area links...';
COMMENT ON COLUMN sinp_import.progress.done IS 'How much of the step is done, in unit (updated at least every few seconds); NULL for a step done in one statement.';
COMMENT ON COLUMN sinp_import.progress.total IS 'The step''s total in unit, when known (not while a file is read).';
COMMENT ON COLUMN sinp_import.progress.unit IS 'What done and total count: rows (of the file, or written), checks.';
COMMENT ON COLUMN sinp_import.progress.started IS 'When the load began (in load_inbox, this archive''s load).';
COMMENT ON COLUMN sinp_import.progress.elapsed IS 'How long the load has been running.';

-- Restricted observations kept from public roles (sql/restricted.sql).
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

-- sinp_import.grant_loader(role): what a role needs of the extension to load (sql/access.sql).
CREATE FUNCTION sinp_import.grant_loader(role regrole) RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, sinp_import, pg_temp
AS $function$
DECLARE
    extension_owner oid := (SELECT c.relowner FROM pg_catalog.pg_class AS c
                             WHERE c.oid = 'sinp_import.imports'::pg_catalog.regclass);
    not_owned text;  -- the tables the role may not write, with the privileges missing
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
    -- The export journal, written as the caller by export_archive().
    EXECUTE pg_catalog.format('GRANT SELECT, INSERT, UPDATE ON sinp_import.exports TO %s', role);
    -- The change log a differential export reads (written by triggers and loads as its owner),
    -- and the outbox's feeds.
    EXECUTE pg_catalog.format('GRANT SELECT ON sinp_import.changed_rows, sinp_import.deleted_rows, sinp_import.logged_tables, sinp_import.outbox_feeds TO %s', role);
    EXECUTE pg_catalog.format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA sinp_import TO %s', role);
    EXECUTE pg_catalog.format('GRANT SELECT ON sinp_import.managed_triggers TO %s', role);
    EXECUTE pg_catalog.format('GRANT SELECT ON sinp_import.progress TO %s', role);
    EXECUTE pg_catalog.format('GRANT EXECUTE ON ALL ROUTINES IN SCHEMA sinp_import TO %s', role);
    -- What the role must have of the tables whose rows archives carry, and does not: a load
    -- checks the same before reading an archive (the rows that follow them, links and logs, are
    -- written as the tables' owner).
    SELECT pg_catalog.string_agg(t.name || ' (' || t.missing || ')', ', ' ORDER BY t.name) INTO not_owned
      FROM (SELECT v.name, pg_catalog.string_agg(p.privilege, ', ' ORDER BY p.n) AS missing
              FROM (VALUES ('gn_synthese.synthese'), ('gn_synthese.t_sources'),
                           ('gn_meta.t_acquisition_frameworks'), ('gn_meta.t_datasets'),
                           ('utilisateurs.bib_organismes'), ('utilisateurs.t_roles')) AS v(name)
              JOIN pg_catalog.pg_class AS c ON c.oid = pg_catalog.to_regclass(v.name)
             CROSS JOIN (VALUES (1, 'SELECT'), (2, 'INSERT'), (3, 'UPDATE')) AS p(n, privilege)
             WHERE NOT pg_catalog.has_table_privilege(role, c.oid, p.privilege)
             GROUP BY v.name) AS t;
    IF not_owned IS NOT NULL THEN
        RAISE WARNING USING
              MESSAGE = pg_catalog.format('sinp_import: %s may not write %s', role, not_owned),
              HINT = 'A load writes the archive''s rows with the caller''s privileges: GRANT SELECT, INSERT, UPDATE on these tables (DELETE where archives delete rows), or load as their owner.';
    END IF;
    RETURN pg_catalog.format('%s may load: usage of schema sinp_import, its journal and its lock granted', role);
END
$function$;
COMMENT ON FUNCTION sinp_import.grant_loader(regrole) IS
  'Grants a role what the extension needs of it to load, validate and run the inbox (its schema, journal and lock); warns of the target tables whose rows it may not write.';

-- sinp_import.report(import_id): what to send a provider about an import.
CREATE FUNCTION sinp_import."report"(
	"import_id" bigint
) RETURNS TABLE (
	"section" TEXT,
	"file" TEXT,
	"code" TEXT,
	"severity" TEXT,
	"count" bigint,
	"examples" TEXT,
	"what_to_do" TEXT
)
STRICT STABLE PARALLEL SAFE
SET search_path TO pg_catalog, sinp_import, pg_temp
LANGUAGE c
AS 'MODULE_PATHNAME', 'report_wrapper';


-- sinp_import::api::export_archive
CREATE  FUNCTION "export_archive"(
	"path" TEXT, /* Option < & str > */
	"since" timestamp with time zone DEFAULT NULL, /* Option < pgrx :: datum :: TimestampWithTimeZone > */
	"sources" TEXT[] DEFAULT NULL, /* :: std :: option :: Option < Vec < String > > */
	"datasets" uuid[] DEFAULT NULL, /* :: std :: option :: Option < Vec < pgrx :: Uuid > > */
	"include_restricted" bool DEFAULT false, /* Option < bool > */
	"format" TEXT DEFAULT 'zip' /* Option < & str > */
) RETURNS TABLE (
	"export_id" bigint,  /* i64 */
	"entity" TEXT,  /* String */
	"inserted" bigint,  /* i64 */
	"updated" bigint,  /* i64 */
	"deleted" bigint  /* i64 */
)
VOLATILE PARALLEL UNSAFE
SET search_path TO pg_catalog, sinp_import, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'export_archive_wrapper';

-- sinp_import::api::export_archive_bytes
CREATE  FUNCTION "export_archive_bytes"(
	"since" timestamp with time zone DEFAULT NULL, /* Option < pgrx :: datum :: TimestampWithTimeZone > */
	"sources" TEXT[] DEFAULT NULL, /* :: std :: option :: Option < Vec < String > > */
	"datasets" uuid[] DEFAULT NULL, /* :: std :: option :: Option < Vec < pgrx :: Uuid > > */
	"include_restricted" bool DEFAULT false, /* Option < bool > */
	"format" TEXT DEFAULT 'zip' /* Option < & str > */
) RETURNS bytea /* Vec < u8 > */
VOLATILE PARALLEL UNSAFE
SET search_path TO pg_catalog, sinp_import, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'export_archive_bytes_wrapper';

-- The outbox (sql/outbox.sql).
-- sinp_import::api::begin_export_outbox
CREATE  FUNCTION "begin_export_outbox"() RETURNS TEXT /* String */
STRICT VOLATILE PARALLEL UNSAFE
SET search_path TO pg_catalog, sinp_import, pg_temp
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'begin_export_outbox_wrapper';

-- The outbox (docs/export.md): the feeds a platform forwards, and the procedure pg_cron calls every
-- night to write each feed's differential since its last archive into sinp_import.outbox_dir.

-- One row per archive the outbox writes each night: its name's region and provider
-- (YYYY-MM-DD_sinp_<region>_<feed>.zip) and what goes out (export_archive()'s arguments).
CREATE TABLE sinp_import.outbox_feeds (
    feed               text PRIMARY KEY CHECK (feed ~ '^[a-z0-9-]+$'),
    region             text NOT NULL CHECK (region ~ '^[a-z0-9-]+$'),
    sources            text[],
    datasets           uuid[],
    include_restricted boolean NOT NULL DEFAULT false,
    format             text NOT NULL DEFAULT 'zip' CHECK (format IN ('zip', 'tar.bz2')),
    enabled            boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE sinp_import.outbox_feeds IS 'The archives sinp_import.export_outbox() writes into sinp_import.outbox_dir: one per feed and run, differential since the feed''s last one.';
COMMENT ON COLUMN sinp_import.outbox_feeds.feed IS 'The provider part of the archives'' names (lower-case letters, digits, -).';
COMMENT ON COLUMN sinp_import.outbox_feeds.region IS 'The region part of the archives'' names.';
COMMENT ON COLUMN sinp_import.outbox_feeds.sources IS 'The sources whose observations go out (names); NULL: all.';
COMMENT ON COLUMN sinp_import.outbox_feeds.datasets IS 'The datasets whose observations go out (UUIDs); NULL: all.';
COMMENT ON COLUMN sinp_import.outbox_feeds.include_restricted IS 'Whether restricted observations go out (FORMAT.md §5).';
COMMENT ON COLUMN sinp_import.outbox_feeds.format IS 'zip or tar.bz2.';
COMMENT ON COLUMN sinp_import.outbox_feeds.enabled IS 'Whether export_outbox() writes it.';
COMMENT ON COLUMN sinp_import.outbox_feeds.created_at IS 'When it was configured.';
SELECT pg_catalog.pg_extension_config_dump('sinp_import.outbox_feeds', '');

-- What the outbox holds, as the journal knows it: every export written for a feed or under
-- sinp_import.outbox_dir, newest first, with its rows per action.
CREATE FUNCTION sinp_import.outbox()
RETURNS TABLE (export_id bigint, feed text, archive_name text, status text, since timestamptz,
               next_since timestamptz, inserted bigint, updated bigint, deleted bigint,
               size_bytes bigint, sha256 text, started_at timestamptz, finished_at timestamptz,
               exported_by name, path text, error text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, sinp_import, pg_temp
AS $function$
    SELECT e.export_id, e.feed, e.archive_name, e.status, e.since, e.next_since,
           (SELECT sum((c.value ->> 'inserted')::bigint) FROM jsonb_each(e.entity_counts) AS c)::bigint,
           (SELECT sum((c.value ->> 'updated')::bigint) FROM jsonb_each(e.entity_counts) AS c)::bigint,
           (SELECT sum((c.value ->> 'deleted')::bigint) FROM jsonb_each(e.entity_counts) AS c)::bigint,
           e.size_bytes, e.sha256, e.started_at, e.finished_at, e.exported_by, e.path, e.error
      FROM sinp_import.exports AS e
     WHERE e.feed IS NOT NULL
        OR (nullif(current_setting('sinp_import.outbox_dir', true), '') IS NOT NULL
            AND starts_with(e.path, rtrim(current_setting('sinp_import.outbox_dir', true), '/') || '/'))
     ORDER BY e.export_id DESC
$function$;
COMMENT ON FUNCTION sinp_import.outbox() IS
  'The archives written into the outbox (by export_outbox() or export_archive() under sinp_import.outbox_dir), as journaled in sinp_import.exports.';

-- Writes one archive per enabled feed into sinp_import.outbox_dir, named
-- YYYY-MM-DD_sinp_<region>_<feed>.<format> after today: differential since the feed's last
-- written archive (its next_since), full the first time. Each feed in its own transaction: a feed
-- whose export raises an ERROR is journaled as 'failed' (no file is left) and the next feeds
-- still go out; it is tried again at the next run, from the same time. A feed whose archive of
-- today is written already is not written again. A procedure that commits cannot pin its
-- search_path: every name is schema-qualified.
CREATE PROCEDURE sinp_import.export_outbox()
LANGUAGE plpgsql AS $procedure$
DECLARE
    outbox text := sinp_import.begin_export_outbox();
    f record;
    feed_since timestamptz;
    archive text;
    archive_path text;
    written record;
    failure_state text;
    failure_message text;
    failure_detail text;
    failed_id bigint;
    outcomes text[] := '{}'::text[];
BEGIN
    FOR f IN SELECT o.* FROM sinp_import.outbox_feeds AS o WHERE o.enabled ORDER BY o.feed LOOP
        archive := pg_catalog.to_char(pg_catalog.now(), 'YYYY-MM-DD') OPERATOR(pg_catalog.||) '_sinp_'
                   OPERATOR(pg_catalog.||) f.region OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) f.feed
                   OPERATOR(pg_catalog.||) CASE WHEN f.format OPERATOR(pg_catalog.=) 'zip' THEN '.zip' ELSE '.tar.bz2' END;
        archive_path := outbox OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) archive;
        IF EXISTS (SELECT FROM sinp_import.exports AS e
                    WHERE e.path OPERATOR(pg_catalog.=) archive_path
                      AND e.status OPERATOR(pg_catalog.=) 'written') THEN
            RAISE NOTICE 'sinp_import.export_outbox: % is written already; the next run carries what changes from now', archive;
            outcomes := outcomes OPERATOR(pg_catalog.||) 'already written'::text;
            CONTINUE;
        END IF;
        SELECT e.next_since INTO feed_since
          FROM sinp_import.exports AS e
         WHERE e.feed OPERATOR(pg_catalog.=) f.feed AND e.status OPERATOR(pg_catalog.=) 'written'
         ORDER BY e.export_id DESC LIMIT 1;
        BEGIN
            SELECT pg_catalog.min(x.export_id) AS export_id, pg_catalog.sum(x.inserted) AS inserted,
                   pg_catalog.sum(x.updated) AS updated, pg_catalog.sum(x.deleted) AS deleted
              INTO written
              FROM sinp_import.export_archive(archive_path, feed_since, f.sources, f.datasets,
                                              f.include_restricted, f.format) AS x;
            UPDATE sinp_import.exports AS e SET feed = f.feed
             WHERE e.export_id OPERATOR(pg_catalog.=) written.export_id;
            RAISE NOTICE 'sinp_import.export_outbox: % written, export % (% I, % U, % D rows)%',
                archive, written.export_id, written.inserted, written.updated, written.deleted,
                CASE WHEN feed_since IS NULL THEN ', a full export' ELSE '' END;
            outcomes := outcomes OPERATOR(pg_catalog.||) 'written'::text;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS failure_state = RETURNED_SQLSTATE,
                                    failure_message = MESSAGE_TEXT,
                                    failure_detail = PG_EXCEPTION_DETAIL;
            INSERT INTO sinp_import.exports (path, archive_name, since, sources, datasets, include_restricted,
                                             format, feed, status, error, finished_at)
            VALUES (archive_path, archive, feed_since, f.sources, f.datasets, f.include_restricted, f.format,
                    f.feed, 'failed',
                    failure_state OPERATOR(pg_catalog.||) ': ' OPERATOR(pg_catalog.||) failure_message
                        OPERATOR(pg_catalog.||) coalesce(' — ' OPERATOR(pg_catalog.||) nullif(failure_detail, ''), ''),
                    pg_catalog.clock_timestamp())
            RETURNING export_id INTO failed_id;
            RAISE WARNING 'sinp_import.export_outbox: % failed, export %: % (SQLSTATE %)',
                archive, failed_id, failure_message, failure_state
                USING HINT = 'No file was left. The next feeds were still written; this one is tried again at the next run, from the same time.';
            outcomes := outcomes OPERATOR(pg_catalog.||) 'failed'::text;
        END;
        COMMIT;
    END LOOP;
    RAISE NOTICE '%', pg_catalog.format('sinp_import.export_outbox: %s feed(s) in %s%s',
        pg_catalog.cardinality(outcomes), outbox,
        (SELECT ': ' OPERATOR(pg_catalog.||) pg_catalog.string_agg(
                   c.n::text OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) c.outcome, ', ' ORDER BY c.outcome)
           FROM (SELECT o AS outcome, pg_catalog.count(*) AS n FROM pg_catalog.unnest(outcomes) AS o GROUP BY o) AS c));
END
$procedure$;
COMMENT ON PROCEDURE sinp_import.export_outbox() IS
  'Writes each enabled feed of sinp_import.outbox_feeds into sinp_import.outbox_dir: the differential since its last archive (full the first time), each in its own transaction; failures are journaled and skipped.';

-- A description of every function and journal column (sql/comments.sql).
-- What \df+, \d+ and \dt+ show of the extension's objects: one sentence each, in the words of the
-- docs. Every function, table and journal column has one (a test checks it); the settings carry
-- their descriptions themselves (\dconfig+ sinp_import.*).

COMMENT ON FUNCTION sinp_import.load_archive(text, text, boolean) IS
  'Loads a SINP archive (ZIP, tar.bz2 or tar.gz) from a server file into the GeoNature tables in one transaction; returns one row per entity file with its status and counts (docs/loading.md).';
COMMENT ON FUNCTION sinp_import.load_archive(bytea, text, text, boolean) IS
  'Loads a SINP archive given as bytes (archive_name: its file name) into the GeoNature tables in one transaction; returns one row per entity file with its status and counts.';
COMMENT ON FUNCTION sinp_import.validate_archive(text) IS
  'Checks a SINP archive on the server as a load would, and writes nothing: one row per problem, with file, line, column, severity, code, message and value (docs/errors.md).';
COMMENT ON FUNCTION sinp_import.validate_archive(bytea, text) IS
  'Checks a SINP archive given as bytes as a load would, and writes nothing: one row per problem, with file, line, column, severity, code, message and value.';
COMMENT ON FUNCTION sinp_import.create_target_schema() IS
  'Creates what is missing of the GeoNature tables, triggers and constraints the loader writes, seeded with the SINP nomenclatures; never replaces an existing object (docs/target-schema.md).';
COMMENT ON FUNCTION sinp_import.inbox_files(text) IS
  'The files of an inbox directory (dir, else sinp_import.inbox_dir) with their size, date, the parts of an archive name and their SHA-256; what inbox() reads.';
COMMENT ON FUNCTION sinp_import.begin_export_outbox() IS
  'First step of export_outbox(): checks it runs outside a transaction block with sinp_import.outbox_dir set, and returns that directory.';
COMMENT ON FUNCTION sinp_import.begin_load_inbox(text, text) IS
  'Internal to load_inbox(): checks the mode, the directory and that the call is not inside a transaction block; returns the directory.';
COMMENT ON FUNCTION sinp_import.report(bigint) IS
  'What to send a provider about an import: per file and code, the count, the first lines with their column and value, and what to do; for an applied import, the rows written per entity and action (docs/report.md).';
COMMENT ON FUNCTION sinp_import.export_archive(text, timestamp with time zone, text[], uuid[], boolean, text) IS
  'Writes the target''s rows to a new server file as a SINP archive of format 1.0 (superuser, pg_write_server_files, or under sinp_import.outbox_dir), journaled in sinp_import.exports; one row per file with its rows per action (docs/export.md).';
COMMENT ON FUNCTION sinp_import.export_archive_bytes(timestamp with time zone, text[], uuid[], boolean, text) IS
  'The target''s rows as a SINP archive of format 1.0 (ZIP), in the dialect load_archive reads: every file, or those of the sources and datasets given; restricted observations only when asked (docs/export.md).';
COMMENT ON FUNCTION sinp_import.unprojectable_geometries(regclass, integer) IS
  'Internal to loads: the staged geometries PostGIS cannot project into the target SRID, with PostGIS''s reason.';

COMMENT ON COLUMN sinp_import.exports.export_id IS 'The export, as export_archive() returns it.';
COMMENT ON COLUMN sinp_import.exports.path IS 'The server file written.';
COMMENT ON COLUMN sinp_import.exports.archive_name IS 'The file''s name (YYYY-MM-DD_sinp_<region>_<provider>.zip by the convention).';
COMMENT ON COLUMN sinp_import.exports.since IS 'The time a differential export started from; NULL for a full export.';
COMMENT ON COLUMN sinp_import.exports.sources IS 'The sources asked for (names); NULL: all.';
COMMENT ON COLUMN sinp_import.exports.datasets IS 'The datasets asked for (UUIDs); NULL: all.';
COMMENT ON COLUMN sinp_import.exports.include_restricted IS 'Whether restricted observations went out.';
COMMENT ON COLUMN sinp_import.exports.format IS 'zip or tar.bz2.';
COMMENT ON COLUMN sinp_import.exports.size_bytes IS 'The size of the file written.';
COMMENT ON COLUMN sinp_import.exports.sha256 IS 'SHA-256 of the file written: what the receiver''s journal records of it.';
COMMENT ON COLUMN sinp_import.exports.entity_counts IS 'Per entity file, the rows written per action.';
COMMENT ON COLUMN sinp_import.exports.started_at IS 'When the export started.';
COMMENT ON COLUMN sinp_import.exports.finished_at IS 'When the file was complete.';
COMMENT ON COLUMN sinp_import.exports.next_since IS 'Where the next differential export can begin (since => next_since) and miss nothing this one did not carry.';
COMMENT ON COLUMN sinp_import.exports.feed IS 'The outbox feed it was written for (sinp_import.outbox_feeds), if any.';
COMMENT ON COLUMN sinp_import.exports.status IS 'written, or failed (an export of export_outbox() that raised an ERROR; no file was left).';
COMMENT ON COLUMN sinp_import.exports.error IS 'The ERROR of a failed export: SQLSTATE, message and detail.';
COMMENT ON COLUMN sinp_import.exports.exported_by IS 'The role whose rights read the rows (current_user).';
COMMENT ON COLUMN sinp_import.exports.session_role IS 'The session''s role (session_user).';
COMMENT ON COLUMN sinp_import.imports.import_id IS 'The import, as load_archive() returns it and import_errors refers to it.';
COMMENT ON COLUMN sinp_import.imports.archive_name IS 'The archive''s file name (or the name given with its bytes).';
COMMENT ON COLUMN sinp_import.imports.sha256 IS 'SHA-256 of the archive''s bytes: the same bytes are not applied twice (already_loaded).';
COMMENT ON COLUMN sinp_import.imports.size_bytes IS 'The archive''s size in bytes.';
COMMENT ON COLUMN sinp_import.imports.archive_date IS 'The date of the archive''s name YYYY-MM-DD_sinp_<region>_<provider>.zip, when it follows the convention.';
COMMENT ON COLUMN sinp_import.imports.region IS 'The region of the archive''s name, when it follows the convention.';
COMMENT ON COLUMN sinp_import.imports.provider IS 'The provider of the archive''s name, when it follows the convention.';
COMMENT ON COLUMN sinp_import.imports.format_version IS 'format_version of meta_archive.ini.';
COMMENT ON COLUMN sinp_import.imports.export_date IS 'export_date of meta_archive.ini, as written.';
COMMENT ON COLUMN sinp_import.imports.taxref_version IS 'taxref_version of meta_archive.ini.';
COMMENT ON COLUMN sinp_import.imports.habref_version IS 'habref_version of meta_archive.ini.';
COMMENT ON COLUMN sinp_import.imports.editor IS 'editor of meta_archive.ini.';
COMMENT ON COLUMN sinp_import.imports.contact IS 'contact of meta_archive.ini.';
COMMENT ON COLUMN sinp_import.imports.notes IS 'notes of meta_archive.ini.';
COMMENT ON COLUMN sinp_import.imports.meta IS 'Every key of meta_archive.ini, as a JSON object.';
COMMENT ON COLUMN sinp_import.imports.mode IS 'strict (any error rejects the archive) or lenient (rows with errors are set aside).';
COMMENT ON COLUMN sinp_import.imports.dry_run IS 'Whether the load was undone after it ran (dry_run => true).';
COMMENT ON COLUMN sinp_import.imports.status IS 'running, applied, applied_with_errors, rejected, already_loaded, dry_run, or failed (load_inbox() caught an ERROR).';
COMMENT ON COLUMN sinp_import.imports.inserted IS 'Rows inserted, all entities together.';
COMMENT ON COLUMN sinp_import.imports.updated IS 'Rows updated, all entities together.';
COMMENT ON COLUMN sinp_import.imports.deleted IS 'Rows deleted, all entities together.';
COMMENT ON COLUMN sinp_import.imports.unchanged IS 'Rows left as they were (an older version, a key already there), all entities together.';
COMMENT ON COLUMN sinp_import.imports.rejected IS 'Rows set aside for their errors, all entities together.';
COMMENT ON COLUMN sinp_import.imports.entity_counts IS 'The counts per entity: {"synthese": {"inserted": n, ...}, ...}.';
COMMENT ON COLUMN sinp_import.imports.error_count IS 'How many problems of severity error import_errors has for this import.';
COMMENT ON COLUMN sinp_import.imports.warning_count IS 'How many problems of severity warning import_errors has for this import.';
COMMENT ON COLUMN sinp_import.imports.started_at IS 'When the call began.';
COMMENT ON COLUMN sinp_import.imports.finished_at IS 'When the call ended (NULL while it runs).';
COMMENT ON COLUMN sinp_import.imports.duration IS 'finished_at - started_at.';
COMMENT ON COLUMN sinp_import.imports.loaded_by IS 'The role the load ran as, whose privileges on the target tables were checked (current_user).';
COMMENT ON COLUMN sinp_import.imports.session_role IS 'The session''s user (session_user): who connected, when loaded_by is a role it SET ROLE to (NULL for imports made before version 0.3.0).';

COMMENT ON COLUMN sinp_import.import_errors.import_id IS 'The import the problem was found by.';
COMMENT ON COLUMN sinp_import.import_errors.file IS 'The archive''s member: synthese.csv, meta_archive.ini, or the archive itself.';
COMMENT ON COLUMN sinp_import.import_errors.line IS 'The line of the record in the file (1: the header), NULL for a problem of the whole file.';
COMMENT ON COLUMN sinp_import.import_errors.column_name IS 'The field (column of the file) the problem is about.';
COMMENT ON COLUMN sinp_import.import_errors.severity IS 'error (the row, or in strict mode the archive, is not applied) or warning.';
COMMENT ON COLUMN sinp_import.import_errors.code IS 'The problem''s code, explained with what to do in docs/errors.md.';
COMMENT ON COLUMN sinp_import.import_errors.message IS 'What is wrong, in words.';
COMMENT ON COLUMN sinp_import.import_errors.value IS 'The value found (cut at 64 kB).';
COMMENT ON COLUMN sinp_import.import_errors.raw_record IS 'The whole original record, so that it can be corrected and sent again (cut at 64 kB).';
COMMENT ON COLUMN sinp_import.import_errors.restricted IS 'Whether the problem''s row is, or may be, a restricted observation (sinp_import.restricted_condition): true also for a row of synthese.csv that could not be read; false for the other files. Public roles see only the false ones (protect_restricted). NULL for problems journaled before 0.3.0.';

COMMENT ON COLUMN sinp_import.additional_fields.provider IS 'The provider of the archives that described the field (from their name).';
COMMENT ON COLUMN sinp_import.additional_fields.resource IS 'The entity whose additional_data has the field.';
COMMENT ON COLUMN sinp_import.additional_fields.name IS 'The key in additional_data.';
COMMENT ON COLUMN sinp_import.additional_fields.description IS 'What the field means.';
COMMENT ON COLUMN sinp_import.additional_fields.keyword IS 'The keyword the provider gives it.';
COMMENT ON COLUMN sinp_import.additional_fields.field_type IS 'QTA (quantitative), QUAL (qualitative) or NSP (unknown).';
COMMENT ON COLUMN sinp_import.additional_fields.unity IS 'The unit of a quantitative field.';
COMMENT ON COLUMN sinp_import.additional_fields.import_id IS 'The import that last described the field.';
COMMENT ON COLUMN sinp_import.additional_fields.updated_at IS 'When it was last described.';

COMMENT ON COLUMN sinp_import.managed_triggers.table_name IS 'The target table, schema-qualified.';
COMMENT ON COLUMN sinp_import.managed_triggers.trigger_name IS 'GeoNature''s trigger a load disables inside its transaction.';
COMMENT ON COLUMN sinp_import.managed_triggers.replaced_by IS 'What the load does instead, once, set-based.';
