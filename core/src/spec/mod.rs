//! The per-entity field tables: one declarative description of each archive file (FORMAT.md §5,
//! TARGET.md). Parsing, validation, staging and merging are all driven by these tables; nothing
//! else in the code base lists an entity's fields.

pub mod staging;

/// How a field's text is parsed (FORMAT.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Uuid,
    Int,
    Real,
    Bool,
    Date,
    /// `YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]` (a date alone means midnight)
    DateTime,
    /// At most n characters.
    Varchar(usize),
    Text,
    /// A JSON object (`additional_data`).
    JsonObject,
    /// A JSON array (`cor_publications`).
    JsonArray,
    /// `{"a","b"}` or `["a","b"]`
    TextArray,
    /// `{{"a","b"},{"c","d"}}` or `[["a","b"]]`
    TextArray2,
    /// `I`, `U` or `D`
    Action,
    /// EWKT, hex EWKB, or WKT without SRID
    Geometry,
}

/// Entities another field can point to. The resolver knows how to find each one's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// `t_sources.name_source`
    Source,
    /// organism `unique_id` (legacy: name)
    Organism,
    /// user `unique_id` (for actors: also the identifier)
    User,
    /// AF `unique_id` (legacy: name)
    AcquisitionFramework,
    /// dataset `unique_id` (legacy: shortname)
    Dataset,
}

/// Link tables filled from array fields, replaced wholesale when their entity is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRows {
    /// `{"code",...}` of a nomenclature type → (entity id, id_nomenclature)
    Nomenclatures(&'static str),
    /// `{{"org uuid","ROLE_ACTEUR code"},...}`
    OrganismActors,
    /// `{{"user identifier or uuid","ROLE_ACTEUR code"},...}`
    UserActors,
    /// `{{"TERRITOIRE code","description"},...}`
    Territories,
    /// JSON array of {reference, url, uuid}
    Publications,
}

/// What a field becomes in the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Stored as parsed in the target column.
    Column(&'static str),
    /// The entity's key, stored in this column (FORMAT.md §5).
    Key(&'static str),
    /// `cd_nomenclature` of the type, stored as `id_nomenclature`; `default` is the code used when
    /// the value is NULL (None: the synthese defaults table, or NULL).
    Nomenclature {
        column: &'static str,
        nomenclature_type: &'static str,
        default: Option<&'static str>,
    },
    /// A link resolved to the id of another entity.
    Link {
        column: &'static str,
        kind: LinkKind,
    },
    /// The AF's parent: resolved set-based after all AFs of the file are written (any order).
    ParentLink(&'static str),
    /// `TYPE.CODE` of a `ref_geo.l_areas` row, resolved set-based.
    AreaAttachment(&'static str),
    /// The observation geometry → the_geom_local / the_geom_4326 / the_geom_point.
    Geometry,
    /// Free text stored in the column; its `[uuid]`s link the row to users.
    Observers(&'static str),
    /// The JSON object merged with the extra columns into this column.
    AdditionalData(&'static str),
    /// Rows of a link table.
    LinkRows(LinkRows),
    /// A format field without a target column: kept in additional_data as text.
    Extra,
    /// `meta_create_date`: stored in the column, `now()` when empty.
    CreateDate(&'static str),
    /// `meta_update_date`: stored in the column, `now()` when empty; the version of the row.
    UpdateDate(&'static str),
    /// `meta_last_action`; stored in the column when the target has one.
    Action(Option<&'static str>),
}

/// When a field must have a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Required {
    No,
    /// Required on I and U rows.
    Yes,
    /// The column must be present but the value may be an empty string (never NULL).
    NotNull,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub ty: FieldType,
    pub required: Required,
    pub role: Role,
    /// The value a NULL of an I or U row takes, read as if the file had it: the format's default
    /// (`user.enable`: true) or the target column's (`additional_data`: `{}`), which an INSERT of
    /// the NULL would not apply.
    pub default: Option<&'static str>,
}

impl Field {
    /// The target column this field writes directly, if any.
    pub fn target_column(&self) -> Option<&'static str> {
        match self.role {
            Role::Column(c)
            | Role::Key(c)
            | Role::Nomenclature { column: c, .. }
            | Role::Link { column: c, .. }
            | Role::Observers(c)
            | Role::AdditionalData(c)
            | Role::CreateDate(c)
            | Role::UpdateDate(c)
            | Role::Action(Some(c)) => Some(c),
            Role::ParentLink(c) | Role::AreaAttachment(c) => Some(c),
            Role::Geometry | Role::LinkRows(_) | Role::Extra | Role::Action(None) => None,
        }
    }

    const fn defaulting_to(self, value: &'static str) -> Field {
        Field {
            default: Some(value),
            ..self
        }
    }
}

/// A check across fields of one row (FORMAT.md §5, synthese specifics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `min <= max` when both are given.
    Order {
        min: &'static str,
        max: &'static str,
        code: &'static str,
    },
    /// At least one of the fields has a value (I and U rows).
    OneOf {
        fields: &'static [&'static str],
        code: &'static str,
    },
    /// The value is not after the load's date.
    NotFuture {
        field: &'static str,
        code: &'static str,
    },
}

/// One archive file and its target.
#[derive(Debug)]
pub struct Entity {
    /// Entity name used in results and the journal (`synthese`, `dataset`...).
    pub name: &'static str,
    /// Archive member name.
    pub file: &'static str,
    pub schema: &'static str,
    pub table: &'static str,
    /// Serial primary key of the target.
    pub id_column: &'static str,
    pub fields: &'static [Field],
    /// Legacy header names → format 1.0 names (FORMAT.md §3).
    pub aliases: &'static [(&'static str, &'static str)],
    pub checks: &'static [Check],
    /// Target columns computed by the entity's `source` statement in sql/merge.sql.
    pub derived_columns: &'static [&'static str],
    /// How other entities link to this one, and the field of its legacy key (name, shortname...).
    pub linked_as: Option<(LinkKind, &'static str)>,
}

impl Entity {
    pub fn qualified_table(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn key_field(&self) -> &'static Field {
        self.fields
            .iter()
            .find(|f| matches!(f.role, Role::Key(_)))
            .expect("every entity has a key field")
    }

    pub fn key_column(&self) -> &'static str {
        match self.key_field().role {
            Role::Key(c) => c,
            _ => unreachable!(),
        }
    }

    /// The format name for a header name, applying the legacy aliases.
    pub fn canonical_name<'a>(&self, header: &'a str) -> &'a str {
        for (alias, name) in self.aliases {
            if *alias == header {
                return name;
            }
        }
        header
    }

    pub fn update_date_column(&self) -> Option<&'static str> {
        self.fields.iter().find_map(|f| match f.role {
            Role::UpdateDate(c) => Some(c),
            _ => None,
        })
    }

    pub fn additional_data_column(&self) -> Option<&'static str> {
        self.fields.iter().find_map(|f| match f.role {
            Role::AdditionalData(c) => Some(c),
            _ => None,
        })
    }
}

use FieldType::*;
use Required::{No, NotNull, Yes};

const fn f(name: &'static str, ty: FieldType, required: Required, role: Role) -> Field {
    Field {
        name,
        ty,
        required,
        role,
        default: None,
    }
}

const fn col(name: &'static str, ty: FieldType, column: &'static str) -> Field {
    f(name, ty, No, Role::Column(column))
}

const fn nomenclature(
    name: &'static str,
    column: &'static str,
    nomenclature_type: &'static str,
    default: Option<&'static str>,
) -> Field {
    f(
        name,
        Varchar(25),
        No,
        Role::Nomenclature {
            column,
            nomenclature_type,
            default,
        },
    )
}

/// The three meta fields every file ends with.
macro_rules! meta_fields {
    ($create:expr, $update:expr, $action:expr) => {
        [
            f("meta_create_date", DateTime, No, Role::CreateDate($create)),
            f("meta_update_date", DateTime, No, Role::UpdateDate($update)),
            f("meta_last_action", Action, Yes, Role::Action($action)),
        ]
    };
}

const COMMON_ALIASES: &[(&str, &str)] = &[
    ("last_action", "meta_last_action"),
    ("adress", "address"),
    ("unique_id_sinp", "unique_id"),
    ("bbox_est", "bbox_east"),
];

pub static SOURCE: Entity = Entity {
    name: "source",
    file: "source.csv",
    schema: "gn_synthese",
    table: "t_sources",
    id_column: "id_source",
    fields: &{
        let m = meta_fields!("meta_create_date", "meta_update_date", None);
        [
            f("name", Varchar(255), Yes, Role::Key("name_source")),
            col("desc", Text, "desc_source"),
            col(
                "entity_source_pk_field",
                Varchar(255),
                "entity_source_pk_field",
            ),
            col("url", Varchar(255), "url_source"),
            f(
                "additional_data",
                JsonObject,
                No,
                Role::AdditionalData("additional_data"),
            ),
            m[0],
            m[1],
            m[2],
        ]
    },
    aliases: COMMON_ALIASES,
    checks: &[],
    derived_columns: &[],
    linked_as: Some((LinkKind::Source, "name")),
};

pub static ORGANISM: Entity = Entity {
    name: "organism",
    file: "organism.csv",
    schema: "utilisateurs",
    table: "bib_organismes",
    id_column: "id_organisme",
    fields: &{
        let m = meta_fields!("meta_create_date", "meta_update_date", None);
        [
            f("unique_id", Uuid, No, Role::Key("uuid_organisme")),
            f("name", Varchar(100), Yes, Role::Column("nom_organisme")),
            col("address", Varchar(128), "adresse_organisme"),
            col("postal_code", Varchar(5), "cp_organisme"),
            col("city", Varchar(100), "ville_organisme"),
            col("phone", Varchar(14), "tel_organisme"),
            col("fax", Varchar(14), "fax_organisme"),
            col("email", Varchar(100), "email_organisme"),
            col("url", Varchar(255), "url_organisme"),
            col("logo_url", Varchar(255), "url_logo"),
            f(
                "additional_data",
                JsonObject,
                No,
                Role::AdditionalData("additional_data"),
            )
            .defaulting_to("{}"),
            m[0],
            m[1],
            m[2],
        ]
    },
    aliases: COMMON_ALIASES,
    checks: &[],
    derived_columns: &[],
    linked_as: Some((LinkKind::Organism, "name")),
};

pub static USER: Entity = Entity {
    name: "user",
    file: "user.csv",
    schema: "utilisateurs",
    table: "t_roles",
    id_column: "id_role",
    fields: &{
        let m = meta_fields!("date_insert", "date_update", None);
        [
            f("unique_id", Uuid, Yes, Role::Key("uuid_role")),
            f("identifier", Varchar(100), Yes, Role::Column("identifiant")),
            col("firstname", Varchar(50), "prenom_role"),
            f("name", Varchar(50), Yes, Role::Column("nom_role")),
            col("email", Varchar(250), "email"),
            f(
                "code_organism",
                Varchar(100),
                No,
                Role::Link {
                    column: "id_organisme",
                    kind: LinkKind::Organism,
                },
            ),
            col("comment", Text, "remarques"),
            col("enable", Bool, "active").defaulting_to("true"),
            f(
                "additional_data",
                JsonObject,
                No,
                Role::AdditionalData("champs_addi"),
            ),
            m[0],
            m[1],
            m[2],
        ]
    },
    aliases: COMMON_ALIASES,
    checks: &[],
    derived_columns: &[],
    linked_as: Some((LinkKind::User, "identifier")),
};

pub static ACQUISITION_FRAMEWORK: Entity = Entity {
    name: "acquisition_framework",
    file: "acquisition_framework.csv",
    schema: "gn_meta",
    table: "t_acquisition_frameworks",
    id_column: "id_acquisition_framework",
    fields: &{
        let m = meta_fields!("meta_create_date", "meta_update_date", None);
        [
            f(
                "unique_id",
                Uuid,
                Yes,
                Role::Key("unique_acquisition_framework_id"),
            ),
            f(
                "name",
                Varchar(255),
                Yes,
                Role::Column("acquisition_framework_name"),
            ),
            f(
                "desc",
                Text,
                Yes,
                Role::Column("acquisition_framework_desc"),
            ),
            nomenclature(
                "code_nomenclature_territorial_level",
                "id_nomenclature_territorial_level",
                "NIVEAU_TERRITORIAL",
                None,
            ),
            col("territory_desc", Text, "territory_desc"),
            col("keywords", Text, "keywords"),
            nomenclature(
                "code_nomenclature_financing_type",
                "id_nomenclature_financing_type",
                "TYPE_FINANCEMENT",
                None,
            ),
            col("target_description", Text, "target_description"),
            col(
                "ecologic_or_geologic_target",
                Text,
                "ecologic_or_geologic_target",
            ),
            f(
                "parent_code",
                Varchar(255),
                No,
                Role::ParentLink("acquisition_framework_parent_id"),
            ),
            col("is_parent", Bool, "is_parent"),
            f(
                "start_date",
                Date,
                Yes,
                Role::Column("acquisition_framework_start_date"),
            ),
            col("end_date", Date, "acquisition_framework_end_date"),
            f(
                "cor_objectifs",
                TextArray,
                No,
                Role::LinkRows(LinkRows::Nomenclatures("CA_OBJECTIFS")),
            ),
            f(
                "cor_voletsinp",
                TextArray,
                No,
                Role::LinkRows(LinkRows::Nomenclatures("VOLET_SINP")),
            ),
            f(
                "cor_actors_organism",
                TextArray2,
                No,
                Role::LinkRows(LinkRows::OrganismActors),
            ),
            f(
                "cor_actors_user",
                TextArray2,
                No,
                Role::LinkRows(LinkRows::UserActors),
            ),
            f(
                "cor_publications",
                JsonArray,
                No,
                Role::LinkRows(LinkRows::Publications),
            ),
            f(
                "additional_data",
                JsonObject,
                No,
                Role::AdditionalData("additional_data"),
            )
            .defaulting_to("{}"),
            m[0],
            m[1],
            m[2],
        ]
    },
    aliases: COMMON_ALIASES,
    checks: &[],
    derived_columns: &[],
    linked_as: Some((LinkKind::AcquisitionFramework, "name")),
};

pub static DATASET: Entity = Entity {
    name: "dataset",
    file: "dataset.csv",
    schema: "gn_meta",
    table: "t_datasets",
    id_column: "id_dataset",
    fields: &{
        let m = meta_fields!("meta_create_date", "meta_update_date", None);
        [
            f("unique_id", Uuid, Yes, Role::Key("unique_dataset_id")),
            f(
                "code_acquisition_framework",
                Varchar(255),
                Yes,
                Role::Link {
                    column: "id_acquisition_framework",
                    kind: LinkKind::AcquisitionFramework,
                },
            ),
            f("name", Varchar(150), Yes, Role::Column("dataset_name")),
            f(
                "shortname",
                Varchar(30),
                Yes,
                Role::Column("dataset_shortname"),
            ),
            f("desc", Text, Yes, Role::Column("dataset_desc")),
            nomenclature(
                "code_nomenclature_data_type",
                "id_nomenclature_data_type",
                "DATA_TYP",
                Some("1"),
            ),
            col("keywords", Text, "keywords"),
            f("marine_domain", Bool, Yes, Role::Column("marine_domain")),
            f(
                "terrestrial_domain",
                Bool,
                Yes,
                Role::Column("terrestrial_domain"),
            ),
            nomenclature(
                "code_nomenclature_dataset_objectif",
                "id_nomenclature_dataset_objectif",
                "JDD_OBJECTIFS",
                Some("1.1"),
            ),
            col("bbox_west", Real, "bbox_west"),
            col("bbox_east", Real, "bbox_east"),
            col("bbox_south", Real, "bbox_south"),
            col("bbox_north", Real, "bbox_north"),
            nomenclature(
                "code_nomenclature_collecting_method",
                "id_nomenclature_collecting_method",
                "METHO_RECUEIL",
                Some("1"),
            ),
            nomenclature(
                "code_nomenclature_data_origin",
                "id_nomenclature_data_origin",
                "DS_PUBLIQUE",
                Some("NSP"),
            ),
            nomenclature(
                "code_nomenclature_source_status",
                "id_nomenclature_source_status",
                "STATUT_SOURCE",
                Some("NSP"),
            ),
            nomenclature(
                "code_nomenclature_resource_type",
                "id_nomenclature_resource_type",
                "RESOURCE_TYP",
                Some("1"),
            ),
            f(
                "cor_territory",
                TextArray2,
                No,
                Role::LinkRows(LinkRows::Territories),
            ),
            f(
                "cor_actors_organism",
                TextArray2,
                No,
                Role::LinkRows(LinkRows::OrganismActors),
            ),
            f(
                "cor_actors_user",
                TextArray2,
                No,
                Role::LinkRows(LinkRows::UserActors),
            ),
            f(
                "additional_data",
                JsonObject,
                No,
                Role::AdditionalData("additional_data"),
            )
            .defaulting_to("{}"),
            m[0],
            m[1],
            m[2],
        ]
    },
    aliases: COMMON_ALIASES,
    checks: &[],
    derived_columns: &[],
    linked_as: Some((LinkKind::Dataset, "shortname")),
};

macro_rules! synthese_nomenclature {
    ($suffix:literal, $type:literal) => {
        nomenclature(
            concat!("code_nomenclature_", $suffix),
            concat!("id_nomenclature_", $suffix),
            $type,
            None,
        )
    };
}

pub static SYNTHESE: Entity = Entity {
    name: "synthese",
    file: "synthese.csv",
    schema: "gn_synthese",
    table: "synthese",
    id_column: "id_synthese",
    fields: &{
        let m = meta_fields!("meta_create_date", "meta_update_date", Some("last_action"));
        [
            f("unique_id_sinp", Uuid, No, Role::Key("unique_id_sinp")),
            col("unique_id_sinp_grp", Uuid, "unique_id_sinp_grp"),
            col("source_id", Varchar(25), "entity_source_pk_value"),
            f("source_id_grp", Varchar(25), No, Role::Extra),
            f(
                "code_source",
                Varchar(255),
                Yes,
                Role::Link {
                    column: "id_source",
                    kind: LinkKind::Source,
                },
            ),
            f(
                "code_dataset",
                Varchar(255),
                Yes,
                Role::Link {
                    column: "id_dataset",
                    kind: LinkKind::Dataset,
                },
            ),
            synthese_nomenclature!("geo_object_nature", "NAT_OBJ_GEO"),
            synthese_nomenclature!("grp_typ", "TYP_GRP"),
            col("grp_method", Varchar(255), "grp_method"),
            synthese_nomenclature!("obs_technique", "METH_OBS"),
            synthese_nomenclature!("bio_status", "STATUT_BIO"),
            synthese_nomenclature!("bio_condition", "ETA_BIO"),
            synthese_nomenclature!("naturalness", "NATURALITE"),
            synthese_nomenclature!("exist_proof", "PREUVE_EXIST"),
            synthese_nomenclature!("valid_status", "STATUT_VALID"),
            synthese_nomenclature!("diffusion_level", "NIV_PRECIS"),
            synthese_nomenclature!("life_stage", "STADE_VIE"),
            synthese_nomenclature!("sex", "SEXE"),
            synthese_nomenclature!("obj_count", "OBJ_DENBR"),
            synthese_nomenclature!("type_count", "TYP_DENBR"),
            synthese_nomenclature!("sensitivity", "SENSIBILITE"),
            synthese_nomenclature!("observation_status", "STATUT_OBS"),
            synthese_nomenclature!("blurring", "DEE_FLOU"),
            synthese_nomenclature!("source_status", "STATUT_SOURCE"),
            synthese_nomenclature!("info_geo_type", "TYP_INF_GEO"),
            synthese_nomenclature!("behaviour", "OCC_COMPORTEMENT"),
            synthese_nomenclature!("biogeo_status", "STAT_BIOGEO"),
            synthese_nomenclature!("determination_method", "METH_DETERMIN"),
            col("reference_biblio", Varchar(255), "reference_biblio"),
            col("count_min", Int, "count_min"),
            col("count_max", Int, "count_max"),
            f("cd_nom", Int, Yes, Role::Column("cd_nom")),
            col("cd_hab", Int, "cd_hab"),
            f("nom_cite", Varchar(1000), NotNull, Role::Column("nom_cite")),
            col("digital_proof", Text, "digital_proof"),
            col("non_digital_proof", Text, "non_digital_proof"),
            col("altitude_min", Int, "altitude_min"),
            col("altitude_max", Int, "altitude_max"),
            col("depth_min", Int, "depth_min"),
            col("depth_max", Int, "depth_max"),
            col("place_name", Varchar(500), "place_name"),
            f("geom", Geometry, No, Role::Geometry),
            col("precision", Int, "precision"),
            f(
                "code_area_attachment",
                Varchar(25),
                No,
                Role::AreaAttachment("id_area_attachment"),
            ),
            f("date_min", DateTime, Yes, Role::Column("date_min")),
            f("date_max", DateTime, Yes, Role::Column("date_max")),
            col("validator", Varchar(1000), "validator"),
            col("validation_comment", Text, "validation_comment"),
            col("validation_date", DateTime, "meta_validation_date"),
            f("observers", Varchar(1000), No, Role::Observers("observers")),
            col("determiner", Varchar(1000), "determiner"),
            f("determination_date", DateTime, No, Role::Extra),
            f(
                "code_digitiser",
                Varchar(50),
                No,
                Role::Link {
                    column: "id_digitiser",
                    kind: LinkKind::User,
                },
            ),
            col("comment_context", Text, "comment_context"),
            col("comment_description", Text, "comment_description"),
            f(
                "additional_data",
                JsonObject,
                No,
                Role::AdditionalData("additional_data"),
            ),
            m[0],
            m[1],
            m[2],
        ]
    },
    aliases: &[
        ("last_action", "meta_last_action"),
        ("entity_source_pk_value", "source_id"),
        ("determiners", "determiner"),
        (
            "code_nomenclature_obs_meth",
            "code_nomenclature_obs_technique",
        ),
        ("meta_validation_date", "validation_date"),
        ("geom_local", "geom"),
        ("unique_id", "unique_id_sinp"),
    ],
    checks: &[
        Check::Order {
            min: "date_min",
            max: "date_max",
            code: "DATE_MIN_SUP_DATE_MAX",
        },
        Check::NotFuture {
            field: "date_min",
            code: "DATE_MIN_TOO_HIGH",
        },
        Check::Order {
            min: "count_min",
            max: "count_max",
            code: "COUNT_MIN_SUP_COUNT_MAX",
        },
        Check::Order {
            min: "altitude_min",
            max: "altitude_max",
            code: "ALTI_MIN_SUP_ALTI_MAX",
        },
        Check::Order {
            min: "depth_min",
            max: "depth_max",
            code: "DEPTH_MIN_SUP_ALTI_MAX",
        },
        Check::OneOf {
            fields: &["geom", "code_area_attachment"],
            code: "MISSING_GEOM",
        },
    ],
    derived_columns: &[
        "the_geom_local",
        "the_geom_4326",
        "the_geom_point",
        "id_area_attachment",
        "meta_v_taxref",
    ],
    linked_as: None,
};

/// The entities in the order their I and U rows are applied (FORMAT.md §7); deletes go in reverse.
pub static ENTITIES: [&Entity; 6] = [
    &SOURCE,
    &ORGANISM,
    &USER,
    &ACQUISITION_FRAMEWORK,
    &DATASET,
    &SYNTHESE,
];

pub fn entity_by_file(file: &str) -> Option<&'static Entity> {
    ENTITIES.iter().copied().find(|e| e.file == file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// FORMAT.md §5: (field suffix, nomenclature type); obs_technique is METH_OBS.
    const SYNTHESE_NOMENCLATURES: [(&str, &str); 21] = [
        ("geo_object_nature", "NAT_OBJ_GEO"),
        ("grp_typ", "TYP_GRP"),
        ("obs_technique", "METH_OBS"),
        ("bio_status", "STATUT_BIO"),
        ("bio_condition", "ETA_BIO"),
        ("naturalness", "NATURALITE"),
        ("exist_proof", "PREUVE_EXIST"),
        ("valid_status", "STATUT_VALID"),
        ("diffusion_level", "NIV_PRECIS"),
        ("life_stage", "STADE_VIE"),
        ("sex", "SEXE"),
        ("obj_count", "OBJ_DENBR"),
        ("type_count", "TYP_DENBR"),
        ("sensitivity", "SENSIBILITE"),
        ("observation_status", "STATUT_OBS"),
        ("blurring", "DEE_FLOU"),
        ("source_status", "STATUT_SOURCE"),
        ("info_geo_type", "TYP_INF_GEO"),
        ("behaviour", "OCC_COMPORTEMENT"),
        ("biogeo_status", "STAT_BIOGEO"),
        ("determination_method", "METH_DETERMIN"),
    ];

    #[test]
    fn every_entity_has_one_key_unique_field_names_and_the_meta_fields() {
        for e in ENTITIES {
            let keys = e
                .fields
                .iter()
                .filter(|f| matches!(f.role, Role::Key(_)))
                .count();
            assert_eq!(keys, 1, "{}", e.name);
            let names: HashSet<_> = e.fields.iter().map(|f| f.name).collect();
            assert_eq!(names.len(), e.fields.len(), "{}", e.name);
            for meta in ["meta_create_date", "meta_update_date", "meta_last_action"] {
                assert!(names.contains(meta), "{} lacks {meta}", e.name);
            }
            let columns: Vec<_> = e.fields.iter().filter_map(|f| f.target_column()).collect();
            let unique: HashSet<_> = columns.iter().collect();
            assert_eq!(
                unique.len(),
                columns.len(),
                "{} writes a column twice",
                e.name
            );
        }
    }

    #[test]
    fn synthese_has_the_21_nomenclatures_and_obs_technique_is_meth_obs() {
        let nomenclatures: Vec<_> = SYNTHESE
            .fields
            .iter()
            .filter_map(|f| match f.role {
                Role::Nomenclature {
                    column,
                    nomenclature_type,
                    ..
                } => Some((column, nomenclature_type)),
                _ => None,
            })
            .collect();
        assert_eq!(nomenclatures.len(), 21);
        for (suffix, ty) in SYNTHESE_NOMENCLATURES {
            let column = format!("id_nomenclature_{suffix}");
            assert!(
                nomenclatures.contains(&(column.as_str(), ty)),
                "{column} {ty}"
            );
        }
        assert!(nomenclatures.contains(&("id_nomenclature_obs_technique", "METH_OBS")));
    }

    #[test]
    fn aliases_map_legacy_headers() {
        assert_eq!(
            SYNTHESE.canonical_name("entity_source_pk_value"),
            "source_id"
        );
        assert_eq!(
            SYNTHESE.canonical_name("code_nomenclature_obs_meth"),
            "code_nomenclature_obs_technique"
        );
        assert_eq!(DATASET.canonical_name("unique_id_sinp"), "unique_id");
        assert_eq!(DATASET.canonical_name("bbox_est"), "bbox_east");
        assert_eq!(ORGANISM.canonical_name("adress"), "address");
        assert_eq!(SYNTHESE.canonical_name("nom_cite"), "nom_cite");
    }

    #[test]
    fn entities_are_found_by_file_name_in_processing_order() {
        let order: Vec<_> = ENTITIES.iter().map(|e| e.name).collect();
        assert_eq!(
            order,
            [
                "source",
                "organism",
                "user",
                "acquisition_framework",
                "dataset",
                "synthese"
            ]
        );
        assert_eq!(entity_by_file("dataset.csv").unwrap().table, "t_datasets");
        assert!(entity_by_file("other.csv").is_none());
    }
}
