# Sourced by tests/e2e.sh (its check helpers, $ARCHIVES, $GEN, $PSQL): the outbox across
# databases and sessions. A platform A with the change log writes its feed's archive each night
# (export_outbox()); a receiver B that loaded the first one and then each differential stays in
# step with A, whatever A's changes were: a differential load, and a plain UPDATE and DELETE
# committed by other sessions, as GeoNature's interface makes them.

echo "# the outbox: nightly differential exports loaded by a receiver"
DB_A=sinp_e2e_outbox_a
DB_B=sinp_e2e_outbox_b
OUTBOX_DIR=/var/tmp/sinp_import/e2e_outbox
rm -rf "$OUTBOX_DIR"
install -d -o postgres -m 755 "$OUTBOX_DIR"
fresh_db $DB_A
fresh_db $DB_B
psql_db $DB_A -c "ALTER DATABASE $DB_A SET sinp_import.outbox_dir = '$OUTBOX_DIR'" >/dev/null
"$GEN" diff --base-rows 5000 --updates 60 --deletes 25 --inserts 15 \
  --out "$ARCHIVES/2020-09-15_sinp_paca_e2ediff.zip" >/dev/null
chmod 644 "$ARCHIVES/2020-09-15_sinp_paca_e2ediff.zip"

check "the change log is installed on the six tables" $DB_A \
  "SELECT sinp_import.log_changes() LIKE 'changes of %'; SELECT count(*) FROM sinp_import.logged_tables" "t
6"
psql_db $DB_A -c "SELECT count(*) FROM sinp_import.load_archive('$ARCHIVES/2020-08-26_sinp_paca_e2e.zip')" >/dev/null 2>&1
check_error "export_outbox() cannot run inside BEGIN ... COMMIT (25001)" $DB_A \
  "BEGIN; CALL sinp_import.export_outbox(); COMMIT;" 25001
psql_db $DB_A -c "INSERT INTO sinp_import.outbox_feeds (feed, region, include_restricted) VALUES ('e2e', 'paca', true)" >/dev/null
today=$(date +%F)
yesterday=$(date -d yesterday +%F)
psql_db $DB_A -c "CALL sinp_import.export_outbox()" 2>/dev/null
check "the first run writes the feed's full archive, named by the convention" $DB_A \
  "SELECT archive_name, status, since IS NULL, inserted > (SELECT count(*) FROM gn_synthese.synthese), updated + deleted,
          next_since IS NOT NULL, (pg_stat_file(path)).size = size_bytes
     FROM sinp_import.outbox()" \
  "${today}_sinp_paca_e2e.zip|written|t|t|0|t|t"
psql_db $DB_A -c "CALL sinp_import.export_outbox()" 2>/tmp/sinp-e2e-outbox-notices
check "a second run the same day writes nothing more, and says so" $DB_A \
  "SELECT count(*) FROM sinp_import.outbox(); SELECT $(grep -c 'is written already' /tmp/sinp-e2e-outbox-notices)" "1
1"
# That archive becomes yesterday's, as if the job had run then.
mv "$OUTBOX_DIR/${today}_sinp_paca_e2e.zip" "$OUTBOX_DIR/${yesterday}_sinp_paca_e2e.zip"
psql_db $DB_A -c "UPDATE sinp_import.exports SET path = replace(path, '$today', '$yesterday'), archive_name = replace(archive_name, '$today', '$yesterday')" >/dev/null
check "the receiver loads the full archive" $DB_B \
  "SELECT string_agg(DISTINCT status, ',') FROM sinp_import.load_archive('$OUTBOX_DIR/${yesterday}_sinp_paca_e2e.zip')" "applied"

# A changes: a differential load; another session's plain UPDATE and DELETE of observations the
# load did not touch (committed: the deletion log is the one GeoNature's interface would feed).
psql_db $DB_A -c "SELECT count(*) FROM sinp_import.load_archive('$ARCHIVES/2020-09-15_sinp_paca_e2ediff.zip')" >/dev/null 2>&1
untouched="(SELECT min(s.id_synthese) FROM gn_synthese.synthese AS s WHERE NOT EXISTS (SELECT FROM sinp_import.changed_rows AS c WHERE c.entity = 'synthese' AND c.id = s.id_synthese AND c.changed_at > (SELECT next_since FROM sinp_import.exports WHERE feed = 'e2e')))"
psql_db $DB_A -c "UPDATE gn_synthese.synthese SET nom_cite = 'changed in GeoNature' WHERE id_synthese = $untouched" >/dev/null
deleted_key=$(psql_db $DB_A -c "SELECT unique_id_sinp FROM gn_synthese.synthese WHERE id_synthese = $untouched")
psql_db $DB_A -c "DELETE FROM gn_commons.t_validations WHERE uuid_attached_row = '$deleted_key'" \
  -c "DELETE FROM gn_synthese.synthese WHERE unique_id_sinp = '$deleted_key'" >/dev/null
check "the plain DELETE is in the change log with its keys" $DB_A \
  "SELECT entity, code_source IS NOT NULL, source_id IS NOT NULL, dataset IS NOT NULL, deleted_by FROM sinp_import.deleted_rows WHERE key = '$deleted_key'" \
  "synthese|t|t|t|postgres"
# A feed that fails (a file of its name is in the way): journaled, the other still written.
psql_db $DB_A -c "INSERT INTO sinp_import.outbox_feeds (feed, region, format) VALUES ('blocked', 'paca', 'tar.bz2')" >/dev/null
echo "not an archive" > "$OUTBOX_DIR/${today}_sinp_paca_blocked.tar.bz2"
psql_db $DB_A -c "CALL sinp_import.export_outbox()" 2>/dev/null
check "the next run writes the differential since the last archive; a failing feed is journaled and skipped" $DB_A \
  "SELECT feed, status, since = (SELECT next_since FROM sinp_import.exports WHERE archive_name = '${yesterday}_sinp_paca_e2e.zip'),
          inserted, deleted, updated >= 61, error LIKE '22023: %'
     FROM sinp_import.outbox() WHERE archive_name LIKE '${today}%' ORDER BY feed" \
  "blocked|failed|||||t
e2e|written|t|15|26|t|"
check "the stray file was left as it was" $DB_A \
  "SELECT pg_read_file('$OUTBOX_DIR/${today}_sinp_paca_blocked.tar.bz2')" "not an archive"
check "the receiver applies the differential without a warning about its actions" $DB_B \
  "SELECT status, inserted, deleted FROM sinp_import.load_archive('$OUTBOX_DIR/${today}_sinp_paca_e2e.zip') WHERE entity = 'synthese';
   SELECT count(*) FROM sinp_import.import_errors WHERE code IN ('EXISTING_KEY', 'UPDATE_OF_MISSING_KEY', 'DELETE_OF_MISSING_KEY')" \
  "applied|15|26
0"
by_key_outbox="SELECT count(*), md5(string_agg(s.unique_id_sinp || s.nom_cite || coalesce(s.observers, '') || public.ST_AsEWKT(s.the_geom_local)
               || s.date_min || s.meta_update_date || d.unique_dataset_id, ',' ORDER BY s.unique_id_sinp)),
               (SELECT count(*) FROM gn_synthese.cor_area_synthese), (SELECT count(*) FROM gn_synthese.cor_observer_synthese)
          FROM gn_synthese.synthese AS s JOIN gn_meta.t_datasets AS d USING (id_dataset)"
check "the receiver is in step: the same observations, versions, area links and observer links" $DB_B \
  "$by_key_outbox" "$(psql_db $DB_A -c "$by_key_outbox")"
check "the deleted observation is gone from the receiver" $DB_B \
  "SELECT count(*) FROM gn_synthese.synthese WHERE unique_id_sinp = '$deleted_key'" "0"
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB_A WITH (FORCE)" -c "DROP DATABASE IF EXISTS $DB_B WITH (FORCE)" >/dev/null
rm -rf "$OUTBOX_DIR"
