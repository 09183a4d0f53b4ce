//! TEXT(ARRAY) and TEXT(ARRAY-ARRAY) values: a PostgreSQL array literal (`{"a","b"}`,
//! `{{"a","b"},{"c","d"}}`) or its JSON equivalent (`["a","b"]`, `[["a","b"]]`).
//! JSON goes through serde_json; the PostgreSQL literal grammar is small and read here.

use super::{ValueError, ValueResult};

/// An array element: `None` for an unquoted NULL.
pub type Element = Option<String>;

#[derive(Debug, PartialEq)]
enum Node {
    Item(Element),
    List(Vec<Node>),
}

fn invalid(message: &str) -> ValueError {
    ValueError::new("INVALID_ARRAY", message.to_string())
}

pub fn parse_text_array(text: &str) -> ValueResult<Vec<Element>> {
    match parse_any(text)? {
        Node::List(items) => items
            .into_iter()
            .map(|n| match n {
                Node::Item(e) => Ok(e),
                Node::List(_) => Err(invalid("expected a one-level array such as {\"a\",\"b\"}")),
            })
            .collect(),
        Node::Item(_) => Err(invalid("expected an array such as {\"a\",\"b\"}")),
    }
}

pub fn parse_text_array2(text: &str) -> ValueResult<Vec<Vec<Element>>> {
    let message = "expected an array of arrays such as {{\"a\",\"b\"},{\"c\",\"d\"}}";
    match parse_any(text)? {
        Node::List(rows) => rows
            .into_iter()
            .map(|row| match row {
                Node::List(items) => items
                    .into_iter()
                    .map(|n| match n {
                        Node::Item(e) => Ok(e),
                        Node::List(_) => Err(invalid(message)),
                    })
                    .collect(),
                Node::Item(_) => Err(invalid(message)),
            })
            .collect(),
        Node::Item(_) => Err(invalid(message)),
    }
}

fn parse_any(text: &str) -> ValueResult<Node> {
    let trimmed = text.trim();
    if trimmed.starts_with('[') {
        let value: serde_json::Value = serde_json::from_str(trimmed)
            .map_err(|e| invalid(&format!("invalid JSON array: {e}")))?;
        return from_json(&value);
    }
    let mut parser = Literal {
        chars: trimmed.chars().collect(),
        pos: 0,
        depth: 0,
    };
    let node = parser.list()?;
    parser.skip_spaces();
    if parser.pos != parser.chars.len() {
        return Err(invalid("unexpected text after the closing brace"));
    }
    Ok(node)
}

fn from_json(value: &serde_json::Value) -> ValueResult<Node> {
    match value {
        serde_json::Value::Array(items) => Ok(Node::List(
            items.iter().map(from_json).collect::<ValueResult<_>>()?,
        )),
        serde_json::Value::Null => Ok(Node::Item(None)),
        serde_json::Value::String(s) if s.contains('\0') => Err(invalid(
            "an element contains \\u0000, which PostgreSQL cannot store",
        )),
        serde_json::Value::String(s) => Ok(Node::Item(Some(s.clone()))),
        serde_json::Value::Number(n) => Ok(Node::Item(Some(n.to_string()))),
        serde_json::Value::Bool(b) => Ok(Node::Item(Some(b.to_string()))),
        serde_json::Value::Object(_) => Err(invalid("arrays hold text, not JSON objects")),
    }
}

/// PostgreSQL's own limit on array dimensions (MAXDIM); it also bounds the parser's recursion,
/// which a hostile `{{{{…` would otherwise take past the end of the stack.
const MAX_DIMENSIONS: usize = 6;

struct Literal {
    chars: Vec<char>,
    pos: usize,
    /// Braces open at the current position.
    depth: usize,
}

impl Literal {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn list(&mut self) -> ValueResult<Node> {
        self.skip_spaces();
        if self.peek() != Some('{') {
            return Err(invalid("an array starts with { or ["));
        }
        self.depth += 1;
        if self.depth > MAX_DIMENSIONS {
            return Err(invalid(&format!(
                "an array has at most {MAX_DIMENSIONS} dimensions"
            )));
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_spaces();
        if self.peek() == Some('}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Node::List(items));
        }
        loop {
            self.skip_spaces();
            let item = match self.peek() {
                Some('{') => self.list()?,
                Some('"') => Node::Item(Some(self.quoted()?)),
                Some(_) => self.unquoted()?,
                None => return Err(invalid("the array is not closed by }")),
            };
            items.push(item);
            self.skip_spaces();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(Node::List(items));
                }
                _ => return Err(invalid("expected , or } between array elements")),
            }
        }
    }

    fn quoted(&mut self) -> ValueResult<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => out.push(c),
                        None => return Err(invalid("unterminated quoted array element")),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
                None => return Err(invalid("unterminated quoted array element")),
            }
        }
    }

    fn unquoted(&mut self) -> ValueResult<Node> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == ',' || c == '}' || c == '{' || c == '"' {
                break;
            }
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        let text = text.trim();
        if text.is_empty() {
            return Err(invalid("empty unquoted array element"));
        }
        Ok(Node::Item(if text.eq_ignore_ascii_case("NULL") {
            None
        } else {
            Some(text.to_string())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Element {
        Some(v.to_string())
    }

    /// Deep nesting is refused before the recursion could exhaust the stack.
    #[test]
    fn deep_nesting_is_refused() {
        assert!(parse_text_array2("{{a,b},{c,d}}").is_ok());
        for depth in [MAX_DIMENSIONS + 1, 200_000] {
            let text = "{".repeat(depth) + &"}".repeat(depth);
            let e = parse_text_array(&text).unwrap_err();
            assert_eq!(e.code, "INVALID_ARRAY");
            assert_eq!(e.message, "an array has at most 6 dimensions");
            let json = "[".repeat(depth) + &"]".repeat(depth);
            assert!(parse_text_array(&json).is_err(), "depth {depth}");
        }
    }

    #[test]
    fn one_level_literals_and_json() {
        assert_eq!(
            parse_text_array(r#"{"4","5","6"}"#).unwrap(),
            vec![s("4"), s("5"), s("6")]
        );
        assert_eq!(parse_text_array("{1, 2}").unwrap(), vec![s("1"), s("2")]);
        assert_eq!(parse_text_array("{}").unwrap(), vec![]);
        assert_eq!(
            parse_text_array(r#"["a","b"]"#).unwrap(),
            vec![s("a"), s("b")]
        );
        assert_eq!(parse_text_array("{a,NULL}").unwrap(), vec![s("a"), None]);
    }

    #[test]
    fn two_level_literals_as_in_the_specification() {
        let v = parse_text_array2(
            r#"{{"5a433bd0-1fc0-25d9-e053-2614a8c026f8", "1"},{"5a433bd0-1ffc-25d9-e053-2614a8c026f8","5"}}"#,
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[1],
            vec![s("5a433bd0-1ffc-25d9-e053-2614a8c026f8"), s("5")]
        );
        assert_eq!(
            parse_text_array2(r#"{{"REU ",""},{"MYT",""}}"#).unwrap(),
            vec![vec![s("REU "), s("")], vec![s("MYT"), s("")]]
        );
        assert_eq!(
            parse_text_array2(r#"[["jpmilcent","1"]]"#).unwrap(),
            vec![vec![s("jpmilcent"), s("1")]]
        );
        assert_eq!(
            parse_text_array2(r#"{{"a \"q\"","b"}}"#).unwrap()[0][0],
            s("a \"q\"")
        );
    }

    #[test]
    fn malformed_arrays_are_invalid_array() {
        for bad in ["{a", "a,b", r#"{"a"#, "{{a},b}", "{a} x", "[1,", "{,}"] {
            let e = parse_text_array2(bad).unwrap_err();
            assert_eq!(e.code, "INVALID_ARRAY", "{bad}");
        }
        assert!(parse_text_array("{{a}}").is_err());
    }
}
