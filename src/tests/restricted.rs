//! Restricted observations (FORMAT.md §5) kept from public roles by row-level security:
//! protect_restricted() and unprotect_restricted(), with roles set up as the Atlas has them.

use pgrx::prelude::*;

use super::{count, load_bytes, setup_target, small_options};

/// Restricted rows counted without the extension's definition: the codes joined.
const RESTRICTED_BY_CODES: &str = "
    SELECT count(*) FROM gn_synthese.synthese AS s
      LEFT JOIN ref_nomenclatures.t_nomenclatures AS sens ON sens.id_nomenclature = s.id_nomenclature_sensitivity
      LEFT JOIN ref_nomenclatures.t_nomenclatures AS dif ON dif.id_nomenclature = s.id_nomenclature_diffusion_level
     WHERE coalesce(s.additional_data ->> 'confidential' = 'true', false)
        OR coalesce(sens.cd_nomenclature <> '0', false)
        OR coalesce(dif.cd_nomenclature <> '5', false)";

/// The links of unrestricted observations in a link table, counted as a superuser.
fn unrestricted_links(table: &str) -> i64 {
    count(&format!(
        "SELECT count(*) FROM {table} AS c JOIN gn_synthese.synthese AS s USING (id_synthese)
          WHERE NOT EXISTS (
                SELECT FROM ref_nomenclatures.t_nomenclatures AS sens
                 WHERE sens.id_nomenclature = s.id_nomenclature_sensitivity AND sens.cd_nomenclature <> '0')
            AND NOT EXISTS (
                SELECT FROM ref_nomenclatures.t_nomenclatures AS dif
                 WHERE dif.id_nomenclature = s.id_nomenclature_diffusion_level AND dif.cd_nomenclature <> '5')
            AND NOT coalesce(s.additional_data ->> 'confidential' = 'true', false)"
    ))
}

/// (observations, area links, observer links, restricted observations) as the role sees them.
fn seen_as(role: &str) -> (i64, i64, i64, i64) {
    Spi::run(&format!("SET LOCAL ROLE {role}")).unwrap();
    let seen = (
        count("SELECT count(*) FROM gn_synthese.synthese"),
        count("SELECT count(*) FROM gn_synthese.cor_area_synthese"),
        count("SELECT count(*) FROM gn_synthese.cor_observer_synthese"),
        count(RESTRICTED_BY_CODES),
    );
    Spi::run("RESET ROLE").unwrap();
    seen
}

/// The Atlas's readers: read_only_public, read_only_all (a member of it, with grants of its own)
/// and an API role that is only a member of read_only_public.
fn atlas_readers() {
    Spi::run(
        "CREATE ROLE sinp_test_public; CREATE ROLE sinp_test_all; CREATE ROLE sinp_test_api;
         GRANT sinp_test_public TO sinp_test_all, sinp_test_api;
         GRANT USAGE ON SCHEMA gn_synthese, ref_nomenclatures TO sinp_test_public, sinp_test_all;
         GRANT SELECT ON ALL TABLES IN SCHEMA gn_synthese, ref_nomenclatures TO sinp_test_public, sinp_test_all;",
    )
    .unwrap();
}

#[pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn public_roles_see_only_unrestricted_observations_and_their_links() {
        setup_target();
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        load_bytes(&archive, "2020-08-26_sinp_paca_rls.zip", "strict", false);
        let total = count("SELECT count(*) FROM gn_synthese.synthese");
        let restricted = count(RESTRICTED_BY_CODES);
        // Not vacuous: the archive has both kinds, and links of both.
        assert!(
            restricted > 0 && restricted < total,
            "{restricted} of {total}"
        );
        let areas = count("SELECT count(*) FROM gn_synthese.cor_area_synthese");
        let observers = count("SELECT count(*) FROM gn_synthese.cor_observer_synthese");
        let open_areas = unrestricted_links("gn_synthese.cor_area_synthese");
        let open_observers = unrestricted_links("gn_synthese.cor_observer_synthese");
        assert!(open_areas < areas && open_observers < observers);
        // The one definition agrees with the codes joined.
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM gn_synthese.synthese AS s WHERE {}",
                Spi::get_one::<String>("SELECT sinp_import.restricted_condition('s')")
                    .unwrap()
                    .unwrap()
            )),
            restricted
        );

        atlas_readers();
        let everything = (total, areas, observers, restricted);
        assert_eq!(seen_as("sinp_test_public"), everything, "before protection");
        Spi::run("SELECT sinp_import.protect_restricted(ARRAY['sinp_test_public']::regrole[])")
            .unwrap();
        let unrestricted = (total - restricted, open_areas, open_observers, 0);
        assert_eq!(seen_as("sinp_test_public"), unrestricted);
        assert_eq!(
            seen_as("sinp_test_api"),
            unrestricted,
            "a member of the public role only"
        );
        assert_eq!(
            seen_as("sinp_test_all"),
            everything,
            "a member with grants of its own"
        );

        // Idempotent: called again, the same two policies per table and the same answers.
        Spi::run("SELECT sinp_import.protect_restricted(ARRAY['sinp_test_public']::regrole[])")
            .unwrap();
        assert_eq!(
            count("SELECT count(*) FROM pg_policies WHERE schemaname = 'gn_synthese' AND policyname LIKE 'sinp\\_%'"),
            6
        );
        assert_eq!(seen_as("sinp_test_public"), unrestricted);

        Spi::run("SELECT sinp_import.unprotect_restricted()").unwrap();
        assert_eq!(
            seen_as("sinp_test_public"),
            everything,
            "after unprotect_restricted()"
        );
        assert_eq!(
            count("SELECT count(*) FROM pg_class WHERE relrowsecurity AND relnamespace = 'gn_synthese'::regnamespace"),
            0
        );
        assert_eq!(
            count("SELECT count(*) FROM pg_policies WHERE schemaname = 'gn_synthese'"),
            0
        );
    }

    /// Row-level security the DBA had already turned on, with a policy of its own: protection only
    /// narrows it (a restrictive policy), and unprotect_restricted() leaves it as it was.
    #[pg_test]
    fn a_table_s_own_policies_are_narrowed_never_widened() {
        setup_target();
        let archive = sinp_bench::synthetic_archive_bytes(&small_options());
        load_bytes(&archive, "2020-08-26_sinp_paca_rls.zip", "strict", false);
        atlas_readers();
        // The DBA's own rule: the public sees the observations of one dataset only.
        let dataset = count("SELECT min(id_dataset) FROM gn_synthese.synthese");
        Spi::run(&format!(
            "ALTER TABLE gn_synthese.synthese ENABLE ROW LEVEL SECURITY;
             CREATE POLICY own_rule ON gn_synthese.synthese FOR SELECT TO PUBLIC
                 USING (id_dataset = {dataset});"
        ))
        .unwrap();
        let own_rule = seen_as("sinp_test_public").0;
        assert!(own_rule > 0 && own_rule < count("SELECT count(*) FROM gn_synthese.synthese"));
        Spi::run("SELECT sinp_import.protect_restricted(ARRAY['sinp_test_public']::regrole[])")
            .unwrap();
        let expected = count(&format!(
            "SELECT count(*) FROM gn_synthese.synthese AS s
              WHERE s.id_dataset = {dataset} AND NOT {}",
            Spi::get_one::<String>("SELECT sinp_import.restricted_condition('s')")
                .unwrap()
                .unwrap()
        ));
        assert!(expected < own_rule);
        assert_eq!(seen_as("sinp_test_public").0, expected);
        Spi::run("SELECT sinp_import.unprotect_restricted()").unwrap();
        assert_eq!(seen_as("sinp_test_public").0, own_rule);
        assert_eq!(
            count("SELECT count(*) FROM pg_class WHERE relrowsecurity AND oid = 'gn_synthese.synthese'::regclass"),
            1
        );
    }

    #[pg_test(error = "sinp_import.protect_restricted(): no role given")]
    fn protecting_no_role_is_an_error() {
        setup_target();
        Spi::run("SELECT sinp_import.protect_restricted('{}'::regrole[])").unwrap();
    }
}
