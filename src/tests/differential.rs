//! Differential archives (FORMAT.md §7) in sequence: an initial load, then archives of another
//! source, out-of-step rows, deletes of rows still referenced, and writes PostgreSQL refuses, with
//! the exact counts, statuses, codes and lines, and the target's state after each.

use pgrx::prelude::*;

use super::corpus::{MiniArchive, AF_CHILD, AF_PARENT, DATASET, OBS, ORG, USER};
use super::{
    count, disabled_managed_triggers, load_bytes, setup_target, text, validation_errors, ResultRow,
};

const NEW: [&str; 3] = [
    "e4dcc369-a15a-4e68-9c2f-bf0e3b5a1f01",
    "f5edd47a-b26b-4f79-8d30-c01f4c6b2a12",
    "06fee58b-c37c-4a8a-9e41-d12a5d7c3b23",
];

/// (file, line, column, severity, code, value) of every problem of the last import.
pub(super) type Journaled = (
    String,
    Option<i64>,
    Option<String>,
    String,
    String,
    Option<String>,
);

pub(super) fn last_problems() -> Vec<Journaled> {
    Spi::connect(|client| {
        client
            .select(
                "SELECT file, line, column_name, severity, code, value FROM sinp_import.import_errors
                  WHERE import_id = (SELECT max(import_id) FROM sinp_import.imports)
                  ORDER BY file, line NULLS FIRST, code, value",
                None,
                &[],
            )
            .unwrap()
            .map(|r| {
                (
                    r.get::<String>(1).unwrap().unwrap(),
                    r.get::<i64>(2).unwrap(),
                    r.get::<String>(3).unwrap(),
                    r.get::<String>(4).unwrap().unwrap(),
                    r.get::<String>(5).unwrap().unwrap(),
                    r.get::<String>(6).unwrap(),
                )
            })
            .collect()
    })
}

/// (file, line, code) of the last import's problems of these codes.
fn coded(codes: &[&str]) -> Vec<(String, i64, String)> {
    last_problems()
        .into_iter()
        .filter(|p| codes.contains(&p.4.as_str()))
        .map(|p| (p.0, p.1.unwrap_or(0), p.4))
        .collect()
}

fn at(file: &str, line: i64, code: &str) -> (String, i64, String) {
    (file.to_string(), line, code.to_string())
}

/// The message of the last import's problem of that code and line.
fn message(code: &str, line: i64) -> String {
    text(&format!(
        "SELECT message FROM sinp_import.import_errors
          WHERE import_id = (SELECT max(import_id) FROM sinp_import.imports)
            AND code = '{code}' AND line = {line}"
    ))
    .unwrap_or_default()
}

pub(super) fn entity<'a>(result: &'a [ResultRow], name: &str) -> &'a ResultRow {
    result
        .iter()
        .find(|r| r.1 == name)
        .unwrap_or_else(|| panic!("no {name} in {result:?}"))
}

/// (inserted, updated, deleted, unchanged, rejected) of an entity's result row.
pub(super) fn counts(row: &ResultRow) -> (i64, i64, i64, i64, i64) {
    (row.2, row.3, row.4, row.5, row.6)
}

pub(super) fn observation(key: &str, column: &str) -> Option<String> {
    text(&format!(
        "SELECT {column}::text FROM gn_synthese.synthese WHERE unique_id_sinp = '{key}'"
    ))
}

fn source_of(key: &str) -> Option<String> {
    text(&format!(
        "SELECT name_source FROM gn_synthese.synthese JOIN gn_synthese.t_sources USING (id_source)
          WHERE unique_id_sinp = '{key}'"
    ))
}

/// The valid archive with a meta_update_date per synthese row.
pub(super) fn versioned(archive: MiniArchive, date: &str) -> MiniArchive {
    archive.edit("synthese.csv", |records| {
        records[0].push("meta_update_date".to_string());
        for row in &mut records[1..] {
            row.push(date.to_string());
        }
    })
}

/// Sets a synthese column on one row (0 = first record), by name.
pub(super) fn set_synthese(records: &mut [Vec<String>], row: usize, column: &str, value: &str) {
    let position = records[0].iter().position(|c| c == column).unwrap();
    records[row + 1][position] = value.to_string();
}

/// An archive of the source OTHER whose synthese updates OBS[0], deletes OBS[1] (both rows of the
/// source SRC) and inserts one new observation.
fn archive_of_another_source() -> MiniArchive {
    versioned(MiniArchive::valid(), "2021-01-01 00:00:00")
        .set("source.csv", 0, "name", "OTHER")
        .edit("synthese.csv", |records| {
            for row in 0..3 {
                set_synthese(records, row, "code_source", "OTHER");
            }
            set_synthese(records, 0, "meta_last_action", "U");
            set_synthese(records, 0, "nom_cite", "Taken over");
            set_synthese(records, 1, "meta_last_action", "D");
            set_synthese(records, 2, "unique_id_sinp", NEW[0]);
        })
}

pub(super) const NAME: &str = "2021-01-02_sinp_paca_other.zip";

#[pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn a_source_cannot_update_or_delete_the_observations_of_another() {
        setup_target();
        let initial = versioned(MiniArchive::valid(), "2020-02-12 14:04:42");
        let result = load_bytes(
            &initial.zip(),
            "2020-08-26_sinp_paca_src.zip",
            "strict",
            false,
        );
        assert_eq!(counts(entity(&result, "synthese")), (3, 0, 0, 0, 0));

        // Strict: the two rows of SRC's observations are refused, nothing is applied.
        let other = archive_of_another_source().zip();
        let result = load_bytes(&other, NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "rejected"), "{result:?}");
        assert_eq!(counts(entity(&result, "synthese")), (0, 0, 0, 0, 2));
        let refused: Vec<Journaled> = last_problems()
            .into_iter()
            .filter(|p| p.4 == "FOREIGN_SOURCE_ROW")
            .collect();
        let row = |line| {
            (
                "synthese.csv".to_string(),
                Some(line),
                Some("code_source".to_string()),
                "error".to_string(),
                "FOREIGN_SOURCE_ROW".to_string(),
                Some("OTHER".to_string()),
            )
        };
        assert_eq!(refused, vec![row(2), row(3)]);
        assert!(
            message("FOREIGN_SOURCE_ROW", 2)
                .contains(&format!("{} belongs to the source \"SRC\"", OBS[0])),
            "{}",
            message("FOREIGN_SOURCE_ROW", 2)
        );
        assert_eq!(
            count(
                "SELECT count(*) FROM sinp_import.import_errors
                  WHERE code = 'FOREIGN_SOURCE_ROW' AND raw_record LIKE '%OTHER%'"
            ),
            2
        );
        assert_eq!(
            observation(OBS[0], "nom_cite").as_deref(),
            Some("Larus fuscus")
        );
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 3);
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.t_sources WHERE name_source = 'OTHER'"),
            0
        );

        // Lenient: those two rows set aside, the new observation applied under OTHER.
        let result = load_bytes(&other, NAME, "lenient", false);
        let synthese = entity(&result, "synthese");
        assert_eq!(synthese.0, "applied_with_errors");
        assert_eq!(counts(synthese), (1, 0, 0, 0, 2));
        assert_eq!(
            observation(OBS[0], "nom_cite").as_deref(),
            Some("Larus fuscus")
        );
        assert_eq!(source_of(OBS[0]).as_deref(), Some("SRC"));
        assert_eq!(source_of(OBS[1]).as_deref(), Some("SRC"));
        assert_eq!(source_of(NEW[0]).as_deref(), Some("OTHER"));
        // The metadata re-sent as I rows are out of step: said, applied as updates.
        assert!(coded(&["EXISTING_KEY"]).contains(&at("organism.csv", 2, "EXISTING_KEY")));
        assert!(coded(&["EXISTING_KEY"]).contains(&at("dataset.csv", 2, "EXISTING_KEY")));

        // The same key twice in one file under two sources: refused on the later line.
        let twice = versioned(MiniArchive::valid(), "2021-02-01 00:00:00")
            .without("source.csv")
            .edit("synthese.csv", |records| {
                for row in 0..2 {
                    set_synthese(records, row, "unique_id_sinp", NEW[1]);
                }
                set_synthese(records, 1, "code_source", "OTHER");
                records.truncate(3);
            });
        let found: Vec<(i64, String)> = Spi::connect(|client| {
            client
                .select(
                    "SELECT line, code FROM sinp_import.validate_archive($1, $2)
                      WHERE severity = 'error' ORDER BY line, code",
                    None,
                    &[twice.zip().into(), NAME.into()],
                )
                .unwrap()
                .map(|r| {
                    (
                        r.get::<i64>(1).unwrap().unwrap(),
                        r.get::<String>(2).unwrap().unwrap(),
                    )
                })
                .collect()
        });
        assert_eq!(
            found,
            vec![
                (2, "DUPLICATE_UUID".to_string()),
                (3, "DUPLICATE_UUID".to_string()),
                (3, "FOREIGN_SOURCE_ROW".to_string()),
            ]
        );
    }

    #[pg_test]
    fn out_of_step_rows_are_applied_as_the_format_decides_and_said() {
        setup_target();
        let initial = versioned(MiniArchive::valid(), "2020-02-12 14:04:42");
        load_bytes(
            &initial.zip(),
            "2020-08-26_sinp_paca_src.zip",
            "strict",
            false,
        );

        // Synthese: an I of a key present (newer: updated), a U of a key absent (inserted), a D of
        // a key absent (unchanged), a D without code_source of SRC's row (deleted), a U older than
        // the stored row (unchanged). User: a U of a user absent. Organism: a D of one absent.
        const NEW_USER: &str = "17a0f69c-d48d-4b9b-8f52-e23b6e8d4c34";
        const GONE_ORG: &str = "28b1a7ad-e59e-4cac-9063-f34c7f9e5d45";
        let diff = versioned(MiniArchive::valid(), "2021-03-01 00:00:00")
            .without("acquisition_framework.csv")
            .without("dataset.csv")
            .without("source.csv")
            .edit("organism.csv", |records| {
                records[1] = vec![GONE_ORG.into(), "Gone".into(), "D".into()];
            })
            .edit("user.csv", |records| {
                records[1][0] = NEW_USER.to_string();
                records[1][1] = "newcomer".to_string();
                records[1][4] = "U".to_string();
            })
            .edit("synthese.csv", |records| {
                let mut rows: Vec<Vec<String>> = vec![records[0].clone()];
                let template = records[1].clone();
                for _ in 0..5 {
                    rows.push(template.clone());
                }
                *records = rows;
                set_synthese(records, 0, "nom_cite", "Larus michahellis");
                set_synthese(records, 1, "unique_id_sinp", NEW[0]);
                set_synthese(records, 1, "source_id", "obs-new");
                set_synthese(records, 1, "meta_last_action", "U");
                set_synthese(records, 2, "unique_id_sinp", NEW[1]);
                set_synthese(records, 2, "meta_last_action", "D");
                set_synthese(records, 3, "unique_id_sinp", OBS[1]);
                set_synthese(records, 3, "code_source", "\\N");
                set_synthese(records, 3, "meta_last_action", "D");
                set_synthese(records, 4, "unique_id_sinp", OBS[2]);
                set_synthese(records, 4, "nom_cite", "Older");
                set_synthese(records, 4, "meta_update_date", "2019-01-01 00:00:00");
                set_synthese(records, 4, "meta_last_action", "U");
            });
        let result = load_bytes(&diff.zip(), "2021-03-02_sinp_paca_src.zip", "strict", false);
        assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
        assert_eq!(counts(entity(&result, "synthese")), (1, 1, 1, 2, 0));
        assert_eq!(counts(entity(&result, "user")), (1, 0, 0, 0, 0));
        assert_eq!(counts(entity(&result, "organism")), (0, 0, 0, 1, 0));
        let codes = [
            "EXISTING_KEY",
            "UPDATE_OF_MISSING_KEY",
            "DELETE_OF_MISSING_KEY",
        ];
        assert_eq!(
            coded(&codes),
            vec![
                at("organism.csv", 2, "DELETE_OF_MISSING_KEY"),
                at("synthese.csv", 2, "EXISTING_KEY"),
                at("synthese.csv", 3, "UPDATE_OF_MISSING_KEY"),
                at("synthese.csv", 4, "DELETE_OF_MISSING_KEY"),
                at("user.csv", 2, "UPDATE_OF_MISSING_KEY"),
            ]
        );
        // Warnings name the key and carry the raw record.
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM sinp_import.import_errors
                  WHERE code = 'UPDATE_OF_MISSING_KEY' AND file = 'synthese.csv' AND severity = 'warning'
                    AND column_name = 'unique_id_sinp' AND value = '{}' AND raw_record LIKE '%obs-new%'",
                NEW[0]
            )),
            1
        );
        assert_eq!(
            observation(OBS[0], "nom_cite").as_deref(),
            Some("Larus michahellis")
        );
        assert_eq!(
            observation(NEW[0], "nom_cite").as_deref(),
            Some("Larus fuscus")
        );
        assert_eq!(observation(OBS[1], "id_synthese"), None);
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.t_log_synthese WHERE last_action = 'D'"),
            1
        );
        assert_eq!(
            observation(OBS[2], "nom_cite").as_deref(),
            Some("Larus fuscus")
        );
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM utilisateurs.t_roles WHERE uuid_role = '{NEW_USER}'"
            )),
            1
        );

        // More than 1 000 rows of one code: the first 1 000 listed, the others counted.
        let many = MiniArchive::valid()
            .synthese_only()
            .edit("synthese.csv", |records| {
                let template = records[1].clone();
                records.truncate(1);
                for i in 0..1003 {
                    let mut row = template.clone();
                    row[0] = format!("{:08x}-0000-4000-8000-000000000000", i + 1);
                    records.push(row);
                }
                let last = records[0].len() - 1;
                for row in &mut records[1..] {
                    row[last] = "D".to_string();
                }
            });
        let result = load_bytes(&many.zip(), "2021-03-03_sinp_paca_src.zip", "strict", false);
        assert_eq!(counts(entity(&result, "synthese")), (0, 0, 0, 1003, 0));
        assert_eq!(
            count(
                "SELECT count(*) FROM sinp_import.import_errors
                  WHERE code = 'DELETE_OF_MISSING_KEY' AND line IS NOT NULL
                    AND import_id = (SELECT max(import_id) FROM sinp_import.imports)"
            ),
            1000
        );
        assert_eq!(
            text(
                "SELECT message FROM sinp_import.import_errors
                  WHERE code = 'DELETE_OF_MISSING_KEY' AND line IS NULL
                    AND import_id = (SELECT max(import_id) FROM sinp_import.imports)"
            )
            .as_deref(),
            Some("3 more row(s) of this file have this warning; only the first 1000 are listed")
        );
    }

    #[pg_test]
    fn deleting_rows_still_referenced_is_refused_before_anything_is_written() {
        setup_target();
        load_bytes(
            &MiniArchive::valid().zip(),
            "2020-08-26_sinp_paca_src.zip",
            "strict",
            false,
        );
        let before = super::super::targets_fingerprint();
        // D rows of the source, the organism, the user, the parent framework and the dataset,
        // all still referenced (observations, the user, a child framework, datasets); synthese.csv
        // has only its header.
        let d_row = |records: &mut Vec<Vec<String>>| {
            let last = records[0].len() - 1;
            records.truncate(2);
            records[1][last] = "D".to_string();
        };
        let deletes = MiniArchive::valid()
            .edit("source.csv", d_row)
            .edit("organism.csv", d_row)
            .edit("user.csv", d_row)
            .edit("acquisition_framework.csv", |records| {
                records.remove(1); // the child stays: only the parent is deleted
                d_row(records);
            })
            .edit("dataset.csv", d_row)
            .edit("synthese.csv", |records| records.truncate(1));
        let result = load_bytes(&deletes.zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "rejected"), "{result:?}");
        assert_eq!(
            coded(&["DELETE_OF_REFERENCED_ROW"]),
            vec![
                at("acquisition_framework.csv", 2, "DELETE_OF_REFERENCED_ROW"),
                at("dataset.csv", 2, "DELETE_OF_REFERENCED_ROW"),
                at("organism.csv", 2, "DELETE_OF_REFERENCED_ROW"),
                at("source.csv", 2, "DELETE_OF_REFERENCED_ROW"),
                // The user is the observations' digitiser and their observer.
                at("user.csv", 2, "DELETE_OF_REFERENCED_ROW"),
                at("user.csv", 2, "DELETE_OF_REFERENCED_ROW"),
            ]
        );
        let dataset_message = text(
            "SELECT message FROM sinp_import.import_errors
              WHERE code = 'DELETE_OF_REFERENCED_ROW' AND file = 'dataset.csv'
                AND import_id = (SELECT max(import_id) FROM sinp_import.imports)",
        )
        .unwrap_or_default();
        assert!(
            dataset_message.contains("3 synthese row(s) of gn_synthese.synthese")
                && dataset_message.contains("fk_synthese_id_dataset")
                && dataset_message.contains(OBS[0]),
            "{dataset_message}"
        );
        assert_eq!(
            text(&format!(
                "SELECT value || ' ' || (raw_record LIKE '%{DATASET}%') FROM sinp_import.import_errors
                  WHERE code = 'DELETE_OF_REFERENCED_ROW' AND file = 'dataset.csv'
                    AND import_id = (SELECT max(import_id) FROM sinp_import.imports)"
            ))
            .as_deref(),
            Some(format!("{DATASET} true").as_str())
        );
        let parent_message = text(
            "SELECT message FROM sinp_import.import_errors
              WHERE code = 'DELETE_OF_REFERENCED_ROW' AND file = 'acquisition_framework.csv'
                AND import_id = (SELECT max(import_id) FROM sinp_import.imports)",
        )
        .unwrap_or_default();
        assert!(
            parent_message.contains("1 acquisition_framework row(s)")
                && parent_message.contains(AF_CHILD),
            "{parent_message}"
        );
        assert_eq!(super::super::targets_fingerprint(), before);
        assert_eq!(disabled_managed_triggers(), 0);

        // Lenient: every D row set aside (each is still referenced), nothing deleted, no ERROR.
        let result = load_bytes(&deletes.zip(), NAME, "lenient", false);
        assert_eq!(entity(&result, "dataset").0, "applied_with_errors");
        assert_eq!(counts(entity(&result, "dataset")), (0, 0, 0, 0, 1));
        assert_eq!(counts(entity(&result, "organism")), (0, 0, 0, 0, 1));
        assert_eq!(super::super::targets_fingerprint(), before);

        // Rows deleted by the same archive do not count: the observations, the dataset, both
        // frameworks (child and parent), the user and organism, the source, in one archive.
        let everything = MiniArchive::valid().edit("synthese.csv", |records| {
            let last = records[0].len() - 1;
            for row in &mut records[1..] {
                row[last] = "D".to_string();
            }
        });
        let everything = [
            "source.csv",
            "organism.csv",
            "user.csv",
            "acquisition_framework.csv",
            "dataset.csv",
        ]
        .iter()
        .fold(everything, |archive, file| {
            archive.edit(file, |records| {
                let last = records[0].len() - 1;
                for row in &mut records[1..] {
                    row[last] = "D".to_string();
                }
            })
        });
        let validated = count(&format!(
            "SELECT count(*) FROM sinp_import.validate_archive(decode('{}', 'hex'), '{NAME}')
              WHERE severity = 'error'",
            everything
                .zip()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        ));
        assert_eq!(validated, 0);
        let result = load_bytes(&everything.zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
        assert_eq!(counts(entity(&result, "synthese")), (0, 0, 3, 0, 0));
        assert_eq!(
            counts(entity(&result, "acquisition_framework")),
            (0, 0, 2, 0, 0)
        );
        assert_eq!(counts(entity(&result, "source")), (0, 0, 1, 0, 0));
        for table in [
            "gn_synthese.synthese",
            "gn_meta.t_datasets",
            "gn_meta.t_acquisition_frameworks",
            "utilisateurs.t_roles",
            "utilisateurs.bib_organismes",
            "gn_synthese.t_sources",
        ] {
            assert_eq!(
                count(&format!("SELECT count(*) FROM {table}")),
                0,
                "{table}"
            );
        }
        let _ = (AF_PARENT, ORG, USER);
    }

    #[pg_test]
    fn a_write_postgresql_refuses_is_a_journaled_rejection() {
        setup_target();
        // Constraints the loader's checks leave to PostgreSQL: a CHECK on a column the loader
        // derives (the source's id), and a foreign key enforced by a trigger.
        Spi::run(
            "ALTER TABLE gn_synthese.synthese ADD CONSTRAINT sinp_test_count CHECK (id_source < 0)",
        )
        .unwrap();
        for mode in ["strict", "lenient"] {
            let result = load_bytes(&MiniArchive::valid().zip(), NAME, mode, false);
            assert!(
                result.iter().all(|r| r.0 == "rejected"),
                "{mode}: {result:?}"
            );
            assert!(
                result.iter().all(|r| counts(r) == (0, 0, 0, 0, 0)),
                "{result:?}"
            );
            assert_eq!(
                coded(&["CONSTRAINT_VIOLATION"]),
                vec![at("synthese.csv", 0, "CONSTRAINT_VIOLATION")]
            );
            assert_eq!(
                text(
                    "SELECT value || ' ' || (message LIKE '%sinp_test_count%') FROM sinp_import.import_errors
                      WHERE import_id = (SELECT max(import_id) FROM sinp_import.imports)"
                )
                .as_deref(),
                Some("23514 true")
            );
            assert_eq!(
                text("SELECT status FROM sinp_import.imports ORDER BY import_id DESC LIMIT 1")
                    .as_deref(),
                Some("rejected")
            );
            assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 0);
            assert_eq!(count("SELECT count(*) FROM gn_meta.t_datasets"), 0);
            assert_eq!(disabled_managed_triggers(), 0);
        }
        Spi::run("ALTER TABLE gn_synthese.synthese DROP CONSTRAINT sinp_test_count").unwrap();
        // A trigger the loader does not know raises foreign_key_violation at the write (as a key
        // enforced by a trigger would; the catalog's foreign keys are checked before writing):
        // journaled too, with its SQLSTATE, message and DETAIL.
        Spi::run(
            "CREATE FUNCTION public.sinp_test_refuse() RETURNS trigger LANGUAGE plpgsql AS
               $$BEGIN RAISE foreign_key_violation USING MESSAGE = 'refused by sinp_test_refuse',
                        DETAIL = 'Key (cd_nom)=(3297) is not allowed.'; END$$;
             CREATE TRIGGER sinp_test_refuse BEFORE INSERT ON gn_synthese.synthese
               FOR EACH ROW EXECUTE FUNCTION public.sinp_test_refuse()",
        )
        .unwrap();
        let result = load_bytes(&MiniArchive::valid().zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "rejected"), "{result:?}");
        assert_eq!(
            text(
                "SELECT value || ' ' || (message LIKE '%sinp_test_refuse%') || ' ' || (message LIKE '%3297%')
                   FROM sinp_import.import_errors
                  WHERE import_id = (SELECT max(import_id) FROM sinp_import.imports)"
            )
            .as_deref(),
            Some("23503 true true")
        );
        Spi::run("DROP TRIGGER sinp_test_refuse ON gn_synthese.synthese").unwrap();
        let result = load_bytes(&MiniArchive::valid().zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
    }

    /// A nightly differential mostly updates values, not places: an updated observation whose
    /// geometry is unchanged keeps its area links as they were; one that moved gets new ones.
    #[pg_test]
    fn an_update_recomputes_the_areas_of_moved_observations_only() {
        setup_target();
        let initial = versioned(MiniArchive::valid(), "2020-02-12 14:04:42");
        load_bytes(
            &initial.zip(),
            "2020-08-26_sinp_paca_src.zip",
            "strict",
            false,
        );
        // The transaction (a load's subtransaction) that wrote each observation's area links.
        let links_written_by = |key: &str| {
            text(&format!(
                "SELECT string_agg(DISTINCT c.xmin::text, ',') FROM gn_synthese.cor_area_synthese AS c
                   JOIN gn_synthese.synthese AS s USING (id_synthese) WHERE s.unique_id_sinp = '{key}'"
            ))
        };
        let first = links_written_by(OBS[0]);
        assert!(first.is_some());
        assert_eq!(links_written_by(OBS[1]), first);
        let diff = versioned(MiniArchive::valid(), "2021-03-01 00:00:00")
            .synthese_only()
            .edit("synthese.csv", |records| {
                records.truncate(3);
                set_synthese(records, 0, "meta_last_action", "U");
                set_synthese(records, 0, "nom_cite", "Larus michahellis");
                set_synthese(records, 1, "meta_last_action", "U");
                set_synthese(records, 1, "geom", "SRID=2154;POINT(975000 6405000)");
            });
        let result = load_bytes(&diff.zip(), "2021-03-02_sinp_paca_src.zip", "strict", false);
        assert_eq!(
            counts(entity(&result, "synthese")),
            (0, 2, 0, 0, 0),
            "{result:?}"
        );
        assert_eq!(
            observation(OBS[0], "nom_cite").as_deref(),
            Some("Larus michahellis")
        );
        // Row 0: same geometry, links untouched. Row 1: moved, links written by the second load.
        assert_eq!(links_written_by(OBS[0]), first);
        let moved = links_written_by(OBS[1]);
        assert!(moved.is_some() && moved != first, "{moved:?} {first:?}");
        assert_eq!(
            text(&format!(
                "SELECT string_agg(a.area_code, ',' ORDER BY a.area_code)
                   FROM gn_synthese.cor_area_synthese JOIN gn_synthese.synthese AS s USING (id_synthese)
                   JOIN ref_geo.l_areas AS a USING (id_area) WHERE s.unique_id_sinp = '{}'",
                OBS[1]
            ))
            .as_deref(),
            Some("05,10kmL93E97N640")
        );
    }

    /// GeoNature's foreign keys on values of the archive (cd_hab to HABREF, cd_nom to TAXREF),
    /// and any other a database adds: row problems found before writing, in validation too.
    #[pg_test]
    fn values_the_target_s_foreign_keys_refuse_are_row_problems() {
        setup_target();
        Spi::run(
            "CREATE TABLE public.sinp_test_altitudes (altitude integer PRIMARY KEY);
             INSERT INTO public.sinp_test_altitudes VALUES (100), (200);
             ALTER TABLE gn_synthese.synthese ADD CONSTRAINT fk_sinp_test_altitude
                   FOREIGN KEY (altitude_min) REFERENCES public.sinp_test_altitudes (altitude)",
        )
        .unwrap();
        // Row 0 valid; row 1: a habitat HABREF does not have; row 2: an unknown taxon and an
        // altitude the added key refuses.
        let archive = MiniArchive::valid().edit("synthese.csv", |records| {
            records[0].push("cd_hab".to_string());
            for (row, cd_hab) in records[1..].iter_mut().zip(["1", "99999", "\\N"]) {
                row.push(cd_hab.to_string());
            }
            set_synthese(records, 2, "cd_nom", "4242");
            set_synthese(records, 2, "altitude_min", "150");
            set_synthese(records, 2, "altitude_max", "300");
        });
        let found: Vec<(i64, String, String, String)> = validation_errors(&archive.zip(), NAME)
            .into_iter()
            .map(|(line, column, code, value, _)| (line, column, code, value))
            .collect();
        let row = |line: i64, column: &str, code: &str, value: &str| {
            (
                line,
                column.to_string(),
                code.to_string(),
                value.to_string(),
            )
        };
        assert_eq!(
            found,
            vec![
                row(3, "cd_hab", "CD_HAB_NOT_FOUND", "99999"),
                row(4, "cd_nom", "CD_NOM_NOT_FOUND", "4242"),
                row(4, "altitude_min", "FOREIGN_KEY_NOT_FOUND", "150"),
            ]
        );
        let result = load_bytes(&archive.zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "rejected"), "{result:?}");
        assert!(text(
            "SELECT message FROM sinp_import.import_errors
                  WHERE code = 'FOREIGN_KEY_NOT_FOUND'
                    AND import_id = (SELECT max(import_id) FROM sinp_import.imports)"
        )
        .unwrap_or_default()
        .contains("fk_sinp_test_altitude"),);
        let result = load_bytes(&archive.zip(), NAME, "lenient", false);
        assert_eq!(
            counts(entity(&result, "synthese")),
            (1, 0, 0, 0, 2),
            "{result:?}"
        );
        assert_eq!(observation(OBS[0], "cd_hab").as_deref(), Some("1"));
    }

    #[pg_test]
    fn null_values_take_the_defaults_of_the_format_and_the_target() {
        setup_target();
        const USER2: &str = "39c2b8be-f6af-4dbd-a174-045d8a0f6e56";
        let add_column = |name: &'static str, values: &'static [&'static str]| {
            move |records: &mut Vec<Vec<String>>| {
                records[0].insert(1, name.to_string());
                for (row, value) in records[1..].iter_mut().zip(values.iter().cycle()) {
                    row.insert(1, value.to_string());
                }
            }
        };
        let archive = MiniArchive::valid()
            .edit("user.csv", |records| {
                let mut second = records[1].clone();
                second[0] = USER2.to_string();
                second[1] = "rjane".to_string();
                records.push(second);
            })
            .edit("user.csv", add_column("enable", &["\\N", "false"]))
            .edit("organism.csv", add_column("additional_data", &["\\N"]))
            .edit(
                "acquisition_framework.csv",
                add_column("additional_data", &["\\N"]),
            )
            .edit("dataset.csv", add_column("additional_data", &["\\N"]));
        let result = load_bytes(&archive.zip(), NAME, "strict", false);
        assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
        // user.enable: "by default true" (FORMAT.md); a value given is kept.
        assert_eq!(
            text(&format!(
                "SELECT string_agg(coalesce(active::text, 'NULL'), ',' ORDER BY uuid_role = '{USER2}')
                   FROM utilisateurs.t_roles"
            ))
            .as_deref(),
            Some("true,false")
        );
        // additional_data: the target column's default, {}.
        for table in [
            "utilisateurs.bib_organismes",
            "gn_meta.t_acquisition_frameworks",
            "gn_meta.t_datasets",
        ] {
            assert_eq!(
                count(&format!(
                    "SELECT count(*) FROM {table} WHERE additional_data = '{{}}'::jsonb"
                )),
                count(&format!("SELECT count(*) FROM {table}")),
                "{table}"
            );
        }
        // The dataset's nomenclatures take theirs (FORMAT.md §5): DATA_TYP 1 when not given.
        assert_eq!(
            text(
                "SELECT n.cd_nomenclature FROM gn_meta.t_datasets AS d
                   JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = d.id_nomenclature_data_type"
            )
            .as_deref(),
            Some("1")
        );
    }
}
