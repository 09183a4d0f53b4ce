//! Codes and links resolved in Rust from maps loaded once per load (the load module fills them from
//! the database, after the archive's earlier entities have been written, so a link finds rows of
//! the same archive first and of the database otherwise).

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use super::{ValueError, ValueResult};
use crate::spec::LinkKind;

/// Ids of rows findable by a key, an optional legacy key, as loaded from the database.
#[derive(Debug, Default, Clone)]
pub struct KeyedIds {
    pub by_uuid: HashMap<Uuid, i32>,
    /// Legacy key: organism/AF name, dataset shortname, user identifier, source name.
    pub by_name: HashMap<String, i32>,
}

impl KeyedIds {
    /// A UUID is looked up by UUID; any other text by the legacy key.
    fn find(&self, text: &str) -> Option<i32> {
        match Uuid::try_parse(text.trim()) {
            Ok(id) if text.trim().len() == 36 => self.by_uuid.get(&id).copied(),
            _ => self.by_name.get(text).copied(),
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct Resolver {
    /// nomenclature type mnemonique → cd_nomenclature → id_nomenclature
    pub nomenclatures: HashMap<String, HashMap<String, i32>>,
    /// type mnemonique → id_nomenclature, from gn_synthese.defaults_nomenclatures_value
    pub synthese_defaults: HashMap<String, i32>,
    pub sources: KeyedIds,
    pub organisms: KeyedIds,
    /// Existing organisms by name, with their UUID (key fallback of organism rows without one).
    pub organism_uuids_by_name: HashMap<String, Uuid>,
    pub users: KeyedIds,
    pub acquisition_frameworks: KeyedIds,
    pub datasets: KeyedIds,
    /// Keys (lowercase) and legacy keys of rows this archive sent but that were rejected: a link
    /// to one of them is NO_PARENT_ENTITY, not "not found".
    pub rejected: HashMap<LinkKind, HashSet<String>>,
    /// Rows of this archive staged but not written (a validation): findable, with no real id.
    pub staged: HashMap<LinkKind, KeyedIds>,
}

/// The id given to links to staged-only rows (a validation writes nothing, so ids are unknown).
pub const STAGED_ONLY_ID: i32 = -1;

impl Resolver {
    pub fn nomenclature(&self, nomenclature_type: &str, code: &str) -> ValueResult<i32> {
        self.nomenclatures
            .get(nomenclature_type)
            .and_then(|codes| codes.get(code.trim()))
            .copied()
            .ok_or_else(|| {
                ValueError::new(
                    "INVALID_NOMENCLATURE",
                    format!("\"{code}\" is not a code of the nomenclature {nomenclature_type}"),
                )
            })
    }

    /// The id for a NULL code: the field's own default code, else the synthese default, else NULL.
    pub fn nomenclature_default(
        &self,
        nomenclature_type: &str,
        default_code: Option<&str>,
        synthese: bool,
    ) -> Option<i32> {
        match default_code {
            Some(code) => self.nomenclature(nomenclature_type, code).ok(),
            None if synthese => self.synthese_defaults.get(nomenclature_type).copied(),
            None => None,
        }
    }

    pub fn link(&self, kind: LinkKind, text: &str) -> ValueResult<i32> {
        let (ids, code, what) = match kind {
            LinkKind::Source => (&self.sources, "SOURCE_NOT_FOUND", "source"),
            LinkKind::Organism => (&self.organisms, "ORGANISM_NOT_FOUND", "organism"),
            LinkKind::User => (&self.users, "ID_DIGITISER_NOT_EXISTING", "user"),
            LinkKind::AcquisitionFramework => (
                &self.acquisition_frameworks,
                "ACQUISITION_FRAMEWORK_NOT_FOUND",
                "acquisition framework",
            ),
            LinkKind::Dataset => (&self.datasets, "DATASET_NOT_FOUND", "dataset"),
        };
        let staged = self.staged.get(&kind);
        let found = match kind {
            // A source is only ever named.
            LinkKind::Source => ids
                .by_name
                .get(text)
                .or_else(|| staged.and_then(|s| s.by_name.get(text)))
                .copied(),
            _ => ids.find(text).or_else(|| staged.and_then(|s| s.find(text))),
        };
        found.ok_or_else(|| {
            if self.was_rejected(kind, text) {
                ValueError::new(
                    "NO_PARENT_ENTITY",
                    format!("the {what} \"{text}\" of this archive was rejected, so this row is set aside too"),
                )
            } else {
                ValueError::new(
                    code,
                    format!("no {what} \"{text}\" in the archive or the database"),
                )
            }
        })
    }

    /// Makes a staged row findable by its key and legacy key.
    pub fn stage_key(&mut self, kind: LinkKind, key: Option<&str>, name: Option<&str>) {
        let ids = self.staged.entry(kind).or_default();
        if let Some(id) = key.and_then(|k| Uuid::try_parse(k).ok()) {
            ids.by_uuid.insert(id, STAGED_ONLY_ID);
        }
        if let Some(name) = name.or(if kind == LinkKind::Source { key } else { None }) {
            ids.by_name.insert(name.to_string(), STAGED_ONLY_ID);
        }
    }

    pub fn reject(&mut self, kind: LinkKind, key: &str) {
        self.rejected
            .entry(kind)
            .or_default()
            .insert(key.trim().to_lowercase());
    }

    fn was_rejected(&self, kind: LinkKind, text: &str) -> bool {
        self.rejected
            .get(&kind)
            .is_some_and(|keys| keys.contains(&text.trim().to_lowercase()))
    }

    /// An actor user: by UUID or identifier.
    pub fn actor_user(&self, text: &str) -> ValueResult<i32> {
        let staged = self.staged.get(&LinkKind::User);
        self.users
            .find(text)
            .or_else(|| staged.and_then(|s| s.find(text)))
            .ok_or_else(|| {
                ValueError::new(
                    "USER_NOT_FOUND",
                    format!(
                        "no user \"{text}\" (UUID or identifier) in the archive or the database"
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver() -> Resolver {
        let mut r = Resolver::default();
        r.nomenclatures
            .entry("SEXE".into())
            .or_default()
            .insert("2".into(), 42);
        r.synthese_defaults.insert("SEXE".into(), 46);
        let u = Uuid::parse_str("5a433bd0-1fc0-25d9-e053-2614a8c026f8").unwrap();
        r.datasets.by_uuid.insert(u, 7);
        r.datasets.by_name.insert("DFCP".into(), 8);
        r.sources.by_name.insert("CEN_PACA_EXPORT".into(), 1);
        r
    }

    #[test]
    fn nomenclature_codes_and_defaults() {
        let r = resolver();
        assert_eq!(r.nomenclature("SEXE", "2").unwrap(), 42);
        assert_eq!(
            r.nomenclature("SEXE", "9").unwrap_err().code,
            "INVALID_NOMENCLATURE"
        );
        assert_eq!(
            r.nomenclature("NOPE", "2").unwrap_err().code,
            "INVALID_NOMENCLATURE"
        );
        assert_eq!(r.nomenclature_default("SEXE", None, true), Some(46));
        assert_eq!(r.nomenclature_default("SEXE", None, false), None);
        assert_eq!(r.nomenclature_default("SEXE", Some("2"), false), Some(42));
    }

    #[test]
    fn links_to_rejected_rows_are_no_parent_entity() {
        let mut r = resolver();
        r.reject(LinkKind::Dataset, "DS-REJECTED");
        assert_eq!(
            r.link(LinkKind::Dataset, "ds-rejected").unwrap_err().code,
            "NO_PARENT_ENTITY"
        );
        assert_eq!(
            r.link(LinkKind::Dataset, "other").unwrap_err().code,
            "DATASET_NOT_FOUND"
        );
    }

    #[test]
    fn links_by_uuid_then_legacy_name() {
        let r = resolver();
        assert_eq!(
            r.link(LinkKind::Dataset, "5A433BD0-1FC0-25D9-E053-2614A8C026F8")
                .unwrap(),
            7
        );
        assert_eq!(r.link(LinkKind::Dataset, "DFCP").unwrap(), 8);
        assert_eq!(
            r.link(LinkKind::Dataset, "OTHER").unwrap_err().code,
            "DATASET_NOT_FOUND"
        );
        assert_eq!(r.link(LinkKind::Source, "CEN_PACA_EXPORT").unwrap(), 1);
        assert_eq!(
            r.link(LinkKind::User, "x").unwrap_err().code,
            "ID_DIGITISER_NOT_EXISTING"
        );
    }
}
