//! GeoNature's own triggers on the written tables, as create_target_schema() creates them: the
//! loader disables them for a load and does their work itself, so that what the archive says of
//! an observation's observers and sensitivity survives.

use pgrx::prelude::*;

use super::corpus::{MiniArchive, OBS, USER};
use super::differential::{
    counts, entity, last_problems, observation, set_synthese, versioned, NAME,
};
use super::{count, disabled_managed_triggers, load_bytes, setup_target, text, validation_errors};

/// The sensitivity code stored for an observation.
fn sensitivity(key: &str) -> Option<String> {
    text(&format!(
        "SELECT n.cd_nomenclature FROM gn_synthese.synthese AS s
           JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = s.id_nomenclature_sensitivity
          WHERE s.unique_id_sinp = '{key}'"
    ))
}

/// The valid archive with a declared sensitivity per observation and biological status 3
/// (breeding) everywhere.
fn with_sensitivities(archive: MiniArchive, codes: [&'static str; 3]) -> MiniArchive {
    archive.edit("synthese.csv", move |records| {
        records[0].push("code_nomenclature_sensitivity".to_string());
        records[0].push("code_nomenclature_bio_status".to_string());
        for (row, code) in records[1..].iter_mut().zip(codes) {
            row.push(code.to_string());
            row.push("3".to_string());
        }
    })
}

/// The valid archive at a later version, every observation an update (U).
fn all_updated(archive: MiniArchive, version: &str) -> MiniArchive {
    versioned(archive, version).edit("synthese.csv", |records| {
        for row in 0..3 {
            set_synthese(records, row, "meta_last_action", "U");
        }
    })
}

/// (inserted, updated, deleted, unchanged, rejected) of the synthese in a strict load.
fn strict_synthese_counts(archive: &MiniArchive, name: &str) -> (i64, i64, i64, i64, i64) {
    let result = load_bytes(&archive.zip(), name, "strict", false);
    println!("{result:?}");
    counts(entity(&result, "synthese"))
}

#[pg_schema]
mod tests {
    use super::*;

    /// GeoNature's trg_maj_synthese_observers_txt rewrites synthese.observers from the linked
    /// users on every link row: disabled during loads, so the archive's text is kept exactly; it
    /// is enabled again afterwards and still does its work for GeoNature's own writes.
    #[pg_test]
    fn geonature_s_observers_text_trigger_does_not_rewrite_the_archive_s_observers() {
        setup_target();
        let result = load_bytes(&MiniArchive::valid().zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
        for key in OBS {
            assert_eq!(
                observation(key, "observers").as_deref(),
                Some(format!("DOE John <j@x.org> [{USER}]").as_str())
            );
        }
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.cor_observer_synthese"),
            3
        );
        assert_eq!(disabled_managed_triggers(), 0);
        assert_eq!(
            text(
                "SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'trg_maj_synthese_observers_txt'"
            )
            .as_deref(),
            Some("O")
        );
        // Outside a load, GeoNature's trigger works as in GeoNature: a link row rewrites the text.
        Spi::run(&format!(
            "DELETE FROM gn_synthese.cor_observer_synthese
              WHERE id_synthese = (SELECT id_synthese FROM gn_synthese.synthese WHERE unique_id_sinp = '{}')",
            OBS[0]
        ))
        .unwrap();
        assert_eq!(observation(OBS[0], "observers"), None);
    }

    /// GeoNature's sensitivity triggers replace whatever was written by what its rules compute,
    /// which can make public an observation its provider sent as sensitive. A load applies the
    /// same rules once, set-based, and keeps the stricter of their result and the archive's.
    #[pg_test]
    fn sensitivity_is_the_stricter_of_the_archive_s_and_gn_sensitivity_s_rules() {
        setup_target();
        // Larus fuscus (3297) under the genus Larus; the rules: the genus, all year, 2; breeding
        // birds of the species, 3. Rules that do not apply to these January 1994 observations of
        // breeding birds near Gap: summer only, the last ten years only, wintering birds only, an
        // area elsewhere — all 4.
        Spi::run(
            "INSERT INTO taxonomie.taxref (cd_nom, cd_ref, cd_taxsup, lb_nom) VALUES
                 (190000, 190000, NULL, 'Larus'), (3297, 3297, 190000, 'Larus fuscus')
                 ON CONFLICT (cd_nom) DO UPDATE SET cd_taxsup = excluded.cd_taxsup;
             INSERT INTO ref_geo.l_areas (id_type, area_name, area_code, geom, enable)
             SELECT id_type, 'Elsewhere', 'ELSEWHERE',
                    public.ST_Multi(public.ST_MakeEnvelope(100000, 6000000, 101000, 6001000, 2154)), true
               FROM ref_geo.bib_areas_types WHERE type_code = 'COM';
             INSERT INTO gn_sensitivity.t_sensitivity_rules
                    (cd_nom, id_nomenclature_sensitivity, sensitivity_duration, date_min, date_max, comments)
             VALUES (190000, ref_nomenclatures.get_id_nomenclature('SENSIBILITE', '2'), 1000, NULL, NULL, 'genus'),
                    (3297, ref_nomenclatures.get_id_nomenclature('SENSIBILITE', '3'), 1000, NULL, NULL, 'breeding'),
                    (3297, ref_nomenclatures.get_id_nomenclature('SENSIBILITE', '4'), 1000, '1900-06-01', '1900-07-31', 'summer'),
                    (3297, ref_nomenclatures.get_id_nomenclature('SENSIBILITE', '4'), 10, NULL, NULL, 'recent'),
                    (3297, ref_nomenclatures.get_id_nomenclature('SENSIBILITE', '4'), 1000, NULL, NULL, 'wintering'),
                    (3297, ref_nomenclatures.get_id_nomenclature('SENSIBILITE', '4'), 1000, NULL, NULL, 'elsewhere');
             INSERT INTO gn_sensitivity.cor_sensitivity_criteria (id_sensitivity, id_criteria, id_type_nomenclature)
             SELECT r.id_sensitivity,
                    ref_nomenclatures.get_id_nomenclature('STATUT_BIO', CASE r.comments WHEN 'breeding' THEN '3' ELSE '4' END),
                    t.id_type
               FROM gn_sensitivity.t_sensitivity_rules AS r, ref_nomenclatures.bib_nomenclatures_types AS t
              WHERE t.mnemonique = 'STATUT_BIO' AND r.comments IN ('breeding', 'wintering');
             INSERT INTO gn_sensitivity.cor_sensitivity_area (id_sensitivity, id_area)
             SELECT r.id_sensitivity, a.id_area FROM gn_sensitivity.t_sensitivity_rules AS r, ref_geo.l_areas AS a
              WHERE r.comments = 'elsewhere' AND a.area_code = 'ELSEWHERE';
             REFRESH MATERIALIZED VIEW gn_sensitivity.t_sensitivity_rules_cd_ref;",
        )
        .unwrap();
        // GeoNature's own function gives 3 for each of them.
        let rules_say_3 = "SELECT count(*) FROM gn_synthese.synthese AS s
              JOIN ref_nomenclatures.t_nomenclatures AS n
                ON n.id_nomenclature = gn_sensitivity.get_id_nomenclature_sensitivity(
                       s.date_min::date, taxonomie.find_cdref(s.cd_nom), s.the_geom_local,
                       jsonb_build_object('STATUT_BIO', s.id_nomenclature_bio_status,
                                          'OCC_COMPORTEMENT', s.id_nomenclature_behaviour))
             WHERE n.cd_nomenclature = '3'";
        let sent = versioned(
            with_sensitivities(MiniArchive::valid(), ["0", "4", "2"]),
            "2021-01-01 00:00:00",
        );
        let result = load_bytes(&sent.zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
        assert_eq!(count(rules_say_3), 3);
        // 0 and 2 raised to 3; 4 is not lowered.
        let stored: Vec<Option<String>> = OBS.iter().map(|k| sensitivity(k)).collect();
        assert_eq!(
            stored,
            [Some("3"), Some("4"), Some("3")].map(|c| c.map(str::to_string))
        );
        let raised: Vec<_> = last_problems()
            .into_iter()
            .filter(|p| p.4 == "SENSITIVITY_RAISED")
            .collect();
        assert_eq!(raised.len(), 1, "{raised:?}");
        assert_eq!(
            (
                raised[0].0.as_str(),
                raised[0].1,
                raised[0].2.as_deref(),
                raised[0].3.as_str()
            ),
            (
                "synthese.csv",
                None,
                Some("code_nomenclature_sensitivity"),
                "warning"
            )
        );
        assert!(text(
            "SELECT message FROM sinp_import.import_errors WHERE code = 'SENSITIVITY_RAISED'
              AND import_id = (SELECT max(import_id) FROM sinp_import.imports)"
        )
        .unwrap_or_default()
        .starts_with("2 observations"));
        assert_eq!(disabled_managed_triggers(), 0);

        // Updates: the archive now says 0, 0 and 4; the rules still say 3.
        let updated = all_updated(
            with_sensitivities(MiniArchive::valid(), ["0", "0", "4"]),
            "2022-01-01 00:00:00",
        );
        assert_eq!(
            strict_synthese_counts(&updated, "2021-01-03_sinp_paca_other.zip"),
            (0, 3, 0, 0, 0)
        );
        let stored: Vec<Option<String>> = OBS.iter().map(|k| sensitivity(k)).collect();
        assert_eq!(
            stored,
            [Some("3"), Some("3"), Some("4")].map(|c| c.map(str::to_string))
        );

        // GeoNature's triggers are back: its own update of an observation's date recomputes the
        // sensitivity from the rules alone, lowering the 4 the archive sent.
        Spi::run(&format!(
            "UPDATE gn_synthese.synthese SET date_min = date_min WHERE unique_id_sinp = '{}'",
            OBS[2]
        ))
        .unwrap();
        assert_eq!(sensitivity(OBS[2]).as_deref(), Some("3"));
    }

    /// An observation the archive leaves without sensitivity, that no rule covers, is "not
    /// sensitive" (code 0), as GeoNature's triggers make it: never left NULL.
    #[pg_test]
    fn an_observation_without_sensitivity_that_no_rule_covers_is_not_sensitive() {
        setup_target();
        let result = load_bytes(&MiniArchive::valid().zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
        let stored: Vec<Option<String>> = OBS.iter().map(|k| sensitivity(k)).collect();
        assert_eq!(
            stored,
            [Some("0"), Some("0"), Some("0")].map(|c| c.map(str::to_string))
        );
        assert!(last_problems().iter().all(|p| p.4 != "SENSITIVITY_RAISED"));
    }

    /// Without GeoNature's sensitivity triggers (a database that has no gn_sensitivity, or whose
    /// DBA disabled them), the loader applies no rule: the archive's sensitivity is stored as sent.
    #[pg_test]
    fn without_geonature_s_sensitivity_triggers_the_archive_s_sensitivity_is_stored() {
        setup_target();
        Spi::run(
            "UPDATE taxonomie.taxref SET cd_ref = cd_nom WHERE cd_nom = 3297;
             INSERT INTO gn_sensitivity.t_sensitivity_rules (cd_nom, id_nomenclature_sensitivity, sensitivity_duration)
             VALUES (3297, ref_nomenclatures.get_id_nomenclature('SENSIBILITE', '4'), 1000);
             REFRESH MATERIALIZED VIEW gn_sensitivity.t_sensitivity_rules_cd_ref;
             ALTER TABLE gn_synthese.synthese DISABLE TRIGGER tri_insert_calculate_sensitivity;
             ALTER TABLE gn_synthese.synthese DISABLE TRIGGER tri_update_calculate_sensitivity;",
        )
        .unwrap();
        let sent = with_sensitivities(MiniArchive::valid(), ["0", "1", "2"]);
        let result = load_bytes(&sent.zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
        let stored: Vec<Option<String>> = OBS.iter().map(|k| sensitivity(k)).collect();
        assert_eq!(
            stored,
            [Some("0"), Some("1"), Some("2")].map(|c| c.map(str::to_string))
        );
        assert!(last_problems().iter().all(|p| p.4 != "SENSITIVITY_RAISED"));
        // The DBA's choice is kept: still disabled after the load.
        assert_eq!(
            count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'tri_%_calculate_sensitivity' AND tgenabled = 'D'"),
            2
        );
    }

    /// GeoNature's owner is not a superuser: one call of grant_loader by a superuser, and it
    /// loads (GeoNature's triggers disabled and enabled again as the tables' owner) and validates.
    #[pg_test]
    fn the_owner_of_the_geonature_tables_loads_after_grant_loader() {
        setup_target();
        Spi::run(
            "CREATE ROLE sinp_test_geonatadmin;
             DO $$
             DECLARE r record;
             BEGIN
                 FOR r IN SELECT n.nspname, c.relname, c.relkind
                            FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
                           WHERE n.nspname IN ('gn_synthese', 'gn_meta', 'gn_sensitivity', 'gn_commons', 'ref_habitats', 'utilisateurs',
                                               'ref_geo', 'ref_nomenclatures', 'taxonomie')
                             AND c.relkind IN ('r', 'm') LOOP
                     EXECUTE format('ALTER %s %I.%I OWNER TO sinp_test_geonatadmin',
                                    CASE r.relkind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END,
                                    r.nspname, r.relname);
                 END LOOP;
                 FOR r IN SELECT nspname FROM pg_namespace
                           WHERE nspname IN ('gn_synthese', 'gn_meta', 'gn_sensitivity', 'gn_commons', 'ref_habitats',
                                             'utilisateurs', 'ref_geo', 'ref_nomenclatures', 'taxonomie') LOOP
                     EXECUTE format('ALTER SCHEMA %I OWNER TO sinp_test_geonatadmin', r.nspname);
                 END LOOP;
             END
             $$;",
        )
        .unwrap();
        assert_eq!(
            text("SELECT sinp_import.grant_loader('sinp_test_geonatadmin')").as_deref(),
            Some("sinp_test_geonatadmin may load: usage of schema sinp_import, its journal and its lock granted")
        );
        Spi::run("SET LOCAL ROLE sinp_test_geonatadmin").unwrap();
        let errors = Spi::get_one_with_args::<i64>(
            "SELECT count(*) FROM sinp_import.validate_archive($1, $2) WHERE severity = 'error'",
            &[MiniArchive::valid().zip().into(), NAME.into()],
        )
        .unwrap();
        assert_eq!(errors, Some(0));
        let result = load_bytes(&MiniArchive::valid().zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 3);
        assert_eq!(
            text("SELECT string_agg(DISTINCT status, ',') FROM sinp_import.imports").as_deref(),
            Some("applied")
        );
        Spi::run("RESET ROLE").unwrap();
        assert_eq!(disabled_managed_triggers(), 0);
        assert_eq!(
            observation(OBS[0], "observers").as_deref(),
            Some(format!("DOE John <j@x.org> [{USER}]").as_str())
        );
    }

    /// The target's CHECK constraints, read from the catalog, on values the archive gives as they
    /// are: a refused value is a row problem naming the constraint, in validation and in loads.
    #[pg_test]
    fn values_a_check_constraint_of_the_target_refuses_are_row_problems() {
        setup_target();
        Spi::run(
            "ALTER TABLE gn_synthese.synthese
                 ADD CONSTRAINT sinp_test_altitude CHECK (altitude_max < 3000) NOT VALID,
                 ADD CONSTRAINT sinp_test_name CHECK (nom_cite <> 'forbidden' AND count_min < 1000)",
        )
        .unwrap();
        let archive = MiniArchive::valid().edit("synthese.csv", |records| {
            set_synthese(records, 1, "altitude_max", "3500");
            set_synthese(records, 2, "nom_cite", "forbidden");
        });
        let found = validation_errors(&archive.zip(), NAME);
        // The column is the constraint's first in the table's order, the value every one of them.
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            (
                found[0].0,
                found[0].1.as_str(),
                found[0].2.as_str(),
                found[0].3.as_str()
            ),
            (3, "altitude_max", "CHECK_CONSTRAINT_FAILED", "3500")
        );
        assert!(found[0].4.contains("sinp_test_altitude"), "{}", found[0].4);
        assert_eq!(
            (
                found[1].0,
                found[1].1.as_str(),
                found[1].2.as_str(),
                found[1].3.as_str()
            ),
            (4, "count_min", "CHECK_CONSTRAINT_FAILED", "1, forbidden")
        );
        let result = load_bytes(&archive.zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "rejected"), "{result:?}");
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 0);
        let result = load_bytes(&archive.zip(), NAME, "lenient", false);
        assert_eq!(
            counts(entity(&result, "synthese")),
            (1, 0, 0, 0, 2),
            "{result:?}"
        );
        assert_eq!(observation(OBS[0], "altitude_max").as_deref(), Some("200"));
    }

    /// The observations that carry a validation get GeoNature's t_validations row (what its
    /// validation module reads), replaced on U and removed on D; GeoNature's trigger on that table
    /// does not rewrite the archive's validator text.
    #[pg_test]
    fn validations_are_written_for_gn_commons_replaced_and_removed() {
        setup_target();
        let with_validation = |status: [&'static str; 3]| {
            move |records: &mut Vec<Vec<String>>| {
                for name in [
                    "code_nomenclature_valid_status",
                    "validator",
                    "validation_comment",
                ] {
                    records[0].push(name.to_string());
                }
                for (row, code) in records[1..].iter_mut().zip(status) {
                    row.push(code.to_string());
                    row.push(
                        if code == "0" {
                            "\\N"
                        } else {
                            "DUPONT Jean <jean@example.org>"
                        }
                        .to_string(),
                    );
                    row.push(
                        if code == "0" {
                            "\\N"
                        } else {
                            "seen on the photo"
                        }
                        .to_string(),
                    );
                }
            }
        };
        let validations = || -> Vec<(String, String, Option<String>)> {
            Spi::connect(|client| {
                client
                    .select(
                        "SELECT v.uuid_attached_row::text, n.cd_nomenclature, v.validation_comment
                           FROM gn_commons.t_validations AS v
                           JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = v.id_nomenclature_valid_status
                          ORDER BY 1",
                        None,
                        &[],
                    )
                    .unwrap()
                    .map(|r| {
                        (
                            r.get::<String>(1).unwrap().unwrap(),
                            r.get::<String>(2).unwrap().unwrap(),
                            r.get::<String>(3).unwrap(),
                        )
                    })
                    .collect()
            })
        };
        let sent = versioned(
            MiniArchive::valid().edit("synthese.csv", with_validation(["1", "0", "3"])),
            "2021-01-01 00:00:00",
        );
        let result = load_bytes(&sent.zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
        let comment = Some("seen on the photo".to_string());
        assert_eq!(
            validations(),
            vec![
                (OBS[0].to_string(), "1".to_string(), comment.clone()),
                (OBS[2].to_string(), "3".to_string(), comment.clone()),
            ]
        );
        assert_eq!(
            observation(OBS[0], "validator").as_deref(),
            Some("DUPONT Jean <jean@example.org>")
        );
        // U: OBS[0] validated again as 2, OBS[1] now validated, OBS[2] back to waiting; then D.
        let updated = all_updated(
            MiniArchive::valid().edit("synthese.csv", with_validation(["2", "4", "0"])),
            "2022-01-01 00:00:00",
        );
        assert_eq!(
            strict_synthese_counts(&updated, "2022-01-02_sinp_paca_other.zip"),
            (0, 3, 0, 0, 0)
        );
        assert_eq!(
            validations(),
            vec![
                (OBS[0].to_string(), "2".to_string(), comment.clone()),
                (OBS[1].to_string(), "4".to_string(), comment.clone()),
            ]
        );
        let deleted = versioned(
            MiniArchive::valid().edit("synthese.csv", with_validation(["2", "4", "0"])),
            "2023-01-01 00:00:00",
        )
        .edit("synthese.csv", |records| {
            set_synthese(records, 0, "meta_last_action", "D");
            set_synthese(records, 1, "meta_last_action", "U");
            set_synthese(records, 2, "meta_last_action", "U");
        });
        assert_eq!(
            strict_synthese_counts(&deleted, "2023-01-02_sinp_paca_other.zip"),
            (0, 2, 1, 0, 0)
        );
        assert_eq!(
            validations(),
            vec![(OBS[1].to_string(), "4".to_string(), comment)]
        );
        assert_eq!(disabled_managed_triggers(), 0);
    }
}
