-- The extension's own objects: the import journal, the registry of target triggers the loader
-- replaces, and a helper of the checks. They belong to the extension (its data is dumped by
-- pg_dump); the target tables do not.

-- Archives are UTF-8, and GeoNature's nomenclatures hold characters most other encodings cannot
-- store: the extension is installed in UTF8 databases only, so that no load or export converts.
DO $encoding$
BEGIN
    IF pg_catalog.getdatabaseencoding() <> 'UTF8' THEN
        RAISE EXCEPTION USING ERRCODE = '0A000',
              MESSAGE = pg_catalog.format('sinp_import needs a database whose encoding is UTF8, not %s',
                                          pg_catalog.getdatabaseencoding()),
              DETAIL = 'SINP archives are UTF-8, and GeoNature''s nomenclatures hold characters other encodings cannot store.',
              HINT = 'Create the database with CREATE DATABASE ... ENCODING ''UTF8'' TEMPLATE template0, and install the extension there.';
    END IF;
END
$encoding$;

CREATE TABLE sinp_import.imports (
    import_id        bigserial PRIMARY KEY,
    archive_name     text NOT NULL,
    sha256           text,
    size_bytes       bigint,
    -- From the archive's name when it follows YYYY-MM-DD_sinp_<region>_<provider>.zip
    archive_date     date,
    region           text,
    provider         text,
    -- meta_archive.ini
    format_version   text,
    export_date      text,
    taxref_version   text,
    habref_version   text,
    editor           text,
    contact          text,
    notes            text,
    meta             jsonb,
    mode             text NOT NULL CHECK (mode IN ('strict', 'lenient')),
    dry_run          boolean NOT NULL DEFAULT false,
    -- 'failed': load_inbox() caught an ERROR of this archive's load (its import_errors row says
    -- which); nothing of it was applied.
    status           text NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'applied', 'applied_with_errors', 'rejected', 'already_loaded', 'dry_run', 'failed')),
    inserted         bigint NOT NULL DEFAULT 0,
    updated          bigint NOT NULL DEFAULT 0,
    deleted          bigint NOT NULL DEFAULT 0,
    unchanged        bigint NOT NULL DEFAULT 0,
    rejected         bigint NOT NULL DEFAULT 0,
    -- Per entity: {"synthese": {"inserted": n, ...}, ...}
    entity_counts    jsonb NOT NULL DEFAULT '{}',
    error_count      bigint NOT NULL DEFAULT 0,
    warning_count    bigint NOT NULL DEFAULT 0,
    started_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at      timestamptz,
    duration         interval GENERATED ALWAYS AS (finished_at - started_at) STORED,
    loaded_by        name NOT NULL DEFAULT current_user,
    session_role     name DEFAULT session_user
);
CREATE INDEX imports_sha256_idx ON sinp_import.imports (sha256);
COMMENT ON TABLE sinp_import.imports IS 'One row per call of load_archive: the archive, its meta_archive.ini, the outcome and the counts.';

CREATE TABLE sinp_import.import_errors (
    import_id   bigint NOT NULL REFERENCES sinp_import.imports ON DELETE CASCADE,
    file        text NOT NULL,
    line        bigint,
    column_name text,
    severity    text NOT NULL CHECK (severity IN ('error', 'warning')),
    code        text NOT NULL,
    message     text NOT NULL,
    value       text,
    raw_record  text,
    restricted  boolean
);
CREATE INDEX import_errors_import_idx ON sinp_import.import_errors (import_id, file, line);
COMMENT ON TABLE sinp_import.import_errors IS 'Every problem found in an archive, with the original record so it can be corrected and re-sent.';

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

-- What the additional fields of each provider mean (meta_additional_data.csv, FORMAT.md §6): the
-- keys of the additional_data columns. An archive's description of a field replaces the one stored
-- for the same provider; fields it does not describe stay. The provider is the one of the archive's
-- name (YYYY-MM-DD_sinp_<region>_<provider>.zip), else the archive's name.
CREATE TABLE sinp_import.additional_fields (
    provider    text NOT NULL,
    resource    text NOT NULL
                CHECK (resource IN ('synthese', 'source', 'dataset', 'acquisition_framework', 'organism', 'user')),
    name        text NOT NULL,
    description text,
    keyword     text,
    -- QTA quantitative, QUAL qualitative, NSP unknown
    field_type  text CHECK (field_type IN ('QTA', 'QUAL', 'NSP')),
    unity       text,
    -- The load that last described it.
    import_id   bigint REFERENCES sinp_import.imports ON DELETE SET NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, resource, name)
);
COMMENT ON TABLE sinp_import.additional_fields IS 'The meaning of the additional_data keys each provider sends (meta_additional_data.csv).';

-- Triggers of the target tables whose work the loader does itself, once, set-based: they are
-- disabled (ALTER TABLE ... DISABLE TRIGGER, inside the load's transaction) during a load. Both
-- the names create_target_schema() gives and GeoNature's own names are listed; unknown triggers
-- stay enabled.
CREATE TABLE sinp_import.managed_triggers (
    table_name   text NOT NULL,
    trigger_name text NOT NULL,
    replaced_by  text NOT NULL,
    PRIMARY KEY (table_name, trigger_name)
);
COMMENT ON TABLE sinp_import.managed_triggers IS 'Target triggers disabled during a load; replaced_by says what the loader does instead.';

INSERT INTO sinp_import.managed_triggers (table_name, trigger_name, replaced_by) VALUES
    ('gn_synthese.synthese', 'tri_meta_dates_change_synthese', 'meta dates kept from the archive (now() when empty)'),
    ('gn_synthese.synthese', 'tri_insert_cor_area_synthese', 'cor_area_synthese computed once for the written rows'),
    ('gn_synthese.synthese', 'tri_update_cor_area_synthese', 'cor_area_synthese computed once for the written rows'),
    ('gn_synthese.synthese', 'tri_log_delete_synthese', 't_log_synthese written by the delete statement'),
    ('gn_synthese.t_sources', 'tri_meta_dates_change_t_sources', 'meta dates kept from the archive'),
    ('gn_synthese.t_sources', 'tri_meta_dates_t_sources', 'meta dates kept from the archive'),
    ('utilisateurs.bib_organismes', 'tri_meta_dates_change_bib_organismes', 'meta dates kept from the archive'),
    ('utilisateurs.bib_organismes', 'tri_meta_dates_change_organisms', 'meta dates kept from the archive'),
    ('utilisateurs.t_roles', 'tri_modify_date_insert_t_roles', 'date_insert kept from the archive'),
    ('utilisateurs.t_roles', 'tri_modify_date_update_t_roles', 'date_update kept from the archive'),
    ('gn_meta.t_acquisition_frameworks', 'tri_meta_dates_change_t_acquisition_frameworks', 'meta dates kept from the archive'),
    ('gn_meta.t_acquisition_frameworks', 'tri_meta_dates_change_acquisition_framework', 'meta dates kept from the archive'),
    ('gn_meta.t_datasets', 'tri_meta_dates_change_t_datasets', 'meta dates kept from the archive'),
    ('gn_meta.t_datasets', 'tri_meta_dates_change_datasets', 'meta dates kept from the archive'),
    ('gn_synthese.synthese', 'tri_insert_calculate_sensitivity', 'gn_sensitivity''s rules applied once to the written observations; the stricter of their result and the archive''s sensitivity is kept'),
    ('gn_synthese.synthese', 'tri_update_calculate_sensitivity', 'gn_sensitivity''s rules applied once to the written observations; the stricter of their result and the archive''s sensitivity is kept'),
    ('gn_commons.t_validations', 'tri_insert_synthese_update_validation_status', 'nothing: the observations already hold the archive''s validation status, comment and validator text (GeoNature''s trigger would replace the validator text by a user''s name)'),
    ('gn_synthese.cor_observer_synthese', 'trg_maj_synthese_observers_txt', 'nothing: the archive''s observers text is kept as written (GeoNature''s trigger would rewrite it from the linked users, losing e-mails, organisms, [uuid]s and observers without a user)'),
    -- The change log's write triggers (sinp_import.log_changes()); its delete trigger stays enabled.
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

-- Loads and validations are serialised by a lock on this table (LOCK ... IN EXCLUSIVE MODE, held
-- until their transaction ends). Taking it needs UPDATE on the table, which only the roles that
-- load are granted: a role that may only read can take ACCESS SHARE at most, which does not
-- conflict, so it cannot keep loads waiting as it could hold an advisory lock. It has no rows.
CREATE TABLE sinp_import.load_lock ();
COMMENT ON TABLE sinp_import.load_lock IS 'Locked by every load and validation while it runs (they wait for each other); loaders need UPDATE on it.';

SELECT pg_catalog.pg_extension_config_dump('sinp_import.imports', '');
SELECT pg_catalog.pg_extension_config_dump('sinp_import.imports_import_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('sinp_import.import_errors', '');
SELECT pg_catalog.pg_extension_config_dump('sinp_import.additional_fields', '');
SELECT pg_catalog.pg_extension_config_dump('sinp_import.exports', '');
SELECT pg_catalog.pg_extension_config_dump('sinp_import.exports_export_id_seq', '');

-- The staged geometries PostGIS cannot project into target_srid, each with PostGIS's reason.
-- One set-based attempt first (the usual case: all project, one pass); only when it fails, one
-- attempt per geometry, each in its own exception block, to name the failing lines. Only
-- internal_error (what PostGIS raises for a failed projection) is caught: a cancel still cancels.
-- Candidates are the geometries in another known SRID; a geometry without SRID is in target_srid.
CREATE FUNCTION sinp_import.unprojectable_geometries(stage regclass, target_srid integer)
RETURNS TABLE (line bigint, geom text, reason text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, sinp_import, pg_temp
AS $function$
DECLARE
    candidates text := format(
        'SELECT s._line, s._geom FROM %s AS s
          WHERE s._geom IS NOT NULL
            AND public.ST_SRID(s._geom) NOT IN (0, $1)
            AND EXISTS (SELECT 1 FROM public.spatial_ref_sys AS r
                         WHERE r.srid = public.ST_SRID(s._geom))', stage);
    candidate record;
BEGIN
    BEGIN
        EXECUTE format('SELECT count(public.ST_Transform(c._geom, $1)) FROM (%s) AS c', candidates)
          USING target_srid;
        RETURN;
    EXCEPTION WHEN internal_error THEN
        NULL;
    END;
    FOR candidate IN EXECUTE candidates || ' ORDER BY s._line' USING target_srid LOOP
        BEGIN
            PERFORM public.ST_Transform(candidate._geom, target_srid);
        EXCEPTION WHEN internal_error THEN
            line := candidate._line;
            geom := left(public.ST_AsText(candidate._geom), 200);
            reason := SQLERRM;
            RETURN NEXT;
        END;
    END LOOP;
END
$function$;
