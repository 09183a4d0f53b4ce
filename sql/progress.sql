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
