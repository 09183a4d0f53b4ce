//! In-database tests (`cargo pgrx test`): each runs in a transaction that is rolled back. Archives
//! come from the project's generator (crate sinp-bench) and from the real CEN PACA fixture.

use std::collections::BTreeMap;

use pgrx::prelude::*;
use sinp_bench::SynthOptions;

use crate::tsv::TsvReader;
use crate::validate::{parse_datetime, parse_text_array, parse_text_array2, synthese_uuid};

mod changes;
mod corpus;
mod differential;
mod export;
mod export_differential;
mod geonature;
mod partitioned;
mod privileges;
mod report;
mod restricted;
mod validation;

const AREAS_SQL: &str = include_str!("../../tests/sql/areas.sql");
const REFERENTIALS_SQL: &str = include_str!("../../tests/sql/referentials.sql");
const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cen-paca-2020");

pub fn setup_target() {
    Spi::run("SELECT sinp_import.create_target_schema()").unwrap();
    Spi::run(AREAS_SQL).unwrap();
    Spi::run(REFERENTIALS_SQL).unwrap();
}

/// (status, entity, inserted, updated, deleted, unchanged, rejected) per result row.
type ResultRow = (String, String, i64, i64, i64, i64, i64);

pub fn load_bytes(bytes: &[u8], name: &str, mode: &str, dry_run: bool) -> Vec<ResultRow> {
    Spi::connect(|client| {
        client
            .select(
                "SELECT status, entity, inserted, updated, deleted, unchanged, rejected
                   FROM sinp_import.load_archive($1, $2, $3, $4)",
                None,
                &[bytes.into(), name.into(), mode.into(), dry_run.into()],
            )
            .unwrap()
            .map(|r| {
                (
                    r.get::<String>(1).unwrap().unwrap(),
                    r.get::<String>(2).unwrap().unwrap(),
                    r.get::<i64>(3).unwrap().unwrap(),
                    r.get::<i64>(4).unwrap().unwrap(),
                    r.get::<i64>(5).unwrap().unwrap(),
                    r.get::<i64>(6).unwrap().unwrap(),
                    r.get::<i64>(7).unwrap().unwrap(),
                )
            })
            .collect()
    })
}

/// (line, column, code, value, message) of every error validate_archive() finds, by line and code.
pub fn validation_errors(archive: &[u8], name: &str) -> Vec<(i64, String, String, String, String)> {
    Spi::connect(|client| {
        client
            .select(
                "SELECT line, column_name, code, value, message FROM sinp_import.validate_archive($1, $2)
                  WHERE severity = 'error' ORDER BY line, code",
                None,
                &[archive.into(), name.into()],
            )
            .unwrap()
            .map(|r| {
                let text = |i: usize| r.get::<String>(i).unwrap().unwrap_or_default();
                (r.get::<i64>(1).unwrap().unwrap_or(0), text(2), text(3), text(4), text(5))
            })
            .collect()
    })
}

/// A scalar query's value (NULL when it returns no row).
pub fn count(sql: &str) -> i64 {
    Spi::get_one::<i64>(&format!("SELECT ({sql})"))
        .unwrap()
        .unwrap_or(-1)
}

pub fn text(sql: &str) -> Option<String> {
    Spi::get_one::<String>(&format!("SELECT ({sql})")).unwrap()
}

fn small_options() -> SynthOptions {
    SynthOptions {
        rows: 400,
        ..SynthOptions::default()
    }
}

/// The records of one member of an archive, decoded, keyed by header name.
fn member_records(archive: &[u8], member: &str) -> Vec<BTreeMap<String, Option<String>>> {
    member_records_by_line(archive, member)
        .into_iter()
        .map(|(_, record)| record)
        .collect()
}

/// The records of one member with the line each starts on (a record may span lines).
fn member_records_by_line(
    archive: &[u8],
    member: &str,
) -> Vec<(u64, BTreeMap<String, Option<String>>)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive)).unwrap();
    let file = zip.by_name(member).unwrap();
    let mut tsv = TsvReader::new(member, file).unwrap();
    let header = tsv.header().to_vec();
    let mut out = Vec::new();
    while tsv.next_record().unwrap() {
        let record = header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let v = crate::tsv::decode_field(tsv.raw_field(i)).unwrap();
                (h.clone(), v.map(|c| c.into_owned()))
            })
            .collect();
        out.push((tsv.line(), record));
    }
    out
}

/// Managed triggers present on the targets that are not enabled.
fn disabled_managed_triggers() -> i64 {
    count(
        "SELECT count(*) FROM sinp_import.managed_triggers AS m
           JOIN pg_trigger AS t ON t.tgrelid = to_regclass(m.table_name) AND t.tgname = m.trigger_name
          WHERE t.tgenabled = 'D'",
    )
}

/// Row counts and an aggregate hash of every written table.
fn targets_fingerprint() -> String {
    text(
        "SELECT string_agg(t || ':' || n || ':' || h, ' ' ORDER BY t) FROM (
            SELECT 'synthese' AS t, count(*) AS n, md5(coalesce(string_agg(s::text, '' ORDER BY id_synthese), '')) AS h FROM gn_synthese.synthese AS s
            UNION ALL SELECT 'sources', count(*), md5(coalesce(string_agg(s::text, '' ORDER BY id_source), '')) FROM gn_synthese.t_sources AS s
            UNION ALL SELECT 'roles', count(*), md5(coalesce(string_agg(s::text, '' ORDER BY id_role), '')) FROM utilisateurs.t_roles AS s
            UNION ALL SELECT 'organisms', count(*), md5(coalesce(string_agg(s::text, '' ORDER BY id_organisme), '')) FROM utilisateurs.bib_organismes AS s
            UNION ALL SELECT 'afs', count(*), md5(coalesce(string_agg(s::text, '' ORDER BY id_acquisition_framework), '')) FROM gn_meta.t_acquisition_frameworks AS s
            UNION ALL SELECT 'datasets', count(*), md5(coalesce(string_agg(s::text, '' ORDER BY id_dataset), '')) FROM gn_meta.t_datasets AS s
            UNION ALL SELECT 'areas', count(*), '' FROM gn_synthese.cor_area_synthese
            UNION ALL SELECT 'observers', count(*), '' FROM gn_synthese.cor_observer_synthese
         ) AS x",
    )
    .unwrap_or_default()
}

#[pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn create_target_schema_is_idempotent_and_seeded() {
        Spi::run("SELECT sinp_import.create_target_schema()").unwrap();
        let first = count("SELECT count(*) FROM ref_nomenclatures.t_nomenclatures");
        Spi::run("SELECT sinp_import.create_target_schema()").unwrap();
        assert_eq!(first, 568);
        assert_eq!(
            count("SELECT count(*) FROM ref_nomenclatures.t_nomenclatures"),
            568
        );
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.defaults_nomenclatures_value"),
            19
        );
        assert_eq!(
            count("SELECT count(*) FROM ref_geo.bib_areas_types WHERE type_code IN ('COM','DEP','M1','M10')"),
            4
        );
        assert_eq!(count("SELECT count(*) FROM ref_geo.l_areas"), 0);
        assert_eq!(count("SELECT count(*) FROM taxonomie.taxref"), 0);
        assert_eq!(
            count("SELECT public.Find_SRID('gn_synthese', 'synthese', 'the_geom_local')::bigint"),
            2154
        );
        // Target objects do not belong to the extension: DROP EXTENSION never drops observations.
        assert_eq!(
            count(
                "SELECT count(*) FROM pg_depend
                  WHERE refclassid = 'pg_extension'::regclass
                    AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'sinp_import')
                    AND objid = 'gn_synthese.synthese'::regclass"
            ),
            0
        );
        for trigger in [
            "tri_meta_dates_change_synthese",
            "tri_insert_cor_area_synthese",
            "tri_update_cor_area_synthese",
            "tri_log_delete_synthese",
        ] {
            assert_eq!(
                count(&format!(
                    "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'gn_synthese.synthese'::regclass AND tgname = '{trigger}'"
                )),
                1,
                "{trigger}"
            );
        }
    }

    /// On a real GeoNature, whose defaults table references its organisms and which may have no
    /// organism 0: the defaults it has are kept, and none is written that it would refuse.
    #[pg_test]
    fn create_target_schema_writes_no_default_a_geonature_would_refuse() {
        Spi::run("SELECT sinp_import.create_target_schema()").unwrap();
        Spi::run(
            "DELETE FROM gn_synthese.defaults_nomenclatures_value WHERE mnemonique_type = 'SEXE';
             UPDATE gn_synthese.defaults_nomenclatures_value SET regne = 'Animalia' WHERE mnemonique_type = 'NAT_OBJ_GEO';
             ALTER TABLE gn_synthese.defaults_nomenclatures_value
               ADD CONSTRAINT fk_gn_synthese_defaults_nomenclatures_value_id_organism
               FOREIGN KEY (id_organism) REFERENCES utilisateurs.bib_organismes (id_organisme) NOT VALID",
        )
        .unwrap();
        Spi::run("SELECT sinp_import.create_target_schema()").unwrap();
        // No organism 0: the missing SEXE default is not written; the changed one is kept.
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.defaults_nomenclatures_value"),
            18
        );
        assert_eq!(
            text("SELECT regne FROM gn_synthese.defaults_nomenclatures_value WHERE mnemonique_type = 'NAT_OBJ_GEO'")
                .as_deref(),
            Some("Animalia")
        );
        Spi::run(
            "INSERT INTO utilisateurs.bib_organismes (id_organisme, nom_organisme) VALUES (0, 'ALL')",
        )
        .unwrap();
        Spi::run("SELECT sinp_import.create_target_schema()").unwrap();
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.defaults_nomenclatures_value"),
            19
        );
    }

    #[pg_test]
    fn local_srid_setting_chooses_the_geometry_srid() {
        Spi::run("SET LOCAL sinp_import.local_srid = 2975").unwrap();
        Spi::run("SELECT sinp_import.create_target_schema()").unwrap();
        assert_eq!(
            count("SELECT public.Find_SRID('gn_synthese', 'synthese', 'the_geom_local')::bigint"),
            2975
        );
    }

    #[pg_test]
    fn synthetic_archive_loads_every_table_with_exact_counts() {
        setup_target();
        let opts = small_options();
        let archive = sinp_bench::synthetic_archive_bytes(&opts);
        let manifest = {
            let mut cursor = std::io::Cursor::new(Vec::new());
            sinp_bench::write_synthetic_archive(&opts, &mut cursor).unwrap()
        };
        Spi::run("SET LOCAL jit = on").unwrap();
        let result = load_bytes(&archive, "2020-08-26_sinp_paca_test.zip", "strict", false);
        // The load turns JIT off for its own statements only.
        assert_eq!(text("SELECT current_setting('jit')").as_deref(), Some("on"));
        let entities: Vec<&str> = result.iter().map(|r| r.1.as_str()).collect();
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
        for (status, entity, inserted, updated, deleted, unchanged, rejected) in &result {
            assert_eq!(status, "applied");
            assert_eq!(*inserted as usize, manifest.count(entity), "{entity}");
            assert_eq!(
                (*updated, *deleted, *unchanged, *rejected),
                (0, 0, 0, 0),
                "{entity}"
            );
        }
        assert_eq!(count("SELECT count(*) FROM gn_synthese.t_sources"), 1);
        assert_eq!(
            count("SELECT count(*) FROM utilisateurs.bib_organismes"),
            opts.organisms as i64
        );
        assert_eq!(
            count("SELECT count(*) FROM utilisateurs.t_roles"),
            opts.users as i64
        );
        assert_eq!(
            count("SELECT count(*) FROM gn_meta.t_acquisition_frameworks"),
            opts.afs as i64
        );
        assert_eq!(
            count("SELECT count(*) FROM gn_meta.t_datasets"),
            opts.datasets as i64
        );
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.synthese"),
            opts.rows as i64
        );
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.cor_observer_synthese"),
            manifest.observer_links as i64
        );
        // Every observation is inside DEP.05; none is linked to the disabled area.
        assert_eq!(
            count(
                "SELECT count(*) FROM gn_synthese.cor_area_synthese JOIN ref_geo.l_areas USING (id_area)
                  WHERE area_code = '05'"
            ),
            opts.rows as i64
        );
        assert_eq!(
            count(
                "SELECT count(*) FROM gn_synthese.cor_area_synthese JOIN ref_geo.l_areas USING (id_area)
                  WHERE NOT enable"
            ),
            0
        );
        // Area-only rows carry the attached area and its geometry.
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.synthese WHERE id_area_attachment IS NOT NULL AND the_geom_local IS NOT NULL"),
            count("SELECT count(*) FROM gn_synthese.synthese WHERE id_area_attachment IS NOT NULL")
        );
        assert!(
            count("SELECT count(*) FROM gn_synthese.synthese WHERE id_area_attachment IS NOT NULL")
                >= manifest.area_only_rows as i64
        );
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.synthese WHERE the_geom_local IS NULL OR the_geom_4326 IS NULL OR the_geom_point IS NULL"),
            0
        );
        assert_eq!(
            text("SELECT string_agg(DISTINCT meta_v_taxref, ',') FROM gn_synthese.synthese")
                .as_deref(),
            Some("16")
        );
        assert_eq!(disabled_managed_triggers(), 0);
        assert_eq!(
            text("SELECT status FROM sinp_import.imports ORDER BY import_id DESC LIMIT 1")
                .as_deref(),
            Some("applied")
        );
        assert_eq!(
            text("SELECT region || '/' || provider || '/' || archive_date FROM sinp_import.imports ORDER BY import_id DESC LIMIT 1").as_deref(),
            Some("paca/test/2020-08-26")
        );
    }

    #[pg_test]
    fn synthese_values_round_trip_for_sampled_rows() {
        setup_target();
        let opts = small_options();
        load_bytes(
            &sinp_bench::synthetic_archive_bytes(&opts),
            "sample.zip",
            "strict",
            false,
        );
        for i in [0usize, 1, 2, 3, 9, 37, 73, 101, 202, 399] {
            let v = sinp_bench::synthese_values(&opts, i);
            let get = |k: &str| v.get(k).cloned().flatten();
            let uuid = get("unique_id_sinp").unwrap_or_else(|| {
                synthese_uuid(&get("code_source").unwrap(), &get("source_id").unwrap()).to_string()
            });
            let row = format!("FROM gn_synthese.synthese WHERE unique_id_sinp = '{uuid}'");
            assert_eq!(count(&format!("SELECT count(*) {row}")), 1, "row {i}");
            let column = |c: &str| text(&format!("SELECT {c}::text {row}"));
            assert_eq!(
                column("nom_cite"),
                get("nom_cite").or(Some(String::new())),
                "row {i} nom_cite"
            );
            assert_eq!(
                column("entity_source_pk_value"),
                get("source_id"),
                "row {i}"
            );
            assert_eq!(
                column("comment_context"),
                get("comment_context"),
                "row {i} comment_context"
            );
            assert_eq!(
                column("comment_description"),
                get("comment_description"),
                "row {i}"
            );
            assert_eq!(column("observers"), get("observers"), "row {i} observers");
            assert_eq!(
                column("place_name"),
                get("place_name"),
                "row {i} place_name"
            );
            for c in [
                "count_min",
                "count_max",
                "cd_nom",
                "altitude_min",
                "altitude_max",
            ] {
                assert_eq!(column(c), get(c).filter(|s| !s.is_empty()), "row {i} {c}");
            }
            for (field, col) in [
                ("date_min", "date_min"),
                ("date_max", "date_max"),
                ("meta_create_date", "meta_create_date"),
                ("meta_update_date", "meta_update_date"),
            ] {
                let expected = get(field)
                    .filter(|s| !s.is_empty())
                    .map(|s| parse_datetime(&s).unwrap());
                let stored = column(col).map(|s| parse_datetime(&s).unwrap());
                if expected.is_some() {
                    assert_eq!(stored, expected, "row {i} {field}");
                }
            }
            // Nomenclatures: the stored id is the code's, or the synthese default when NULL.
            for (field, nomenclature_type) in sinp_bench::SYNTHESE_NOMENCLATURES {
                let suffix = field.trim_start_matches("code_nomenclature_");
                let stored = text(&format!(
                    "SELECT n.cd_nomenclature::text FROM gn_synthese.synthese AS s
                       JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = s.id_nomenclature_{suffix}
                       JOIN ref_nomenclatures.bib_nomenclatures_types AS t ON t.id_type = n.id_type
                      WHERE s.unique_id_sinp = '{uuid}' AND t.mnemonique = '{nomenclature_type}'"
                ));
                let expected = get(field)
                    .or_else(|| {
                        text(&format!(
                            "SELECT n.cd_nomenclature::text FROM gn_synthese.defaults_nomenclatures_value AS d
                               JOIN ref_nomenclatures.t_nomenclatures AS n USING (id_nomenclature)
                              WHERE d.mnemonique_type = '{nomenclature_type}'"
                        ))
                    })
                    // No rule of gn_sensitivity covers these taxa: "not sensitive", as
                    // GeoNature's sensitivity triggers make it.
                    .or_else(|| (nomenclature_type == "SENSIBILITE").then(|| "0".to_string()));
                assert_eq!(stored, expected, "row {i} {field}");
            }
            // Extra columns and format fields without a column end up in additional_data.
            for extra in sinp_bench::EXTRA_COLUMNS {
                let json_value = get("additional_data")
                    .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok())
                    .and_then(|j| j.get(extra).cloned());
                let expected = match json_value {
                    Some(serde_json::Value::String(s)) => Some(s),
                    Some(other) => Some(other.to_string()),
                    None => get(extra),
                };
                assert_eq!(
                    column(&format!("additional_data->>'{extra}'")),
                    expected,
                    "row {i} {extra}"
                );
            }
            assert_eq!(
                column("additional_data->>'source_id_grp'"),
                get("source_id_grp"),
                "row {i}"
            );
        }
    }

    #[pg_test]
    fn row_zero_point_projects_to_wgs84() {
        setup_target();
        let opts = small_options();
        load_bytes(
            &sinp_bench::synthetic_archive_bytes(&opts),
            "sample.zip",
            "strict",
            false,
        );
        let uuid = sinp_bench::synthese_values(&opts, 0)["unique_id_sinp"]
            .clone()
            .unwrap();
        let lon_lat = text(&format!(
            "SELECT round(public.ST_X(the_geom_4326)::numeric, 4) || ' ' || round(public.ST_Y(the_geom_4326)::numeric, 4)
               FROM gn_synthese.synthese WHERE unique_id_sinp = '{uuid}'"
        ));
        assert_eq!(lon_lat.as_deref(), Some("6.2731 44.7041"));
        assert_eq!(
            text(&format!(
                "SELECT public.ST_AsText(the_geom_local) FROM gn_synthese.synthese WHERE unique_id_sinp = '{uuid}'"
            ))
            .as_deref(),
            Some("POINT(959204.517 6405928.812)")
        );
        // The point lies in COM.05061 and in one 10 km cell.
        assert_eq!(
            text(&format!(
                "SELECT string_agg(t.type_code || '.' || a.area_code, ',' ORDER BY t.type_code)
                   FROM gn_synthese.synthese AS s
                   JOIN gn_synthese.cor_area_synthese AS c USING (id_synthese)
                   JOIN ref_geo.l_areas AS a USING (id_area)
                   JOIN ref_geo.bib_areas_types AS t USING (id_type)
                  WHERE s.unique_id_sinp = '{uuid}'"
            ))
            .as_deref(),
            Some("COM.05061,DEP.05,M10.10kmL93E95N640")
        );
    }

    #[pg_test]
    fn metadata_links_and_link_tables_match_the_archive() {
        setup_target();
        let opts = small_options();
        let archive = sinp_bench::synthetic_archive_bytes(&opts);
        load_bytes(&archive, "sample.zip", "strict", false);
        let afs = member_records(&archive, "acquisition_framework.csv");
        let mut objectives = 0;
        let mut parents = 0;
        let mut actors = 0;
        for af in &afs {
            let get = |k: &str| af.get(k).cloned().flatten();
            let uuid = get("unique_id").unwrap();
            if let Some(o) = get("cor_objectifs") {
                objectives += parse_text_array(&o).unwrap().len() as i64;
            }
            for f in ["cor_actors_organism", "cor_actors_user"] {
                if let Some(a) = get(f) {
                    actors += parse_text_array2(&a).unwrap().len() as i64;
                }
            }
            if let Some(parent) = get("parent_code") {
                parents += 1;
                assert_eq!(
                    text(&format!(
                        "SELECT p.unique_acquisition_framework_id::text
                           FROM gn_meta.t_acquisition_frameworks AS t
                           JOIN gn_meta.t_acquisition_frameworks AS p ON p.id_acquisition_framework = t.acquisition_framework_parent_id
                          WHERE t.unique_acquisition_framework_id = '{uuid}'"
                    )),
                    Some(parent.to_lowercase())
                );
            }
            assert_eq!(
                text(&format!(
                    "SELECT acquisition_framework_desc FROM gn_meta.t_acquisition_frameworks WHERE unique_acquisition_framework_id = '{uuid}'"
                )),
                get("desc")
            );
        }
        assert!(parents >= 1, "the generator lists a parent after its child");
        assert_eq!(
            count("SELECT count(*) FROM gn_meta.cor_acquisition_framework_objectif"),
            objectives
        );
        assert_eq!(
            count("SELECT count(*) FROM gn_meta.cor_acquisition_framework_actor"),
            actors
        );
        assert!(count("SELECT count(*) FROM gn_meta.cor_acquisition_framework_voletsinp") > 0);
        assert!(count("SELECT count(*) FROM gn_meta.cor_acquisition_framework_publication") > 0);
        let datasets = member_records(&archive, "dataset.csv");
        let territories: i64 = datasets
            .iter()
            .filter_map(|d| d.get("cor_territory").cloned().flatten())
            .map(|t| parse_text_array2(&t).unwrap().len() as i64)
            .sum();
        assert_eq!(
            count("SELECT count(*) FROM gn_meta.cor_dataset_territory"),
            territories
        );
        // A dataset without data_type gets the default code 1.
        assert_eq!(
            count(
                "SELECT count(*) FROM gn_meta.t_datasets AS d
                   JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = d.id_nomenclature_data_type
                  WHERE n.cd_nomenclature NOT IN ('1','2','3','4','5')"
            ),
            0
        );
        // Users are linked to their organism; dates are kept, not overwritten by triggers.
        for user in member_records(&archive, "user.csv") {
            let get = |k: &str| user.get(k).cloned().flatten();
            let uuid = get("unique_id").unwrap();
            assert_eq!(
                text(&format!(
                    "SELECT o.uuid_organisme::text FROM utilisateurs.t_roles AS r
                       JOIN utilisateurs.bib_organismes AS o USING (id_organisme) WHERE r.uuid_role = '{uuid}'"
                )),
                get("code_organism").map(|s| s.to_lowercase())
            );
            if let Some(created) = get("meta_create_date").filter(|s| !s.is_empty()) {
                let stored = text(&format!(
                    "SELECT date_insert::text FROM utilisateurs.t_roles WHERE uuid_role = '{uuid}'"
                ))
                .unwrap();
                assert_eq!(
                    parse_datetime(&stored).unwrap(),
                    parse_datetime(&created).unwrap()
                );
            }
        }
    }

    #[pg_test]
    fn real_cen_paca_rows_load_and_round_trip() {
        setup_target();
        let archive =
            sinp_bench::real_fixture_archive_bytes(std::path::Path::new(FIXTURE_DIR)).unwrap();
        let result = load_bytes(
            &archive,
            "2020-02-13_sinp_paca_cenpaca.zip",
            "strict",
            false,
        );
        let synthese = result.iter().find(|r| r.1 == "synthese").unwrap();
        assert_eq!((synthese.0.as_str(), synthese.2), ("applied", 897));
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 897);
        // Every row is linked to the DFCP dataset through the legacy shortname.
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.synthese JOIN gn_meta.t_datasets USING (id_dataset) WHERE dataset_shortname = 'DFCP'"),
            897
        );
        let first = "FROM gn_synthese.synthese WHERE unique_id_sinp = 'c7f8e12b-c095-4068-9c21-ad523ae41046'";
        let value = |c: &str| text(&format!("SELECT {c}::text {first}"));
        assert_eq!(value("entity_source_pk_value").as_deref(), Some("96495756"));
        assert_eq!(value("date_min").as_deref(), Some("1994-01-09 00:00:00"));
        assert_eq!(
            value("meta_create_date").as_deref(),
            Some("2020-02-12 14:04:42.735559")
        );
        assert_eq!(value("meta_update_date"), None);
        assert_eq!(
            value("meta_validation_date").as_deref(),
            Some("2016-10-18 00:00:00")
        );
        assert_eq!(value("validator").as_deref(), Some(" "));
        assert_eq!(value("validation_comment").as_deref(), Some(""));
        assert_eq!(value("comment_description").as_deref(), Some("ad ; fuscus"));
        assert_eq!(value("observers").as_deref(), Some("KAYSER Yves"));
        assert_eq!(value("nom_cite").as_deref(), Some("LARFUS"));
        assert_eq!(value("cd_nom").as_deref(), Some("3297"));
        assert_eq!(value("meta_v_taxref").as_deref(), Some("12"));
        assert_eq!(value("last_action").as_deref(), Some("I"));
        assert_eq!(
            value("public.ST_AsEWKB(the_geom_local)").as_deref(),
            Some("\\x01010000206a080000b81e85ebcb61294148e17aa487fc5741")
        );
        // The row without unique_id_sinp got the UUIDv5 of its source and id.
        let derived = synthese_uuid("CEN_PACA_EXPORT", "96595425");
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM gn_synthese.synthese WHERE unique_id_sinp = '{derived}' AND entity_source_pk_value = '96595425'"
            )),
            1
        );
    }

    #[pg_test]
    fn a_rejected_archive_changes_nothing_and_is_journaled() {
        setup_target();
        let archive =
            sinp_bench::real_fixture_archive_bytes(std::path::Path::new(FIXTURE_DIR)).unwrap();
        load_bytes(&archive, "first.zip", "strict", false);
        let before = targets_fingerprint();
        // Synthetic rows attached to areas that this database does not have.
        let opts = SynthOptions {
            rows: 200,
            area_codes: vec!["COM.00000".into()],
            ..SynthOptions::default()
        };
        let result = load_bytes(
            &sinp_bench::synthetic_archive_bytes(&opts),
            "bad.zip",
            "strict",
            false,
        );
        assert!(result.iter().all(|r| r.0 == "rejected"));
        let synthese = result.iter().find(|r| r.1 == "synthese").unwrap();
        assert!(synthese.6 > 0);
        assert_eq!(
            (synthese.2, synthese.3, synthese.4, synthese.5),
            (0, 0, 0, 0)
        );
        assert_eq!(targets_fingerprint(), before);
        assert_eq!(disabled_managed_triggers(), 0);
        let import = "(SELECT max(import_id) FROM sinp_import.imports)";
        assert_eq!(
            text(&format!(
                "SELECT status FROM sinp_import.imports WHERE import_id = {import}"
            ))
            .as_deref(),
            Some("rejected")
        );
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM sinp_import.import_errors
                  WHERE import_id = {import} AND code = 'INVALID_ATTACHMENT_CODE' AND file = 'synthese.csv'
                    AND column_name = 'code_area_attachment' AND value = 'COM.00000'"
            )),
            synthese.6
        );
        // Problems found set-based carry the raw record too.
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM sinp_import.import_errors
                  WHERE import_id = {import} AND code = 'INVALID_ATTACHMENT_CODE'
                    AND raw_record LIKE '%COM.00000%'"
            )),
            synthese.6
        );
        // The journal names the line of each bad record.
        let first_bad = (0..opts.rows)
            .find(|&i| {
                sinp_bench::synthese_values(&opts, i)["code_area_attachment"].as_deref()
                    == Some("COM.00000")
            })
            .unwrap();
        assert_eq!(
            count(&format!(
                "SELECT min(line) FROM sinp_import.import_errors WHERE import_id = {import} AND code = 'INVALID_ATTACHMENT_CODE'"
            )),
            sinp_bench::synthese_line(&opts, first_bad) as i64
        );
    }

    #[pg_test]
    fn lenient_mode_applies_exactly_the_valid_rows() {
        setup_target();
        let opts = SynthOptions {
            rows: 300,
            area_codes: vec!["COM.00000".into()],
            ..SynthOptions::default()
        };
        let result = load_bytes(
            &sinp_bench::synthetic_archive_bytes(&opts),
            "mixed.zip",
            "lenient",
            false,
        );
        let synthese = result.iter().find(|r| r.1 == "synthese").unwrap();
        let bad = (0..opts.rows)
            .filter(|&i| {
                sinp_bench::synthese_values(&opts, i)["code_area_attachment"].as_deref()
                    == Some("COM.00000")
            })
            .count() as i64;
        assert!(bad > 0);
        assert_eq!(synthese.0, "applied_with_errors");
        assert_eq!(synthese.6, bad);
        assert_eq!(synthese.2, opts.rows as i64 - bad);
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.synthese"),
            opts.rows as i64 - bad
        );
    }

    #[pg_test]
    fn dry_run_keeps_only_the_journal() {
        setup_target();
        let before = targets_fingerprint();
        let result = load_bytes(
            &sinp_bench::synthetic_archive_bytes(&small_options()),
            "dry.zip",
            "strict",
            true,
        );
        assert!(result.iter().all(|r| r.0 == "dry_run"));
        assert_eq!(result.iter().find(|r| r.1 == "synthese").unwrap().2, 400);
        assert_eq!(targets_fingerprint(), before);
        assert_eq!(disabled_managed_triggers(), 0);
        assert_eq!(
            count("SELECT count(*) FROM sinp_import.imports WHERE status = 'dry_run'"),
            1
        );
    }

    #[pg_test]
    fn the_same_archive_twice_is_already_loaded() {
        setup_target();
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        load_bytes(&archive, "a.zip", "strict", false);
        let before = targets_fingerprint();
        let again = load_bytes(&archive, "a.zip", "strict", false);
        assert!(again.iter().all(|r| r.0 == "already_loaded" && r.2 == 0));
        assert_eq!(again.len(), 6);
        assert_eq!(targets_fingerprint(), before);
    }

    /// An update replaces the links of the rows it updates, and only of those: an observation
    /// whose version is not newer keeps its observers and areas.
    #[pg_test]
    fn an_update_replaces_the_links_of_updated_rows_only() {
        use corpus::{MiniArchive, OBS, USER};
        const USER2: &str = "d3cbb358-9048-4d57-b8db-ae9c2a48ae1e";
        setup_target();
        let versioned = |archive: MiniArchive, dates: [&str; 3]| {
            archive.edit("synthese.csv", |records| {
                records[0].push("meta_update_date".to_string());
                for (row, date) in records[1..].iter_mut().zip(dates) {
                    row.push(date.to_string());
                }
            })
        };
        let first = versioned(MiniArchive::valid(), ["2020-02-12 14:04:42"; 3]);
        load_bytes(
            &first.zip(),
            "2020-08-26_sinp_paca_first.zip",
            "strict",
            false,
        );
        let observers = |i: usize| {
            text(&format!(
                "SELECT string_agg(r.uuid_role::text, ',' ORDER BY r.uuid_role)
                   FROM gn_synthese.synthese AS s
                   JOIN gn_synthese.cor_observer_synthese USING (id_synthese)
                   JOIN utilisateurs.t_roles AS r USING (id_role)
                  WHERE s.unique_id_sinp = '{}'",
                OBS[i]
            ))
        };
        let areas = |i: usize| {
            text(&format!(
                "SELECT string_agg(a.area_code, ',' ORDER BY a.area_code)
                   FROM gn_synthese.synthese AS s
                   JOIN gn_synthese.cor_area_synthese USING (id_synthese)
                   JOIN ref_geo.l_areas AS a USING (id_area)
                  WHERE s.unique_id_sinp = '{}'",
                OBS[i]
            ))
        };
        assert_eq!(observers(0).as_deref(), Some(USER));
        let areas_before = [areas(0), areas(1), areas(2)];
        assert_eq!(areas_before[0].as_deref(), Some("05,05061,10kmL93E95N640"));

        // Row 0 is newer: new observer, moved out of the commune into another 10 km cell. Row 1
        // is not newer: its new observer is ignored. Row 2 is not sent.
        let second = versioned(
            MiniArchive::valid(),
            [
                "2021-03-01 00:00:00",
                "2020-02-12 14:04:42",
                "2020-02-12 14:04:42",
            ],
        )
        .edit("user.csv", |records| {
            let mut user2 = records[1].clone();
            user2[0] = USER2.to_string();
            user2[1] = "rjane".to_string();
            user2[2] = "Roe".to_string();
            records.push(user2);
        })
        .edit("synthese.csv", |records| {
            let column = |name: &str| records[0].iter().position(|c| c == name).unwrap();
            let (geom, observers, action) = (
                column("geom"),
                column("observers"),
                column("meta_last_action"),
            );
            records[1][geom] = "SRID=2154;POINT(975000 6405000)".to_string();
            records[1][observers] = format!("ROE Jane [{USER2}]");
            records[1][action] = "U".to_string();
            records[2][observers] = format!("ROE Jane [{USER2}]");
            records[2][action] = "U".to_string();
            records.truncate(3);
        });
        let result = load_bytes(
            &second.zip(),
            "2021-03-02_sinp_paca_second.zip",
            "strict",
            false,
        );
        let synthese = result.iter().find(|r| r.1 == "synthese").unwrap();
        assert_eq!(
            (synthese.2, synthese.3, synthese.5),
            (0, 1, 1),
            "{result:?}"
        );

        assert_eq!(observers(0).as_deref(), Some(USER2));
        assert_eq!(observers(1).as_deref(), Some(USER));
        assert_eq!(observers(2).as_deref(), Some(USER));
        assert_eq!(areas(0).as_deref(), Some("05,10kmL93E97N640"));
        assert_eq!(areas(1), areas_before[1]);
        assert_eq!(areas(2), areas_before[2]);
    }

    /// The area and observer links of the synthese, by key and code: the same whichever way the
    /// foreign keys were checked.
    fn links_by_key() -> String {
        text(
            "SELECT md5(string_agg(l, ',' ORDER BY l)) || ' ' || count(*) FROM (
                 SELECT s.unique_id_sinp || '/area/' || a.area_code AS l
                   FROM gn_synthese.cor_area_synthese JOIN gn_synthese.synthese AS s USING (id_synthese)
                   JOIN ref_geo.l_areas AS a USING (id_area)
                 UNION ALL
                 SELECT s.unique_id_sinp || '/observer/' || r.uuid_role
                   FROM gn_synthese.cor_observer_synthese JOIN gn_synthese.synthese AS s USING (id_synthese)
                   JOIN utilisateurs.t_roles AS r USING (id_role)) AS x",
        )
        .unwrap_or_default()
    }

    fn unchecked_tables() -> Vec<String> {
        let synthese = crate::spec::entity_by_file("synthese.csv").unwrap();
        crate::load::keys::unchecked_link_tables(synthese)
            .unwrap()
            .into_iter()
            .map(|links| {
                // One check per foreign key but the one to the synthese.
                assert_eq!(links.key_checks.len(), 1, "{}", links.table);
                links.table
            })
            .collect()
    }

    #[pg_test]
    fn link_rows_skip_per_row_checks_only_when_the_role_may_and_nothing_else_is_skipped() {
        setup_target();
        let both = vec![
            "gn_synthese.cor_observer_synthese",
            "gn_synthese.cor_area_synthese",
        ];
        // GeoNature's observers-text trigger is disabled while a load makes links, as here.
        let observers_trigger = |enabled: bool| {
            Spi::run(&format!(
                "ALTER TABLE gn_synthese.cor_observer_synthese {} TRIGGER trg_maj_synthese_observers_txt",
                if enabled { "ENABLE" } else { "DISABLE" }
            ))
            .unwrap()
        };
        observers_trigger(false);
        // A superuser may set session_replication_role; the link tables have only FK triggers.
        assert_eq!(unchecked_tables(), both);
        Spi::run(
            "CREATE ROLE sinp_test_owner; GRANT USAGE ON SCHEMA sinp_import, gn_synthese TO sinp_test_owner",
        )
        .unwrap();
        Spi::run("SET LOCAL ROLE sinp_test_owner").unwrap();
        assert!(
            unchecked_tables().is_empty(),
            "no privilege: per-row checks"
        );
        Spi::run("RESET ROLE; GRANT SET ON PARAMETER session_replication_role TO sinp_test_owner")
            .unwrap();
        Spi::run("SET LOCAL ROLE sinp_test_owner").unwrap();
        assert!(
            unchecked_tables().is_empty(),
            "granted, but not the tables' owner (a writer): per-row checks"
        );
        Spi::run(
            "RESET ROLE;
             ALTER TABLE gn_synthese.cor_observer_synthese OWNER TO sinp_test_owner;
             ALTER TABLE gn_synthese.cor_area_synthese OWNER TO sinp_test_owner",
        )
        .unwrap();
        Spi::run("SET LOCAL ROLE sinp_test_owner").unwrap();
        assert_eq!(
            unchecked_tables(),
            both,
            "granted to the owner: checked once per row"
        );
        Spi::run("RESET ROLE").unwrap();
        // Enabled, the trigger would rewrite observers row by row: replica mode may not skip it.
        observers_trigger(true);
        assert_eq!(unchecked_tables(), vec!["gn_synthese.cor_area_synthese"]);

        // Loaded with the checks done once per referenced row.
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        let name = "2020-08-26_sinp_paca_keys.zip";
        load_bytes(&archive, name, "strict", false);
        let unchecked = links_by_key();
        assert!(count("SELECT count(*) FROM gn_synthese.cor_area_synthese") > 400);
        assert!(count("SELECT count(*) FROM gn_synthese.cor_observer_synthese") > 300);
        assert_eq!(
            text("SELECT current_setting('session_replication_role')").as_deref(),
            Some("origin")
        );

        // Another enabled trigger on a link table: replica mode would skip it, so that table keeps
        // PostgreSQL's per-row checks. Loaded again from scratch, the links are the same.
        Spi::run(
            "CREATE FUNCTION pg_temp.nothing() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
             CREATE TRIGGER sinp_test_other AFTER INSERT ON gn_synthese.cor_area_synthese
                FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.nothing();
             DELETE FROM gn_synthese.synthese; DELETE FROM sinp_import.imports;",
        )
        .unwrap();
        observers_trigger(false);
        assert_eq!(
            unchecked_tables(),
            vec!["gn_synthese.cor_observer_synthese"]
        );
        observers_trigger(true);
        load_bytes(&archive, name, "strict", false);
        assert_eq!(links_by_key(), unchecked);
    }

    #[pg_test]
    fn a_link_to_a_row_deleted_during_the_load_fails_it_with_23503() {
        setup_target();
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        load_bytes(&archive, "2020-08-26_sinp_paca_keys.zip", "strict", false);
        // The rows the load wrote (its table of them is dropped at its end).
        Spi::run(
            "CREATE TEMP TABLE sinp_written AS
             SELECT 'synthese'::text AS entity, id_synthese AS id, true AS inserted, true AS relink
               FROM gn_synthese.synthese",
        )
        .unwrap();
        let tables = {
            let synthese = crate::spec::entity_by_file("synthese.csv").unwrap();
            crate::load::keys::unchecked_link_tables(synthese).unwrap()
        };
        let links = tables
            .iter()
            .find(|t| t.table == "gn_synthese.cor_area_synthese")
            .unwrap();
        assert!(links.key_checks[0].contains("FOR KEY SHARE"));
        assert!(crate::load::keys::check_link_keys(links).is_ok());
        // What a concurrent delete leaves: links of rows this load wrote to areas that are gone.
        Spi::run(
            "SET LOCAL session_replication_role = replica;
             INSERT INTO gn_synthese.cor_area_synthese (id_synthese, id_area)
             SELECT id, 987654 FROM sinp_written WHERE entity = 'synthese' ORDER BY id LIMIT 3;
             INSERT INTO gn_synthese.cor_area_synthese (id_synthese, id_area)
             SELECT id, 987653 FROM sinp_written WHERE entity = 'synthese' ORDER BY id LIMIT 1;
             SET LOCAL session_replication_role = origin;",
        )
        .unwrap();
        let error = crate::load::keys::check_link_keys(links).unwrap_err();
        assert_eq!(error.sqlstate().code(), "23503");
        assert_eq!(
            error.message(),
            "2 row(s) that new rows of gn_synthese.cor_area_synthese link to were deleted during the load"
        );
        assert!(error.detail().unwrap().contains("key 987653"));
    }

    /// The indexes of the written tables: name, definition, comment, validity (not their OIDs).
    fn index_definitions() -> String {
        text(
            "SELECT string_agg(concat_ws(' | ', c.oid::regclass, pg_get_indexdef(c.oid),
                                        obj_description(c.oid, 'pg_class'), i.indisvalid, i.indisready),
                               E'\n' ORDER BY c.oid::regclass::text)
               FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
              WHERE i.indrelid IN ('gn_synthese.synthese'::regclass, 'gn_synthese.cor_area_synthese'::regclass,
                                   'utilisateurs.t_roles'::regclass)",
        )
        .unwrap_or_default()
    }

    /// OIDs of the synthese's indexes, constraint ones (`true`) apart.
    fn synthese_index_oids(constraint: bool) -> String {
        text(&format!(
            "SELECT string_agg(i.indexrelid::text, ',' ORDER BY i.indexrelid::regclass::text)
               FROM pg_index AS i
              WHERE i.indrelid = 'gn_synthese.synthese'::regclass
                AND EXISTS (SELECT FROM pg_constraint AS k WHERE k.conindid = i.indexrelid) = {constraint}"
        ))
        .unwrap_or_default()
    }

    #[pg_test]
    fn rebuild_indexes_builds_the_same_indexes_once_when_a_load_doubles_a_table() {
        setup_target();
        Spi::run("COMMENT ON INDEX gn_synthese.i_synthese_cd_nom IS 'taxon lookups'").unwrap();
        let definitions = index_definitions();
        assert!(definitions.contains("i_synthese_the_geom_local | CREATE INDEX"));
        assert!(definitions.contains("taxon lookups"));
        let (plain, constraint) = (synthese_index_oids(false), synthese_index_oids(true));
        assert_eq!(plain.split(',').count(), 14, "{plain}");

        // An initial load: every plain index of the synthese is dropped and built again (new
        // OIDs), with the same name, definition and comment; constraint indexes stay as they are.
        Spi::run("SET LOCAL sinp_import.rebuild_indexes = on").unwrap();
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        let result = load_bytes(&archive, "2020-08-26_sinp_paca_bulk.zip", "strict", false);
        assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 400);
        assert_eq!(index_definitions(), definitions);
        let rebuilt = synthese_index_oids(false);
        assert!(
            rebuilt
                .split(',')
                .all(|oid| !plain.split(',').any(|old| old == oid)),
            "{plain} -> {rebuilt}"
        );
        assert_eq!(synthese_index_oids(true), constraint);
        // The rebuilt indexes answer queries.
        Spi::run("SET LOCAL enable_seqscan = off").unwrap();
        assert_eq!(
            count(
                "SELECT count(*) FROM gn_synthese.synthese
                  WHERE the_geom_local && ST_MakeEnvelope(900000, 6300000, 1100000, 6500000, 2154)"
            ),
            count("SELECT count(*) FROM gn_synthese.synthese WHERE the_geom_local IS NOT NULL")
        );

        // A load that adds fewer rows than the table holds keeps them.
        let small = corpus::MiniArchive::valid().zip();
        let result = load_bytes(&small, "2020-08-27_sinp_paca_small.zip", "strict", false);
        assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 403);
        assert_eq!(synthese_index_oids(false), rebuilt);
        assert_eq!(index_definitions(), definitions);
    }

    #[pg_test]
    fn indexes_are_maintained_row_by_row_by_default_and_for_a_table_not_owned() {
        setup_target();
        let plain = synthese_index_oids(false);
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        load_bytes(
            &archive,
            "2020-08-26_sinp_paca_default.zip",
            "strict",
            false,
        );
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 400);
        assert_eq!(synthese_index_oids(false), plain);

        // A role that does not own the table cannot drop its indexes: they stay.
        Spi::run(
            "CREATE ROLE sinp_test_reader; GRANT USAGE ON SCHEMA gn_synthese TO sinp_test_reader;
             SET LOCAL ROLE sinp_test_reader",
        )
        .unwrap();
        let mut set_aside = crate::load::indexes::SetAsideIndexes::default();
        set_aside.set_aside("gn_synthese.synthese").unwrap();
        set_aside.rebuild().unwrap();
        Spi::run("RESET ROLE").unwrap();
        assert_eq!(synthese_index_oids(false), plain);
    }

    /// \df+, \d+ and \dconfig+ read well: every function of the extension's schema, every table,
    /// every column of the journal and every setting has a description.
    #[pg_test]
    fn every_object_of_the_extension_is_described() {
        let undescribed = text(
            r"SELECT string_agg(what, ', ' ORDER BY what) FROM (
                 SELECT d.objid::regprocedure::text AS what
                   FROM pg_depend AS d JOIN pg_extension AS e ON e.oid = d.refobjid
                   JOIN pg_proc AS p ON p.oid = d.objid
                  WHERE e.extname = 'sinp_import' AND d.deptype = 'e' AND d.classid = 'pg_proc'::regclass
                    AND p.pronamespace = 'sinp_import'::regnamespace
                    AND obj_description(d.objid, 'pg_proc') IS NULL
                 UNION ALL
                 SELECT c.oid::regclass::text
                   FROM pg_class AS c
                  WHERE c.relnamespace = 'sinp_import'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
                    AND obj_description(c.oid, 'pg_class') IS NULL
                 UNION ALL
                 SELECT c.oid::regclass::text || '.' || a.attname
                   FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid
                  WHERE c.relnamespace = 'sinp_import'::regnamespace AND c.relkind IN ('r', 'v', 'm', 'p')
                    AND a.attnum > 0 AND NOT a.attisdropped
                    AND col_description(c.oid, a.attnum) IS NULL
                 UNION ALL
                 SELECT name FROM pg_settings
                  WHERE name LIKE 'sinp\_import.%' AND coalesce(short_desc, '') = ''
             ) AS x",
        );
        assert_eq!(undescribed, None);
        // Not vacuous: the functions and settings it looked at.
        assert!(
            count("SELECT count(*) FROM pg_proc WHERE pronamespace = 'sinp_import'::regnamespace")
                >= 12
        );
        assert!(count("SELECT count(*) FROM pg_settings WHERE name LIKE 'sinp_import.%'") >= 9);
    }

    #[pg_test(error = "archive file \"/nonexistent/archive.zip\" does not exist")]
    fn a_missing_file_is_an_error() {
        setup_target();
        Spi::run("SELECT * FROM sinp_import.load_archive('/nonexistent/archive.zip')").unwrap();
    }

    #[pg_test(error = "unknown load mode \"careful\"")]
    fn an_unknown_mode_is_an_error() {
        setup_target();
        Spi::run("SELECT * FROM sinp_import.load_archive('\\x00'::bytea, 'x.zip', 'careful')")
            .unwrap();
    }

    #[pg_test(error = "\"notes.zip\" is not a readable SINP archive")]
    fn bytes_that_are_not_a_zip_are_an_error() {
        setup_target();
        Spi::run(
            "SELECT * FROM sinp_import.load_archive(convert_to('hello', 'UTF8'), 'notes.zip')",
        )
        .unwrap();
    }
}
