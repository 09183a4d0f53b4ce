//! Fills the resolver's maps from the database (one query per map, once per entity file).

use std::collections::{HashMap, HashSet};

use pgrx::prelude::*;

use super::spi_error;
use crate::error::{LoadError, LoadResult};
use crate::validate::resolve::{KeyedIds, Resolver};

/// Rows of (uuid as text, legacy name, id).
fn keyed_ids(query: &str) -> LoadResult<KeyedIds> {
    Spi::connect(|client| {
        let mut ids = KeyedIds::default();
        for row in client.select(query, None, &[]).map_err(spi_error)? {
            let uuid: Option<String> = row.get(1).map_err(spi_error)?;
            let name: Option<String> = row.get(2).map_err(spi_error)?;
            let Some(id): Option<i32> = row.get(3).map_err(spi_error)? else {
                continue;
            };
            if let Some(u) = uuid.and_then(|u| uuid::Uuid::try_parse(&u).ok()) {
                ids.by_uuid.insert(u, id);
            }
            if let Some(n) = name {
                ids.by_name.entry(n).or_insert(id);
            }
        }
        Ok(ids)
    })
}

/// Nomenclature codes and the synthese defaults: loaded once per load.
pub fn load_nomenclatures(resolver: &mut Resolver) -> LoadResult<()> {
    Spi::connect(|client| {
        let mut codes: HashMap<String, HashMap<String, i32>> = HashMap::new();
        let rows = client
            .select(
                "SELECT t.mnemonique::text, n.cd_nomenclature::text, n.id_nomenclature
                   FROM ref_nomenclatures.t_nomenclatures AS n
                   JOIN ref_nomenclatures.bib_nomenclatures_types AS t USING (id_type)",
                None,
                &[],
            )
            .map_err(spi_error)?;
        for row in rows {
            let (Some(t), Some(code), Some(id)) = (
                row.get::<String>(1).map_err(spi_error)?,
                row.get::<String>(2).map_err(spi_error)?,
                row.get::<i32>(3).map_err(spi_error)?,
            ) else {
                continue;
            };
            codes.entry(t).or_default().insert(code, id);
        }
        resolver.nomenclatures = codes;
        let mut defaults = HashMap::new();
        // GeoNature's defaults may depend on organism, kingdom and group: the generic row (0) wins.
        let rows = client
            .select(
                "SELECT mnemonique_type::text, id_nomenclature
                   FROM gn_synthese.defaults_nomenclatures_value
                  ORDER BY (id_organism = 0 AND regne = '0' AND group2_inpn = '0') DESC",
                None,
                &[],
            )
            .map_err(spi_error)?;
        for row in rows {
            if let (Some(t), Some(id)) = (
                row.get::<String>(1).map_err(spi_error)?,
                row.get::<i32>(2).map_err(spi_error)?,
            ) {
                defaults.entry(t).or_insert(id);
            }
        }
        resolver.synthese_defaults = defaults;
        Ok(())
    })
}

/// Sources, organisms, users, frameworks and datasets as they are now in the database (which
/// includes what this load has already written).
pub fn refresh_links(resolver: &mut Resolver) -> LoadResult<()> {
    resolver.sources =
        keyed_ids("SELECT NULL::text, name_source::text, id_source FROM gn_synthese.t_sources")?;
    resolver.organisms = keyed_ids(
        "SELECT uuid_organisme::text, nom_organisme::text, id_organisme FROM utilisateurs.bib_organismes",
    )?;
    resolver.organism_uuids_by_name = Spi::connect(|client| {
        let mut map = HashMap::new();
        let rows = client
            .select(
                "SELECT nom_organisme::text, uuid_organisme::text FROM utilisateurs.bib_organismes",
                None,
                &[],
            )
            .map_err(spi_error)?;
        for row in rows {
            if let (Some(name), Some(id)) = (
                row.get::<String>(1).map_err(spi_error)?,
                row.get::<String>(2).map_err(spi_error)?,
            ) {
                if let Ok(id) = uuid::Uuid::try_parse(&id) {
                    map.insert(name, id);
                }
            }
        }
        Ok::<_, LoadError>(map)
    })?;
    resolver.users =
        keyed_ids("SELECT uuid_role::text, identifiant::text, id_role FROM utilisateurs.t_roles")?;
    resolver.acquisition_frameworks = keyed_ids(
        "SELECT unique_acquisition_framework_id::text, acquisition_framework_name::text, id_acquisition_framework
           FROM gn_meta.t_acquisition_frameworks",
    )?;
    resolver.datasets = keyed_ids(
        "SELECT unique_dataset_id::text, dataset_shortname::text, id_dataset FROM gn_meta.t_datasets",
    )?;
    Ok(())
}

/// The real columns of a target table (TARGET.md: versions of GeoNature differ).
pub fn table_columns(qualified_table: &str) -> LoadResult<Option<HashSet<String>>> {
    let exists = Spi::get_one_with_args::<bool>(
        "SELECT to_regclass($1) IS NOT NULL",
        &[qualified_table.into()],
    )
    .map_err(spi_error)?
    .unwrap_or(false);
    if !exists {
        return Ok(None);
    }
    Spi::connect(|client| {
        let rows = client
            .select(
                "SELECT attname::text FROM pg_attribute
                  WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped",
                None,
                &[qualified_table.into()],
            )
            .map_err(spi_error)?;
        let mut columns = HashSet::new();
        for row in rows {
            if let Some(name) = row.get::<String>(1).map_err(spi_error)? {
                columns.insert(name);
            }
        }
        Ok(Some(columns))
    })
}
