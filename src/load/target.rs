//! sinp_import.create_target_schema(): the GeoNature-compatible subset of sql/target_schema.sql,
//! seeded with the SINP nomenclatures shipped in data/nomenclatures.

use pgrx::prelude::*;

use super::copy::{copy_into, relation_oid, RowSource};
use super::spi_error;
use crate::error::{LoadError, LoadResult};
use crate::spec::staging::escape_copy_text;
use crate::tsv::{decode_field, TsvReader};

/// sql/target_schema.sql, target_functions.sql and target_seeds.sql, run as one script.
static TARGET_SQL: &str = concat!(
    include_str!("../../sql/target_schema.sql"),
    include_str!("../../sql/target_functions.sql"),
    include_str!("../../sql/target_seeds.sql"),
);

/// (seed table, TSV content): the script inserts from these TEMP tables.
static SEEDS: [(&str, &str); 3] = [
    (
        "sinp_seed_nomenclature_types",
        include_str!("../../data/nomenclatures/nomenclature_types.tsv"),
    ),
    (
        "sinp_seed_nomenclatures",
        include_str!("../../data/nomenclatures/nomenclatures.tsv"),
    ),
    (
        "sinp_seed_synthese_defaults",
        include_str!("../../data/nomenclatures/synthese_defaults.tsv"),
    ),
];

/// The records of a seed TSV as COPY text rows.
struct SeedRows<'a> {
    tsv: TsvReader<&'a [u8]>,
}

impl RowSource for SeedRows<'_> {
    fn fill(&mut self, out: &mut Vec<u8>) -> bool {
        if !self.tsv.next_record().unwrap_or(false) {
            return false;
        }
        let mut row = String::new();
        for i in 0..self.tsv.field_count() {
            if i > 0 {
                row.push('\t');
            }
            match decode_field(self.tsv.raw_field(i)) {
                Ok(Some(v)) => escape_copy_text(&v, &mut row),
                _ => row.push_str("\\N"),
            }
        }
        row.push('\n');
        out.extend_from_slice(row.as_bytes());
        true
    }
}

pub fn create_target_schema(local_srid: i32) -> LoadResult<String> {
    for (table, content) in SEEDS {
        let tsv = TsvReader::new(table, content.as_bytes())
            .map_err(|p| LoadError::internal(format!("seed {table}: {p}")))?;
        let columns: Vec<String> = tsv.header().to_vec();
        let definition: Vec<String> = columns.iter().map(|c| format!("{c} text")).collect();
        super::drop_temp_table(&format!("pg_temp.{table}"))?;
        Spi::run(&format!(
            "CREATE TEMP TABLE {table} ({})",
            definition.join(", ")
        ))
        .map_err(spi_error)?;
        let names: Vec<&str> = columns.iter().map(String::as_str).collect();
        copy_into(
            relation_oid(&format!("pg_temp.{table}")),
            &names,
            &mut SeedRows { tsv },
        );
    }
    Spi::run(&TARGET_SQL.replace("@LOCAL_SRID@", &local_srid.to_string())).map_err(spi_error)?;
    for (table, _) in SEEDS {
        super::drop_temp_table(&format!("pg_temp.{table}"))?;
    }
    let srid =
        Spi::get_one::<i32>("SELECT public.Find_SRID('gn_synthese', 'synthese', 'the_geom_local')")
            .map_err(spi_error)?
            .unwrap_or(local_srid);
    let nomenclatures =
        Spi::get_one::<i64>("SELECT count(*) FROM ref_nomenclatures.t_nomenclatures")
            .map_err(spi_error)?
            .unwrap_or(0);
    Ok(format!(
        "GeoNature-compatible target ready: local SRID {srid}, {nomenclatures} nomenclatures"
    ))
}
