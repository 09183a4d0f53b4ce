-- Scheduled loads: an inbox directory where providers drop archives, and the procedure pg_cron
-- calls every night to load what is new in it.

-- The inbox as the journal sees it: one row per file, archives first, in the order load_inbox()
-- loads them (oldest archive date first; the file's date when its name carries none).
--   state 'pending'   never loaded (or its last load failed): load_inbox() loads it
--         'loaded'    these very bytes were applied (under this name or another)
--         'rejected'  these very bytes were rejected: load_inbox() does not load them again in
--                     the same mode, the answer would be the same (load_archive() still does)
--         'ignored'   not named like an archive (.zip, .tar.gz, .tgz, .tar.bz2, .tbz2), or hidden
CREATE FUNCTION sinp_import.inbox(dir text DEFAULT NULL)
RETURNS TABLE (archive_name text, archive_date date, region text, provider text,
               size_bytes bigint, modified timestamptz, state text, import_id bigint, import_status text, import_mode text,
               path text, sha256 text)
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, sinp_import, pg_temp
AS $function$
    SELECT f.archive_name, f.archive_date::date, f.region, f.provider, f.size_bytes, f.modified,
           CASE WHEN NOT f.is_archive THEN 'ignored'
                WHEN last.status IN ('applied', 'applied_with_errors', 'already_loaded') THEN 'loaded'
                WHEN last.status = 'rejected' THEN 'rejected'
                ELSE 'pending'
           END,
           last.import_id, last.status, last.mode, f.path, f.sha256
      FROM sinp_import.inbox_files(dir) AS f
      -- The import that decides: one that applied these bytes, else the latest attempt.
      LEFT JOIN LATERAL (
          SELECT i.import_id, i.status, i.mode
            FROM sinp_import.imports AS i
           WHERE i.sha256 = f.sha256 AND NOT i.dry_run AND i.status <> 'running'
           ORDER BY i.status IN ('applied', 'applied_with_errors') DESC,
                    i.status = 'already_loaded' DESC,
                    i.import_id DESC
           LIMIT 1
      ) AS last ON f.is_archive
     ORDER BY f.is_archive DESC, coalesce(f.archive_date::date, f.modified::date), f.archive_name
$function$;
COMMENT ON FUNCTION sinp_import.inbox(text) IS
  'The files of the inbox (dir, else sinp_import.inbox_dir) and what the journal knows of each: pending, loaded, rejected or ignored.';

-- Loads every pending archive of the inbox, oldest archive date first, each in its own
-- transaction: a rejected archive is journaled by load_archive() as usual; an archive whose load
-- raises an ERROR (unreadable, not an archive, a lock timeout...) is journaled as 'failed' with
-- the error, and the next archives still load. A cancel stops the run; archives already
-- committed stay. Only a procedure may COMMIT: it cannot run inside BEGIN ... COMMIT. A procedure
-- that commits cannot pin its search_path (SET), so every function and operator it names is
-- schema-qualified, whatever the caller's search_path holds.
CREATE PROCEDURE sinp_import.load_inbox(dir text DEFAULT NULL, mode text DEFAULT 'strict')
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
COMMENT ON PROCEDURE sinp_import.load_inbox(text, text) IS
  'Loads every pending archive of the inbox (dir, else sinp_import.inbox_dir), oldest first, each in its own transaction; failures are journaled and skipped.';
