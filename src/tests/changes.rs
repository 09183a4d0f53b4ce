//! The deletion log (docs/export.md): log_changes() installs a statement trigger on each table
//! the loader writes, and every deletion, by a load's D rows or by a plain DELETE, is recorded with
//! the keys a differential export sends.

use pgrx::prelude::*;
use sinp_bench::{DiffOptions, SynthOptions};

use super::{count, load_bytes, setup_target, text};

pub(super) fn base() -> SynthOptions {
    SynthOptions {
        rows: 300,
        ..SynthOptions::default()
    }
}

pub(super) fn differential_archive() -> Vec<u8> {
    let diff = DiffOptions {
        updates: 20,
        deletes: 15,
        inserts: 5,
        ..DiffOptions::default()
    };
    let mut out = std::io::Cursor::new(Vec::new());
    sinp_bench::write_diff_archive(&base(), &diff, &mut out).unwrap();
    out.into_inner()
}

const TRIGGERS: &str =
    "SELECT count(*) FROM pg_trigger WHERE tgname = 'sinp_import_log_deleted_rows' AND NOT tgisinternal";

#[pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn every_deletion_is_logged_with_its_keys() {
        setup_target();
        let installed = text("SELECT sinp_import.log_changes()").unwrap();
        assert!(installed.contains("gn_synthese.synthese"), "{installed}");
        assert_eq!(count(TRIGGERS), 6);
        Spi::run("SELECT sinp_import.log_changes()").unwrap();
        assert_eq!(count(TRIGGERS), 6, "idempotent");
        assert_eq!(count("SELECT count(*) FROM sinp_import.logged_tables"), 6);

        let loaded = load_bytes(
            &sinp_bench::synthetic_archive_bytes(&base()),
            "2020-08-26_sinp_paca_log.zip",
            "strict",
            false,
        );
        assert!(loaded.iter().all(|r| r.0 == "applied"), "{loaded:?}");
        Spi::run(
            "CREATE TEMP TABLE before_diff AS
             SELECT s.unique_id_sinp, t.name_source, s.entity_source_pk_value, d.unique_dataset_id
               FROM gn_synthese.synthese AS s JOIN gn_synthese.t_sources AS t USING (id_source)
               JOIN gn_meta.t_datasets AS d USING (id_dataset)",
        )
        .unwrap();
        // A load's D rows.
        let diff = load_bytes(
            &differential_archive(),
            "2020-09-15_sinp_paca_log.zip",
            "strict",
            false,
        );
        let synthese = diff.iter().find(|r| r.1 == "synthese").unwrap();
        assert_eq!(synthese.4, 15, "{diff:?}");
        let gone = "SELECT b.* FROM before_diff AS b
                     WHERE NOT EXISTS (SELECT FROM gn_synthese.synthese AS s WHERE s.unique_id_sinp = b.unique_id_sinp)";
        assert_eq!(count(&format!("SELECT count(*) FROM ({gone}) AS g")), 15);
        let logged = "SELECT key, code_source, source_id, dataset FROM sinp_import.deleted_rows WHERE entity = 'synthese'";
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM (({logged}) EXCEPT (SELECT unique_id_sinp::text, name_source, entity_source_pk_value, unique_dataset_id FROM ({gone}) AS g)) AS x"
            )),
            0,
            "the log holds exactly the deleted observations' keys, sources and datasets"
        );
        assert_eq!(count(&format!("SELECT count(*) FROM ({logged}) AS l")), 15);

        // A plain DELETE, as GeoNature's interface makes: an observation, then a dataset and all
        // its observations.
        let one = text(
            "SELECT unique_id_sinp::text FROM gn_synthese.synthese ORDER BY id_synthese LIMIT 1",
        )
        .unwrap();
        Spi::run_with_args(
            "DELETE FROM gn_synthese.synthese WHERE unique_id_sinp = $1::uuid",
            &[one.as_str().into()],
        )
        .unwrap();
        assert_eq!(
            text("SELECT key || ' ' || deleted_by FROM sinp_import.deleted_rows ORDER BY deleted_at DESC LIMIT 1"),
            Some(format!("{one} postgres"))
        );
        let dataset = text("SELECT unique_dataset_id::text FROM gn_meta.t_datasets ORDER BY id_dataset DESC LIMIT 1")
            .unwrap();
        Spi::run_with_args(
            "SELECT set_config('sinp_test.dataset', $1, true)",
            &[dataset.as_str().into()],
        )
        .unwrap();
        let of_dataset = count("SELECT count(*) FROM gn_synthese.synthese AS s JOIN gn_meta.t_datasets AS d USING (id_dataset)
              WHERE d.unique_dataset_id = current_setting('sinp_test.dataset')::uuid");
        assert!(of_dataset > 0);
        let logged_in_dataset = "SELECT count(*) FROM sinp_import.deleted_rows WHERE entity = 'synthese' AND dataset = current_setting('sinp_test.dataset')::uuid";
        let before = count(logged_in_dataset);
        Spi::run("DELETE FROM gn_commons.t_validations;
             DELETE FROM gn_synthese.synthese WHERE id_dataset = (SELECT id_dataset FROM gn_meta.t_datasets WHERE unique_dataset_id = current_setting('sinp_test.dataset')::uuid);
             DELETE FROM gn_meta.cor_dataset_actor WHERE id_dataset = (SELECT id_dataset FROM gn_meta.t_datasets WHERE unique_dataset_id = current_setting('sinp_test.dataset')::uuid);
             DELETE FROM gn_meta.cor_dataset_territory WHERE id_dataset = (SELECT id_dataset FROM gn_meta.t_datasets WHERE unique_dataset_id = current_setting('sinp_test.dataset')::uuid);
             DELETE FROM gn_meta.t_datasets WHERE unique_dataset_id = current_setting('sinp_test.dataset')::uuid;")
        .unwrap();
        assert_eq!(count(logged_in_dataset), before + of_dataset);
        assert_eq!(
            text("SELECT key FROM sinp_import.deleted_rows WHERE entity = 'dataset'"),
            Some(dataset)
        );
    }

    #[pg_test(
        error = "permission denied: sinp_test_not_owner does not own gn_synthese.t_sources, utilisateurs.bib_organismes, utilisateurs.t_roles, gn_meta.t_acquisition_frameworks, gn_meta.t_datasets, gn_synthese.synthese"
    )]
    fn only_the_tables_owner_installs_it() {
        setup_target();
        Spi::run("CREATE ROLE sinp_test_not_owner; GRANT USAGE ON SCHEMA sinp_import TO sinp_test_not_owner; SET LOCAL ROLE sinp_test_not_owner").unwrap();
        Spi::run("SELECT sinp_import.log_changes()").unwrap();
    }

    #[pg_test]
    fn pruning_removes_old_deletions_and_differentials_start_after_it() {
        setup_target();
        Spi::run("SELECT sinp_import.log_changes()").unwrap();
        Spi::run(
            "INSERT INTO gn_synthese.t_sources (name_source) VALUES ('to be pruned');
             DELETE FROM gn_synthese.t_sources WHERE name_source = 'to be pruned'",
        )
        .unwrap();
        assert_eq!(
            count("SELECT count(*) FROM sinp_import.changed_rows WHERE entity = 'source'"),
            0,
            "a deleted row leaves changed_rows"
        );
        assert_eq!(
            count("SELECT count(*) FROM sinp_import.deleted_rows WHERE key = 'to be pruned' AND created_at IS NOT NULL"),
            1,
            "created after the log began"
        );
        Spi::run("SELECT set_config('sinp_test.pruned', clock_timestamp()::text, true)").unwrap();
        assert_eq!(
            count("SELECT sinp_import.prune_changes(current_setting('sinp_test.pruned')::timestamptz)"),
            1
        );
        assert_eq!(count("SELECT count(*) FROM sinp_import.deleted_rows"), 0);
        assert_eq!(
            count("SELECT count(*) FROM sinp_import.logged_tables WHERE logged_since = current_setting('sinp_test.pruned')::timestamptz"),
            6
        );
    }

    #[pg_test(error = "permission denied: sinp_test_pruner may not prune the change log")]
    fn only_the_logs_owner_prunes_it() {
        setup_target();
        Spi::run("SELECT sinp_import.log_changes()").unwrap();
        Spi::run("CREATE ROLE sinp_test_pruner; GRANT USAGE ON SCHEMA sinp_import TO sinp_test_pruner; SET LOCAL ROLE sinp_test_pruner").unwrap();
        Spi::run("SELECT sinp_import.prune_changes(now())").unwrap();
    }
}
