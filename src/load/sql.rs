//! The named SQL statements of `sql/merge.sql`, and the filling of their placeholders.

use std::sync::OnceLock;

static MERGE_SQL: &str = include_str!("../../sql/merge.sql");

/// (name, body) of every `-- name:` section, in file order.
fn statements() -> &'static [(String, String)] {
    static PARSED: OnceLock<Vec<(String, String)>> = OnceLock::new();
    PARSED.get_or_init(|| parse_named(MERGE_SQL))
}

pub fn parse_named(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("-- name:") {
            out.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    for (_, body) in &mut out {
        *body = body.trim().to_string();
    }
    out
}

/// The statement of that exact name.
pub fn statement(name: &str) -> Option<&'static str> {
    statements()
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, b)| b.as_str())
}

/// Statements whose name starts with `<kind> <entity>`, with the rest of their name split in words.
pub fn statements_for(kind: &str, entity: &str) -> Vec<(Vec<&'static str>, &'static str)> {
    statements()
        .iter()
        .filter_map(|(name, body)| {
            let mut words = name.split_whitespace();
            (words.next() == Some(kind) && words.next() == Some(entity))
                .then(|| (words.collect(), body.as_str()))
        })
        .collect()
}

/// Replaces each `{key}` of `vars` in the template (other braces are left alone).
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (key, value) in vars {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_statements_are_found_and_rendered() {
        assert!(statement("upsert").unwrap().contains("INSERT INTO {table}"));
        let checks = statements_for("check", "synthese");
        assert!(checks
            .iter()
            .any(|(words, _)| words == &["INVALID_ATTACHMENT_CODE", "code_area_attachment"]));
        let links = statements_for("links", "acquisition_framework");
        assert_eq!(links.len(), 5);
        assert_eq!(
            render("a {x} {y} {z}", &[("x", "1"), ("y", "2")]),
            "a 1 2 {z}"
        );
    }

    #[test]
    fn parse_named_splits_sections() {
        let parsed = parse_named("-- header\n-- name: a\nSELECT 1;\n\n-- name: b c\nSELECT 2;\n");
        assert_eq!(
            parsed,
            vec![
                ("a".to_string(), "SELECT 1;".to_string()),
                ("b c".to_string(), "SELECT 2;".to_string())
            ]
        );
    }
}
