//! Differential exports (docs/export.md) proven by a round trip: a receiver in step with the
//! database at a time T, given the export `since => T`, is in step again, whatever changed since
//! T: a load's I, U and D rows, a plain UPDATE and a plain DELETE, as GeoNature's interface makes.

use std::collections::BTreeMap;

use super::changes::{base, differential_archive};
use super::export::{baseline, empty_target, members, written_tables};
use super::{count, load_bytes, setup_target, text};
use pgrx::prelude::*;

/// The export since the time kept in the setting sinp_test.since.
fn export_since(include_restricted: bool) -> Vec<u8> {
    Spi::get_one_with_args::<Vec<u8>>(
        "SELECT sinp_import.export_archive_bytes(since => current_setting('sinp_test.since')::timestamptz,
                                                 include_restricted => $1)",
        &[include_restricted.into()],
    )
    .unwrap()
    .unwrap()
}

fn mark_since() {
    Spi::run("SELECT set_config('sinp_test.since', clock_timestamp()::text, true)").unwrap();
}

/// The records of a file of an archive, per action (its meta_last_action, the last field).
fn actions(archive: &[u8], file: &str) -> BTreeMap<String, usize> {
    let members = members(archive);
    let mut by_action = BTreeMap::new();
    let text = &members[file];
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let at = header
        .iter()
        .position(|h| *h == "meta_last_action")
        .unwrap();
    for line in lines {
        let action = line.split('\t').nth(at).unwrap().to_string();
        *by_action.entry(action).or_insert(0) += 1;
    }
    by_action
}

/// A target with the change log, the base archive loaded: what the target held before it.
fn logged_base() -> BTreeMap<&'static str, i64> {
    setup_target();
    Spi::run("SELECT sinp_import.log_changes()").unwrap();
    let before = baseline();
    let loaded = load_bytes(
        &sinp_bench::synthetic_archive_bytes(&base()),
        "2020-08-26_sinp_paca_diff.zip",
        "strict",
        false,
    );
    assert!(loaded.iter().all(|r| r.0 == "applied"), "{loaded:?}");
    before
}

/// Makes the first unrestricted observation confidential (FORMAT.md §5) by a plain UPDATE, as
/// GeoNature's interface would; its UUID. `restricted` is restricted_condition('s').
fn make_confidential(restricted: &str) -> String {
    let uuid = text(&format!(
        "SELECT min(s.unique_id_sinp::text) FROM gn_synthese.synthese AS s WHERE NOT {restricted}"
    ))
    .unwrap();
    Spi::run_with_args(
        "UPDATE gn_synthese.synthese AS s
            SET additional_data = coalesce(s.additional_data, '{}') || jsonb_build_object('confidential', true)
          WHERE s.unique_id_sinp = $1::uuid",
        &[uuid.as_str().into()],
    )
    .unwrap();
    uuid
}

#[pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn a_receiver_in_step_at_t_is_in_step_again_after_the_export_since_t() {
        let before = logged_base();
        // The receiver's copy at T.
        let full = Spi::get_one::<Vec<u8>>(
            "SELECT sinp_import.export_archive_bytes(include_restricted => true)",
        )
        .unwrap()
        .unwrap();
        let at_t = written_tables();
        mark_since();
        // Nothing changed yet: the differential is empty.
        let empty = export_since(true);
        assert!(actions(&empty, "synthese.csv").is_empty());
        assert!(actions(&empty, "dataset.csv").is_empty());

        // What changes after T: a differential load (20 U, 15 D, 5 I), an observation changed
        // and another deleted by plain SQL, a dataset renamed.
        let diff = load_bytes(
            &differential_archive(),
            "2020-09-15_sinp_paca_diff.zip",
            "strict",
            false,
        );
        assert!(diff.iter().all(|r| r.0 == "applied"), "{diff:?}");
        // Rows the load did not touch: changed by hand after it.
        let untouched = "(SELECT min(s.id_synthese) FROM gn_synthese.synthese AS s
                           WHERE NOT EXISTS (SELECT FROM sinp_import.changed_rows AS c
                                              WHERE c.entity = 'synthese' AND c.id = s.id_synthese
                                                AND c.changed_at > current_setting('sinp_test.since')::timestamptz))";
        Spi::run(&format!(
            "UPDATE gn_synthese.synthese SET nom_cite = 'changed by hand' WHERE id_synthese = {untouched};
             DELETE FROM gn_commons.t_validations
              WHERE uuid_attached_row = (SELECT unique_id_sinp FROM gn_synthese.synthese WHERE id_synthese = {untouched});
             DELETE FROM gn_synthese.synthese WHERE id_synthese = {untouched};
             UPDATE gn_meta.t_datasets SET dataset_name = 'renamed by hand'
              WHERE id_dataset = (SELECT min(id_dataset) FROM gn_meta.t_datasets);"
        ))
        .unwrap();
        let changed = written_tables();
        assert_ne!(changed, at_t);
        const OBSERVATIONS: &str = "SELECT s.unique_id_sinp, to_jsonb(s) - 'id_synthese' - 'id_source' - 'id_dataset' - 'id_digitiser' - 'the_geom_local' - 'the_geom_4326' - 'the_geom_point' AS j FROM gn_synthese.synthese AS s";
        Spi::run(&format!("CREATE TEMP TABLE sinp_test_a AS {OBSERVATIONS}")).unwrap();

        let differential = export_since(true);
        let synthese = actions(&differential, "synthese.csv");
        assert_eq!(synthese.get("I"), Some(&5), "{synthese:?}");
        assert_eq!(
            synthese.get("D"),
            Some(&16),
            "15 D rows and the plain DELETE: {synthese:?}"
        );
        assert_eq!(
            synthese.get("U"),
            Some(&21),
            "20 U rows and the plain UPDATE: {synthese:?}"
        );
        let datasets = actions(&differential, "dataset.csv");
        assert!(datasets.get("U").is_some_and(|&n| n >= 1), "{datasets:?}");
        assert!(!datasets.contains_key("I"), "{datasets:?}");
        assert!(members(&differential)["meta_archive.ini"]
            .contains("differential export of the changes since"),);

        // The receiver: the copy at T, then the differential.
        empty_target(&before);
        let reloaded = load_bytes(&full, "2026-12-01_sinp_paca_full.zip", "strict", false);
        assert!(reloaded.iter().all(|r| r.0 == "applied"), "{reloaded:?}");
        assert_eq!(written_tables(), at_t, "the receiver at T");
        let applied = load_bytes(
            &differential,
            "2026-12-02_sinp_paca_differential.zip",
            "strict",
            false,
        );
        let row = applied.iter().find(|r| r.1 == "synthese").unwrap();
        assert_eq!(row.0, "applied", "{applied:?}");
        assert_eq!(
            (row.2, row.3, row.4),
            (5, 21, 16),
            "inserted, updated, deleted: {applied:?}"
        );
        let differing = text(&format!("SELECT string_agg(x.key || ': ' || coalesce(x.a, '-') || ' / ' || coalesce(x.b, '-'), '; ') FROM (SELECT k.key, a.j ->> k.key AS a, b.j ->> k.key AS b FROM sinp_test_a AS a JOIN ({OBSERVATIONS}) AS b USING (unique_id_sinp) CROSS JOIN LATERAL jsonb_object_keys(a.j) AS k(key) WHERE a.j -> k.key IS DISTINCT FROM b.j -> k.key LIMIT 10) AS x"));
        // The one difference: GeoNature's interface leaves last_action as it was on an update
        // (its trigger sets only the dates); the receiver records the U it was sent.
        assert_eq!(differing.as_deref(), Some("last_action: I / U"));
        Spi::run(
            "UPDATE gn_synthese.synthese SET last_action = 'I' WHERE nom_cite = 'changed by hand'",
        )
        .unwrap();
        for (a, b) in changed.lines().zip(written_tables().lines()) {
            assert_eq!(b, a, "after the differential");
        }
        assert_eq!(written_tables(), changed);
        assert_eq!(
            text("SELECT string_agg(e.file || ' ' || e.code || ' ' || coalesce(e.message, ''), '; ')
                    FROM sinp_import.import_errors AS e JOIN sinp_import.imports AS i USING (import_id)
                   WHERE i.archive_name = '2026-12-02_sinp_paca_differential.zip'
                     -- said of every archive with a source's additional_data: this target's t_sources has no such column
                     AND e.code <> 'TARGET_COLUMN_MISSING'"),
            None,
            "no warning: every action is what the receiver expects"
        );
    }

    #[pg_test]
    fn an_observation_restricted_since_is_withdrawn_and_deletions_filter_by_source() {
        logged_base();
        mark_since();
        let restricted = Spi::get_one::<String>("SELECT sinp_import.restricted_condition('s')")
            .unwrap()
            .unwrap();
        // An unrestricted observation made confidential (FORMAT.md §5).
        let made_private = make_confidential(&restricted);
        assert_eq!(
            Spi::get_one_with_args::<i64>(
                &format!("SELECT count(*) FROM gn_synthese.synthese AS s WHERE {restricted} AND s.unique_id_sinp = $1::uuid"),
                &[made_private.as_str().into()],
            )
            .unwrap(),
            Some(1),
            "restricted now"
        );
        let left_out = export_since(false);
        let synthese = members(&left_out)["synthese.csv"].clone();
        let records: Vec<&str> = synthese.lines().skip(1).collect();
        assert_eq!(records.len(), 1, "{synthese}");
        assert!(records[0].starts_with(&made_private), "{synthese}");
        assert_eq!(
            actions(&left_out, "synthese.csv").get("D"),
            Some(&1),
            "withdrawn"
        );
        let included = export_since(true);
        assert_eq!(actions(&included, "synthese.csv").get("U"), Some(&1));

        // A deletion goes to the exports of its source only.
        Spi::run("DELETE FROM gn_commons.t_validations; DELETE FROM gn_synthese.synthese WHERE id_synthese = (SELECT max(id_synthese) FROM gn_synthese.synthese)").unwrap();
        let source = text("SELECT code_source FROM sinp_import.deleted_rows").unwrap();
        let of_source = |name: &str| {
            let bytes = Spi::get_one_with_args::<Vec<u8>>(
                "SELECT sinp_import.export_archive_bytes(since => current_setting('sinp_test.since')::timestamptz,
                                                         sources => ARRAY[$1], include_restricted => true)",
                &[name.into()],
            )
            .unwrap()
            .unwrap();
            actions(&bytes, "synthese.csv")
                .get("D")
                .copied()
                .unwrap_or(0)
        };
        assert_eq!(of_source(&source), 1);
        assert_eq!(of_source("another source"), 0);
    }

    #[pg_test]
    fn a_load_that_makes_an_observation_restricted_withdraws_it_and_nothing_else() {
        let before = logged_base();
        let restricted = text("SELECT sinp_import.restricted_condition('s')").unwrap();
        let full = || {
            Spi::get_one::<Vec<u8>>(
                "SELECT sinp_import.export_archive_bytes(include_restricted => true)",
            )
            .unwrap()
            .unwrap()
        };
        let as_it_was = full();
        // The provider's next version of one observation: confidential (its date moves on).
        let made_private = make_confidential(&restricted);
        let next_version = full();
        // The database as it was, then that version loaded after T.
        empty_target(&before);
        let reloaded = load_bytes(&as_it_was, "2026-12-01_sinp_paca_full.zip", "strict", false);
        assert!(reloaded.iter().all(|r| r.0 == "applied"), "{reloaded:?}");
        mark_since();
        let next = load_bytes(
            &next_version,
            "2026-12-02_sinp_paca_full.zip",
            "strict",
            false,
        );
        let synthese = next.iter().find(|r| r.1 == "synthese").unwrap();
        // The observation, and those stored without a version (FORMAT.md §7 updates them always).
        assert_eq!(synthese.0, "applied", "{next:?}");
        assert_eq!(
            synthese.3,
            1 + count("SELECT count(*) FROM gn_synthese.synthese WHERE meta_update_date IS NULL"),
            "{next:?}"
        );
        // An observation restricted all along, changed after T: its receivers never had it.
        Spi::run_with_args(
            &format!(
                "UPDATE gn_synthese.synthese AS s SET nom_cite = 'changed, restricted all along'
                  WHERE s.id_synthese = (SELECT min(s.id_synthese) FROM gn_synthese.synthese AS s
                                          WHERE {restricted} AND s.meta_update_date IS NOT NULL
                                            AND s.unique_id_sinp <> $1::uuid)"
            ),
            &[made_private.as_str().into()],
        )
        .unwrap();
        let left_out = export_since(false);
        let records = members(&left_out)["synthese.csv"].clone();
        // meta_last_action is the last field.
        let withdrawn: Vec<&str> = records.lines().filter(|l| l.ends_with("\tD")).collect();
        assert_eq!(withdrawn.len(), 1, "{withdrawn:?}");
        assert!(withdrawn[0].starts_with(&made_private), "{withdrawn:?}");
        assert!(
            !records.contains("changed, restricted all along"),
            "a restricted observation stays out"
        );
        assert_eq!(
            actions(&left_out, "synthese.csv").get("U").copied(),
            Some(count(&format!(
                "SELECT count(*) FROM gn_synthese.synthese AS s WHERE s.meta_update_date IS NULL AND NOT {restricted}"
            )) as usize),
            "the unrestricted observations the load updated"
        );
        assert_eq!(
            actions(&export_since(true), "synthese.csv")
                .get("U")
                .copied(),
            Some(synthese.3 as usize + 1),
            "with restricted observations, every row the load and the UPDATE changed, as U rows"
        );
    }

    #[pg_test(error = "a differential export (since) needs the change log, which is not installed")]
    fn a_differential_export_needs_the_change_log() {
        setup_target();
        Spi::run("SELECT sinp_import.export_archive_bytes(since => now() - interval '1 day')")
            .unwrap();
    }

    #[pg_test(error = "since is earlier than the change log's start")]
    fn a_differential_export_cannot_start_before_the_log() {
        setup_target();
        Spi::run("SELECT sinp_import.log_changes()").unwrap();
        Spi::run("SELECT sinp_import.export_archive_bytes(since => clock_timestamp() - interval '1 day')")
            .unwrap();
    }
}
