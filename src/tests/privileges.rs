//! Loads by roles that do not own the tables (the Atlas's `read_write_all`): a writer with SELECT,
//! INSERT and UPDATE loads, the rows that follow its rows (area links, observers, validations) and
//! the known triggers handled as the tables' owner; without DELETE its D rows are refused or set
//! aside; a role that may only read is refused before the archive is read.

use pgrx::prelude::*;

use super::corpus::{MiniArchive, OBS};
use super::differential::{counts, entity, last_problems, set_synthese, versioned};
use super::{count, disabled_managed_triggers, load_bytes, setup_target, text};

/// The schemas of the target a load reads or writes.
const TARGET_SCHEMAS: &str = "gn_synthese, gn_meta, gn_commons, gn_sensitivity, utilisateurs, \
                              ref_nomenclatures, ref_geo, ref_habitats, taxonomie";

/// A role as the Atlas has its members: it owns nothing, reads everything, writes with `privileges`
/// (e.g. "INSERT, UPDATE"), and has what grant_loader() gives; the session then acts as it.
fn become_member(role: &str, privileges: &str) {
    Spi::run(&format!("CREATE ROLE {role}")).unwrap();
    Spi::run_with_args(
        "SELECT sinp_import.grant_loader($1::regrole)",
        &[role.into()],
    )
    .unwrap();
    Spi::run(&format!(
        "GRANT USAGE ON SCHEMA {TARGET_SCHEMAS} TO {role};
         GRANT SELECT ON ALL TABLES IN SCHEMA {TARGET_SCHEMAS} TO {role};
         GRANT USAGE ON ALL SEQUENCES IN SCHEMA {TARGET_SCHEMAS} TO {role}"
    ))
    .unwrap();
    if !privileges.is_empty() {
        Spi::run(&format!(
            "GRANT {privileges} ON ALL TABLES IN SCHEMA {TARGET_SCHEMAS} TO {role}"
        ))
        .unwrap();
    }
    Spi::run(&format!("SET LOCAL ROLE {role}")).unwrap();
}

fn initial() -> MiniArchive {
    versioned(MiniArchive::valid(), "2020-02-12 14:04:42")
}

/// Observation 1 moved (its area links replaced), observation 2 deleted.
fn differential() -> MiniArchive {
    versioned(MiniArchive::valid(), "2021-03-01 00:00:00")
        .synthese_only()
        .edit("synthese.csv", |records| {
            records.truncate(4);
            set_synthese(records, 0, "meta_last_action", "U");
            set_synthese(records, 0, "nom_cite", "Larus michahellis");
            set_synthese(records, 1, "meta_last_action", "U");
            set_synthese(records, 1, "geom", "SRID=2154;POINT(975000 6405000)");
            set_synthese(records, 2, "meta_last_action", "D");
        })
}

fn area_codes(key: &str) -> Option<String> {
    text(&format!(
        "SELECT string_agg(a.area_code, ',' ORDER BY a.area_code)
           FROM gn_synthese.cor_area_synthese JOIN gn_synthese.synthese AS s USING (id_synthese)
           JOIN ref_geo.l_areas AS a USING (id_area) WHERE s.unique_id_sinp = '{key}'"
    ))
}

/// The role loads the initial archive, then updates that move observation 1 (its area links
/// replaced by a DELETE on cor_area_synthese the role may not make itself): both applied, the
/// triggers enabled again after each.
fn loads_inserts_then_updates() {
    let result = load_bytes(
        &initial().zip(),
        "2020-08-26_sinp_paca_src.zip",
        "strict",
        false,
    );
    assert!(result.iter().all(|r| r.0 == "applied"), "{result:?}");
    assert_eq!(counts(entity(&result, "synthese")), (3, 0, 0, 0, 0));
    assert!(count("SELECT count(*) FROM gn_synthese.cor_area_synthese") > 0);
    assert!(count("SELECT count(*) FROM gn_synthese.cor_observer_synthese") > 0);
    assert_eq!(disabled_managed_triggers(), 0);
    let updates = differential().edit("synthese.csv", |records| records.truncate(3));
    let result = load_bytes(
        &updates.zip(),
        "2021-03-02_sinp_paca_src.zip",
        "strict",
        false,
    );
    assert_eq!(
        counts(entity(&result, "synthese")),
        (0, 2, 0, 0, 0),
        "{result:?}"
    );
    assert_eq!(area_codes(OBS[1]).as_deref(), Some("05,10kmL93E97N640"));
    assert_eq!(disabled_managed_triggers(), 0);
}

#[pg_schema]
mod tests {
    use super::*;

    /// A member with INSERT and UPDATE, no DELETE and no ownership: its initial load and its
    /// updates are applied with every link GeoNature's triggers would make, the triggers come back
    /// enabled, and the journal names the role and the session's user.
    #[pg_test]
    fn a_writer_that_owns_no_table_loads_inserts_and_updates() {
        setup_target();
        let session = text("SELECT session_user::text").unwrap();
        become_member("sinp_test_writer", "INSERT, UPDATE");
        assert_eq!(
            count("SELECT count(*) FROM pg_class WHERE oid = 'gn_synthese.synthese'::regclass AND pg_has_role(relowner, 'USAGE')"),
            0
        );
        loads_inserts_then_updates();
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 3);
        assert_eq!(
            text("SELECT string_agg(DISTINCT loaded_by || ' ' || session_role, ',') FROM sinp_import.imports"),
            Some(format!("sinp_test_writer {session}"))
        );
    }

    /// As on a GeoNature database, the tables belong to a role that is not a superuser (its
    /// `geonatadmin`; their sequences follow them): the work done as their owner reads the load's
    /// TEMP tables, granted to it.
    #[pg_test]
    fn a_writer_loads_into_tables_a_role_without_superuser_owns() {
        setup_target();
        Spi::run("CREATE ROLE sinp_test_owner").unwrap();
        Spi::run(&format!(
            "DO $$ DECLARE r record; BEGIN
               FOR r IN SELECT c.oid::regclass AS t FROM pg_class AS c
                         WHERE c.relnamespace::regnamespace::text = ANY (string_to_array('{0}', ', '))
                           AND c.relkind IN ('r', 'p', 'v', 'm')
               LOOP EXECUTE format('ALTER TABLE %s OWNER TO sinp_test_owner', r.t); END LOOP;
               FOR r IN SELECT n.nspname AS s FROM pg_namespace AS n
                         WHERE n.nspname = ANY (string_to_array('{0}', ', '))
               LOOP EXECUTE format('ALTER SCHEMA %I OWNER TO sinp_test_owner', r.s); END LOOP;
             END $$",
            TARGET_SCHEMAS
        ))
        .unwrap();
        assert_eq!(
            count("SELECT count(*) FROM pg_class WHERE relname IN ('synthese', 'cor_area_synthese', 't_validations') AND relowner = 'sinp_test_owner'::regrole"),
            3
        );
        become_member("sinp_test_writer", "INSERT, UPDATE");
        loads_inserts_then_updates();
    }

    /// Without DELETE, a strict load of an archive with D rows is refused: 42501, nothing applied.
    #[pg_test(
        error = "permission denied: role sinp_test_writer may not DELETE on gn_synthese.synthese"
    )]
    fn a_strict_load_of_d_rows_without_delete_is_refused() {
        setup_target();
        become_member("sinp_test_writer", "INSERT, UPDATE");
        load_bytes(
            &initial().zip(),
            "2020-08-26_sinp_paca_src.zip",
            "strict",
            false,
        );
        load_bytes(
            &differential().zip(),
            "2021-03-02_sinp_paca_src.zip",
            "strict",
            false,
        );
    }

    /// In lenient mode the D rows are set aside as DELETE_NOT_PERMITTED, the updates applied; a
    /// role with DELETE then deletes.
    #[pg_test]
    fn a_lenient_load_sets_aside_the_d_rows_it_may_not_delete() {
        setup_target();
        become_member("sinp_test_writer", "INSERT, UPDATE");
        load_bytes(
            &initial().zip(),
            "2020-08-26_sinp_paca_src.zip",
            "strict",
            false,
        );
        let result = load_bytes(
            &differential().zip(),
            "2021-03-02_sinp_paca_src.zip",
            "lenient",
            false,
        );
        assert_eq!(result[0].0, "applied_with_errors", "{result:?}");
        assert_eq!(counts(entity(&result, "synthese")), (0, 2, 0, 0, 1));
        let problems: Vec<_> = last_problems()
            .into_iter()
            .filter(|p| p.4 == "DELETE_NOT_PERMITTED")
            .collect();
        assert_eq!(
            problems,
            [(
                "synthese.csv".to_string(),
                Some(4),
                Some("unique_id_sinp".to_string()),
                "error".to_string(),
                "DELETE_NOT_PERMITTED".to_string(),
                Some(OBS[2].to_string())
            )]
        );
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM gn_synthese.synthese WHERE unique_id_sinp = '{}'",
                OBS[2]
            )),
            1
        );
        assert_eq!(
            text(&format!(
                "SELECT nom_cite FROM gn_synthese.synthese WHERE unique_id_sinp = '{}'",
                OBS[0]
            ))
            .as_deref(),
            Some("Larus michahellis")
        );
        Spi::run("RESET ROLE").unwrap();
        become_member("sinp_test_remover", "INSERT, UPDATE, DELETE");
        let again = differential().edit("synthese.csv", |records| {
            records.drain(1..3);
        });
        let result = load_bytes(
            &again.zip(),
            "2021-03-03_sinp_paca_src.zip",
            "strict",
            false,
        );
        assert_eq!(
            counts(entity(&result, "synthese")),
            (0, 0, 1, 0, 0),
            "{result:?}"
        );
        assert_eq!(count("SELECT count(*) FROM gn_synthese.synthese"), 2);
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.t_log_synthese WHERE last_action = 'D'"),
            1
        );
    }

    /// The load's TEMP tables are read as the tables' owner: a TEMP view the caller planted under
    /// one of their names (which would run the caller's functions as the owner) is refused.
    #[pg_test(
        error = "this session has a TEMP object pg_temp.sinp_written that is not a table: drop it, then load again"
    )]
    fn a_temp_view_planted_under_the_loader_s_name_is_refused() {
        setup_target();
        become_member("sinp_test_writer", "INSERT, UPDATE");
        Spi::run(
            "CREATE TEMP VIEW sinp_written AS
             SELECT 'synthese'::text AS entity, 1 AS id, true AS inserted, true AS relink",
        )
        .unwrap();
        load_bytes(
            &initial().zip(),
            "2020-08-26_sinp_paca_src.zip",
            "strict",
            false,
        );
    }

    /// A role that may only read is refused before the archive is read: these bytes are no
    /// archive at all, and the answer is the privilege, not the format.
    #[pg_test(
        error = "permission denied: role sinp_test_reader may not INSERT on gn_synthese.synthese"
    )]
    fn a_reader_is_refused_before_the_archive_is_read() {
        setup_target();
        become_member("sinp_test_reader", "");
        Spi::run("SELECT * FROM sinp_import.load_archive('\\x00'::bytea, 'x.zip')").unwrap();
    }
}
