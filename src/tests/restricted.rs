//! Restricted observations (FORMAT.md §5) kept from public roles by row-level security:
//! protect_restricted() and unprotect_restricted(), with roles set up as the Atlas has them.

use pgrx::prelude::*;

use super::{count, load_bytes, member_records_by_line, setup_target, small_options};

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

        // The public view: every observation, the restricted ones blurred.
        Spi::run("SET LOCAL ROLE sinp_test_public").unwrap();
        assert_eq!(
            count("SELECT count(*) FROM sinp_import.public_observations"),
            total
        );
        assert_eq!(
            count("SELECT count(*) FROM sinp_import.public_observations WHERE blurred"),
            restricted
        );
        assert_eq!(
            count(
                "SELECT count(*) FROM sinp_import.public_observations
                  WHERE blurred AND (observers IS NOT NULL OR additional_data IS NOT NULL
                        OR comment_context IS NOT NULL OR comment_description IS NOT NULL
                        OR digital_proof IS NOT NULL OR place_name IS NOT NULL
                        OR altitude_min IS NOT NULL OR date_min <> date_trunc('day', date_min)
                        OR public.ST_Area(the_geom_local) < 99999999)"
            ),
            0
        );
        Spi::run("RESET ROLE").unwrap();
        // Not vacuous: what was hidden was there; the unrestricted rows are as stored.
        assert!(
            count(
                "SELECT count(*) FROM sinp_import.public_observations AS v
                   JOIN gn_synthese.synthese AS s USING (id_synthese)
                  WHERE v.blurred AND s.observers IS NOT NULL AND s.date_min <> date_trunc('day', s.date_min)
                    AND public.ST_Contains(v.the_geom_local, s.the_geom_local)"
            ) > 0
        );
        assert_eq!(
            count(
                "SELECT count(*) FROM sinp_import.public_observations AS v
                   JOIN gn_synthese.synthese AS s USING (id_synthese)
                  WHERE NOT v.blurred AND (v.observers IS DISTINCT FROM s.observers
                        OR v.date_min <> s.date_min
                        OR NOT public.ST_Equals(v.the_geom_local, s.the_geom_local))"
            ),
            0
        );

        // Idempotent: called again, the same five policies per table and the same answers.
        Spi::run("SELECT sinp_import.protect_restricted(ARRAY['sinp_test_public']::regrole[])")
            .unwrap();
        assert_eq!(
            count("SELECT count(*) FROM pg_policies WHERE schemaname = 'gn_synthese' AND policyname LIKE 'sinp\\_%'"),
            15
        );
        assert_eq!(seen_as("sinp_test_public"), unrestricted);

        // The public role's condition is its only one: its count reads the partial index of the
        // unrestricted observations.
        Spi::run("SET LOCAL ROLE sinp_test_public; SET LOCAL enable_seqscan = off").unwrap();
        let plan = Spi::get_one::<pgrx::Json>(
            "EXPLAIN (FORMAT JSON) SELECT count(*) FROM gn_synthese.synthese",
        )
        .unwrap()
        .unwrap()
        .0
        .to_string();
        Spi::run("RESET ROLE; RESET enable_seqscan").unwrap();
        assert!(plan.contains("sinp_unrestricted_observations"), "{plan}");

        // Grants made afterwards are followed: a role granted SELECT later sees every row; a
        // member of the public role whose own grant is revoked sees what the public role sees.
        Spi::run(
            "CREATE ROLE sinp_test_late;
             GRANT USAGE ON SCHEMA gn_synthese, ref_nomenclatures TO sinp_test_late;
             GRANT SELECT ON ALL TABLES IN SCHEMA gn_synthese, ref_nomenclatures TO sinp_test_late;",
        )
        .unwrap();
        assert_eq!(
            seen_as("sinp_test_late"),
            everything,
            "granted after protection"
        );
        Spi::run("REVOKE SELECT ON gn_synthese.synthese FROM sinp_test_all").unwrap();
        assert_eq!(
            seen_as("sinp_test_all"),
            (total - restricted, areas, observers, 0),
            "its grant on the synthese revoked"
        );
        Spi::run("GRANT SELECT ON gn_synthese.synthese TO sinp_test_all").unwrap();
        assert_eq!(seen_as("sinp_test_all"), everything, "granted again");

        Spi::run("SELECT sinp_import.unprotect_restricted()").unwrap();
        assert_eq!(
            seen_as("sinp_test_public"),
            everything,
            "after unprotect_restricted()"
        );
        assert_eq!(
            count("SELECT count(*) FROM pg_class WHERE relrowsecurity AND relnamespace IN ('gn_synthese'::regnamespace, 'sinp_import'::regnamespace)"),
            0
        );
        assert_eq!(
            count("SELECT count(*) FROM pg_policies WHERE schemaname IN ('gn_synthese', 'sinp_import')"),
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

    /// The journal's problems are marked: a row of synthese.csv that is (or may be) a restricted
    /// observation is kept from public roles with its raw record and value.
    #[pg_test]
    fn the_problems_of_restricted_rows_are_kept_from_public_roles() {
        setup_target();
        // Area-only rows attached to a commune the database does not have: row problems of rows
        // that were read, restricted or not.
        let archive = sinp_bench::synthetic_archive_bytes(&sinp_bench::SynthOptions {
            area_codes: vec!["COM.00000".to_string()],
            ..small_options()
        });
        load_bytes(&archive, "2020-08-27_sinp_paca_bad.zip", "lenient", false);
        // Restricted by the archive's own codes, for every line (line 2 is the first record).
        let by_codes: std::collections::BTreeMap<i64, bool> =
            member_records_by_line(&archive, "synthese.csv")
                .into_iter()
                .map(|(line, r)| {
                    let code = |c: &str| r.get(c).cloned().flatten();
                    let confidential = code("additional_data")
                        .and_then(|j| serde_json::from_str::<serde_json::Value>(&j).ok())
                        .is_some_and(|j| {
                            j.get("confidential") == Some(&serde_json::Value::Bool(true))
                        });
                    let restricted = confidential
                        || code("code_nomenclature_sensitivity").is_some_and(|c| c != "0")
                        || code("code_nomenclature_diffusion_level").is_some_and(|c| c != "5");
                    (line as i64, restricted)
                })
                .collect();
        let marked: Vec<(i64, bool)> = Spi::connect(|client| {
            client
                .select(
                    "SELECT line, restricted FROM sinp_import.import_errors
                      WHERE file = 'synthese.csv' AND line > 1 ORDER BY line, code",
                    None,
                    &[],
                )
                .unwrap()
                .map(|r| {
                    (
                        r.get::<i64>(1).unwrap().unwrap(),
                        r.get::<bool>(2).unwrap().unwrap(),
                    )
                })
                .collect()
        });
        let restricted = marked.iter().filter(|(_, r)| *r).count();
        assert!(
            restricted > 0 && restricted < marked.len(),
            "{restricted} of {}",
            marked.len()
        );
        for (line, marked_restricted) in &marked {
            assert_eq!(*marked_restricted, by_codes[line], "line {line}");
        }
        // Problems of other files, and of the file as a whole, are no observation's.
        assert_eq!(
            count("SELECT count(*) FROM sinp_import.import_errors WHERE restricted AND (file <> 'synthese.csv' OR line IS NULL)"),
            0
        );

        atlas_readers();
        Spi::run(
            "GRANT USAGE ON SCHEMA sinp_import TO sinp_test_public;
             GRANT SELECT ON sinp_import.import_errors TO sinp_test_public;
             SELECT sinp_import.protect_restricted(ARRAY['sinp_test_public']::regrole[]);",
        )
        .unwrap();
        let all = count("SELECT count(*) FROM sinp_import.import_errors");
        Spi::run("SET LOCAL ROLE sinp_test_public").unwrap();
        assert_eq!(
            count("SELECT count(*) FROM sinp_import.import_errors"),
            all - restricted as i64
        );
        assert_eq!(
            count("SELECT count(*) FROM sinp_import.import_errors WHERE restricted"),
            0
        );
        Spi::run("RESET ROLE").unwrap();
    }

    /// A role that owns nothing, not even allowed to look into the schemas, gets the function's
    /// own answer, naming what it would need to own, not PostgreSQL's "permission denied for
    /// schema".
    #[pg_test(
        error = "permission denied: sinp_test_stranger does not own gn_synthese.synthese, gn_synthese.cor_area_synthese, gn_synthese.cor_observer_synthese, sinp_import.import_errors"
    )]
    fn a_role_that_owns_nothing_is_told_what_to_own() {
        setup_target();
        Spi::run(
            "CREATE ROLE sinp_test_stranger; GRANT USAGE ON SCHEMA sinp_import TO sinp_test_stranger;
             SET LOCAL ROLE sinp_test_stranger;",
        )
        .unwrap();
        Spi::run("SELECT sinp_import.protect_restricted(ARRAY['sinp_test_stranger']::regrole[])")
            .unwrap();
    }

    #[pg_test(error = "sinp_import.protect_restricted(): no role given")]
    fn protecting_no_role_is_an_error() {
        setup_target();
        Spi::run("SELECT sinp_import.protect_restricted('{}'::regrole[])").unwrap();
    }
}
