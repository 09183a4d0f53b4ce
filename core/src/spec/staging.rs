//! The staging table of an entity, derived from its field table: one typed column per stored value,
//! plus the bookkeeping columns (`_line`, `_action`) and the values resolved set-based in SQL.

use super::{Entity, FieldType, Role};

/// A column of the staging table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedColumn {
    pub name: String,
    pub sql_type: &'static str,
    /// The target column that takes this value unchanged, if any.
    pub target: Option<&'static str>,
}

/// Where a field's values go in the staging row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FieldSlots {
    pub primary: Option<usize>,
    /// Observers: the `[uuid]`s; area attachment: the area code (primary holds the type).
    pub secondary: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct StagingLayout {
    pub columns: Vec<StagedColumn>,
    /// Parallel to `entity.fields`.
    pub slots: Vec<FieldSlots>,
}

pub const LINE_SLOT: usize = 0;
pub const ACTION_SLOT: usize = 1;

pub fn sql_type(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Uuid => "uuid",
        FieldType::Int => "integer",
        FieldType::Real => "double precision",
        FieldType::Bool => "boolean",
        FieldType::Date => "date",
        FieldType::DateTime => "timestamp",
        FieldType::Varchar(_) | FieldType::Text => "text",
        FieldType::JsonObject | FieldType::JsonArray => "jsonb",
        FieldType::TextArray | FieldType::TextArray2 => "jsonb",
        FieldType::Action => "char(1)",
        FieldType::Geometry => "public.geometry",
    }
}

impl StagingLayout {
    pub fn for_entity(entity: &Entity) -> StagingLayout {
        let mut columns = vec![
            StagedColumn {
                name: "_line".into(),
                sql_type: "bigint",
                target: None,
            },
            StagedColumn {
                name: "_action".into(),
                sql_type: "char(1)",
                target: None,
            },
        ];
        let mut push = |name: String, sql_type: &'static str, target: Option<&'static str>| {
            columns.push(StagedColumn {
                name,
                sql_type,
                target,
            });
            Some(columns.len() - 1)
        };
        let mut slots = Vec::with_capacity(entity.fields.len());
        for field in entity.fields {
            let slot = match field.role {
                Role::Column(c) | Role::Key(c) | Role::CreateDate(c) | Role::UpdateDate(c) => {
                    FieldSlots {
                        primary: push(c.into(), sql_type(field.ty), Some(c)),
                        secondary: None,
                    }
                }
                Role::Nomenclature { column, .. } | Role::Link { column, .. } => FieldSlots {
                    primary: push(column.into(), "integer", Some(column)),
                    secondary: None,
                },
                Role::AdditionalData(c) => FieldSlots {
                    primary: push(c.into(), "jsonb", Some(c)),
                    secondary: None,
                },
                Role::Observers(c) => FieldSlots {
                    primary: push(c.into(), "text", Some(c)),
                    secondary: push("_observer_uuids".into(), "uuid[]", None),
                },
                Role::ParentLink(_) => FieldSlots {
                    primary: push("_parent_code".into(), "text", None),
                    secondary: None,
                },
                Role::AreaAttachment(_) => FieldSlots {
                    primary: push("_area_type".into(), "text", None),
                    secondary: push("_area_code".into(), "text", None),
                },
                Role::Geometry => FieldSlots {
                    primary: push("_geom".into(), "public.geometry", None),
                    secondary: None,
                },
                Role::LinkRows(_) => FieldSlots {
                    primary: push(format!("_{}", field.name), "jsonb", None),
                    secondary: None,
                },
                Role::Extra | Role::Action(_) => FieldSlots::default(),
            };
            slots.push(slot);
        }
        StagingLayout { columns, slots }
    }

    /// Every column: what a load stages.
    pub fn all_columns(&self) -> Vec<usize> {
        (0..self.columns.len()).collect()
    }

    /// The columns named in `names` or read by the SQL texts (as identifiers), plus `_line` and
    /// `_action`: what a validation stages. Its other values are checked in Rust and never read
    /// from the table, so they are not written to it.
    pub fn columns_read_by(&self, names: &[&str], sql: &[&str]) -> Vec<usize> {
        let identifiers: std::collections::HashSet<&str> = sql
            .iter()
            .flat_map(|text| text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
            .collect();
        self.columns
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                [LINE_SLOT, ACTION_SLOT].contains(i)
                    || names.contains(&c.name.as_str())
                    || identifiers.contains(c.name.as_str())
            })
            .map(|(i, _)| i)
            .collect()
    }

    pub fn column_names(&self, columns: &[usize]) -> Vec<&str> {
        columns
            .iter()
            .map(|&i| self.columns[i].name.as_str())
            .collect()
    }

    /// `CREATE TEMP TABLE` statement for these columns of the layout.
    pub fn create_table_sql(&self, table: &str, columns: &[usize]) -> String {
        let columns: Vec<String> = columns
            .iter()
            .map(|&i| &self.columns[i])
            .map(|c| format!("{} {}", quote_ident(&c.name), c.sql_type))
            .collect();
        // _exists: the key is already in the target (set by sql/merge.sql's classify).
        format!(
            "CREATE TEMP TABLE {table} ({}, _exists boolean NOT NULL DEFAULT false) WITH (autovacuum_enabled = off)",
            columns.join(", ")
        )
    }
}

/// Appends `value` escaped for COPY's text format (backslash, tab, LF, CR).
pub fn escape_copy_text(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Quotes an SQL identifier when it needs it (`desc` is a keyword, for instance).
pub fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    const RESERVED: [&str; 6] = ["desc", "user", "order", "group", "precision", "end"];
    if plain && !RESERVED.contains(&name) {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ENTITIES, SYNTHESE};

    #[test]
    fn every_field_with_a_stored_value_has_a_slot() {
        for e in ENTITIES {
            let layout = StagingLayout::for_entity(e);
            assert_eq!(layout.slots.len(), e.fields.len());
            assert_eq!(layout.columns[LINE_SLOT].name, "_line");
            assert_eq!(layout.columns[ACTION_SLOT].name, "_action");
            for (field, slot) in e.fields.iter().zip(&layout.slots) {
                let stored = !matches!(field.role, Role::Extra | Role::Action(_));
                assert_eq!(slot.primary.is_some(), stored, "{}.{}", e.name, field.name);
            }
            let names = layout.column_names(&layout.all_columns());
            let unique: std::collections::HashSet<_> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "{}", e.name);
        }
    }

    #[test]
    fn synthese_staging_has_geometry_area_and_observer_columns() {
        let layout = StagingLayout::for_entity(&SYNTHESE);
        let names = layout.column_names(&layout.all_columns());
        for c in [
            "_geom",
            "_area_type",
            "_area_code",
            "_observer_uuids",
            "unique_id_sinp",
            "id_nomenclature_obs_technique",
            "precision",
        ] {
            assert!(names.contains(&c), "{c}");
        }
        let sql = layout.create_table_sql("pg_temp.t", &layout.all_columns());
        assert!(sql.contains("\"precision\" integer"), "{sql}");
        assert!(sql.contains("date_min timestamp"), "{sql}");
    }

    #[test]
    fn a_validation_stages_only_the_columns_its_checks_read() {
        let layout = StagingLayout::for_entity(&SYNTHESE);
        let columns = layout.columns_read_by(
            &["unique_id_sinp"],
            &["SELECT s._line, s.cd_nom::text FROM {stage} AS s WHERE s._geom IS NOT NULL"],
        );
        assert_eq!(
            layout.column_names(&columns),
            ["_line", "_action", "unique_id_sinp", "cd_nom", "_geom"]
        );
        // A name inside a longer identifier is not a read.
        let columns = layout.columns_read_by(&[], &["SELECT s.cd_nom_x, s._geometry"]);
        assert_eq!(layout.column_names(&columns), ["_line", "_action"]);
        let sql = layout.create_table_sql("pg_temp.t", &columns);
        assert!(
            sql.starts_with("CREATE TEMP TABLE pg_temp.t (_line bigint, _action char(1), _exists"),
            "{sql}"
        );
    }

    #[test]
    fn copy_text_escapes_backslash_and_control_characters() {
        let mut out = String::new();
        escape_copy_text("a\\b\tc\nd\re", &mut out);
        assert_eq!(out, "a\\\\b\\tc\\nd\\re");
    }

    #[test]
    fn identifiers_are_quoted_only_when_needed() {
        assert_eq!(quote_ident("name_source"), "name_source");
        assert_eq!(quote_ident("desc"), "\"desc\"");
        assert_eq!(quote_ident("Odd\"Name"), "\"Odd\"\"Name\"");
    }
}
