//! `meta_archive.ini` (FORMAT.md §2), read with rust-ini.

use crate::error::Problem;

use super::META_FILE;

/// The keys of format 1.0, required ones first.
const REQUIRED_KEYS: [&str; 2] = ["format_version", "export_date"];
const OPTIONAL_KEYS: [&str; 5] = [
    "taxref_version",
    "habref_version",
    "editor",
    "contact",
    "notes",
];
pub const SUPPORTED_FORMAT_VERSIONS: [&str; 1] = ["1.0"];

/// Every key = value of the file, in file order, plus the problems found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetaArchive {
    pub values: Vec<(String, String)>,
}

impl MetaArchive {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The values as a JSON object, for the journal.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.values
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                .collect(),
        )
    }
}

/// Parses the file; problems (errors and warnings) are returned beside the values.
pub fn parse_meta(text: &str) -> (MetaArchive, Vec<Problem>) {
    let mut problems = Vec::new();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Its values go to the journal's text and jsonb columns, which cannot hold U+0000: the file is
    // refused, and its NUL bytes journaled as U+FFFD.
    let cleaned;
    let text = match text.find('\0') {
        Some(at) => {
            let line = text[..at].matches('\n').count() as u64 + 1;
            problems.push(
                Problem::error(
                    META_FILE,
                    "ENCODING_ERROR",
                    "meta_archive.ini contains a NUL byte (0x00), which PostgreSQL text cannot store",
                )
                .at_line(line),
            );
            cleaned = text.replace('\0', "\u{FFFD}");
            cleaned.as_str()
        }
        None => text,
    };
    let options = ini::ParseOption {
        enabled_quote: true,
        enabled_escape: false,
        // Only a quoted value spans lines (FORMAT.md §2); an indented key is just a key.
        enabled_indented_mutiline_value: false,
        enabled_preserve_key_leading_whitespace: false,
    };
    let parsed = match ini::Ini::load_from_str_opt(text, options) {
        Ok(parsed) => parsed,
        Err(e) => {
            problems.push(
                Problem::error(
                    META_FILE,
                    "INVALID_INI",
                    format!("unreadable INI: {}", e.msg),
                )
                .at_line(e.line as u64),
            );
            return (MetaArchive::default(), problems);
        }
    };
    let mut meta = MetaArchive::default();
    for (section, properties) in parsed.iter() {
        for (key, value) in properties.iter() {
            let key = key.trim().to_string();
            let full_key = match section {
                Some(s) => format!("{s}.{key}"),
                None => key.clone(),
            };
            if !REQUIRED_KEYS.contains(&full_key.as_str())
                && !OPTIONAL_KEYS.contains(&full_key.as_str())
            {
                problems.push(
                    Problem::warning(
                        META_FILE,
                        "UNKNOWN_INI_KEY",
                        format!(
                            "key \"{full_key}\" is not part of format 1.0; kept in the journal"
                        ),
                    )
                    .in_column(&full_key),
                );
            }
            // Continuation lines of a multi-line value are indented for layout only.
            let value: Vec<&str> = value.trim().lines().map(str::trim_start).collect();
            meta.values.push((full_key, value.join("\n")));
        }
    }
    for key in REQUIRED_KEYS {
        if meta.get(key).is_none_or(str::is_empty) {
            problems.push(
                Problem::error(
                    META_FILE,
                    "MISSING_INI_KEY",
                    format!("required key \"{key}\" is missing"),
                )
                .in_column(key),
            );
        }
    }
    if let Some(version) = meta.get("format_version") {
        if !version.is_empty() && !SUPPORTED_FORMAT_VERSIONS.contains(&version) {
            problems.push(
                Problem::error(
                    META_FILE,
                    "UNSUPPORTED_FORMAT_VERSION",
                    format!("format version {version} is not supported (supported: 1.0)"),
                )
                .in_column("format_version")
                .with_value(version),
            );
        }
    }
    if let Some(date) = meta.get("export_date") {
        if !date.is_empty() && crate::validate::parse_datetime(date).is_err() {
            problems.push(
                Problem::error(
                    META_FILE,
                    "INVALID_DATE",
                    "export_date must be YYYY-MM-DD HH:MM",
                )
                .in_column("export_date")
                .with_value(date),
            );
        }
    }
    (meta, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_example_of_the_specification_with_a_multiline_note() {
        let text = "# archive made by hand\nformat_version = 1.0\n  export_date = 2020-08-27 10:15\ntaxref_version = 13\neditor = Conservatoire Botanique National Alpin\ncontact = jp.milcent@cbn-alpin.fr\nnotes = \"Données de test.\n    À utiliser seulement lors de la phase de conception.\"\n";
        let (meta, problems) = parse_meta(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(meta.get("format_version"), Some("1.0"));
        assert_eq!(meta.get("export_date"), Some("2020-08-27 10:15"));
        assert_eq!(meta.get("taxref_version"), Some("13"));
        assert_eq!(
            meta.get("notes"),
            Some("Données de test.\nÀ utiliser seulement lors de la phase de conception.")
        );
    }

    #[test]
    fn a_nul_byte_is_an_encoding_error_and_never_kept() {
        // A NUL went into the journal's text and jsonb columns, which refuse it (fuzzing).
        let (meta, problems) =
            parse_meta("format_version = 1.0\nexport_date = 2020-01-01 10:00\ned\0itor = a\0b\n");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(
            (problems[0].code, problems[0].line),
            ("ENCODING_ERROR", Some(3))
        );
        assert_eq!(problems[1].code, "UNKNOWN_INI_KEY");
        assert_eq!(meta.get("ed\u{FFFD}itor"), Some("a\u{FFFD}b"));
        assert!(!meta.to_json().to_string().contains("\\u0000"));
    }

    #[test]
    fn missing_keys_unknown_keys_and_versions_are_reported() {
        let (_, problems) = parse_meta("format_version = 2.0\ncolour = blue\n");
        let codes: Vec<_> = problems.iter().map(|p| p.code).collect();
        assert!(codes.contains(&"UNKNOWN_INI_KEY"));
        assert!(codes.contains(&"MISSING_INI_KEY"));
        assert!(codes.contains(&"UNSUPPORTED_FORMAT_VERSION"));
    }
}
