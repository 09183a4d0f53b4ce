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
/// exported ids: all of them as I rows (a full export), or the I and U rows of a differential
/// with their action.
pub fn rows_query(entity: &Entity, target_columns: &HashSet<String>, differential: bool) -> String {
    let mut columns = Vec::new();
    let mut joins = Vec::new();
    for (i, f) in entity.fields.iter().enumerate() {
        match f.target_column() {
            Some(c) if !target_columns.contains(c) => columns.push("NULL::text".to_string()),
            _ if differential && matches!(f.role, Role::Action(_)) => {
                columns.push("e.action".to_string())
            }
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
            (
                "written",
                if differential {
                    " AND e.action <> 'D'"
                } else {
                    ""
                },
            ),
        ],
    )
}

/// The D rows of a differential, as records of the entity's file: the key (and an observation's
/// code_source and source_id), 'D', NULL elsewhere; `statement` is "deleted rows" or "withdrawn
/// rows" (sql/export.sql).
pub fn deleted_query(entity: &Entity, statement_name: &str) -> String {
    let columns: Vec<&str> = entity
        .fields
        .iter()
        .map(|f| match f.role {
            Role::Key(_) => "d.key",
            Role::Action(_) => "'D'",
            _ if entity.name == "synthese" && f.name == "code_source" => "d.code_source",
            _ if entity.name == "synthese" && f.name == "source_id" => "d.source_id",
            _ => "NULL::text",
        })
        .collect();
    render(
        statement(statement_name),
        &[
            ("columns", &columns.join(", ")),
            ("table", &entity.qualified_table()),
            ("key", &ident(entity.key_column())),
        ],
    )
}

/// A differential's TEMP table of an entity's exported ids and actions (sql/export.sql,
/// "differential ..."), built from its scope (the full export's table, renamed).
pub fn differential_statement(entity: &Entity, restricted: &str) -> String {
    if entity.name == "synthese" {
        return render(
            statement("differential synthese"),
            &[("restricted", restricted)],
        );
    }
    render(
        statement("differential"),
        &[
            ("exported", &exported_table(entity)),
            ("scope", &scope_table(entity)),
            ("table", &entity.qualified_table()),
            ("id", &ident(entity.id_column)),
            ("key", &ident(entity.key_column())),
            ("named", statement(&format!("named {}", entity.name))),
        ],
    )
}

/// The full export's TEMP table of an entity's ids, renamed so for a differential.
pub fn scope_table(entity: &Entity) -> String {
    format!("sinp_scope_{}", entity.name)
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
            let all: HashSet<String> = all.map(str::to_string).collect();
            for differential in [false, true] {
                let query = rows_query(entity, &all, differential);
                assert!(!query.contains('{'), "{}: {query}", entity.name);
                assert_eq!(query.contains("e.action"), differential, "{query}");
            }
            assert_eq!(header(entity).len(), entity.fields.len());
            for name in ["deleted rows", "withdrawn rows"] {
                let query = deleted_query(entity, name);
                assert!(!query.contains('{'), "{}: {query}", entity.name);
                assert!(
                    query.contains("\nSELECT ") && query.contains("'D'"),
                    "{query}"
                );
            }
            let differential = differential_statement(entity, "false");
            assert!(
                !differential.contains('{'),
                "{}: {differential}",
                entity.name
            );
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
        let deleted = deleted_query(&SYNTHESE, "deleted rows");
        let record = deleted.lines().find(|l| l.starts_with("SELECT")).unwrap();
        assert!(record.starts_with("SELECT d.key, "), "{record}");
        assert_eq!(record.matches("d.code_source").count(), 1, "{record}");
        assert_eq!(record.matches("d.source_id").count(), 1, "{record}");
        assert_eq!(record.matches("'D'").count(), 1, "{record}");
        assert_eq!(ident("Odd \"name\""), "\"Odd \"\"name\"\"\"");
    }
}
