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
