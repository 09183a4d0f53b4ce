//! The description of additional fields (FORMAT.md §6): `meta_additional_data.csv` (alias
//! `additional_data.csv`), one row per field a provider adds to its records' `additional_data`.
//! Read with the archive's TSV dialect; stored by the load in sinp_import.additional_fields.

use std::io::Read;

use serde::Serialize;

use crate::error::Problem;
use crate::tsv::{decode_field, field_count_mismatch, TsvReader};

/// The entities a described field can belong to (`resource`).
pub const RESOURCES: [&str; 6] = [
    "synthese",
    "source",
    "dataset",
    "acquisition_framework",
    "organism",
    "user",
];

/// `type`: quantitative, qualitative, unknown (ne sait pas).
pub const FIELD_TYPES: [&str; 3] = ["QTA", "QUAL", "NSP"];

/// A column of the file: its name, the other names it is accepted under, whether it is required,
/// and the values it may take (normalised to the case of the list), if they are closed.
struct Column {
    name: &'static str,
    aliases: &'static [&'static str],
    required: bool,
    allowed: Option<(&'static [&'static str], &'static str)>,
}

const COLUMNS: [Column; 6] = [
    Column {
        name: "resource",
        aliases: &["ressource"],
        required: true,
        allowed: Some((&RESOURCES, "INVALID_RESOURCE")),
    },
    Column {
        name: "name",
        aliases: &[],
        required: true,
        allowed: None,
    },
    Column {
        name: "desc",
        aliases: &["description"],
        required: false,
        allowed: None,
    },
    Column {
        name: "keyword",
        aliases: &[],
        required: false,
        allowed: None,
    },
    Column {
        name: "type",
        aliases: &[],
        required: false,
        allowed: Some((&FIELD_TYPES, "INVALID_FIELD_TYPE")),
    },
    Column {
        name: "unity",
        aliases: &["unit"],
        required: false,
        allowed: None,
    },
];

/// One described field, as stored (the names of sinp_import.additional_fields' columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdditionalField {
    pub resource: String,
    pub name: String,
    pub description: Option<String>,
    pub keyword: Option<String>,
    pub field_type: Option<String>,
    pub unity: Option<String>,
    /// Line of the file, for the journal.
    #[serde(skip)]
    pub line: u64,
}

/// Reads the file: the valid descriptions, and a problem (with line, column and raw record) for
/// every row set aside.
pub fn parse_additional_fields(
    file: &str,
    input: impl Read,
) -> (Vec<AdditionalField>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut reader = match TsvReader::new(file, input) {
        Ok(reader) => reader,
        Err(problem) => return (Vec::new(), vec![problem]),
    };
    // Position of each column of COLUMNS in the header.
    let mut positions: [Option<usize>; COLUMNS.len()] = [None; COLUMNS.len()];
    for (position, header) in reader.header().iter().enumerate() {
        let lower = header.to_lowercase();
        let Some(c) = COLUMNS
            .iter()
            .position(|c| c.name == lower || c.aliases.contains(&lower.as_str()))
        else {
            problems.push(
                Problem::warning(
                    file,
                    "UNKNOWN_COLUMN",
                    format!("column \"{header}\" is not part of the description of additional fields; ignored"),
                )
                .at_line(1)
                .in_column(header),
            );
            continue;
        };
        if positions[c].is_some() {
            problems.push(
                Problem::error(
                    file,
                    "HEADER_SAME_COLUMN_NAME",
                    format!(
                        "column \"{}\" appears more than once in the header",
                        COLUMNS[c].name
                    ),
                )
                .at_line(1)
                .in_column(header),
            );
            continue;
        }
        positions[c] = Some(position);
    }
    for (column, position) in COLUMNS.iter().zip(positions) {
        if column.required && position.is_none() {
            problems.push(
                Problem::error(
                    file,
                    "MISSING_COLUMN",
                    format!(
                        "required column \"{}\" is missing from the header",
                        column.name
                    ),
                )
                .at_line(1)
                .in_column(column.name),
            );
        }
    }
    if problems.iter().any(Problem::is_error) {
        return (Vec::new(), problems);
    }

    let header_len = reader.header().len();
    let mut fields: Vec<AdditionalField> = Vec::new();
    loop {
        match reader.next_record() {
            Ok(true) => {}
            Ok(false) => break,
            Err(problem) => {
                problems.push(problem);
                break;
            }
        }
        let line = reader.line();
        let raw = reader.raw_record();
        let row_problem = |code, message: String, column: &str| {
            Problem::error(file, code, message)
                .at_line(line)
                .in_column(column)
                .with_raw_record(raw.clone())
        };
        if let Some((code, message)) = field_count_mismatch(reader.field_count(), header_len) {
            problems.push(
                Problem::error(file, code, message)
                    .at_line(line)
                    .with_raw_record(raw.clone()),
            );
            continue;
        }
        let mut values: [Option<String>; COLUMNS.len()] = Default::default();
        let mut valid = true;
        for (c, column) in COLUMNS.iter().enumerate() {
            let Some(position) = positions[c] else {
                continue;
            };
            let value = match decode_field(reader.raw_field(position)) {
                Ok(value) => value
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty()),
                Err(e) => {
                    problems.push(row_problem(
                        "ENCODING_ERROR",
                        e.message().to_string(),
                        column.name,
                    ));
                    valid = false;
                    continue;
                }
            };
            let value = match (value, column.allowed) {
                (None, _) if column.required => {
                    problems.push(row_problem(
                        "MISSING_VALUE",
                        format!("\"{}\" must have a value", column.name),
                        column.name,
                    ));
                    valid = false;
                    continue;
                }
                (Some(v), Some((allowed, code))) => {
                    match allowed.iter().find(|a| a.eq_ignore_ascii_case(&v)) {
                        Some(a) => Some(a.to_string()),
                        None => {
                            problems.push(
                                row_problem(
                                    code,
                                    format!("must be one of {}", allowed.join(", ")),
                                    column.name,
                                )
                                .with_value(&v),
                            );
                            valid = false;
                            continue;
                        }
                    }
                }
                (value, _) => value,
            };
            values[c] = value;
        }
        if !valid {
            continue;
        }
        let [resource, name, description, keyword, field_type, unity] = values;
        let field = AdditionalField {
            resource: resource.unwrap_or_default(),
            name: name.unwrap_or_default(),
            description,
            keyword,
            field_type,
            unity,
            line,
        };
        if let Some(first) = fields
            .iter()
            .find(|f| f.resource == field.resource && f.name == field.name)
        {
            problems.push(
                row_problem(
                    "DUPLICATE_ADDITIONAL_FIELD",
                    format!(
                        "field \"{}\" of {} is already described on line {}",
                        field.name, field.resource, first.line
                    ),
                    "name",
                )
                .with_value(&field.name),
            );
            continue;
        }
        fields.push(field);
    }
    (fields, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "meta_additional_data.csv";

    fn codes(problems: &[Problem]) -> Vec<(&str, Option<u64>, Option<&str>)> {
        problems
            .iter()
            .map(|p| (p.code, p.line, p.column.as_deref()))
            .collect()
    }

    #[test]
    fn descriptions_are_read_with_the_archive_dialect() {
        let text = "resource\tname\tdesc\tkeyword\ttype\tunity\n\
                    synthese\tnb_nids\tNombre de nids\\tobservés\tnid\tQTA\tnid\n\
                    Dataset\tprotocole\t\"Protocole \"\"STOC\"\"\"\t\\N\tqual\t\\N\n";
        let (fields, problems) = parse_additional_fields(FILE, text.as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(fields.len(), 2);
        assert_eq!(
            fields[0].description.as_deref(),
            Some("Nombre de nids\tobservés")
        );
        assert_eq!(fields[0].field_type.as_deref(), Some("QTA"));
        assert_eq!(fields[1].resource, "dataset");
        assert_eq!(fields[1].description.as_deref(), Some("Protocole \"STOC\""));
        assert_eq!(fields[1].keyword, None);
        assert_eq!(fields[1].field_type.as_deref(), Some("QUAL"));
        assert_eq!(fields[1].line, 3);
    }

    #[test]
    fn bad_rows_are_set_aside_with_line_column_and_raw_record() {
        let text = "resource\tname\ttype\tcolour\n\
                    synthese\tnb\tQTA\tred\n\
                    taxon\tx\tQTA\tred\n\
                    synthese\t\\N\tQTA\tred\n\
                    synthese\ty\tnumber\tred\n\
                    synthese\tnb\tQUAL\tred\n\
                    synthese\tz\n";
        let (fields, problems) = parse_additional_fields(FILE, text.as_bytes());
        assert_eq!(
            fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
            ["nb"]
        );
        assert_eq!(
            codes(&problems),
            vec![
                ("UNKNOWN_COLUMN", Some(1), Some("colour")),
                ("INVALID_RESOURCE", Some(3), Some("resource")),
                ("MISSING_VALUE", Some(4), Some("name")),
                ("INVALID_FIELD_TYPE", Some(5), Some("type")),
                ("DUPLICATE_ADDITIONAL_FIELD", Some(6), Some("name")),
                ("ROW_HAVE_LESS_COLUMN", Some(7), None),
            ]
        );
        assert!(problems[0].raw_record.is_none());
        assert_eq!(
            problems[1].raw_record.as_deref(),
            Some("taxon\tx\tQTA\tred")
        );
        assert_eq!(problems[3].value.as_deref(), Some("number"));
        assert!(problems[4].message.contains("line 2"));
    }

    #[test]
    fn an_unusable_header_sets_the_whole_file_aside() {
        let (fields, problems) =
            parse_additional_fields(FILE, &b"name\tdesc\tdesc\nnb\ta\tb\n"[..]);
        assert!(fields.is_empty());
        assert_eq!(
            codes(&problems),
            vec![
                ("HEADER_SAME_COLUMN_NAME", Some(1), Some("desc")),
                ("MISSING_COLUMN", Some(1), Some("resource")),
            ]
        );
        let (_, problems) = parse_additional_fields(FILE, &b""[..]);
        assert_eq!(problems[0].code, "EMPTY_FILE");
    }
}
