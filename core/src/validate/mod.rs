//! Parsing and checking of field values (FORMAT.md §4). Pure Rust: every function returns either
//! the value in the form the staging table takes, or a `ValueError` with the format's code.

pub mod additional_fields;
mod array;
pub mod geometry;
pub mod resolve;
pub mod row;

pub use array::{parse_text_array, parse_text_array2};

use std::fmt;

use crate::spec::FieldType;

/// A bad value: the code of FORMAT.md and a message that says what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub code: &'static str,
    pub message: String,
}

impl ValueError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ValueError {
        ValueError {
            code,
            message: message.into(),
        }
    }
}

pub type ValueResult<T> = Result<T, ValueError>;

/// The code FORMAT.md gives to a bad value of this type.
pub fn error_code(ty: FieldType) -> &'static str {
    match ty {
        FieldType::Uuid => "INVALID_UUID",
        FieldType::Int => "INVALID_INTEGER",
        FieldType::Real => "INVALID_REAL",
        FieldType::Bool => "INVALID_BOOL",
        FieldType::Date | FieldType::DateTime => "INVALID_DATE",
        FieldType::Varchar(_) | FieldType::Text => "INVALID_CHAR_LENGTH",
        FieldType::JsonObject | FieldType::JsonArray => "INVALID_JSON",
        FieldType::TextArray | FieldType::TextArray2 => "INVALID_ARRAY",
        FieldType::Action => "INVALID_ACTION",
        FieldType::Geometry => "INVALID_WKT",
    }
}

pub fn parse_uuid(text: &str) -> ValueResult<uuid::Uuid> {
    // Only the canonical hyphenated form (any case) is accepted, as FORMAT.md says.
    if text.len() != 36 {
        return Err(ValueError::new(
            "INVALID_UUID",
            "expected a UUID like 5a433bd0-1fc0-25d9-e053-2614a8c026f8",
        ));
    }
    uuid::Uuid::try_parse(text).map_err(|_| {
        ValueError::new(
            "INVALID_UUID",
            "expected a UUID like 5a433bd0-1fc0-25d9-e053-2614a8c026f8",
        )
    })
}

pub fn parse_int(text: &str) -> ValueResult<i32> {
    text.trim().parse::<i32>().map_err(|_| {
        ValueError::new(
            "INVALID_INTEGER",
            "expected an integer between -2147483648 and 2147483647",
        )
    })
}

pub fn parse_real(text: &str) -> ValueResult<f64> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(ValueError::new(
            "INVALID_REAL",
            "expected a decimal number such as 6.27 or 1.5e3",
        )),
    }
}

pub fn parse_bool(text: &str) -> ValueResult<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "oui" => Ok(true),
        "false" | "f" | "0" | "no" | "non" => Ok(false),
        _ => Err(ValueError::new(
            "INVALID_BOOL",
            "expected true/false, t/f, 1/0, yes/no or oui/non",
        )),
    }
}

pub fn parse_action(text: &str) -> ValueResult<char> {
    match text.trim() {
        "I" => Ok('I'),
        "U" => Ok('U'),
        "D" => Ok('D'),
        _ => Err(ValueError::new("INVALID_ACTION", "expected I, U or D")),
    }
}

/// A calendar date and time of day, microsecond precision, as written in the archives (no zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
}

impl DateTime {
    pub fn date(year: i32, month: u32, day: u32) -> DateTime {
        DateTime {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
            micros: 0,
        }
    }

    /// The same time of the next day.
    pub fn next_day(self) -> DateTime {
        let mut next = self;
        if next.day < days_in_month(next.year, next.month) {
            next.day += 1;
        } else if next.month < 12 {
            (next.month, next.day) = (next.month + 1, 1);
        } else {
            (next.year, next.month, next.day) = (next.year + 1, 1, 1);
        }
        next
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )?;
        if self.micros != 0 {
            write!(f, ".{:06}", self.micros)?;
        }
        Ok(())
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

fn digits(s: &str, n: usize) -> Option<u32> {
    if s.len() == n && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

const DATE_MESSAGE: &str = "expected a date YYYY-MM-DD";
const DATETIME_MESSAGE: &str = "expected a date and time YYYY-MM-DD HH:MM[:SS[.ffffff]]";

/// `YYYY-MM-DD`
pub fn parse_date(text: &str) -> ValueResult<DateTime> {
    parse_ymd(text.trim()).ok_or_else(|| ValueError::new("INVALID_DATE", DATE_MESSAGE))
}

fn parse_ymd(s: &str) -> Option<DateTime> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let year = digits(y, 4)? as i32;
    let month = digits(m, 2)?;
    let day = digits(d, 2)?;
    if year == 0 || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(DateTime::date(year, month, day))
}

/// `YYYY-MM-DD[( |T)HH:MM[:SS[.ffffff]]]`
pub fn parse_datetime(text: &str) -> ValueResult<DateTime> {
    parse_datetime_opt(text.trim()).ok_or_else(|| ValueError::new("INVALID_DATE", DATETIME_MESSAGE))
}

fn parse_datetime_opt(s: &str) -> Option<DateTime> {
    if s.len() <= 10 {
        return parse_ymd(s);
    }
    let (date, time) = (s.get(..10)?, s.get(11..)?);
    let separator = s.as_bytes()[10];
    if separator != b' ' && separator != b'T' {
        return None;
    }
    let mut dt = parse_ymd(date)?;
    let (hms, fraction) = match time.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (time, None),
    };
    let mut parts = hms.split(':');
    dt.hour = digits(parts.next()?, 2)?;
    dt.minute = digits(parts.next()?, 2)?;
    dt.second = match parts.next() {
        Some(sec) => digits(sec, 2)?,
        None if fraction.is_none() => 0,
        None => return None,
    };
    if parts.next().is_some() || dt.hour > 23 || dt.minute > 59 || dt.second > 59 {
        return None;
    }
    if let Some(fraction) = fraction {
        if fraction.is_empty()
            || fraction.len() > 6
            || !fraction.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        dt.micros = fraction.parse::<u32>().ok()? * 10u32.pow(6 - fraction.len() as u32);
    }
    Some(dt)
}

pub fn check_length(text: &str, max_chars: usize) -> ValueResult<()> {
    // Counting chars is only needed when the byte length could exceed the limit.
    if text.len() > max_chars && text.chars().count() > max_chars {
        return Err(ValueError::new(
            "INVALID_CHAR_LENGTH",
            format!("longer than {max_chars} characters"),
        ));
    }
    Ok(())
}

/// Whether a parsed JSON value contains U+0000 (written `\u0000`) in a key or a string: valid
/// JSON that PostgreSQL's jsonb refuses.
fn contains_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(contains_nul),
        serde_json::Value::Object(map) => {
            map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v))
        }
        _ => false,
    }
}

/// Parses JSON text, refusing what jsonb cannot store.
fn parse_json(text: &str) -> ValueResult<serde_json::Value> {
    let value = serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| ValueError::new("INVALID_JSON", format!("invalid JSON: {e}")))?;
    if contains_nul(&value) {
        return Err(ValueError::new(
            "INVALID_JSON",
            "the JSON contains \\u0000, which PostgreSQL's jsonb cannot store",
        ));
    }
    Ok(value)
}

pub fn parse_json_object(text: &str) -> ValueResult<serde_json::Map<String, serde_json::Value>> {
    match parse_json(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(ValueError::new(
            "INVALID_JSON",
            "expected a JSON object {...}",
        )),
        Err(e) => Err(e),
    }
}

pub fn parse_json_array(text: &str) -> ValueResult<Vec<serde_json::Value>> {
    match parse_json(text) {
        Ok(serde_json::Value::Array(items)) => Ok(items),
        Ok(_) => Err(ValueError::new(
            "INVALID_JSON",
            "expected a JSON array [...]",
        )),
        Err(e) => Err(e),
    }
}

/// The `[uuid]`s of an `observers` value (`NAME Firstname <email> (ORG) [uuid], ...`).
pub fn observer_uuids(observers: &str) -> Vec<uuid::Uuid> {
    let mut found = Vec::new();
    let mut rest = observers;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        if let Some(close) = rest.find(']') {
            if let Ok(id) = uuid::Uuid::try_parse(rest[..close].trim()) {
                if !found.contains(&id) {
                    found.push(id);
                }
            }
            rest = &rest[close + 1..];
        } else {
            break;
        }
    }
    found
}

/// FORMAT.md §5: the UUID of a synthese row sent without one, stable across re-sends.
pub fn synthese_uuid(code_source: &str, source_id: &str) -> uuid::Uuid {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("sinp:{code_source}:{source_id}").as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_day_crosses_months_years_and_leap_days() {
        let next = |y, m, d| {
            let n = DateTime::date(y, m, d).next_day();
            (n.year, n.month, n.day)
        };
        assert_eq!(next(2020, 8, 26), (2020, 8, 27));
        assert_eq!(next(2020, 2, 28), (2020, 2, 29));
        assert_eq!(next(2021, 2, 28), (2021, 3, 1));
        assert_eq!(next(2020, 12, 31), (2021, 1, 1));
    }

    #[test]
    fn uuids_in_canonical_form_any_case() {
        assert!(parse_uuid("5A433BD0-1FC0-25D9-E053-2614A8C026F8").is_ok());
        assert_eq!(
            parse_uuid("5a433bd01fc025d9e0532614a8c026f8")
                .unwrap_err()
                .code,
            "INVALID_UUID"
        );
        assert!(parse_uuid("not-a-uuid").is_err());
    }

    #[test]
    fn integers_fit_int4() {
        assert_eq!(parse_int("-12").unwrap(), -12);
        assert_eq!(parse_int("+7").unwrap(), 7);
        assert_eq!(parse_int("2147483648").unwrap_err().code, "INVALID_INTEGER");
        assert!(parse_int("1.5").is_err());
    }

    #[test]
    fn reals_accept_decimal_and_exponent() {
        assert_eq!(parse_real("6.27").unwrap(), 6.27);
        assert_eq!(parse_real("1e3").unwrap(), 1000.0);
        assert_eq!(parse_real("NaN").unwrap_err().code, "INVALID_REAL");
        assert!(parse_real("6,27").is_err());
    }

    #[test]
    fn booleans_in_every_spelling() {
        for t in ["true", "T", "1", "yes", "OUI"] {
            assert!(parse_bool(t).unwrap(), "{t}");
        }
        for f in ["false", "f", "0", "No", "non"] {
            assert!(!parse_bool(f).unwrap(), "{f}");
        }
        assert_eq!(parse_bool("vrai").unwrap_err().code, "INVALID_BOOL");
    }

    #[test]
    fn dates_and_datetimes_keep_microseconds() {
        assert_eq!(
            parse_date("2020-02-29").unwrap(),
            DateTime::date(2020, 2, 29)
        );
        assert!(parse_date("2019-02-29").is_err());
        assert!(parse_date("2019-13-01").is_err());
        assert!(parse_date("20190101").is_err());
        let dt = parse_datetime("2019-03-07 12:09:14.451907").unwrap();
        assert_eq!(dt.to_string(), "2019-03-07 12:09:14.451907");
        assert_eq!(
            parse_datetime("2019-03-07T12:09").unwrap().to_string(),
            "2019-03-07 12:09:00"
        );
        assert_eq!(
            parse_datetime("2019-03-07 12:09:14.5").unwrap().micros,
            500_000
        );
        assert_eq!(
            parse_datetime("1994-01-09").unwrap().to_string(),
            "1994-01-09 00:00:00"
        );
        assert!(parse_datetime("2019-03-07 24:00:00").is_err());
        assert!(parse_datetime("2019-03-07 12:09:14.1234567").is_err());
        assert!(parse_datetime("07/03/2019").is_err());
        assert!(
            parse_datetime("2019-03-07 12:09:14.451907").unwrap()
                > parse_datetime("2019-03-07 12:09:14.4519").unwrap()
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        assert!(check_length("ééééé", 5).is_ok());
        assert_eq!(
            check_length("éééééé", 5).unwrap_err().code,
            "INVALID_CHAR_LENGTH"
        );
    }

    #[test]
    fn json_objects_and_arrays() {
        assert_eq!(parse_json_object(r#"{"a":"b\\c"}"#).unwrap()["a"], "b\\c");
        assert_eq!(parse_json_object("[1]").unwrap_err().code, "INVALID_JSON");
        assert_eq!(parse_json_object("{").unwrap_err().code, "INVALID_JSON");
        assert_eq!(parse_json_array(r#"[{"reference":"r"}]"#).unwrap().len(), 1);
    }

    #[test]
    fn json_that_jsonb_cannot_store_is_invalid() {
        for text in [
            r#"{"a":"x\u0000y"}"#,
            r#"{"\u0000":1}"#,
            r#"{"a":[{"b":"\u0000"}]}"#,
        ] {
            let e = parse_json_object(text).unwrap_err();
            assert_eq!(
                (e.code, e.message.contains("u0000")),
                ("INVALID_JSON", true)
            );
        }
        assert_eq!(
            parse_json_array(r#"["\u0000"]"#).unwrap_err().code,
            "INVALID_JSON"
        );
        assert_eq!(
            parse_text_array(r#"["a","b\u0000"]"#).unwrap_err().code,
            "INVALID_ARRAY"
        );
        // Other escapes are fine.
        assert_eq!(parse_json_object(r#"{"a":"\u00e9"}"#).unwrap()["a"], "é");
    }

    #[test]
    fn observer_uuids_are_extracted_once_each() {
        let text = "DUPONT Jean <j@x.fr> (CBNA) [5a433bd0-1fc0-25d9-e053-2614a8c026f8], MARTIN Paul [not-a-uuid], X [5A433BD0-1FC0-25D9-E053-2614A8C026F8]";
        assert_eq!(
            observer_uuids(text),
            vec![uuid::Uuid::parse_str("5a433bd0-1fc0-25d9-e053-2614a8c026f8").unwrap()]
        );
        assert!(observer_uuids("no uuid [").is_empty());
    }

    #[test]
    fn synthese_uuid_is_the_v5_of_source_and_id() {
        let a = synthese_uuid("CEN_PACA_EXPORT", "96595425");
        assert_eq!(a.get_version_num(), 5);
        assert_eq!(a, synthese_uuid("CEN_PACA_EXPORT", "96595425"));
        assert_ne!(a, synthese_uuid("CEN_PACA_EXPORT", "96595426"));
    }
}
