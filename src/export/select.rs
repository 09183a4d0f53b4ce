//! The SELECT of each exported file, built from the entity's field table: one text expression per
//! field of the format, in file order (sql/export.sql holds the pieces a DBA would read).

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::load::sql::{parse_named, render};
use crate::spec::{Entity, Field, FieldType, LinkKind, Role, ENTITIES};

static EXPORT_SQL: &str = include_str!("../../sql/export.sql");

/// The statement of sql/export.sql of that exact name.
pub fn statement(name: &str) -> &'static str {
    static PARSED: OnceLock<Vec<(String, String)>> = OnceLock::new();
    PARSED
        .get_or_init(|| parse_named(EXPORT_SQL))
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, body)| body.as_str())
        .unwrap_or_else(|| panic!("sql/export.sql has no statement {name}"))
}

/// An identifier quoted as PostgreSQL's quote_ident does (the field tables' names need none, but
/// nothing relies on it).
fn ident(name: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

fn linked_entity(kind: LinkKind) -> &'static Entity {
    ENTITIES
        .iter()
        .copied()
        .find(|e| matches!(e.linked_as, Some((k, _)) if k == kind))
        .expect("every link kind is an entity's")
}

/// A stored column as the text the loader reads back: dates with their microseconds, booleans as
/// true/false.
fn column_text(column: &str, ty: FieldType) -> String {
    let column = format!("t.{}", ident(column));
    match ty {
        FieldType::DateTime => format!("to_char({column}, 'YYYY-MM-DD HH24:MI:SS.US')"),
        FieldType::Date => format!("to_char({column}, 'YYYY-MM-DD')"),
        FieldType::Bool => {
            format!("CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END")
        }
        _ => format!("{column}::text"),
    }
}

/// The text expression of one field of an entity's rows (alias `t`), and the join it reads, if
/// any (aliased `alias`).
pub fn field_expression(entity: &Entity, field: &Field, alias: &str) -> (String, Option<String>) {
    let joined = |expression: &str, join: &str, vars: &[(&str, &str)]| {
        let mut all = vec![("alias", alias)];
        all.extend_from_slice(vars);
        (
            render(statement(expression), &all),
            Some(render(statement(join), &all)),
        )
    };
    match field.role {
        Role::Column(c)
        | Role::Key(c)
        | Role::Observers(c)
        | Role::AdditionalData(c)
        | Role::CreateDate(c)
        | Role::UpdateDate(c) => (column_text(c, field.ty), None),
        Role::Nomenclature { column, .. } => joined(
            "nomenclature",
            "nomenclature join",
            &[("column", &ident(column))],
        ),
        Role::Link { column, kind } => {
            let linked = linked_entity(kind);
            joined(
                "link",
                "link join",
                &[
                    ("key", &ident(linked.key_column())),
                    ("table", &linked.qualified_table()),
                    ("id", &ident(linked.id_column)),
                    ("column", &ident(column)),
                ],
            )
        }
        Role::ParentLink(column) => joined(
            "link",
            "link join",
            &[
                ("key", &ident(entity.key_column())),
                ("table", &entity.qualified_table()),
                ("id", &ident(entity.id_column)),
                ("column", &ident(column)),
            ],
        ),
        Role::AreaAttachment(column) => joined(
            "area attachment",
            "area attachment join",
            &[("column", &ident(column))],
        ),
        Role::Geometry => (statement("geometry").to_string(), None),
        Role::LinkRows(_) => (
            statement(&format!("link rows {} {}", entity.name, field.name)).to_string(),
            None,
        ),
        // Kept in additional_data by the loader, which goes out whole.
        Role::Extra => ("NULL::text".to_string(), None),
        // A full export: every row is new to its receiver.
        Role::Action(_) => ("'I'".to_string(), None),
    }
}

/// The SELECT of an entity's records, every field of the format in file order (NULL where the
/// target has no column for it: versions of GeoNature differ), of the rows in its TEMP table of
/// exported ids.
pub fn rows_query(entity: &Entity, target_columns: &HashSet<String>) -> String {
    let mut columns = Vec::new();
    let mut joins = Vec::new();
    for (i, f) in entity.fields.iter().enumerate() {
        match f.target_column() {
            Some(c) if !target_columns.contains(c) => columns.push("NULL::text".to_string()),
            _ => {
                let (expression, join) = field_expression(entity, f, &format!("j{i}"));
                columns.push(expression);
                joins.extend(join);
            }
        }
    }
    render(
        statement("rows"),
        &[
            ("columns", &columns.join(",\n       ")),
            ("table", &entity.qualified_table()),
            ("exported", &exported_table(entity)),
            ("id", &ident(entity.id_column)),
            ("joins", &joins.join("\n")),
        ],
    )
}

/// The TEMP table of the ids of an entity's rows that go out (sql/export.sql, "exported ...").
pub fn exported_table(entity: &Entity) -> String {
    if entity.name == "synthese" {
        "sinp_exported".to_string()
    } else {
        format!("sinp_exported_{}", entity.name)
    }
}

/// The header of an entity's file: the format's field names.
pub fn header(entity: &Entity) -> Vec<&'static str> {
    entity.fields.iter().map(|f| f.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ACQUISITION_FRAMEWORK, SYNTHESE, USER};

    #[test]
    fn every_field_of_every_entity_has_an_expression() {
        for entity in ENTITIES {
            let all = entity.fields.iter().filter_map(|f| f.target_column());
            let query = rows_query(entity, &all.map(str::to_string).collect());
            assert_eq!(header(entity).len(), entity.fields.len());
            assert!(!query.contains('{'), "{}: {query}", entity.name);
        }
    }

    #[test]
    fn fields_become_what_the_loader_reads() {
        let field = |e: &'static Entity, name| {
            let (expression, join) = field_expression(e, e.field(name).unwrap(), "j");
            format!("{expression} | {}", join.unwrap_or_default())
        };
        assert_eq!(
            field(&SYNTHESE, "date_min"),
            "to_char(t.date_min, 'YYYY-MM-DD HH24:MI:SS.US') | "
        );
        assert_eq!(
            field(&SYNTHESE, "code_dataset"),
            "j.unique_dataset_id::text | LEFT JOIN gn_meta.t_datasets AS j ON j.id_dataset = t.id_dataset"
        );
        assert!(field(&SYNTHESE, "code_source").starts_with("j.name_source::text | "));
        assert!(field(&SYNTHESE, "code_nomenclature_sex")
            .ends_with("ON j.id_nomenclature = t.id_nomenclature_sex"));
        assert!(field(&USER, "enable").starts_with("CASE WHEN t.active THEN 'true'"));
        assert!(field(&ACQUISITION_FRAMEWORK, "parent_code").ends_with(
            "LEFT JOIN gn_meta.t_acquisition_frameworks AS j ON j.id_acquisition_framework = t.acquisition_framework_parent_id"
        ));
        assert_eq!(field(&SYNTHESE, "meta_last_action"), "'I' | ");
        assert_eq!(ident("Odd \"name\""), "\"Odd \"\"name\"\"\"");
    }
}
