//! sinp_import.report(import_id): what a DBA sends a provider.

use pgrx::prelude::*;

use super::corpus::MiniArchive;
use super::differential::{set_synthese, NAME};
use super::{load_bytes, setup_target};

/// (section, file, code, severity, count, examples, what_to_do) of the report of the last import.
type Line = (
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
);

fn last_report() -> Vec<Line> {
    Spi::connect(|client| {
        client
            .select(
                "SELECT * FROM sinp_import.report((SELECT max(import_id) FROM sinp_import.imports))",
                None,
                &[],
            )
            .unwrap()
            .map(|r| {
                (
                    r.get::<String>(1).unwrap().unwrap(),
                    r.get::<String>(2).unwrap().unwrap(),
                    r.get::<String>(3).unwrap().unwrap(),
                    r.get::<String>(4).unwrap(),
                    r.get::<i64>(5).unwrap().unwrap(),
                    r.get::<String>(6).unwrap(),
                    r.get::<String>(7).unwrap(),
                )
            })
            .collect()
    })
}

#[pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn the_report_gives_each_problem_with_its_lines_and_what_to_do_then_the_rows_written() {
        setup_target();
        // Two unknown taxa (lines 3 and 4), in lenient mode: one observation applied.
        let archive = MiniArchive::valid().edit("synthese.csv", |records| {
            set_synthese(records, 1, "cd_nom", "4242");
            set_synthese(records, 2, "cd_nom", "4343");
        });
        let result = load_bytes(&archive.zip(), NAME, "lenient", false);
        assert!(
            result.iter().all(|r| r.0 == "applied_with_errors"),
            "{result:?}"
        );
        let report = last_report();
        let problems: Vec<&Line> = report.iter().filter(|l| l.0 == "problem").collect();
        let taxa = problems
            .iter()
            .find(|l| l.2 == "CD_NOM_NOT_FOUND")
            .unwrap_or_else(|| panic!("{report:?}"));
        assert_eq!(
            (taxa.1.as_str(), taxa.3.as_deref(), taxa.4),
            ("synthese.csv", Some("error"), 2)
        );
        assert_eq!(
            taxa.5.as_deref(),
            Some("line 3 cd_nom = '4242'; line 4 cd_nom = '4343'")
        );
        assert_eq!(taxa.6.as_deref(), Some("update taxref or the code"));
        // Every problem has what to do, from docs/errors.md.
        assert!(problems.iter().all(|l| l.6.is_some()), "{problems:?}");
        let written: Vec<(&str, &str, i64)> = report
            .iter()
            .filter(|l| l.0 == "written" && l.1 == "synthese")
            .map(|l| (l.1.as_str(), l.2.as_str(), l.4))
            .collect();
        assert_eq!(
            written,
            [("synthese", "inserted", 1), ("synthese", "rejected", 2)]
        );
        // The entities in processing order: source first.
        assert_eq!(
            report
                .iter()
                .find(|l| l.0 == "written")
                .map(|l| l.1.as_str()),
            Some("source")
        );

        // A rejected archive: its problems, nothing written.
        let other = archive.set("synthese.csv", 0, "nom_cite", "Larus fuscus (again)");
        load_bytes(
            &other.zip(),
            "2021-01-05_sinp_paca_strict.zip",
            "strict",
            false,
        );
        let report = last_report();
        assert!(report.iter().all(|l| l.0 == "problem"), "{report:?}");
        assert!(report.iter().any(|l| l.2 == "CD_NOM_NOT_FOUND" && l.4 == 2));
    }

    #[pg_test(error = "sinp_import.imports has no import 424242")]
    fn the_report_of_an_unknown_import_is_an_error() {
        setup_target();
        Spi::run("SELECT * FROM sinp_import.report(424242)").unwrap();
    }
}
