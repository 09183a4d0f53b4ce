-- The deletion log (docs/export.md): every row deleted from the tables the loader writes, by a
-- load or by anything else (GeoNature's own interface, a plain DELETE), with the keys a
-- differential export must send as D rows. GeoNature's t_log_synthese keeps only id_synthese: once
-- an observation is gone, nobody could tell a receiver which unique_id_sinp to delete.
-- sinp_import.log_deletions() installs it (a statement trigger per table, as their owner).

CREATE TABLE sinp_import.deleted_rows (
    entity      text NOT NULL,
    key         text NOT NULL,
    -- The synthese: its source's name (only an archive of that source deletes it, FORMAT.md §7),
    -- entity_source_pk_value, and its dataset's UUID.
    code_source text,
    source_id   text,
    dataset     uuid,
    deleted_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    deleted_by  name NOT NULL DEFAULT current_user
);
CREATE INDEX deleted_rows_deleted_at_idx ON sinp_import.deleted_rows (deleted_at);
COMMENT ON TABLE sinp_import.deleted_rows IS 'Every row deleted from the tables the loader writes since log_deletions(), with its keys: the D rows of differential exports.';
COMMENT ON COLUMN sinp_import.deleted_rows.entity IS 'The entity of the row (synthese, dataset, ...).';
COMMENT ON COLUMN sinp_import.deleted_rows.key IS 'Its key in the format: unique_id_sinp, the UUID, or the source''s name.';
COMMENT ON COLUMN sinp_import.deleted_rows.code_source IS 'An observation''s source (name): the D row''s code_source.';
COMMENT ON COLUMN sinp_import.deleted_rows.source_id IS 'An observation''s entity_source_pk_value: the D row''s source_id.';
COMMENT ON COLUMN sinp_import.deleted_rows.dataset IS 'An observation''s dataset (UUID), for exports of some datasets.';
COMMENT ON COLUMN sinp_import.deleted_rows.deleted_at IS 'When it was deleted.';
COMMENT ON COLUMN sinp_import.deleted_rows.deleted_by IS 'The role that deleted it.';

CREATE TABLE sinp_import.logged_tables (
    table_name   text PRIMARY KEY,
    entity       text NOT NULL,
    logged_since timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE sinp_import.logged_tables IS 'The tables whose deletions sinp_import.deleted_rows records, and since when.';
COMMENT ON COLUMN sinp_import.logged_tables.table_name IS 'The table, schema-qualified.';
COMMENT ON COLUMN sinp_import.logged_tables.entity IS 'The entity its rows are.';
COMMENT ON COLUMN sinp_import.logged_tables.logged_since IS 'When log_deletions() started recording its deletions: a differential export cannot start earlier.';

SELECT pg_catalog.pg_extension_config_dump('sinp_import.deleted_rows', '');
SELECT pg_catalog.pg_extension_config_dump('sinp_import.logged_tables', '');

-- The trigger: once per DELETE statement, the deleted rows' keys from its transition table. With
-- the extension owner's rights: the deleter need not read the sources and datasets, nor write the
-- log.
CREATE FUNCTION sinp_import.log_deleted_rows() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
    CASE TG_ARGV[0]
    WHEN 'synthese' THEN
        INSERT INTO sinp_import.deleted_rows (entity, key, code_source, source_id, dataset)
        SELECT 'synthese', d.unique_id_sinp::text, s.name_source, d.entity_source_pk_value, t.unique_dataset_id
          FROM deleted AS d
          LEFT JOIN gn_synthese.t_sources AS s ON s.id_source OPERATOR(pg_catalog.=) d.id_source
          LEFT JOIN gn_meta.t_datasets AS t ON t.id_dataset OPERATOR(pg_catalog.=) d.id_dataset
         WHERE d.unique_id_sinp IS NOT NULL;
    WHEN 'source' THEN
        INSERT INTO sinp_import.deleted_rows (entity, key) SELECT 'source', d.name_source FROM deleted AS d;
    WHEN 'organism' THEN
        INSERT INTO sinp_import.deleted_rows (entity, key) SELECT 'organism', d.uuid_organisme::text FROM deleted AS d;
    WHEN 'user' THEN
        INSERT INTO sinp_import.deleted_rows (entity, key) SELECT 'user', d.uuid_role::text FROM deleted AS d;
    WHEN 'acquisition_framework' THEN
        INSERT INTO sinp_import.deleted_rows (entity, key)
        SELECT 'acquisition_framework', d.unique_acquisition_framework_id::text FROM deleted AS d;
    WHEN 'dataset' THEN
        INSERT INTO sinp_import.deleted_rows (entity, key) SELECT 'dataset', d.unique_dataset_id::text FROM deleted AS d;
    END CASE;
    RETURN NULL;
END
$function$;
COMMENT ON FUNCTION sinp_import.log_deleted_rows() IS
  'Trigger of log_deletions(): records the keys of the rows a DELETE statement removed in sinp_import.deleted_rows.';

-- Installs the deletion log on the tables the loader writes that exist: a statement trigger
-- sinp_import_log_deleted_rows on each (the loader leaves it enabled: its own deletions are
-- logged too). Idempotent. As the tables' owner.
CREATE FUNCTION sinp_import.log_deletions() RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
    t record;
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
              DETAIL = 'The deletion log is a trigger on each table, made by its owner.',
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
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_trigger AS g
                        WHERE g.tgrelid OPERATOR(pg_catalog.=) t.relation
                          AND g.tgname OPERATOR(pg_catalog.=) 'sinp_import_log_deleted_rows') THEN
            EXECUTE pg_catalog.format(
                'CREATE TRIGGER sinp_import_log_deleted_rows AFTER DELETE ON %s REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION sinp_import.log_deleted_rows(%L)',
                t.name, t.entity);
        END IF;
        INSERT INTO sinp_import.logged_tables (table_name, entity) VALUES (t.name, t.entity)
        ON CONFLICT (table_name) DO NOTHING;
        logged := logged || t.name;
    END LOOP;
    RETURN pg_catalog.format('deletions of %s are logged in sinp_import.deleted_rows',
                             pg_catalog.array_to_string(logged, ', '));
END
$function$;
COMMENT ON FUNCTION sinp_import.log_deletions() IS
  'Installs the deletion log: a statement trigger on each table the loader writes records the keys of deleted rows in sinp_import.deleted_rows (docs/export.md); idempotent.';
