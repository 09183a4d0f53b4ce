//! Exports (docs/export.md) proven by round trips: what an export carries, loaded into a target
//! emptied of it, gives every table the loader writes back as it was (rows compared by key, the
//! serial ids replaced by the keys they stand for), and exports again to the same records.

use std::collections::BTreeMap;
use std::io::Read;

use pgrx::prelude::*;

use super::{count, load_bytes, setup_target, small_options, text, FIXTURE_DIR};

/// Every table the loader writes, as text, by key: per table its row count and a hash of its rows
/// (each as JSON, the serial ids left out and the links by the keys they point to; the stored
/// geometry, in the local SRID, as EWKB; dates to the microsecond). The WGS 84 geometries are
/// computed from what the file gives, and compared apart (derived_geometries_agree).
const WRITTEN_TABLES: &str = "
WITH t(name, n, h) AS (
  SELECT 'sources', count(*), md5(string_agg((to_jsonb(s) - 'id_source')::text, ',' ORDER BY s.name_source))
    FROM gn_synthese.t_sources AS s
  UNION ALL
  SELECT 'organisms', count(*), md5(string_agg((to_jsonb(o) - 'id_organisme' - 'id_parent')::text, ',' ORDER BY o.uuid_organisme))
    FROM utilisateurs.bib_organismes AS o
  UNION ALL
  SELECT 'users', count(*), md5(string_agg((to_jsonb(r) - 'id_role' - 'id_organisme'
           || jsonb_build_object('organism', (SELECT o.uuid_organisme FROM utilisateurs.bib_organismes AS o WHERE o.id_organisme = r.id_organisme)))::text,
           ',' ORDER BY r.uuid_role))
    FROM utilisateurs.t_roles AS r
  UNION ALL
  SELECT 'frameworks', count(*), md5(string_agg((to_jsonb(a) - 'id_acquisition_framework' - 'acquisition_framework_parent_id' - 'id_digitizer'
           || jsonb_build_object('parent', (SELECT p.unique_acquisition_framework_id FROM gn_meta.t_acquisition_frameworks AS p
                                             WHERE p.id_acquisition_framework = a.acquisition_framework_parent_id)))::text,
           ',' ORDER BY a.unique_acquisition_framework_id))
    FROM gn_meta.t_acquisition_frameworks AS a
  UNION ALL
  SELECT 'framework links', count(*), md5(string_agg(x, ',' ORDER BY x)) FROM (
    SELECT concat_ws('|', 'objectif', a.unique_acquisition_framework_id, c.id_nomenclature_objectif) AS x
      FROM gn_meta.cor_acquisition_framework_objectif AS c JOIN gn_meta.t_acquisition_frameworks AS a USING (id_acquisition_framework)
    UNION ALL
    SELECT concat_ws('|', 'volet', a.unique_acquisition_framework_id, c.id_nomenclature_voletsinp)
      FROM gn_meta.cor_acquisition_framework_voletsinp AS c JOIN gn_meta.t_acquisition_frameworks AS a USING (id_acquisition_framework)
    UNION ALL
    SELECT concat_ws('|', 'actor', a.unique_acquisition_framework_id, o.uuid_organisme, r.uuid_role, c.id_nomenclature_actor_role)
      FROM gn_meta.cor_acquisition_framework_actor AS c JOIN gn_meta.t_acquisition_frameworks AS a USING (id_acquisition_framework)
      LEFT JOIN utilisateurs.bib_organismes AS o ON o.id_organisme = c.id_organism
      LEFT JOIN utilisateurs.t_roles AS r ON r.id_role = c.id_role
    UNION ALL
    SELECT concat_ws('|', 'publication', a.unique_acquisition_framework_id, p.unique_publication_id, p.publication_reference, p.publication_url)
      FROM gn_meta.cor_acquisition_framework_publication AS c JOIN gn_meta.t_acquisition_frameworks AS a USING (id_acquisition_framework)
      JOIN gn_meta.sinp_datatype_publications AS p USING (id_publication)) AS links
  UNION ALL
  SELECT 'datasets', count(*), md5(string_agg((to_jsonb(d) - 'id_dataset' - 'id_acquisition_framework' - 'id_digitizer'
           || jsonb_build_object('framework', (SELECT a.unique_acquisition_framework_id FROM gn_meta.t_acquisition_frameworks AS a
                                                WHERE a.id_acquisition_framework = d.id_acquisition_framework)))::text,
           ',' ORDER BY d.unique_dataset_id))
    FROM gn_meta.t_datasets AS d
  UNION ALL
  SELECT 'dataset links', count(*), md5(string_agg(x, ',' ORDER BY x)) FROM (
    SELECT concat_ws('|', 'actor', d.unique_dataset_id, o.uuid_organisme, r.uuid_role, c.id_nomenclature_actor_role) AS x
      FROM gn_meta.cor_dataset_actor AS c JOIN gn_meta.t_datasets AS d USING (id_dataset)
      LEFT JOIN utilisateurs.bib_organismes AS o ON o.id_organisme = c.id_organism
      LEFT JOIN utilisateurs.t_roles AS r ON r.id_role = c.id_role
    UNION ALL
    SELECT concat_ws('|', 'territory', d.unique_dataset_id, c.id_nomenclature_territory, c.territory_desc)
      FROM gn_meta.cor_dataset_territory AS c JOIN gn_meta.t_datasets AS d USING (id_dataset)) AS links
  UNION ALL
  SELECT 'observations', count(*), md5(string_agg((to_jsonb(s) - 'id_synthese' - 'id_source' - 'id_dataset' - 'id_digitiser'
           - 'the_geom_local' - 'the_geom_4326' - 'the_geom_point'
           || jsonb_build_object(
                'source', (SELECT x.name_source FROM gn_synthese.t_sources AS x WHERE x.id_source = s.id_source),
                'dataset', (SELECT x.unique_dataset_id FROM gn_meta.t_datasets AS x WHERE x.id_dataset = s.id_dataset),
                'digitiser', (SELECT x.uuid_role FROM utilisateurs.t_roles AS x WHERE x.id_role = s.id_digitiser),
                'geometry', encode(public.ST_AsEWKB(s.the_geom_local), 'hex')))::text,
           ',' ORDER BY s.unique_id_sinp))
    FROM gn_synthese.synthese AS s
  UNION ALL
  SELECT 'area links', count(*), md5(string_agg(s.unique_id_sinp::text || '|' || c.id_area, ',' ORDER BY s.unique_id_sinp, c.id_area))
    FROM gn_synthese.cor_area_synthese AS c JOIN gn_synthese.synthese AS s USING (id_synthese)
  UNION ALL
  SELECT 'observer links', count(*), md5(string_agg(s.unique_id_sinp::text || '|' || r.uuid_role, ',' ORDER BY s.unique_id_sinp, r.uuid_role))
    FROM gn_synthese.cor_observer_synthese AS c JOIN gn_synthese.synthese AS s USING (id_synthese)
    JOIN utilisateurs.t_roles AS r USING (id_role)
  UNION ALL
  SELECT 'validations', count(*), md5(string_agg(concat_ws('|', v.uuid_attached_row, v.id_nomenclature_valid_status,
           v.validation_auto, v.validation_comment), ',' ORDER BY v.uuid_attached_row))
    FROM gn_commons.t_validations AS v)
SELECT string_agg(name || ' ' || n || ' ' || coalesce(h, '-'), E'\\n' ORDER BY name) FROM t";

/// The WGS 84 geometry and point of each observation reloaded from the export (which gives the
/// local geometry) are those computed from the original file (which may have given WGS 84) to a
/// millimetre: the projections back and forth differ in the last bits only.
pub(super) fn derived_geometries_agree() {
    assert_eq!(
        count(
            "SELECT count(*) FROM sinp_test_geometries AS o
               JOIN gn_synthese.synthese AS s USING (unique_id_sinp)
              WHERE public.ST_HausdorffDistance(o.the_geom_4326, s.the_geom_4326) > 1e-8
                 OR public.ST_Distance(o.the_geom_point, s.the_geom_point) > 1e-8
                 OR public.ST_GeometryType(o.the_geom_4326) <> public.ST_GeometryType(s.the_geom_4326)"
        ),
        0
    );
    assert_eq!(
        count("SELECT count(*) FROM sinp_test_geometries JOIN gn_synthese.synthese USING (unique_id_sinp)"),
        count("SELECT count(*) FROM gn_synthese.synthese")
    );
}

pub(super) fn written_tables() -> String {
    text(WRITTEN_TABLES).unwrap()
}

/// What the loads wrote goes (the metadata of the target's seeds stays), and the journal, so that
/// the export loads into a target that holds none of it.
pub(super) fn empty_target(baseline: &BTreeMap<&str, i64>) {
    Spi::run(
        "TRUNCATE gn_synthese.synthese, gn_synthese.cor_area_synthese, gn_synthese.cor_observer_synthese,
                  gn_synthese.t_log_synthese, gn_commons.t_validations,
                  gn_meta.cor_dataset_actor, gn_meta.cor_dataset_territory,
                  gn_meta.cor_acquisition_framework_objectif, gn_meta.cor_acquisition_framework_voletsinp,
                  gn_meta.cor_acquisition_framework_actor, gn_meta.cor_acquisition_framework_publication,
                  gn_meta.sinp_datatype_publications;
         DELETE FROM gn_meta.t_datasets;
         DELETE FROM gn_meta.t_acquisition_frameworks;
         DELETE FROM sinp_import.imports;",
    )
    .unwrap();
    Spi::run_with_args(
        "DELETE FROM gn_synthese.t_sources WHERE id_source > $1;
         DELETE FROM utilisateurs.t_roles WHERE id_role > $2;
         DELETE FROM utilisateurs.bib_organismes WHERE id_organisme > $3;",
        &[
            baseline["sources"].into(),
            baseline["users"].into(),
            baseline["organisms"].into(),
        ],
    )
    .unwrap();
}

/// Empties the target of what the loads wrote (back to `before`) and loads `archive` into it.
fn reload(before: &BTreeMap<&str, i64>, archive: &[u8], name: &str) {
    empty_target(before);
    assert_eq!(
        count("SELECT count(*) FROM gn_synthese.synthese"),
        0,
        "the target was emptied"
    );
    let reloaded = load_bytes(archive, name, "strict", false);
    assert!(reloaded.iter().all(|r| r.0 == "applied"), "{reloaded:?}");
}

pub(super) fn baseline() -> BTreeMap<&'static str, i64> {
    BTreeMap::from([
        (
            "sources",
            count("SELECT coalesce(max(id_source), 0) FROM gn_synthese.t_sources"),
        ),
        (
            "users",
            count("SELECT coalesce(max(id_role), 0) FROM utilisateurs.t_roles"),
        ),
        (
            "organisms",
            count("SELECT coalesce(max(id_organisme), 0) FROM utilisateurs.bib_organismes"),
        ),
    ])
}

fn export(include_restricted: bool) -> Vec<u8> {
    Spi::get_one_with_args::<Vec<u8>>(
        "SELECT sinp_import.export_archive_bytes(include_restricted => $1)",
        &[include_restricted.into()],
    )
    .unwrap()
    .unwrap()
}

/// The members of an archive, meta_archive.ini without its export date.
pub(super) fn members(archive: &[u8]) -> BTreeMap<String, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut file = zip.by_index(i).unwrap();
            let mut text = String::new();
            file.read_to_string(&mut text).unwrap();
            let name = file.name().unwrap().to_string();
            if name == "meta_archive.ini" {
                text = text
                    .lines()
                    .filter(|l| !l.starts_with("export_date"))
                    .collect::<Vec<_>>()
                    .join("\n");
            }
            (name, text)
        })
        .collect()
}

/// Loads `archive`, exports it, empties the target, loads the export: every written table is as
/// it was, and the export of the reload is the export.
fn round_trip(archive: &[u8], name: &str) -> BTreeMap<String, String> {
    setup_target();
    let before = baseline();
    let loaded = load_bytes(archive, name, "strict", false);
    assert!(loaded.iter().all(|r| r.0 == "applied"), "{loaded:?}");
    let original = written_tables();
    Spi::run(
        "CREATE TEMP TABLE sinp_test_geometries AS
         SELECT unique_id_sinp, the_geom_4326, the_geom_point FROM gn_synthese.synthese",
    )
    .unwrap();
    let exported = export(true);

    reload(&before, &exported, "2026-12-01_sinp_paca_export.zip");
    for (a, b) in original.lines().zip(written_tables().lines()) {
        assert_eq!(b, a, "after the round trip");
    }
    assert_eq!(written_tables(), original);
    derived_geometries_agree();

    let exported_members = members(&exported);
    assert_eq!(
        members(&export(true)),
        exported_members,
        "the export of the reload"
    );
    exported_members
}

#[pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn a_full_export_loads_back_as_it_was() {
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        let exported = round_trip(&archive, "2020-08-26_sinp_paca_export.zip");
        assert_eq!(
            exported.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "acquisition_framework.csv",
                "dataset.csv",
                "meta_additional_data.csv",
                "meta_archive.ini",
                "organism.csv",
                "source.csv",
                "synthese.csv",
                "user.csv"
            ]
        );
        assert!(exported["meta_archive.ini"].starts_with("format_version = 1.0\n"));
        // The archive's description of its additional fields goes out with them.
        assert_eq!(
            exported["meta_additional_data.csv"].lines().count() as i64 - 1,
            count("SELECT count(DISTINCT (resource, name)) FROM sinp_import.additional_fields")
        );
        assert!(exported["meta_additional_data.csv"]
            .starts_with("resource\tname\tdesc\tkeyword\ttype\tunity\n"));
        // Not vacuous: the archive's rows, links and area links were all there.
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 400);
        assert!(count("SELECT count(*) FROM gn_synthese.cor_area_synthese") > 400);
        assert!(count("SELECT count(*) FROM gn_synthese.cor_observer_synthese") > 0);
        assert!(count("SELECT count(*) FROM gn_meta.cor_dataset_actor") > 0);
    }

    #[pg_test]
    fn the_real_cen_paca_archive_round_trips_value_for_value() {
        let archive =
            sinp_bench::real_fixture_archive_bytes(std::path::Path::new(FIXTURE_DIR)).unwrap();
        round_trip(&archive, "2020-02-13_sinp_paca_cenpaca.zip");
        assert!(count("SELECT count(*) FROM gn_synthese.synthese") > 0);
    }

    #[pg_test]
    fn restricted_observations_stay_out_unless_asked() {
        setup_target();
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        load_bytes(&archive, "2020-08-26_sinp_paca_export.zip", "strict", false);
        let condition = text("SELECT sinp_import.restricted_condition('s')").unwrap();
        let restricted = count(&format!(
            "SELECT count(*) FROM gn_synthese.synthese AS s WHERE {condition}"
        ));
        assert!(restricted > 0 && restricted < 400, "{restricted}");
        let rows = |archive: &[u8]| members(archive)["synthese.csv"].lines().count() as i64 - 1;
        assert_eq!(rows(&export(false)), 400 - restricted);
        assert_eq!(rows(&export(true)), 400);
        // What goes out is exactly the unrestricted observations.
        let out: std::collections::BTreeSet<String> = members(&export(false))["synthese.csv"]
            .lines()
            .skip(1)
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect();
        let unrestricted: std::collections::BTreeSet<String> = text(&format!(
            "SELECT string_agg(s.unique_id_sinp::text, ',') FROM gn_synthese.synthese AS s WHERE NOT {condition}"
        ))
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
        assert_eq!(out, unrestricted);
    }

    #[pg_test]
    fn an_export_of_one_dataset_carries_what_its_observations_name() {
        setup_target();
        let before = baseline();
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        load_bytes(&archive, "2020-08-26_sinp_paca_export.zip", "strict", false);
        let dataset = text(
            "SELECT unique_dataset_id::text FROM gn_meta.t_datasets ORDER BY id_dataset LIMIT 1",
        )
        .unwrap();
        Spi::run_with_args(
            "SELECT set_config('sinp_test.dataset', $1, true)",
            &[dataset.as_str().into()],
        )
        .unwrap();
        let observations = count("SELECT count(*) FROM gn_synthese.synthese AS s JOIN gn_meta.t_datasets AS d USING (id_dataset)
              WHERE d.unique_dataset_id = current_setting('sinp_test.dataset')::uuid");
        assert!(observations > 0 && observations < 400, "{observations}");
        let exported = Spi::get_one_with_args::<Vec<u8>>(
            "SELECT sinp_import.export_archive_bytes(datasets => ARRAY[$1::uuid], include_restricted => true)",
            &[dataset.as_str().into()],
        )
        .unwrap()
        .unwrap();
        let files = members(&exported);
        let records = |file: &str| files[file].lines().count() as i64 - 1;
        assert_eq!(records("synthese.csv"), observations);
        assert_eq!(records("dataset.csv"), 1);
        assert!(files["dataset.csv"].contains(&dataset));
        assert!(records("acquisition_framework.csv") >= 1);
        // Only the users its observations and metadata name.
        let named_users = count("SELECT count(DISTINCT id_role) FROM (
               SELECT s.id_digitiser AS id_role FROM gn_synthese.synthese AS s JOIN gn_meta.t_datasets AS d USING (id_dataset)
                WHERE d.unique_dataset_id = current_setting('sinp_test.dataset')::uuid AND s.id_digitiser IS NOT NULL
               UNION SELECT c.id_role FROM gn_synthese.cor_observer_synthese AS c JOIN gn_synthese.synthese AS s USING (id_synthese)
                 JOIN gn_meta.t_datasets AS d USING (id_dataset) WHERE d.unique_dataset_id = current_setting('sinp_test.dataset')::uuid
               UNION SELECT c.id_role FROM gn_meta.cor_dataset_actor AS c JOIN gn_meta.t_datasets AS d USING (id_dataset)
                WHERE d.unique_dataset_id = current_setting('sinp_test.dataset')::uuid AND c.id_role IS NOT NULL
               UNION SELECT c.id_role FROM gn_meta.cor_acquisition_framework_actor AS c
                 JOIN gn_meta.t_datasets AS d USING (id_acquisition_framework)
                WHERE d.unique_dataset_id = current_setting('sinp_test.dataset')::uuid AND c.id_role IS NOT NULL) AS named");
        assert_eq!(records("user.csv"), named_users);
        // Every link resolves on a target that holds none of it.
        reload(&before, &exported, "2026-12-01_sinp_paca_dataset.zip");
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.synthese"),
            observations
        );
    }

    #[pg_test]
    fn an_export_to_a_server_file_is_journaled_and_loads_back() {
        setup_target();
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        load_bytes(&archive, "2020-08-26_sinp_paca_export.zip", "strict", false);
        let dir = std::env::temp_dir().join(format!("sinp-export-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("2026-12-01_sinp_paca_file.zip");
        let _ = std::fs::remove_file(&path);
        let path = path.to_str().unwrap().to_string();
        let rows = Spi::connect(|client| {
            client
                .select(
                    "SELECT export_id, entity, inserted, updated, deleted
                       FROM sinp_import.export_archive($1, include_restricted => true)",
                    None,
                    &[path.as_str().into()],
                )
                .unwrap()
                .map(|r| {
                    (
                        r.get::<i64>(1).unwrap().unwrap(),
                        r.get::<String>(2).unwrap().unwrap(),
                        r.get::<i64>(3).unwrap().unwrap(),
                        r.get::<i64>(4).unwrap().unwrap() + r.get::<i64>(5).unwrap().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        });
        let entities: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        assert_eq!(
            entities,
            [
                "source",
                "organism",
                "user",
                "acquisition_framework",
                "dataset",
                "synthese"
            ]
        );
        assert_eq!(rows[5].2, 400);
        assert!(rows.iter().all(|r| r.3 == 0 && r.0 == rows[0].0));
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            text(&format!(
                "SELECT size_bytes || ' ' || sha256 || ' ' || (entity_counts -> 'synthese' ->> 'inserted')
                   FROM sinp_import.exports WHERE export_id = {}",
                rows[0].0
            )),
            Some(format!(
                "{} {} 400",
                bytes.len(),
                crate::archive::sha256_hex(bytes.as_slice()).unwrap().0
            ))
        );
        assert_eq!(members(&bytes), members(&export(true)));
        // Loaded again where it came from: the rows with a version unchanged, those without one
        // (meta_update_date NULL) written again, with the same values.
        let unversioned =
            count("SELECT count(*) FROM gn_synthese.synthese WHERE meta_update_date IS NULL");
        let tables = written_tables();
        let reloaded = Spi::connect(|client| {
            client
                .select(
                    "SELECT status, inserted + deleted, updated, unchanged FROM sinp_import.load_archive($1)",
                    None,
                    &[path.as_str().into()],
                )
                .unwrap()
                .map(|r| {
                    (
                        r.get::<String>(1).unwrap().unwrap(),
                        r.get::<i64>(2).unwrap().unwrap(),
                        r.get::<i64>(3).unwrap().unwrap(),
                        r.get::<i64>(4).unwrap().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        });
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            reloaded.iter().all(|r| r.0 == "applied" && r.1 == 0),
            "{reloaded:?}"
        );
        assert_eq!(
            (reloaded[5].2, reloaded[5].3),
            (unversioned, 400 - unversioned)
        );
        assert_eq!(written_tables(), tables, "nothing changed");
    }

    #[pg_test]
    fn a_tar_bz2_export_loads_back_as_the_zip_does() {
        setup_target();
        let before = baseline();
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        load_bytes(&archive, "2020-08-26_sinp_paca_export.zip", "strict", false);
        let original = written_tables();
        let tar = Spi::get_one::<Vec<u8>>(
            "SELECT sinp_import.export_archive_bytes(include_restricted => true, format => 'tar.bz2')",
        )
        .unwrap()
        .unwrap();
        assert!(tar.starts_with(b"BZh"), "a bzip2 stream");
        reload(&before, &tar, "2026-12-01_sinp_paca_export.tar.bz2");
        assert_eq!(written_tables(), original);
    }

    #[pg_test]
    fn values_stored_compressed_or_out_of_line_go_out_whole() {
        setup_target();
        let before = baseline();
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        load_bytes(&archive, "2020-08-26_sinp_paca_export.zip", "strict", false);
        // One comment that compresses well, one that hardly does, both holding what the dialect
        // escapes and what it passes through.
        Spi::run(
            "UPDATE gn_synthese.synthese SET comment_description = repeat(E'é\\t\"q\" \\\\N\\n', 40000)
              WHERE id_synthese = (SELECT min(id_synthese) FROM gn_synthese.synthese);
             UPDATE gn_synthese.synthese
                SET comment_description = (SELECT string_agg(md5(i::text) || E'\\r✓', '' ORDER BY i) FROM generate_series(1, 6000) AS i)
              WHERE id_synthese = (SELECT max(id_synthese) FROM gn_synthese.synthese)",
        )
        .unwrap();
        let stored = || {
            text(
                "SELECT string_agg(md5(comment_description) || ' ' || length(comment_description), ','
                                   ORDER BY unique_id_sinp)
                   FROM gn_synthese.synthese WHERE length(comment_description) > 10000",
            )
            .unwrap()
        };
        // Values this long are never kept plain in a row of an 8 kB page: compressed, or in the
        // TOAST table, and the export reads them detoasted.
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.synthese WHERE length(comment_description) > 100000"),
            2
        );
        let original = stored();
        let exported = export(true);
        reload(&before, &exported, "2026-12-01_sinp_paca_export.zip");
        assert_eq!(stored(), original);
    }

    #[pg_test(error = "invalid format: \"rar\"")]
    fn an_unknown_format_is_refused() {
        setup_target();
        Spi::run("SELECT sinp_import.export_archive_bytes(format => 'rar')").unwrap();
    }
}
