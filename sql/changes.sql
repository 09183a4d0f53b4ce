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
