# Sourced by tests/e2e.sh (its check helpers, $ARCHIVES, $PSQL): GeoNature's own database owner,
# who is not a superuser and owns every GeoNature table, loads, validates and runs the inbox after
# one call of sinp_import.grant_loader() by a superuser (docs/loading.md).

echo "# GeoNature's owner, not a superuser, loads after grant_loader()"
DB_GN=sinp_e2e_geonature
GN_OWNER=sinp_e2e_geonatadmin
GN_INBOX=$ARCHIVES/geonature-inbox
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB_GN WITH (FORCE)" -c "DROP ROLE IF EXISTS $GN_OWNER" \
  -c "CREATE ROLE $GN_OWNER LOGIN" -c "CREATE DATABASE $DB_GN OWNER $GN_OWNER"
rm -rf "$GN_INBOX" && install -d -m 755 "$GN_INBOX"
cp "$ARCHIVES"/2020-02-13_sinp_paca_cenpaca.zip "$GN_INBOX"/ && chmod 644 "$GN_INBOX"/*
# A superuser installs the extensions and sets the inbox; the owner creates its tables itself.
psql_db $DB_GN -c "CREATE EXTENSION sinp_import CASCADE" \
  -c "ALTER DATABASE $DB_GN SET sinp_import.inbox_dir = '$GN_INBOX'" >/dev/null
as_owner=(-c "SET ROLE $GN_OWNER")
output=$(psql_db $DB_GN "${as_owner[@]}" -c "SELECT sinp_import.create_target_schema()" 2>&1 || true)
check "before grant_loader(), the owner may not use the extension: 42501" $DB_GN \
  "SELECT $(grep -c 'permission denied for schema sinp_import' <<<"$output")" "1"
check_error "a NULL role: 22004" $DB_GN "SELECT sinp_import.grant_loader(NULL)" 22004
check "grant_loader() by a superuser" $DB_GN "SELECT sinp_import.grant_loader('$GN_OWNER')" \
  "$GN_OWNER may load: usage of schema sinp_import, its journal and its lock granted"
check_error "grant_loader() by a role that is not the extension's owner: 42501" $DB_GN \
  "SET ROLE $GN_OWNER; SELECT sinp_import.grant_loader('$GN_OWNER')" 42501
psql_db $DB_GN "${as_owner[@]}" -c "SELECT sinp_import.create_target_schema()" -f tests/sql/areas.sql -f tests/sql/referentials.sql >/dev/null
check "the owner created the GeoNature tables and owns them" $DB_GN \
  "SELECT count(*) FILTER (WHERE tableowner <> '$GN_OWNER') || ' ' || count(*) FROM pg_tables WHERE schemaname IN ('gn_synthese', 'gn_meta', 'utilisateurs', 'gn_sensitivity')" \
  "0 20"
"${PSQL[@]}" -c "DROP ROLE IF EXISTS sinp_e2e_stranger" -c "CREATE ROLE sinp_e2e_stranger"
warned=$(psql_db $DB_GN -c "SELECT sinp_import.grant_loader('sinp_e2e_stranger')" 2>&1 >/dev/null)
check "grant_loader() warns of the target tables the role may not write" $DB_GN \
  "SELECT $(grep -c 'sinp_e2e_stranger may not write gn_meta.t_acquisition_frameworks (SELECT, INSERT, UPDATE), gn_meta.t_datasets (SELECT, INSERT, UPDATE), gn_synthese.synthese (SELECT, INSERT, UPDATE)' <<<"$warned")" "1"
"${PSQL[@]}" -d $DB_GN -c "DROP OWNED BY sinp_e2e_stranger" -c "DROP ROLE sinp_e2e_stranger"
check "the owner validates a file of the inbox" $DB_GN \
  "SET ROLE $GN_OWNER; SELECT count(*) FROM sinp_import.validate_archive('$GN_INBOX/2020-02-13_sinp_paca_cenpaca.zip') WHERE severity = 'error'" "0"
check "the owner loads a file of the inbox" $DB_GN \
  "SET ROLE $GN_OWNER; SELECT DISTINCT status FROM sinp_import.load_archive('$GN_INBOX/2020-02-13_sinp_paca_cenpaca.zip')" \
  "applied"
# The nightly inbox meets habitats HABREF does not have (the upper half of the generator's codes
# removed): row problems, journaled, not an ERROR; rejected in strict mode, set aside in lenient.
cp "$ARCHIVES"/2020-08-26_sinp_paca_e2e.zip "$GN_INBOX"/ && chmod 644 "$GN_INBOX"/*
psql_db $DB_GN "${as_owner[@]}" -c "DELETE FROM ref_habitats.habref WHERE cd_hab > 10000" >/dev/null
psql_db $DB_GN "${as_owner[@]}" -c "CALL sinp_import.load_inbox()" >/dev/null 2>&1 || true
check "the owner's load_inbox(): an unknown habitat is CD_HAB_NOT_FOUND, the archive rejected" $DB_GN \
  "SELECT i.status || ' ' || string_agg(DISTINCT e.code, ',') || ' ' || (count(*) > 10)
     FROM sinp_import.imports AS i JOIN sinp_import.import_errors AS e USING (import_id)
    WHERE i.archive_name = '2020-08-26_sinp_paca_e2e.zip' AND e.severity = 'error' GROUP BY i.status" \
  "rejected CD_HAB_NOT_FOUND true"
psql_db $DB_GN "${as_owner[@]}" -c "CALL sinp_import.load_inbox(NULL, 'lenient')" >/dev/null 2>&1 || true
check "in lenient mode the other observations are applied" $DB_GN \
  "SELECT string_agg(archive_name || ' ' || status, ', ' ORDER BY import_id) FROM sinp_import.imports WHERE NOT dry_run;
   SELECT (SELECT count(*) FROM gn_synthese.synthese) + (SELECT count(*) FROM sinp_import.import_errors WHERE code = 'CD_HAB_NOT_FOUND' AND import_id = (SELECT max(import_id) FROM sinp_import.imports)) - 897" \
  "2020-02-13_sinp_paca_cenpaca.zip applied, 2020-08-26_sinp_paca_e2e.zip rejected, 2020-08-26_sinp_paca_e2e.zip applied_with_errors
5000"
check "GeoNature's triggers are enabled again" $DB_GN \
  "SELECT count(*) FILTER (WHERE t.tgenabled <> 'O') || ' of ' || count(*) FROM pg_trigger t JOIN sinp_import.managed_triggers m ON t.tgrelid = to_regclass(m.table_name) AND t.tgname = m.trigger_name" \
  "0 of 14"
# GeoNature's observers-text trigger would have rewritten the text of every observation linked to
# a user as "NAME First", without the archive's [uuid]s.
check "the archive's observers texts are kept" $DB_GN \
  "SELECT count(*) FILTER (WHERE s.observers NOT LIKE '%[%]%') || ' of ' || (count(*) > 1000) FROM gn_synthese.synthese s WHERE EXISTS (SELECT FROM gn_synthese.cor_observer_synthese c WHERE c.id_synthese = s.id_synthese)" \
  "0 of true"
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB_GN WITH (FORCE)" -c "DROP ROLE IF EXISTS $GN_OWNER"
rm -rf "$GN_INBOX"
