-- Who may load: sinp_import.grant_loader(role) gives a role what the extension itself needs of it
-- to load, validate and run the inbox (docs/security.md). What the load writes into the target
-- tables stays with the target's own privileges: SELECT, INSERT, UPDATE (and DELETE for D rows)
-- on the tables whose rows archives carry, which grant_loader() does not give.

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
