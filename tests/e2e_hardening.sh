# Sourced by tests/e2e.sh (its check helpers, $ARCHIVES, $PSQL): the extension probed as an
# attacker would, by a database owner who is not a superuser and by a role that may only read.

echo "# objects a database owner plants are never run by a superuser's load"
DB_PLANTED=sinp_e2e_planted
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB_PLANTED WITH (FORCE)" -c "DROP ROLE IF EXISTS sinp_e2e_owner" \
  -c "CREATE ROLE sinp_e2e_owner LOGIN" -c "CREATE DATABASE $DB_PLANTED OWNER sinp_e2e_owner"
psql_db $DB_PLANTED -c "CREATE EXTENSION sinp_import CASCADE" -c "SELECT sinp_import.create_target_schema()" \
  -f tests/sql/areas.sql -f tests/sql/referentials.sql -c "GRANT USAGE ON SCHEMA sinp_import TO sinp_e2e_owner" >/dev/null
# Each raises if it is ever called; the operator and functions match their operands better than
# pg_catalog's (no implicit cast needed), so a search_path that reached public would pick them.
psql_db $DB_PLANTED >/dev/null <<'SQL'
SET ROLE sinp_e2e_owner;
CREATE FUNCTION public.planted() RETURNS boolean LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'a planted object ran'; END$$;
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS $$BEGIN PERFORM public.planted(); RETURN NULL; END$$;
CREATE FUNCTION public.planted_eq(varchar, text) RETURNS boolean LANGUAGE sql AS $$SELECT public.planted()$$;
CREATE OPERATOR public.= (LEFTARG = varchar, RIGHTARG = text, FUNCTION = public.planted_eq);
CREATE FUNCTION public.unnest(uuid[]) RETURNS SETOF uuid LANGUAGE plpgsql AS $$BEGIN PERFORM public.planted(); END$$;
CREATE FUNCTION public.cardinality(text[]) RETURNS integer LANGUAGE plpgsql AS $$BEGIN PERFORM public.planted(); RETURN 0; END$$;
CREATE FUNCTION public.currval(text) RETURNS bigint LANGUAGE plpgsql AS $$BEGIN PERFORM public.planted(); RETURN 0; END$$;
CREATE FUNCTION public.pg_has_role(name, text, text) RETURNS boolean LANGUAGE plpgsql AS $$BEGIN PERFORM public.planted(); RETURN true; END$$;
CREATE FUNCTION public.jsonb_array_elements_text(jsonb) RETURNS SETOF text LANGUAGE plpgsql AS $$BEGIN PERFORM public.planted(); END$$;
SQL
PLANTED_INBOX=$ARCHIVES/planted-inbox
rm -rf "$PLANTED_INBOX" && install -d -m 755 "$PLANTED_INBOX"
cp "$ARCHIVES"/2020-02-13_sinp_paca_cenpaca.zip "$PLANTED_INBOX"/ && chmod 644 "$PLANTED_INBOX"/*
# The superuser's session searches public first, and has a TEMP pg_roles of its own.
planted_session=(-c "SET search_path = public, pg_catalog"
  -c "CREATE TEMP TABLE pg_roles AS SELECT 'postgres'::name AS rolname, false AS rolsuper")
psql_db $DB_PLANTED "${planted_session[@]}" \
  -c "SELECT count(*) FROM sinp_import.validate_archive('$ARCHIVES/2020-08-26_sinp_paca_e2e.zip') WHERE severity = 'error'" \
  -c "SELECT DISTINCT status FROM sinp_import.load_archive('$ARCHIVES/2020-08-26_sinp_paca_e2e.zip')" \
  -c "CALL sinp_import.load_inbox('$PLANTED_INBOX')" >/tmp/sinp-e2e-planted 2>/tmp/sinp-e2e-planted.err || true
check "a superuser validates, loads and runs load_inbox: nothing planted runs" $DB_PLANTED \
  "SELECT '$(cat /tmp/sinp-e2e-planted /tmp/sinp-e2e-planted.err | grep -c 'planted object ran')' || ' ' || string_agg(archive_name || ' ' || status, ', ' ORDER BY import_id) FROM sinp_import.imports" \
  "0 2020-08-26_sinp_paca_e2e.zip applied, 2020-02-13_sinp_paca_cenpaca.zip applied"
check "validate_archive found no error" $DB_PLANTED "SELECT '$(head -1 /tmp/sinp-e2e-planted)'" "0"
check "the loads wrote their rows and links" $DB_PLANTED \
  "SELECT count(*) || ' ' || (SELECT count(*) > 0 FROM gn_synthese.cor_area_synthese) FROM gn_synthese.synthese" "5897 true"
# The owner's own session: a TEMP pg_roles saying it is a superuser, a pg_has_role of public.
owner_session="SET ROLE sinp_e2e_owner; SET search_path = pg_temp, public, pg_catalog;
  CREATE TEMP TABLE pg_roles AS SELECT current_user AS rolname, true AS rolsuper;"
check_error "the owner's TEMP pg_roles does not make it a superuser: inbox_files() refused, 42501" $DB_PLANTED \
  "$owner_session SELECT * FROM sinp_import.inbox_files('/etc')" 42501
check_error "nor may it validate a server file: 42501" $DB_PLANTED \
  "$owner_session SELECT * FROM sinp_import.validate_archive('$ARCHIVES/2020-08-26_sinp_paca_e2e.zip')" 42501
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB_PLANTED WITH (FORCE)" -c "DROP ROLE IF EXISTS sinp_e2e_owner"

echo "# standard_conforming_strings = off: archive values are stored verbatim, never run"
DB_QUOTES=sinp_e2e_quotes
fresh_db $DB_QUOTES
"${PSQL[@]}" -c "ALTER DATABASE $DB_QUOTES SET standard_conforming_strings = off"
hostile_dir=$(mktemp -d) && chmod 755 "$hostile_dir"
hostile="\\'||(SELECT 1/0)||'"
python3 - "$ARCHIVES/2020-02-13_sinp_paca_cenpaca.zip" "$hostile_dir/2020-02-14_sinp_paca_quotes.zip" "$hostile" <<'PY'
import sys, zipfile
source, target, hostile = sys.argv[1:]
with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
    for item in src.infolist():
        data = src.read(item.filename)
        if item.filename == "meta_archive.ini":
            lines = [l for l in data.decode().splitlines() if not l.startswith("taxref_version")]
            data = ("\n".join(lines) + "\ntaxref_version = " + hostile + "\n").encode()
        out.writestr(item.filename, data)
PY
chmod 644 "$hostile_dir"/*.zip
check "the load is applied, the hostile taxref_version stored as written" $DB_QUOTES \
  "SELECT DISTINCT status FROM sinp_import.load_archive('$hostile_dir/2020-02-14_sinp_paca_quotes.zip');
   SELECT count(DISTINCT meta_v_taxref) || ' ' || (min(meta_v_taxref) = (SELECT taxref_version FROM sinp_import.imports)) || ' ' || min(meta_v_taxref) FROM gn_synthese.synthese" \
  "applied
1 true $hostile"
rm -rf "$hostile_dir"
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB_QUOTES WITH (FORCE)"

echo "# a database whose encoding is not UTF8"
DB_LATIN1=sinp_e2e_latin1
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB_LATIN1 WITH (FORCE)" \
  -c "CREATE DATABASE $DB_LATIN1 ENCODING 'LATIN1' LOCALE 'C' TEMPLATE template0"
check_error "the extension is not installed there: 0A000, with a HINT" $DB_LATIN1 \
  "CREATE EXTENSION sinp_import CASCADE" 0A000
check "and nothing is left of it, nor of what CASCADE installed" $DB_LATIN1 \
  "SELECT count(*) FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql'" "0"
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB_LATIN1 WITH (FORCE)"

echo "# a role that may only read cannot keep loads waiting"
"${PSQL[@]}" -c "DROP ROLE IF EXISTS sinp_e2e_idler" -c "CREATE ROLE sinp_e2e_idler LOGIN"
psql_db $DB_PATH -c "GRANT USAGE ON SCHEMA sinp_import TO sinp_e2e_idler" \
  -c "GRANT SELECT ON ALL TABLES IN SCHEMA sinp_import TO sinp_e2e_idler" >/dev/null
# It holds the advisory key 0.2.0 serialised loads with, and every lock it may take on the lock table.
psql_db $DB_PATH -c "SET ROLE sinp_e2e_idler" -c "BEGIN" \
  -c "SELECT pg_advisory_lock(hashtext('sinp_import.load'))" \
  -c "LOCK TABLE sinp_import.load_lock IN ACCESS SHARE MODE" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
idler=$!
sleep 2
check "it may not take the loads' lock (42501)" $DB_PATH \
  "SET ROLE sinp_e2e_idler; DO \$\$ BEGIN LOCK TABLE sinp_import.load_lock IN EXCLUSIVE MODE; RAISE EXCEPTION 'taken';
   EXCEPTION WHEN insufficient_privilege THEN NULL; END \$\$; SELECT 'refused'" "refused"
check "a load meanwhile does not wait for it" $DB_PATH \
  "SET lock_timeout = '5s'; SELECT DISTINCT status FROM sinp_import.load_archive('$ARCHIVES/2020-08-26_sinp_paca_e2e.zip')" \
  "already_loaded"
kill "$idler" 2>/dev/null; wait "$idler" 2>/dev/null || true
psql_db $DB_PATH -c "CREATE TABLE public.sinp_e2e_bytes AS SELECT pg_read_binary_file('$ARCHIVES/2020-02-13_sinp_paca_cenpaca.zip') AS b" \
  -c "GRANT SELECT ON public.sinp_e2e_bytes TO sinp_e2e_idler" >/dev/null
check_error "a role without UPDATE on sinp_import.load_lock may not load, even bytes: 42501" $DB_PATH \
  "SET ROLE sinp_e2e_idler; SELECT * FROM sinp_import.load_archive((SELECT b FROM public.sinp_e2e_bytes), 'x.zip')" 42501
# With the lock but without INSERT on the journal of problems (written through COPY, which checks
# no privilege itself): refused before anything is read, the journal unchanged.
journal_rows=$(psql_db $DB_PATH -c "SELECT count(*) FROM sinp_import.imports")
psql_db $DB_PATH -c "GRANT UPDATE ON sinp_import.load_lock TO sinp_e2e_idler" \
  -c "GRANT INSERT, UPDATE ON sinp_import.imports, sinp_import.additional_fields TO sinp_e2e_idler" \
  -c "GRANT USAGE ON SEQUENCE sinp_import.imports_import_id_seq TO sinp_e2e_idler" >/dev/null
check_error "a role without INSERT on sinp_import.import_errors may not load: 42501, before the journal" $DB_PATH \
  "SET ROLE sinp_e2e_idler; SELECT * FROM sinp_import.load_archive((SELECT b FROM public.sinp_e2e_bytes), 'x.zip')" 42501
check "  ... and nothing journaled" $DB_PATH \
  "SET ROLE sinp_e2e_idler; DO \$\$ BEGIN PERFORM * FROM sinp_import.load_archive((SELECT b FROM public.sinp_e2e_bytes), 'x.zip');
   EXCEPTION WHEN insufficient_privilege THEN RAISE NOTICE '%', SQLERRM; END \$\$; RESET ROLE;
   SELECT count(*) FROM sinp_import.imports" "$journal_rows"
psql_db $DB_PATH -c "DROP TABLE public.sinp_e2e_bytes" \
  -c "REVOKE ALL ON SEQUENCE sinp_import.imports_import_id_seq FROM sinp_e2e_idler" >/dev/null
psql_db $DB_PATH -c "REVOKE ALL ON ALL TABLES IN SCHEMA sinp_import FROM sinp_e2e_idler" \
  -c "REVOKE ALL ON SCHEMA sinp_import FROM sinp_e2e_idler" >/dev/null
"${PSQL[@]}" -c "DROP ROLE IF EXISTS sinp_e2e_idler"

echo "# hostile archives: refused in bounded memory and time"
DB_HOSTILE=sinp_e2e_hostile
fresh_db $DB_HOSTILE
HOSTILE=$ARCHIVES/hostile
rm -rf "$HOSTILE" && install -d -m 755 "$HOSTILE"
python3 - "$HOSTILE" <<'PY'
import io, sys, tarfile, zipfile
out = sys.argv[1]
ini = b"format_version = 1.0\nexport_date = 2020-08-26 10:15\n"
# A .tar.gz of a few hundred kB whose GNU long-name entry claims a 256 MB member name.
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
    for name, data in [("a" * (256 << 20), b"x"), ("meta_archive.ini", ini)]:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
import gzip
with open(f"{out}/2020-08-26_sinp_paca_longname.tar.gz", "wb") as f:
    f.write(gzip.compress(raw.getvalue(), compresslevel=6))
# A synthese.csv whose second line is 200 MB without a tab or a line break.
with zipfile.ZipFile(f"{out}/2020-08-26_sinp_paca_longline.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("meta_archive.ini", ini)
    header = b"unique_id_sinp\tcode_source\tcode_dataset\tnom_cite\tcd_nom\tdate_min\tdate_max\tgeom\tmeta_last_action\n"
    z.writestr("synthese.csv", header + b"x" * (200 << 20) + b"\n")
# A header of 1 000 000 columns, and one of 1 000 000 times the same name.
with zipfile.ZipFile(f"{out}/2020-08-26_sinp_paca_wide.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("meta_archive.ini", ini)
    z.writestr("synthese.csv", "\t".join(f"x_{i}" for i in range(1_000_000)) + "\n")
    z.writestr("source.csv", "\t".join(["name"] * 1_000_000) + "\n")
PY
mkfifo "$HOSTILE/2020-08-26_sinp_paca_fifo.zip"
chmod 644 "$HOSTILE"/*
ls -l "$HOSTILE" | sed 's/^/       /'
# The backend's peak resident memory (MB) after the statement, in the same session.
peak="SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'), 'VmHWM:\s+(\d+)'))[1]::bigint / 1024 < 300"
check "a 256 MB GNU long name in a small .tar.gz: refused (54000) before it is read, peak memory under 300 MB" $DB_HOSTILE \
  "DO \$\$ BEGIN PERFORM * FROM sinp_import.load_archive('$HOSTILE/2020-08-26_sinp_paca_longname.tar.gz');
   EXCEPTION WHEN program_limit_exceeded THEN RAISE NOTICE 'refused'; END \$\$; $peak" "t"
check "a 200 MB line: RECORD_TOO_LONG, rejected, peak memory under 300 MB, the journal row bounded" $DB_HOSTILE \
  "SET sinp_import.max_compression_ratio = 1000000;
   SELECT DISTINCT status FROM sinp_import.load_archive('$HOSTILE/2020-08-26_sinp_paca_longline.zip');
   SELECT string_agg(code || ' ' || line || ' ' || (length(raw_record) < 1000), ', ') FROM sinp_import.import_errors WHERE code = 'RECORD_TOO_LONG';
   $peak" "rejected
RECORD_TOO_LONG 2 true
t"
started=$(date +%s%N)
check "headers of 1 000 000 columns: TOO_MANY_COLUMNS at once, within statement_timeout = 5s" $DB_HOSTILE \
  "SET statement_timeout = '5s'; SET sinp_import.max_compression_ratio = 1000000;
   SELECT string_agg(DISTINCT file || ' ' || code, ', ') FROM sinp_import.validate_archive('$HOSTILE/2020-08-26_sinp_paca_wide.zip') WHERE severity = 'error'" \
  "source.csv TOO_MANY_COLUMNS, synthese.csv TOO_MANY_COLUMNS"
echo "       ($(( ($(date +%s%N) - started) / 1000000 )) ms)"
started=$(date +%s%N)
check_error "a FIFO: refused at once (22023), never waited on" $DB_HOSTILE \
  "SET statement_timeout = '10s'; SELECT * FROM sinp_import.load_archive('$HOSTILE/2020-08-26_sinp_paca_fifo.zip')" 22023
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
check "  ... in under 3 s ($elapsed ms)" $DB_HOSTILE "SELECT $elapsed < 3000" "t"
started=$(date +%s%N)
timeout_output=$(psql_db $DB_HOSTILE -c "\\set VERBOSITY verbose" -c "SET statement_timeout = '1s'" \
  -c "SELECT * FROM sinp_import.load_archive('$ARCHIVES/2020-08-28_sinp_paca_big.zip')" 2>&1) && true
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
check "statement_timeout = 1s stops a load of 40 000 observations (57014) within 3 s ($elapsed ms), nothing kept" $DB_HOSTILE \
  "SELECT $(grep -c 'ERROR:  57014' <<<"$timeout_output") || ' ' || ($elapsed < 3000) || ' ' || (SELECT count(*) FROM gn_synthese.synthese)" "1 true 0"
grep -q 'ERROR:  57014' <<<"$timeout_output" || grep -v '^NOTICE\|^LOCATION:  sinp_import::load::progress' <<<"$timeout_output" | tail -6 | sed 's/^/       /'
echo "# load_inbox(): a refused delete and a write PostgreSQL refuses are journaled rejections, not failures"
REFUSALS=$ARCHIVES/refusals-inbox
rm -rf "$REFUSALS" && install -d -m 755 "$REFUSALS"
psql_db $DB_HOSTILE -c "SELECT * FROM sinp_import.load_archive('$ARCHIVES/2020-02-13_sinp_paca_cenpaca.zip')" >/dev/null 2>&1
dataset=$(psql_db $DB_HOSTILE -c "SELECT unique_dataset_id FROM gn_meta.t_datasets LIMIT 1")
python3 - "$REFUSALS/2020-03-01_sinp_paca_refused.zip" "$dataset" <<'PY'
import sys, zipfile
target, dataset = sys.argv[1:]
with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("meta_archive.ini", "format_version = 1.0\nexport_date = 2020-03-01 10:00\n")
    z.writestr("dataset.csv", "unique_id\tcode_acquisition_framework\tname\tshortname\tdesc\tmarine_domain\tterrestrial_domain\tmeta_last_action\n"
               f"{dataset}\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\tD\n")
    z.writestr("synthese.csv", "unique_id_sinp\tcode_source\tcode_dataset\tnom_cite\tcd_nom\tdate_min\tdate_max\tgeom\tmeta_last_action\n")
PY
cp "$ARCHIVES/2020-08-26_sinp_paca_e2e.zip" "$REFUSALS/"
chmod 644 "$REFUSALS"/*
psql_db $DB_HOSTILE -c "ALTER TABLE gn_synthese.synthese ADD CONSTRAINT e2e_refused CHECK (id_source < 0) NOT VALID" >/dev/null
psql_db $DB_HOSTILE -c "CALL sinp_import.load_inbox('$REFUSALS')" >/dev/null 2>&1
check "each archive rejected with its problem, none failed" $DB_HOSTILE \
  "SELECT string_agg(i.archive_name || ' ' || i.status || ' ' || e.code || coalesce(' ' || e.value, ''), ', ' ORDER BY i.import_id)
     FROM sinp_import.imports AS i JOIN sinp_import.import_errors AS e USING (import_id)
    WHERE i.archive_name IN ('2020-03-01_sinp_paca_refused.zip', '2020-08-26_sinp_paca_e2e.zip') AND e.severity = 'error'" \
  "2020-03-01_sinp_paca_refused.zip rejected DELETE_OF_REFERENCED_ROW $dataset, 2020-08-26_sinp_paca_e2e.zip rejected CONSTRAINT_VIOLATION 23514"
rm -rf "$REFUSALS"
rm -rf "$HOSTILE"
"${PSQL[@]}" -c "DROP DATABASE IF EXISTS $DB_HOSTILE WITH (FORCE)"
