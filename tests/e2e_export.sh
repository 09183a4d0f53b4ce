# Sourced by tests/e2e.sh (its check helpers, $ARCHIVES, $PSQL, $DB_PATH): export_archive() writes
# server files only where the caller may write, never over a file, never through a link out of
# the outbox; the file it writes is journaled and loads back; a database loaded from an export
# has the rows of the one that exported.

echo "# export_archive(): server files, the outbox, the journal, a round trip across databases"
DB_EXPORTED=sinp_e2e_exported
EXPORT_ROLE=sinp_e2e_exporter
OUT=/var/tmp/sinp_import/e2e_export
OUTBOX=$OUT/outbox
ELSEWHERE=$OUT/elsewhere
rm -rf "$OUT"
install -d -o postgres -m 755 "$OUT" "$OUTBOX" "$ELSEWHERE"
ln -s "$ELSEWHERE" "$OUTBOX/link"
"${PSQL[@]}" -c "DROP OWNED BY $EXPORT_ROLE" -c "DROP ROLE $EXPORT_ROLE" >/dev/null 2>&1 || true
"${PSQL[@]}" -c "CREATE ROLE $EXPORT_ROLE"
psql_db $DB_PATH -c "GRANT USAGE ON SCHEMA gn_synthese, gn_meta, utilisateurs, ref_nomenclatures, ref_geo TO $EXPORT_ROLE" \
  -c "GRANT SELECT ON ALL TABLES IN SCHEMA gn_synthese, gn_meta, utilisateurs, ref_nomenclatures, ref_geo TO $EXPORT_ROLE" \
  -c "SELECT sinp_import.grant_loader('$EXPORT_ROLE')" >/dev/null 2>&1

archive=$OUT/2026-12-01_sinp_paca_e2e.zip
# The observations that are not restricted, by their codes (FORMAT.md §5), as the exporter must
# leave the others out.
unrestricted="SELECT count(*) FROM gn_synthese.synthese AS s
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS sens ON sens.id_nomenclature = s.id_nomenclature_sensitivity
  LEFT JOIN ref_nomenclatures.t_nomenclatures AS dif ON dif.id_nomenclature = s.id_nomenclature_diffusion_level
 WHERE NOT (coalesce(s.additional_data ->> 'confidential' = 'true', false)
            OR coalesce(sens.cd_nomenclature <> '0', false) OR coalesce(dif.cd_nomenclature <> '5', false))"
check "a superuser exports to a server file: a row per file, every source, framework, dataset and observation" $DB_PATH \
  "SET sinp_import.export_editor = 'e2e';
   CREATE TEMP TABLE e AS SELECT * FROM sinp_import.export_archive('$archive', include_restricted => true);
   SELECT string_agg(entity, ',' ORDER BY entity) FROM e;
   SELECT (SELECT inserted FROM e WHERE entity = 'synthese') = (SELECT count(*) FROM gn_synthese.synthese),
          (SELECT inserted FROM e WHERE entity = 'dataset') = (SELECT count(*) FROM gn_meta.t_datasets),
          (SELECT inserted FROM e WHERE entity = 'acquisition_framework') = (SELECT count(*) FROM gn_meta.t_acquisition_frameworks),
          (SELECT inserted FROM e WHERE entity = 'source') = (SELECT count(*) FROM gn_synthese.t_sources),
          (SELECT inserted FROM e WHERE entity = 'user') > 0, (SELECT inserted FROM e WHERE entity = 'organism') > 0,
          (SELECT sum(updated + deleted) FROM e) = 0" \
  "acquisition_framework,dataset,organism,source,synthese,user
t|t|t|t|t|t|t"
check "the journal has the file's size and SHA-256" $DB_PATH \
  "SELECT e.size_bytes = (pg_stat_file('$archive')).size AND e.sha256 = encode(sha256(pg_read_binary_file('$archive')), 'hex'),
          e.entity_counts -> 'synthese' ->> 'inserted', e.exported_by, e.finished_at IS NOT NULL
     FROM sinp_import.exports AS e WHERE e.path = '$archive'" \
  "t|$(psql_db $DB_PATH -c "SELECT count(*) FROM gn_synthese.synthese")|postgres|t"
check "the file is a whole ZIP: it ends with its central directory" $DB_PATH \
  "SELECT encode(substring(f from length(f) - 21 for 4), 'hex') FROM pg_read_binary_file('$archive') AS f" \
  "504b0506"
check_error "an export never replaces a file (22023)" $DB_PATH \
  "SELECT * FROM sinp_import.export_archive('$archive')" 22023
check_error "a relative path is refused (22023)" $DB_PATH \
  "SELECT * FROM sinp_import.export_archive('exports/2026-12-01_sinp_paca_e2e.zip')" 22023
check_error "a role that may not write server files is refused (42501)" $DB_PATH \
  "SET ROLE $EXPORT_ROLE; SELECT * FROM sinp_import.export_archive('$ELSEWHERE/2026-12-01_sinp_paca_e2e.zip')" 42501
psql_db $DB_PATH -c "ALTER DATABASE $DB_PATH SET sinp_import.outbox_dir = '$OUTBOX'" >/dev/null
check "under sinp_import.outbox_dir it may; restricted observations stay out" $DB_PATH \
  "SET ROLE $EXPORT_ROLE;
   SELECT inserted FROM sinp_import.export_archive('$OUTBOX/2026-12-01_sinp_paca_clerk.zip') WHERE entity = 'synthese';
   SELECT exported_by FROM sinp_import.exports ORDER BY export_id DESC LIMIT 1" \
  "$(psql_db $DB_PATH -c "$unrestricted")
$EXPORT_ROLE"
check_error "but not outside it (42501)" $DB_PATH \
  "SET ROLE $EXPORT_ROLE; SELECT * FROM sinp_import.export_archive('$ELSEWHERE/2026-12-01_sinp_paca_e2e.zip')" 42501
check_error "nor through a link in it that leads outside (42501)" $DB_PATH \
  "SET ROLE $EXPORT_ROLE; SELECT * FROM sinp_import.export_archive('$OUTBOX/link/2026-12-01_sinp_paca_e2e.zip')" 42501
check_error "nor with .. out of it (42501)" $DB_PATH \
  "SET ROLE $EXPORT_ROLE; SELECT * FROM sinp_import.export_archive('$OUTBOX/../elsewhere/2026-12-01_sinp_paca_e2e.zip')" 42501
checks=$((checks + 1))
if [ -z "$(ls -A "$ELSEWHERE")" ]; then
  echo "ok   - nothing was written outside the outbox"
else
  echo "FAIL - files outside the outbox: $(ls -A "$ELSEWHERE")"; failures=$((failures + 1))
fi
checks=$((checks + 1))
warning=$(psql_db $DB_PATH -c "SELECT count(*) FROM sinp_import.export_archive('$OUT/export.zip')" 2>&1)
if grep -q "WARNING:.*does not follow the naming convention" <<<"$warning"; then
  echo "ok   - a file named against the convention is written, with a WARNING"
else
  echo "FAIL - no WARNING for export.zip: $warning"; failures=$((failures + 1))
fi
psql_db $DB_PATH -c "ALTER DATABASE $DB_PATH RESET sinp_import.outbox_dir" >/dev/null

fresh_db $DB_EXPORTED
check "the export loads into an empty database" $DB_EXPORTED \
  "SELECT string_agg(DISTINCT status, ','), sum(inserted), sum(updated + deleted + rejected)
     FROM sinp_import.load_archive('$archive')" \
  "applied|$(psql_db $DB_PATH -c "SELECT sum(inserted) FROM sinp_import.exports AS x CROSS JOIN LATERAL jsonb_each(x.entity_counts) AS c(entity, v) CROSS JOIN LATERAL (SELECT (c.v ->> 'inserted')::bigint AS inserted) AS i WHERE x.path = '$archive'")|0"
by_key="SELECT md5(string_agg(s.unique_id_sinp || s.nom_cite || coalesce(s.observers, '') || public.ST_AsEWKT(s.the_geom_local)
               || s.date_min || d.unique_dataset_id || coalesce(n.cd_nomenclature, ''), ',' ORDER BY s.unique_id_sinp)),
               (SELECT count(*) FROM gn_synthese.cor_area_synthese), (SELECT count(*) FROM gn_synthese.cor_observer_synthese)
          FROM gn_synthese.synthese AS s JOIN gn_meta.t_datasets AS d USING (id_dataset)
          LEFT JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = s.id_nomenclature_sensitivity"
check "its observations, area links and observer links are those of the database that exported" $DB_EXPORTED \
  "$by_key" "$(psql_db $DB_PATH -c "$by_key")"
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB_EXPORTED WITH (FORCE)" >/dev/null
psql_db $DB_PATH -c "DROP OWNED BY $EXPORT_ROLE" >/dev/null 2>&1
"${PSQL[@]}" -c "DROP ROLE IF EXISTS $EXPORT_ROLE" >/dev/null 2>&1
rm -rf "$OUT"
