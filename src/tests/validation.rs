//! validate_archive against the corpus: every problem code, with its file, line and column.

use pgrx::prelude::*;

use super::corpus::{MiniArchive, AF_CHILD, OBS};
use super::{count, setup_target};

const NAME: &str = "2020-08-26_sinp_paca_test.zip";
const UNKNOWN: &str = "deadbeef-0000-4000-8000-000000000000";

/// (file, line, column, severity, code) of every problem validate_archive reports.
type Found = (String, Option<i64>, Option<String>, String, String);

fn validate(archive: &[u8], name: &str) -> Vec<Found> {
    Spi::connect(|client| {
        client
            .select(
                "SELECT file, line, column_name, severity, code FROM sinp_import.validate_archive($1, $2)",
                None,
                &[archive.into(), name.into()],
            )
            .unwrap()
            .map(|r| {
                (
                    r.get::<String>(1).unwrap().unwrap(),
                    r.get::<i64>(2).unwrap(),
                    r.get::<String>(3).unwrap(),
                    r.get::<String>(4).unwrap().unwrap(),
                    r.get::<String>(5).unwrap().unwrap(),
                )
            })
            .collect()
    })
}

/// Asserts that the archive has the problem `code` at `file`, `line`, `column`.
fn expect(
    archive: &[u8],
    name: &str,
    code: &str,
    file: &str,
    line: Option<i64>,
    column: Option<&str>,
) {
    let found = validate(archive, name);
    let hit = found
        .iter()
        .any(|(f, l, c, _, k)| k == code && f == file && *l == line && c.as_deref() == column);
    assert!(
        hit,
        "expected {code} at {file}:{line:?} column {column:?}; found {found:?}"
    );
}

fn expect_row(m: MiniArchive, code: &str, file: &str, line: i64, column: &str) {
    expect(&m.zip(), NAME, code, file, Some(line), Some(column));
}

/// A lenient load's status, and the synthese rows inserted and rejected.
fn lenient_synthese(m: &MiniArchive) -> (String, i64, i64) {
    let result = super::load_bytes(&m.zip(), NAME, "lenient", false);
    let synthese = result.iter().find(|r| r.1 == "synthese").unwrap();
    (synthese.0.clone(), synthese.2, synthese.6)
}

/// A warning about a whole file's column, as validate() lists it.
fn file_warning(file: &str, column: &str, code: &str) -> Found {
    (
        file.to_string(),
        None,
        Some(column.to_string()),
        "warning".to_string(),
        code.to_string(),
    )
}

/// The one text value of a query.
fn text(sql: &str) -> String {
    Spi::get_one::<String>(sql).unwrap().unwrap()
}

#[pg_schema]
mod tests {
    use super::*;
    use crate::tests::load_bytes;

    #[pg_test]
    fn the_valid_corpus_archive_has_no_problem_and_loads() {
        setup_target();
        assert_eq!(validate(&MiniArchive::valid().zip(), NAME), vec![]);
        // Validation wrote nothing.
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 0);
        assert_eq!(count("SELECT count(*) FROM sinp_import.imports"), 0);
        let applied = count(&format!(
            "SELECT count(*) FROM sinp_import.load_archive('{}'::bytea, '{NAME}') WHERE status = 'applied'",
            MiniArchive::valid()
                .zip()
                .iter()
                .fold(String::from("\\x"), |s, b| s + &format!("{b:02x}"))
        ));
        assert_eq!(applied, 6);
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 3);
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.cor_observer_synthese"),
            3
        );
    }

    #[pg_test]
    fn archive_level_problems() {
        setup_target();
        let valid = MiniArchive::valid();
        expect(
            &valid.clone().without("synthese.csv").zip(),
            NAME,
            "MISSING_FILE",
            "synthese.csv",
            None,
            None,
        );
        expect(
            &valid.zip_with(&[("notes.txt", b"hello")]),
            NAME,
            "UNKNOWN_FILE",
            NAME,
            None,
            None,
        );
        expect(
            &valid.zip(),
            "export.zip",
            "ARCHIVE_NAME_NONSTANDARD",
            "export.zip",
            None,
            None,
        );
        let ini = |text: &str| MiniArchive::valid().with_ini(text).zip();
        expect(
            &ini("format_version = 2.0\nexport_date = 2020-08-26 10:15\n"),
            NAME,
            "UNSUPPORTED_FORMAT_VERSION",
            "meta_archive.ini",
            None,
            Some("format_version"),
        );
        expect(
            &ini("format_version = 1.0\n"),
            NAME,
            "MISSING_INI_KEY",
            "meta_archive.ini",
            None,
            Some("export_date"),
        );
        let broken = validate(
            &ini("format_version = 1.0\n[broken\nexport_date = 2020-08-26 10:15\n"),
            NAME,
        );
        assert!(
            broken.iter().any(|(f, l, _, _, k)| k == "INVALID_INI"
                && f == "meta_archive.ini"
                && l.is_some()),
            "{broken:?}"
        );
    }

    #[pg_test]
    fn file_level_problems() {
        setup_target();
        let valid = MiniArchive::valid();
        expect(
            &valid.zip_with(&[("synthese.csv", b"")]),
            NAME,
            "EMPTY_FILE",
            "synthese.csv",
            None,
            None,
        );
        let mut latin1 = MiniArchive::text_of(&valid.files[5].1).into_bytes();
        let at = latin1.windows(5).position(|w| w == b"Larus").unwrap();
        latin1[at] = 0xC9; // a Latin-1 É in a UTF-8 file
        expect(
            &valid.zip_with(&[("synthese.csv", &latin1)]),
            NAME,
            "ENCODING_ERROR",
            "synthese.csv",
            Some(2),
            Some("nom_cite"),
        );
        expect(
            &MiniArchive::valid()
                .edit("source.csv", |r| {
                    r[0][1] = "name".into();
                })
                .zip(),
            NAME,
            "HEADER_SAME_COLUMN_NAME",
            "source.csv",
            Some(1),
            Some("name"),
        );
        expect(
            &MiniArchive::valid()
                .edit("synthese.csv", |r| {
                    for record in r.iter_mut() {
                        record.remove(6);
                    }
                })
                .zip(),
            NAME,
            "MISSING_COLUMN",
            "synthese.csv",
            Some(1),
            Some("cd_nom"),
        );
        // (No other quote follows: a later quote would close it, and the row would be short instead.)
        let unclosed = MiniArchive::valid()
            .set("synthese.csv", 1, "nom_cite", "\"Larus fuscus")
            .set("synthese.csv", 1, "additional_data", "\\N")
            .set("synthese.csv", 2, "additional_data", "\\N");
        expect(
            &unclosed.zip(),
            NAME,
            "UNTERMINATED_QUOTE",
            "synthese.csv",
            Some(3),
            None,
        );
        let too_many = MiniArchive::valid().edit("synthese.csv", |r| r[2].push("extra".into()));
        expect(
            &too_many.zip(),
            NAME,
            "ROW_HAVE_TOO_MUCH_COLUMN",
            "synthese.csv",
            Some(3),
            None,
        );
        let too_few = MiniArchive::valid().edit("synthese.csv", |r| {
            r[1].pop();
        });
        expect(
            &too_few.zip(),
            NAME,
            "ROW_HAVE_LESS_COLUMN",
            "synthese.csv",
            Some(2),
            None,
        );
    }

    #[pg_test]
    fn value_problems() {
        setup_target();
        let s = "synthese.csv";
        let cases: [(&str, &str, &str, usize, &str, &str); 14] = [
            (
                "INVALID_UUID",
                s,
                "unique_id_sinp",
                0,
                "not-a-uuid",
                "unique_id_sinp",
            ),
            ("INVALID_INTEGER", s, "count_min", 1, "abc", "count_min"),
            ("INVALID_DATE", s, "date_min", 2, "09/01/1994", "date_min"),
            (
                "INVALID_JSON",
                s,
                "additional_data",
                0,
                "{bad",
                "additional_data",
            ),
            (
                "INVALID_ACTION",
                s,
                "meta_last_action",
                1,
                "X",
                "meta_last_action",
            ),
            ("MISSING_VALUE", s, "cd_nom", 2, "\\N", "cd_nom"),
            (
                "INVALID_BOOL",
                "dataset.csv",
                "marine_domain",
                0,
                "maybe",
                "marine_domain",
            ),
            (
                "INVALID_CHAR_LENGTH",
                "dataset.csv",
                "shortname",
                0,
                "a shortname longer than 30 chars",
                "shortname",
            ),
            (
                "INVALID_ARRAY",
                "acquisition_framework.csv",
                "cor_objectifs",
                0,
                "{\"8\"",
                "cor_objectifs",
            ),
            (
                "INVALID_NOMENCLATURE",
                s,
                "code_nomenclature_sex",
                0,
                "99",
                "code_nomenclature_sex",
            ),
            (
                "SOURCE_NOT_FOUND",
                s,
                "code_source",
                1,
                "NOPE",
                "code_source",
            ),
            (
                "DATASET_NOT_FOUND",
                s,
                "code_dataset",
                2,
                UNKNOWN,
                "code_dataset",
            ),
            (
                "ID_DIGITISER_NOT_EXISTING",
                s,
                "code_digitiser",
                0,
                UNKNOWN,
                "code_digitiser",
            ),
            (
                "ORGANISM_NOT_FOUND",
                "user.csv",
                "code_organism",
                0,
                UNKNOWN,
                "code_organism",
            ),
        ];
        for (code, file, column, row, value, reported) in cases {
            expect_row(
                MiniArchive::valid().set(file, row, column, value),
                code,
                file,
                row as i64 + 2,
                reported,
            );
        }
        // A REAL field: a bounding box in a column added to dataset.csv.
        let bbox = MiniArchive::valid().edit("dataset.csv", |r| {
            r[0].push("bbox_west".into());
            r[1].push("west".into());
        });
        expect_row(bbox, "INVALID_REAL", "dataset.csv", 2, "bbox_west");
    }

    #[pg_test]
    fn coherence_and_reference_problems() {
        setup_target();
        let s = "synthese.csv";
        let m = MiniArchive::valid;
        expect_row(
            m().set(s, 0, "date_min", "1995-01-01"),
            "DATE_MIN_SUP_DATE_MAX",
            s,
            2,
            "date_min",
        );
        expect_row(
            m().set(s, 1, "date_min", "2999-01-01")
                .set(s, 1, "date_max", "2999-01-02"),
            "DATE_MIN_TOO_HIGH",
            s,
            3,
            "date_min",
        );
        expect_row(
            m().set(s, 2, "count_min", "5"),
            "COUNT_MIN_SUP_COUNT_MAX",
            s,
            4,
            "count_min",
        );
        expect_row(
            m().set(s, 0, "altitude_min", "300"),
            "ALTI_MIN_SUP_ALTI_MAX",
            s,
            2,
            "altitude_min",
        );
        expect_row(
            m().set(s, 0, "depth_min", "5").set(s, 0, "depth_max", "1"),
            "DEPTH_MIN_SUP_ALTI_MAX",
            s,
            2,
            "depth_min",
        );
        expect(
            &m().set(s, 1, "geom", "\\N").zip(),
            NAME,
            "MISSING_GEOM",
            s,
            Some(3),
            None,
        );
        expect_row(
            m().set(s, 1, "geom", "\\N")
                .set(s, 1, "code_area_attachment", "COM.00000"),
            "INVALID_ATTACHMENT_CODE",
            s,
            3,
            "code_area_attachment",
        );
        expect_row(
            m().set("acquisition_framework.csv", 0, "parent_code", UNKNOWN),
            "PARENT_NOT_FOUND",
            "acquisition_framework.csv",
            2,
            "parent_code",
        );
        // Parents may come after their children: the valid corpus has the parent on line 3.
        assert_eq!(AF_CHILD.len(), 36);
        let duplicate = m().set(s, 1, "unique_id_sinp", OBS[0]);
        expect_row(duplicate.clone(), "DUPLICATE_UUID", s, 2, "unique_id_sinp");
        expect_row(duplicate, "DUPLICATE_UUID", s, 3, "unique_id_sinp");
        // Organism names and user logins are unique: a new UUID under a known name is a row problem.
        load_bytes(&m().zip(), NAME, "strict", false);
        expect_row(
            m().set("organism.csv", 0, "unique_id", UNKNOWN).set(
                "user.csv",
                0,
                "code_organism",
                UNKNOWN,
            ),
            "ORGANISM_NAME_CONFLICT",
            "organism.csv",
            2,
            "name",
        );
        expect_row(
            m().set("user.csv", 0, "unique_id", UNKNOWN),
            "USER_IDENTIFIER_CONFLICT",
            "user.csv",
            2,
            "identifier",
        );
        // 4242 is not among the test taxa of tests/sql/referentials.sql.
        expect_row(
            m().set(s, 0, "cd_nom", "4242"),
            "CD_NOM_NOT_FOUND",
            s,
            2,
            "cd_nom",
        );
    }

    #[pg_test]
    fn geometry_problems() {
        setup_target();
        let s = "synthese.csv";
        let m = MiniArchive::valid;
        expect_row(
            m().set(s, 0, "geom", "POINT(1)"),
            "INVALID_WKT",
            s,
            2,
            "geom",
        );
        expect_row(
            m().set(s, 1, "geom", "SRID=2154;POLYGON((0 0,1 0,1 1,0 0.5))"),
            "INVALID_GEOMETRY",
            s,
            3,
            "geom",
        );
        expect_row(
            m().set(s, 2, "geom", "SRID=2154;POLYGON((955000 6400000,956000 6401000,956000 6400000,955000 6401000,955000 6400000))"),
            "INVALID_GEOMETRY",
            s,
            4,
            "geom",
        );
        // 100 000 nested collections: refused on the staging thread, which lives on.
        let deep = format!(
            "SRID=2154;{}POINT(1 2){}",
            "GEOMETRYCOLLECTION(".repeat(100_000),
            ")".repeat(100_000)
        );
        expect_row(m().set(s, 0, "geom", &deep), "INVALID_WKT", s, 2, "geom");
        expect_row(
            m().set(s, 0, "geom", "SRID=99999;POINT(1 2)"),
            "UNKNOWN_SRID",
            s,
            2,
            "geom",
        );
        expect_row(
            m().set(s, 0, "geom", "POINT EMPTY"),
            "INVALID_GEOMETRY",
            s,
            2,
            "geom",
        );
        // Out of its SRID's range, or of the local projection's domain: PostGIS cannot project
        // them, and the load would stop with an ERROR; a lenient load sets them aside instead.
        let unprojectable = m().set(s, 0, "geom", "SRID=4326;POINT(44.6 91)").set(
            s,
            1,
            "geom",
            "SRID=4326;POINT(180 -90)",
        );
        expect_row(unprojectable.clone(), "INVALID_GEOMETRY", s, 2, "geom");
        expect_row(unprojectable.clone(), "INVALID_GEOMETRY", s, 3, "geom");
        assert_eq!(
            lenient_synthese(&unprojectable),
            ("applied_with_errors".to_string(), 1, 2)
        );
        let messages = text(
            "SELECT string_agg(message, ' | ' ORDER BY line) FROM sinp_import.import_errors
              WHERE code = 'INVALID_GEOMETRY'",
        );
        assert!(
            messages.contains("cannot be projected to the local SRID 2154")
                && messages.contains("are X and Y swapped?"),
            "{messages}"
        );
        // Z and M are dropped with one warning: GeoNature's geometry columns are 2D.
        let z = m().set(
            s,
            0,
            "geom",
            "SRID=2154;POINT Z(959204.517 6405928.812 1250)",
        );
        // (The lenient load above applied the metadata and one observation: EXISTING_KEY.)
        let in_step = |archive: &MiniArchive| -> Vec<Found> {
            validate(&archive.zip(), NAME)
                .into_iter()
                .filter(|p| p.4 != "EXISTING_KEY")
                .collect()
        };
        assert_eq!(
            in_step(&z),
            [file_warning(s, "geom", "GEOMETRY_Z_OR_M_DROPPED")]
        );
        let result = load_bytes(&z.zip(), NAME, "strict", false);
        assert_eq!(result[0].0, "applied");
        assert_eq!(
            text(&format!(
                "SELECT public.ST_AsText(the_geom_local) FROM gn_synthese.synthese WHERE unique_id_sinp = '{}'",
                OBS[0]
            )),
            "POINT(959204.517 6405928.812)"
        );
        // Bare WKT is accepted with one warning for the file.
        let bare = m().set(s, 0, "geom", "POINT(959204.517 6405928.812)");
        assert_eq!(
            in_step(&bare),
            [file_warning(s, "geom", "GEOMETRY_WITHOUT_SRID")]
        );
    }

    /// Values a PostgreSQL text or jsonb cannot hold are row problems, not an ERROR of the COPY.
    #[pg_test]
    fn values_postgresql_cannot_store_are_row_problems() {
        setup_target();
        let s = "synthese.csv";
        let m = MiniArchive::valid()
            .set(s, 0, "nom_cite", "Larus\0fuscus")
            .edit(s, |records| {
                for (i, record) in records.iter_mut().enumerate() {
                    record.push(["x_note", "ok", "a\0b", "ok"][i].to_string());
                }
            })
            .set(s, 2, "additional_data", r#"{"a":"x\u0000y"}"#);
        let found = validate(&m.zip(), NAME);
        let codes: Vec<(Option<i64>, Option<&str>, &str)> = found
            .iter()
            .map(|(_, l, c, _, k)| (*l, c.as_deref(), k.as_str()))
            .collect();
        assert_eq!(
            codes,
            vec![
                (Some(2), Some("nom_cite"), "ENCODING_ERROR"),
                (Some(3), Some("x_note"), "ENCODING_ERROR"),
                (Some(4), Some("additional_data"), "INVALID_JSON"),
            ]
        );
        assert_eq!(
            lenient_synthese(&m),
            ("applied_with_errors".to_string(), 0, 3)
        );
        // The raw record is kept, its NUL byte shown as U+FFFD.
        let raw = text(
            "SELECT raw_record FROM sinp_import.import_errors WHERE code = 'ENCODING_ERROR' AND line = 2",
        );
        assert!(raw.contains("Larus\u{FFFD}fuscus"), "{raw}");
        assert!(raw.starts_with(OBS[0]), "{raw}");
    }

    #[pg_test]
    fn lenient_sets_aside_the_rows_of_a_rejected_parent() {
        setup_target();
        let archive = MiniArchive::valid()
            .set("dataset.csv", 0, "marine_domain", "maybe")
            .zip();
        let result = load_bytes(&archive, NAME, "lenient", false);
        let row = |entity: &str| result.iter().find(|r| r.1 == entity).unwrap().clone();
        assert_eq!(row("dataset").0, "applied_with_errors");
        assert_eq!((row("dataset").2, row("dataset").6), (0, 1));
        assert_eq!((row("synthese").2, row("synthese").6), (0, 3));
        assert_eq!((row("source").2, row("acquisition_framework").2), (1, 2));
        assert_eq!(
            count("SELECT count(*) FROM sinp_import.import_errors WHERE code = 'NO_PARENT_ENTITY' AND file = 'synthese.csv' AND column_name = 'code_dataset'"),
            3
        );
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 0);
        assert_eq!(
            count("SELECT count(*) FROM gn_meta.t_acquisition_frameworks"),
            2
        );
    }

    /// Random byte mutations of a valid archive never crash the backend: every call ends in a
    /// status or a usage error with a SQLSTATE (a PostgreSQL ERROR or a panic fails the test).
    #[pg_test]
    fn random_mutations_end_in_a_status_or_a_usage_error() {
        use crate::load::{load_archive, ArchiveInput};
        setup_target();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let nasty: &[u8] = b"\t\n\r\"\\N{}[],;.-0123456789\xff\xc3\0";
        let base = MiniArchive::valid();
        let mut outcomes = std::collections::BTreeMap::new();
        for round in 0..160 {
            let mut described = String::from("zip bytes");
            let bytes = if round % 4 == 3 {
                // The ZIP itself damaged.
                let mut zip = base.zip();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % zip.len();
                    zip[at] = next() as u8;
                }
                zip
            } else {
                // One member's text damaged, the ZIP intact.
                let (file, records) = &base.files[(next() as usize) % base.files.len()];
                let mut text = MiniArchive::text_of(records).into_bytes();
                for _ in 0..1 + next() % 6 {
                    let at = (next() as usize) % text.len();
                    let byte = nasty[(next() as usize) % nasty.len()];
                    match next() % 3 {
                        0 => text[at] = byte,
                        1 => text.insert(at, byte),
                        _ => {
                            text.remove(at);
                        }
                    }
                }
                described = format!("{file}: {:?}", String::from_utf8_lossy(&text));
                base.zip_with(&[(file.as_str(), &text)])
            };
            let name = format!("2020-08-26_sinp_paca_m{round}.zip");
            pgrx::log!("mutation round {round}: {}", described);
            let outcome = match load_archive(ArchiveInput::Bytes(&bytes), &name, "lenient", false) {
                Ok(o) => o.status.to_string(),
                Err(e) => format!("error {}", e.sqlstate().code()),
            };
            assert!(
                [
                    "applied",
                    "applied_with_errors",
                    "rejected",
                    "already_loaded",
                    "error 22023",
                    "error 54000"
                ]
                .contains(&outcome.as_str()),
                "round {round}: {outcome}"
            );
            *outcomes.entry(outcome).or_insert(0) += 1;
        }
        // The mutations reach every outcome, so the test exercises the error paths.
        assert!(outcomes.len() >= 3, "{outcomes:?}");
    }

    #[pg_test]
    fn tar_bz2_and_tar_gz_archives_load_like_zip() {
        use crate::archive::tarball::Compression;
        setup_target();
        for (i, (compression, name)) in [
            (Compression::Bzip2, "2020-08-26_sinp_paca_test.tar.bz2"),
            (Compression::Gzip, "2020-08-27_sinp_paca_test.tar.gz"),
        ]
        .into_iter()
        .enumerate()
        {
            let archive = MiniArchive::valid()
                .set("synthese.csv", 0, "source_id", &name[..15])
                .tar(compression);
            let problems = validate(&archive, name);
            // The second archive sends the rows of the first again: each is an EXISTING_KEY
            // (1 source, 1 organism, 1 user, 2 frameworks, 1 dataset, 3 observations).
            let expected = if i == 0 { 0 } else { 9 };
            assert!(
                problems.len() == expected && problems.iter().all(|p| p.4 == "EXISTING_KEY"),
                "{name}: {problems:?}"
            );
            let result = load_bytes(&archive, name, "strict", false);
            assert!(
                result.iter().all(|r| r.0 == "applied"),
                "{name}: {result:?}"
            );
        }
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 3);
        assert_eq!(
            count("SELECT count(*) FROM sinp_import.imports WHERE status = 'applied' AND archive_date IS NOT NULL"),
            2
        );
    }

    /// The stored description of additional fields, one line per field.
    fn described_fields() -> String {
        text(
            "SELECT coalesce(string_agg(concat_ws(' ', provider, resource, name, field_type, unity, description), ', '
                                        ORDER BY resource, name), '')
               FROM sinp_import.additional_fields",
        )
    }

    #[pg_test]
    fn additional_fields_are_described_by_provider() {
        setup_target();
        let valid = MiniArchive::valid();
        let with_description =
            |text: &str| valid.zip_with(&[("meta_additional_data.csv", text.as_bytes())]);
        let first = with_description(
            "resource\tname\tdesc\ttype\tunity\n\
             synthese\tnb_nids\tNombre de nids\tQTA\tnid\n\
             Dataset\tprotocole\t\"Protocole \"\"STOC\"\"\"\tqual\t\\N\n",
        );
        assert_eq!(validate(&first, NAME), vec![]);
        assert!(load_bytes(&first, NAME, "strict", false)
            .iter()
            .all(|r| r.0 == "applied"));
        assert_eq!(
            described_fields(),
            "test dataset protocole QUAL Protocole \"STOC\", test synthese nb_nids QTA nid Nombre de nids"
        );

        // A later archive of the provider describes a field again and a new one; the third stays.
        let later = with_description(
            "ressource\tname\tdescription\ttype\n\
             synthese\tnb_nids\tNombre de nids occupés\tQTA\n\
             synthese\tx_weather\tMétéo\tNSP\n",
        );
        load_bytes(&later, "2020-08-27_sinp_paca_test.zip", "strict", false);
        assert_eq!(
            described_fields(),
            "test dataset protocole QUAL Protocole \"STOC\", test synthese nb_nids QTA Nombre de nids occupés, test synthese x_weather NSP Météo"
        );
        assert_eq!(
            count("SELECT count(DISTINCT import_id) FROM sinp_import.additional_fields"),
            2
        );

        // A bad row: reported with its line and column; a strict load stores nothing of the file,
        // a lenient one the valid rows.
        let bad = with_description("resource\tname\ttype\ntaxon\tx_a\tQTA\nuser\tx_b\tQTA\n");
        expect(
            &bad,
            NAME,
            "INVALID_RESOURCE",
            "meta_additional_data.csv",
            Some(2),
            Some("resource"),
        );
        let status = |mode| {
            load_bytes(&bad, "2020-08-28_sinp_paca_test.zip", mode, false)[0]
                .0
                .clone()
        };
        assert_eq!(status("strict"), "rejected");
        assert_eq!(
            count(
                "SELECT count(*) FROM sinp_import.additional_fields WHERE name IN ('x_a', 'x_b')"
            ),
            0
        );
        assert_eq!(status("lenient"), "applied_with_errors");
        assert_eq!(
            text("SELECT string_agg(resource || ' ' || name, ', ') FROM sinp_import.additional_fields WHERE name IN ('x_a', 'x_b')"),
            "user x_b"
        );
        assert_eq!(
            text("SELECT raw_record FROM sinp_import.import_errors WHERE code = 'INVALID_RESOURCE' LIMIT 1"),
            "taxon\tx_a\tQTA"
        );
    }

    /// Found by the fuzzer: a member name with a NUL byte was journaled as is, and the journal's
    /// COPY refused it (an ERROR instead of a journaled UNKNOWN_FILE warning).
    #[pg_test]
    fn a_member_name_with_a_nul_byte_is_journaled_without_it() {
        setup_target();
        let archive = include_bytes!("../../core/tests/fixtures/hostile/nul-in-member-name.zip");
        // No entity file: no result row, but a journal with its problems and no ERROR.
        let result = load_bytes(archive, NAME, "strict", false);
        assert!(result.is_empty(), "{result:?}");
        assert_eq!(
            text("SELECT status FROM sinp_import.imports ORDER BY import_id DESC LIMIT 1"),
            "rejected"
        );
        assert_eq!(
            count(
                "SELECT count(*) FROM sinp_import.import_errors
                  WHERE code = 'UNKNOWN_FILE' AND value LIKE '%' || chr(65533) || '%'"
            ),
            1
        );
    }

    #[pg_test]
    fn an_archive_level_error_rejects_in_lenient_mode_too() {
        setup_target();
        let archive = MiniArchive::valid()
            .with_ini("format_version = 2.0\nexport_date = 2020-08-26 10:15\n")
            .zip();
        let result = load_bytes(&archive, NAME, "lenient", false);
        assert!(result.iter().all(|r| r.0 == "rejected"), "{result:?}");
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 0);
        assert_eq!(text("SELECT status FROM sinp_import.imports"), "rejected");
    }
}
