# Sourced by tests/e2e.sh (its check helpers, $ARCHIVES, $PSQL, $GEN): a database set up as the
# Atlas is (../shared/spec/atlas-database.fr.txt): read_only_public reads unrestricted data only,
# read_only_all and read_write_all are members of it with grants of their own, read_write_all
# writes but may not DELETE, and no member role owns the tables. Archives are read under
# sinp_import.inbox_dir (the members have no file privilege).

echo "# the Atlas's roles: read_write_all loads without DELETE, read_only_public sees unrestricted rows only"
DB_ATLAS=sinp_e2e_atlas
PUBLIC_ROLE=sinp_e2e_read_only_public
ALL_ROLE=sinp_e2e_read_only_all
WRITER_ROLE=sinp_e2e_read_write_all
SCHEMAS="gn_synthese, gn_meta, gn_commons, gn_sensitivity, utilisateurs, ref_nomenclatures, ref_geo, ref_habitats, taxonomie"
"$GEN" diff --base-rows 5000 --updates 100 --deletes 10 --inserts 10 \
  --out "$ARCHIVES/2020-08-29_sinp_paca_e2e.zip" >/dev/null
fresh_db $DB_ATLAS
for role in $PUBLIC_ROLE $ALL_ROLE $WRITER_ROLE; do
  "${PSQL[@]}" -c "DROP OWNED BY $role" -c "DROP ROLE $role" >/dev/null 2>&1 || true
  "${PSQL[@]}" -c "CREATE ROLE $role"
done
psql_db $DB_ATLAS -c "GRANT $PUBLIC_ROLE TO $ALL_ROLE, $WRITER_ROLE" \
  -c "GRANT USAGE ON SCHEMA $SCHEMAS TO $PUBLIC_ROLE, $ALL_ROLE, $WRITER_ROLE" \
  -c "GRANT SELECT ON ALL TABLES IN SCHEMA $SCHEMAS TO $PUBLIC_ROLE, $ALL_ROLE, $WRITER_ROLE" \
  -c "GRANT INSERT, UPDATE ON ALL TABLES IN SCHEMA $SCHEMAS TO $WRITER_ROLE" \
  -c "GRANT USAGE ON ALL SEQUENCES IN SCHEMA $SCHEMAS TO $WRITER_ROLE" \
  -c "SELECT sinp_import.grant_loader('$WRITER_ROLE')" \
  -c "SELECT sinp_import.protect_restricted(ARRAY['$PUBLIC_ROLE']::regrole[])" \
  -c "ALTER DATABASE $DB_ATLAS SET sinp_import.inbox_dir = '$ARCHIVES'" >/dev/null 2>&1
as_writer="SET ROLE $WRITER_ROLE;"
check "read_write_all, owning no table, loads an initial archive" $DB_ATLAS \
  "$as_writer SELECT string_agg(DISTINCT status, ',') FROM sinp_import.load_archive('$ARCHIVES/2020-08-26_sinp_paca_e2e.zip');
   RESET ROLE; SELECT count(*) FROM gn_synthese.synthese;
   SELECT loaded_by || ' ' || session_role FROM sinp_import.imports ORDER BY import_id DESC LIMIT 1" \
  "applied
5000
$WRITER_ROLE postgres"
check_error "its differential in strict mode: the deletes are refused (42501), nothing applied" $DB_ATLAS \
  "$as_writer SELECT * FROM sinp_import.load_archive('$ARCHIVES/2020-08-29_sinp_paca_e2e.zip')" 42501
check "in lenient mode: the 10 D rows set aside (DELETE_NOT_PERMITTED), the updates and inserts applied" $DB_ATLAS \
  "$as_writer SELECT status || ' ' || inserted || ' ' || updated || ' ' || deleted || ' ' || rejected
     FROM sinp_import.load_archive('$ARCHIVES/2020-08-29_sinp_paca_e2e.zip', 'lenient')
    WHERE entity = 'synthese';
   RESET ROLE;
   SELECT count(*) FROM sinp_import.import_errors WHERE code = 'DELETE_NOT_PERMITTED';
   SELECT count(*) FROM gn_synthese.synthese" \
  "applied_with_errors 10 100 0 10
10
5010"
restricted=$(psql_db $DB_ATLAS -c "DO \$\$ BEGIN EXECUTE 'CREATE TEMP TABLE r AS SELECT count(*) AS n FROM gn_synthese.synthese AS s WHERE ' || sinp_import.restricted_condition('s'); END \$\$" -c "SELECT n FROM r")
check "the archive has restricted observations ($restricted of 5010)" $DB_ATLAS "SELECT $restricted > 0 AND $restricted < 5010" "t"
check "read_only_public sees only the unrestricted observations, and the restricted ones blurred in the view" $DB_ATLAS \
  "SET ROLE $PUBLIC_ROLE;
   SELECT count(*) FROM gn_synthese.synthese;
   SELECT count(*) FILTER (WHERE blurred) || ' ' || count(*) FILTER (WHERE blurred AND observers IS NULL AND additional_data IS NULL) || ' ' || count(*) FROM sinp_import.public_observations" \
  "$((5010 - restricted))
$restricted $restricted 5010"
check "read_only_all, a member of read_only_public with grants of its own, sees every observation" $DB_ATLAS \
  "SET ROLE $ALL_ROLE; SELECT count(*) FROM gn_synthese.synthese" "5010"
for role in $PUBLIC_ROLE $ALL_ROLE; do
  check_error "$role may not load (42501, before reading)" $DB_ATLAS \
    "SET ROLE $role; SELECT * FROM sinp_import.load_archive('\\x00'::bytea, 'x.zip')" 42501
  check "$role reads no raw record of the journal" $DB_ATLAS \
    "SET ROLE $role; SELECT has_table_privilege('sinp_import.import_errors', 'SELECT')" "f"
done
psql_db $DB_ATLAS -c "SELECT sinp_import.unprotect_restricted()" >/dev/null
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB_ATLAS WITH (FORCE)" >/dev/null
for role in $PUBLIC_ROLE $ALL_ROLE $WRITER_ROLE; do "${PSQL[@]}" -c "DROP ROLE IF EXISTS $role" >/dev/null; done
