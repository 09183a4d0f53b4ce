//! A partitioned `gn_synthese.synthese`, made by the steps of docs/partitioning.md (LIST by
//! `id_source`, the foreign keys to `id_synthese` gone): an initial load, a differential that
//! updates, moves and deletes, an initial load with index rebuilds, and the policies of
//! protect_restricted() give what they give on the table as GeoNature has it.

use pgrx::prelude::*;
use sinp_bench::{DiffOptions, SynthOptions};

use super::{count, disabled_managed_triggers, load_bytes, setup_target, text};

const PARTITIONING_MD: &str = include_str!("../../docs/partitioning.md");

/// The SQL of the `n`-th ```sql block of docs/partitioning.md.
fn recipe(n: usize) -> String {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in PARTITIONING_MD.lines() {
        match (&mut current, line) {
            (None, "```sql") => current = Some(String::new()),
            (Some(_), l) if l.starts_with("```") => blocks.push(current.take().unwrap()),
            (Some(block), l) => {
                block.push_str(l);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks.swap_remove(n)
}

fn base() -> SynthOptions {
    SynthOptions {
        rows: 400,
        ..SynthOptions::default()
    }
}

fn initial_archive() -> Vec<u8> {
    sinp_bench::synthetic_archive_bytes(&base())
}

fn differential_archive() -> Vec<u8> {
    let diff = DiffOptions {
        updates: 60,
        deletes: 25,
        inserts: 15,
        ..DiffOptions::default()
    };
    let mut out = std::io::Cursor::new(Vec::new());
    sinp_bench::write_diff_archive(&base(), &diff, &mut out).unwrap();
    out.into_inner()
}

/// What the loads wrote, by keys (ids differ from one run to the next): the observations with
/// their values, their area links by area code, their observer links by user UUID, and how many
/// rows each link table, the validations and the deletion log hold (orphan links would show).
fn written() -> String {
    text(
        "SELECT concat_ws(' ',
           (SELECT count(*) || ':' || md5(string_agg(concat_ws('|', s.unique_id_sinp, s.id_source, s.nom_cite,
                   s.count_min, s.count_max, s.date_min, s.date_max, s.observers, n.cd_nomenclature,
                   public.ST_AsEWKT(s.the_geom_local), s.meta_update_date), ',' ORDER BY s.unique_id_sinp))
              FROM gn_synthese.synthese AS s
              LEFT JOIN ref_nomenclatures.t_nomenclatures AS n ON n.id_nomenclature = s.id_nomenclature_sensitivity),
           (SELECT count(*) || ':' || md5(string_agg(s.unique_id_sinp::text || a.area_code, ',' ORDER BY s.unique_id_sinp, a.area_code))
              FROM gn_synthese.cor_area_synthese AS c JOIN gn_synthese.synthese AS s USING (id_synthese)
              JOIN ref_geo.l_areas AS a USING (id_area)),
           (SELECT count(*) FROM gn_synthese.cor_area_synthese),
           (SELECT count(*) || ':' || md5(string_agg(s.unique_id_sinp::text || r.uuid_role::text, ',' ORDER BY s.unique_id_sinp, r.uuid_role))
              FROM gn_synthese.cor_observer_synthese AS c JOIN gn_synthese.synthese AS s USING (id_synthese)
              JOIN utilisateurs.t_roles AS r USING (id_role)),
           (SELECT count(*) FROM gn_synthese.cor_observer_synthese),
           (SELECT count(*) FROM gn_commons.t_validations),
           (SELECT count(*) FROM gn_synthese.t_log_synthese WHERE last_action = 'D'))",
    )
    .unwrap()
}

/// The observations and what follows them gone, and the journal (the same archives are loaded
/// again); the metadata stays (a reload finds it unchanged).
fn empty_observations() {
    Spi::run(
        "TRUNCATE gn_synthese.synthese, gn_synthese.cor_area_synthese,
                  gn_synthese.cor_observer_synthese, gn_synthese.t_log_synthese, gn_commons.t_validations;
         DELETE FROM sinp_import.imports;",
    )
    .unwrap();
}

/// (initial, after the differential) as written by loads of the two archives.
fn load_both() -> (String, String) {
    let first = load_bytes(
        &initial_archive(),
        "2020-08-26_sinp_paca_part.zip",
        "strict",
        false,
    );
    assert!(first.iter().all(|r| r.0 == "applied"), "{first:?}");
    let initial = written();
    let second = load_bytes(
        &differential_archive(),
        "2020-09-15_sinp_paca_part.zip",
        "strict",
        false,
    );
    assert!(second.iter().all(|r| r.0 == "applied"), "{second:?}");
    let synthese = second.iter().find(|r| r.1 == "synthese").unwrap();
    assert_eq!(
        (synthese.2, synthese.3, synthese.4),
        (15, 60, 25),
        "{second:?}"
    );
    assert_eq!(disabled_managed_triggers(), 0);
    (initial, written())
}

#[pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn a_synthese_partitioned_by_source_is_loaded_as_the_plain_one() {
        setup_target();
        // What the loads write on the synthese as GeoNature has it.
        let (plain_initial, plain_differential) = load_both();
        assert_ne!(plain_initial, plain_differential);
        empty_observations();

        Spi::run(&recipe(0)).unwrap();
        Spi::run(&recipe(1)).unwrap();
        assert_eq!(
            text("SELECT relkind::text FROM pg_class WHERE oid = 'gn_synthese.synthese'::regclass"),
            Some("p".into())
        );
        // Its triggers, foreign keys and checks came across; the keys to id_synthese went.
        assert_eq!(
            count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'gn_synthese.synthese'::regclass AND NOT tgisinternal"),
            6
        );
        assert!(count("SELECT count(*) FROM pg_constraint WHERE conrelid = 'gn_synthese.synthese'::regclass AND contype = 'f'") >= 25);
        assert!(count("SELECT count(*) FROM pg_constraint WHERE conrelid = 'gn_synthese.synthese'::regclass AND contype = 'c'") >= 18);
        assert_eq!(
            count("SELECT count(*) FROM pg_constraint WHERE confrelid = 'gn_synthese.synthese'::regclass"),
            0
        );

        let (initial, differential) = load_both();
        assert_eq!(initial, plain_initial, "initial load");
        assert_eq!(differential, plain_differential, "differential load");
        // The rows are in the source's own partition.
        assert_eq!(
            text(
                "SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM gn_synthese.synthese"
            ),
            text("SELECT 'gn_synthese.synthese_source_' || min(id_source) FROM gn_synthese.t_sources")
        );

        // An initial load that doubles the table, its indexes set aside and built again, on
        // every partition.
        empty_observations();
        let indexes =
            "SELECT count(*) FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
                        WHERE i.indisvalid AND i.indrelid IN (
                              SELECT 'gn_synthese.synthese'::regclass
                              UNION ALL SELECT inhrelid FROM pg_inherits
                               WHERE inhparent = 'gn_synthese.synthese'::regclass)";
        let before = count(indexes);
        let on_table = count(
            "SELECT count(*) FROM pg_index WHERE indrelid = 'gn_synthese.synthese'::regclass",
        );
        assert!(on_table >= 10, "{on_table}");
        assert_eq!(
            before,
            3 * on_table,
            "the table's indexes on each of its 2 partitions"
        );
        let cd_nom_index = "SELECT oid::text FROM pg_class WHERE relname IN ('i_synthese_cd_nom', 'synthese_other_sources_cd_nom_idx')";
        let index_oids = text(&format!(
            "SELECT string_agg(oid, ',') FROM ({cd_nom_index}) AS i(oid)"
        ));
        Spi::run("SET LOCAL sinp_import.rebuild_indexes = on").unwrap();
        let rebuilt = load_bytes(
            &initial_archive(),
            "2020-08-26_sinp_paca_part.zip",
            "strict",
            false,
        );
        assert!(rebuilt.iter().all(|r| r.0 == "applied"), "{rebuilt:?}");
        assert_eq!(written(), plain_initial, "initial load with index rebuilds");
        assert_eq!(count(indexes), before);
        assert_eq!(
            text("SELECT pg_get_indexdef('gn_synthese.i_synthese_cd_nom'::regclass)"),
            Some(
                "CREATE INDEX i_synthese_cd_nom ON ONLY gn_synthese.synthese USING btree (cd_nom)"
                    .into()
            )
        );
        // Built again: new indexes, the partitions' under PostgreSQL's names.
        assert_ne!(
            text(&format!(
                "SELECT string_agg(oid, ',') FROM ({cd_nom_index}) AS i(oid)"
            )),
            index_oids
        );
        assert_eq!(
            count("SELECT count(*) FROM pg_index WHERE indexrelid::regclass::text LIKE 'gn_synthese.synthese_source_%_cd_nom_idx'"),
            1
        );

        // The policies: a public role sees the unrestricted observations only, through the table
        // and through a partition it was granted.
        Spi::run(
            "CREATE ROLE sinp_part_public;
             GRANT USAGE ON SCHEMA gn_synthese, ref_nomenclatures TO sinp_part_public;
             GRANT SELECT ON ALL TABLES IN SCHEMA gn_synthese, ref_nomenclatures TO sinp_part_public;
             SELECT sinp_import.protect_restricted(ARRAY['sinp_part_public']::regrole[]);",
        )
        .unwrap();
        let condition = Spi::get_one::<String>("SELECT sinp_import.restricted_condition('s')")
            .unwrap()
            .unwrap();
        let unrestricted = count(&format!(
            "SELECT count(*) FROM gn_synthese.synthese AS s WHERE NOT {condition}"
        ));
        let total = count("SELECT count(*) FROM gn_synthese.synthese");
        assert!(
            unrestricted > 0 && unrestricted < total,
            "{unrestricted} of {total}"
        );
        let partition = text(
            "SELECT 'gn_synthese.synthese_source_' || min(id_source) FROM gn_synthese.t_sources",
        )
        .unwrap();
        let open_links = count(&format!(
            "SELECT count(*) FROM gn_synthese.cor_area_synthese AS c
               JOIN gn_synthese.synthese AS s USING (id_synthese) WHERE NOT {condition}"
        ));
        assert!(open_links < count("SELECT count(*) FROM gn_synthese.cor_area_synthese"));
        Spi::run("SET LOCAL ROLE sinp_part_public").unwrap();
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.synthese"),
            unrestricted
        );
        assert_eq!(
            count("SELECT count(*) FROM gn_synthese.cor_area_synthese"),
            open_links
        );
        assert_eq!(
            count(&format!("SELECT count(*) FROM {partition}")),
            unrestricted
        );
        Spi::run("RESET ROLE").unwrap();
    }
}
