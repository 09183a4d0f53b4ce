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
