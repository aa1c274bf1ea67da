//! Runtime values, the facts of one account bound to slots, and conversions from JSON.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

use crate::types::{Schema, Slot, Type};

/// A value a fact or an expression can have.
///
/// `Null` marks an absent fact or record field: reading it makes a criterion *unknown*.
/// Enum values are stored by index into their [`EnumType`](crate::EnumType); records store
/// their fields in the order their [`RecordType`](crate::RecordType) declares.
#[derive(Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub enum Value {
    /// Absent or null.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed 64-bit integer.
    Int(i64),
    /// A double.
    Number(f64),
    /// A string.
    String(Arc<str>),
    /// A calendar date.
    Date(NaiveDate),
    /// An instant, years 0001 to 9999.
    Timestamp(DateTime<Utc>),
    /// A span of time: a signed 64-bit count of nanoseconds (about ±292 years).
    Duration(TimeDelta),
    /// An enum value, by index.
    Enum(u32),
    /// A list.
    List(Arc<[Value]>),
    /// A record's fields, in declaration order.
    Record(Arc<[Value]>),
}

impl Value {
    /// Whether the value fits `ty` (`Null` fits every type: it means absent).
    pub fn conforms_to(&self, ty: &Type) -> bool {
        match (self, ty) {
            (Value::Null, _)
            | (Value::Bool(_), Type::Bool)
            | (Value::Int(_), Type::Int)
            | (Value::Number(_), Type::Number)
            | (Value::String(_), Type::String)
            | (Value::Date(_), Type::Date)
            | (Value::Timestamp(_), Type::Timestamp)
            | (Value::Duration(_), Type::Duration) => true,
            (Value::Enum(i), Type::Enum(e)) => e.name(*i).is_some(),
            (Value::List(items), Type::List(elem)) => items.iter().all(|v| v.conforms_to(elem)),
            (Value::Record(fields), Type::Record(r)) => {
                fields.len() == r.fields().len()
                    && fields
                        .iter()
                        .zip(r.fields())
                        .all(|(v, (_, t))| v.conforms_to(t))
            }
            _ => false,
        }
    }

    /// Writes the value as an author would write it, using `ty` for enum names
    /// (`"dating"`, `2026-11-22`, `[1, 2]`).
    pub fn display<'a>(&'a self, ty: &'a Type) -> impl fmt::Display + 'a {
        DisplayValue { value: self, ty }
    }
}

struct DisplayValue<'a> {
    value: &'a Value,
    ty: &'a Type,
}

impl fmt::Display for DisplayValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.value, self.ty) {
            (Value::Null, _) => f.write_str("absent"),
            (Value::Bool(b), _) => write!(f, "{b}"),
            (Value::Int(i), _) => write!(f, "{i}"),
            (Value::Number(n), _) => f.write_str(&crate::ast::format_double(*n)),
            (Value::String(s), _) => crate::ast::write_string_literal(f, s),
            (Value::Date(d), _) => write!(f, "{}", d.format("%Y-%m-%d")),
            (Value::Timestamp(t), _) => f.write_str(&format_timestamp(t)),
            (Value::Duration(d), _) => f.write_str(&format_duration(*d)),
            (Value::Enum(i), Type::Enum(e)) => match e.name(*i) {
                Some(name) => crate::ast::write_string_literal(f, name),
                None => write!(f, "#{i}"),
            },
            (Value::Enum(i), _) => write!(f, "#{i}"),
            (Value::List(items), ty) => {
                let elem = match ty {
                    Type::List(elem) => elem,
                    other => other,
                };
                f.write_char('[')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", item.display(elem))?;
                }
                f.write_char(']')
            }
            (Value::Record(fields), Type::Record(r)) => {
                f.write_char('{')?;
                for (i, (value, (name, ty))) in fields.iter().zip(r.fields()).enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {}", value.display(ty))?;
                }
                f.write_char('}')
            }
            (Value::Record(_), _) => f.write_str("{...}"),
        }
    }
}

/// The facts of one account, bound to the slots of a [`Schema`]. Build them once, evaluate
/// many criteria against them.
///
/// ```
/// use salesplay_expr::{Facts, Schema, Type, Value};
/// let mut schema = Schema::new();
/// schema.declare("relationship.level", Type::enumeration(["acquainted", "dating"], true)).unwrap();
/// schema.declare("amount", Type::Number).unwrap();
/// let facts = Facts::from_json(&schema, &serde_json::json!({
///     "relationship": {"level": "dating"},
///     "amount": 5000,
///     "ignored": "undeclared keys are ignored",
/// })).unwrap();
/// let (slot, _) = schema.lookup("relationship.level").unwrap();
/// assert_eq!(facts.get(slot), &Value::Enum(1));
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Facts {
    pub(crate) values: Vec<Value>,
}

/// A fact value that does not fit its declared type.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("fact `{path}`: {message}")]
pub struct BindError {
    /// Where in the facts, such as `contacts[2].role`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Facts {
    /// Facts for `schema` with every fact absent.
    pub fn new(schema: &Schema) -> Facts {
        Facts {
            values: vec![Value::Null; schema.len()],
        }
    }

    /// Sets the fact in `slot`, checking the value against its declared type.
    pub fn set(&mut self, schema: &Schema, slot: Slot, value: Value) -> Result<(), BindError> {
        let decl = schema.fact(slot).ok_or_else(|| BindError {
            path: format!("#{}", slot.index()),
            message: "no such slot in this schema".into(),
            help: None,
        })?;
        if !value.conforms_to(&decl.ty) {
            return Err(BindError {
                path: decl.path.clone(),
                message: format!("value does not fit the declared type `{}`", decl.ty),
                help: None,
            });
        }
        match self.values.get_mut(slot.index()) {
            Some(cell) => *cell = value,
            None => {
                return Err(BindError {
                    path: decl.path.clone(),
                    message: "these facts were made for another schema".into(),
                    help: None,
                });
            }
        }
        Ok(())
    }

    /// The value in `slot` (`Null` when absent or out of range).
    pub fn get(&self, slot: Slot) -> &Value {
        self.values.get(slot.index()).unwrap_or(&Value::Null)
    }

    pub(crate) fn slot_value(&self, slot: u32) -> &Value {
        self.values.get(slot as usize).unwrap_or(&Value::Null)
    }

    /// Binds a JSON document to `schema`. A dotted path `a.b` reads `{"a": {"b": ...}}` (or a
    /// flat key `"a.b"`); `null` and absent are the same; undeclared keys are ignored. Every
    /// value of the wrong type is reported, each naming its path.
    pub fn from_json(schema: &Schema, json: &serde_json::Value) -> Result<Facts, Vec<BindError>> {
        Facts::from_json_with(schema, json, usize::MAX)
    }

    /// Like [`Facts::from_json`], rejecting lists longer than `max_list_len`.
    pub fn from_json_with(
        schema: &Schema,
        json: &serde_json::Value,
        max_list_len: usize,
    ) -> Result<Facts, Vec<BindError>> {
        let mut errors = Vec::new();
        let mut values = Vec::with_capacity(schema.len());
        for decl in schema.facts() {
            let value = match lookup_path(json, &decl.path) {
                Some(raw) => {
                    let mut path = decl.path.clone();
                    match value_from_json(raw, &decl.ty, &mut path, max_list_len) {
                        Ok(v) => v,
                        Err(e) => {
                            errors.push(e);
                            Value::Null
                        }
                    }
                }
                None => Value::Null,
            };
            values.push(value);
        }
        if errors.is_empty() {
            Ok(Facts { values })
        } else {
            Err(errors)
        }
    }
}

fn lookup_path<'j>(json: &'j serde_json::Value, path: &str) -> Option<&'j serde_json::Value> {
    let object = json.as_object()?;
    if let Some(v) = object.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    lookup_path(object.get(head)?, rest)
}

fn bind_error(path: &str, message: impl Into<String>, help: Option<String>) -> BindError {
    BindError {
        path: path.to_string(),
        message: message.into(),
        help,
    }
}

fn json_kind(json: &serde_json::Value) -> &'static str {
    match json {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Converts one JSON value to a value of type `ty`. `path` names it in errors and is used as
/// scratch space for nested paths.
pub(crate) fn value_from_json(
    json: &serde_json::Value,
    ty: &Type,
    path: &mut String,
    max_list_len: usize,
) -> Result<Value, BindError> {
    use serde_json::Value as J;
    Ok(match (json, ty) {
        (J::Null, _) => Value::Null,
        (J::Bool(b), _) => value_from_bool(*b, ty, path)?,
        (J::Number(n), _) => value_from_number(n, ty, path)?,
        (J::String(s), _) => value_from_str(s, ty, path)?,
        (J::Array(items), Type::List(elem)) => {
            if items.len() > max_list_len {
                return Err(list_too_long(path, items.len(), max_list_len));
            }
            let base = path.len();
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let _ = write!(path, "[{i}]");
                let value = value_from_json(item, elem, path, max_list_len);
                path.truncate(base);
                out.push(value?);
            }
            Value::List(out.into())
        }
        (J::Object(object), Type::Record(record)) => {
            let base = path.len();
            let mut out = Vec::with_capacity(record.fields().len());
            for (name, field_ty) in record.fields() {
                let value = match object.get(name) {
                    Some(raw) => {
                        path.push('.');
                        path.push_str(name);
                        let v = value_from_json(raw, field_ty, path, max_list_len);
                        path.truncate(base);
                        v?
                    }
                    None => Value::Null,
                };
                out.push(value);
            }
            Value::Record(out.into())
        }
        _ => return Err(wrong_kind(ty, json_kind(json), path)),
    })
}

/// A JSON value of the wrong kind for `ty`; `found` is its kind in words (`a string`).
pub(crate) fn wrong_kind(ty: &Type, found: &str, path: &str) -> BindError {
    bind_error(
        path,
        format!("expected {}, found {found}", describe_expected(ty)),
        expected_help(ty),
    )
}

/// A list longer than the limit.
pub(crate) fn list_too_long(path: &str, len: usize, max_list_len: usize) -> BindError {
    bind_error(
        path,
        format!("list has {len} elements, over the limit of {max_list_len}"),
        None,
    )
}

/// A JSON boolean as a value of type `ty`.
pub(crate) fn value_from_bool(b: bool, ty: &Type, path: &str) -> Result<Value, BindError> {
    match ty {
        Type::Bool => Ok(Value::Bool(b)),
        _ => Err(wrong_kind(ty, "a boolean", path)),
    }
}

/// A JSON number as a value of type `ty`.
pub(crate) fn value_from_number(
    n: &serde_json::Number,
    ty: &Type,
    path: &str,
) -> Result<Value, BindError> {
    match ty {
        Type::Int => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(Value::Int(i)),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(Value::Int(f as i64)),
            _ => Err(bind_error(
                path,
                format!("`{n}` is not a 64-bit integer"),
                Some("integers range from -9223372036854775808 to 9223372036854775807".into()),
            )),
        },
        Type::Number => match n.as_f64() {
            Some(f) if f.is_finite() => Ok(Value::Number(f)),
            _ => Err(bind_error(
                path,
                format!("`{n}` is not a finite number"),
                None,
            )),
        },
        _ => Err(wrong_kind(ty, "a number", path)),
    }
}

/// A JSON string as a value of type `ty`: a string, or the text of a date, timestamp,
/// duration or enum value.
pub(crate) fn value_from_str(s: &str, ty: &Type, path: &str) -> Result<Value, BindError> {
    match ty {
        Type::String => Ok(Value::String(Arc::from(s))),
        Type::Date => parse_date(s).map(Value::Date).ok_or_else(|| {
            bind_error(
                path,
                format!("`{s}` is not a valid date"),
                Some("write dates as YYYY-MM-DD, such as 2026-11-22".into()),
            )
        }),
        Type::Timestamp => parse_timestamp(s).map(Value::Timestamp).ok_or_else(|| {
            bind_error(
                path,
                format!("`{s}` is not a valid timestamp"),
                Some(
                    "write timestamps in RFC 3339 with a zone, such as 2026-11-22T09:30:00Z".into(),
                ),
            )
        }),
        Type::Duration => parse_duration(s).map(Value::Duration).ok_or_else(|| {
            bind_error(
                path,
                format!("`{s}` is not a valid duration"),
                Some("write durations such as `36h`, `90m`, `1h30m` or `45s`".into()),
            )
        }),
        Type::Enum(e) => e.index_of(s).map(Value::Enum).ok_or_else(|| {
            let help = crate::did_you_mean(s, e.values().iter().map(String::as_str))
                .map(|m| format!("did you mean `{m}`?"))
                .or_else(|| Some(format!("expected one of: {}", e.values().join(", "))));
            bind_error(path, format!("`{s}` is not a value of the enum"), help)
        }),
        _ => Err(wrong_kind(ty, "a string", path)),
    }
}

fn describe_expected(ty: &Type) -> String {
    match ty {
        Type::Bool => "a boolean".into(),
        Type::Int => "an integer".into(),
        Type::Number => "a number".into(),
        Type::String => "a string".into(),
        Type::Date => "a date string".into(),
        Type::Timestamp => "a timestamp string".into(),
        Type::Duration => "a duration string".into(),
        Type::Enum(_) => "one of the enum's names".into(),
        Type::List(_) => "a list".into(),
        Type::Record(_) => "an object".into(),
    }
}

fn expected_help(ty: &Type) -> Option<String> {
    match ty {
        Type::Bool => Some("write `true` or `false` without quotes".into()),
        Type::Int | Type::Number => Some("write the number without quotes".into()),
        Type::Enum(e) => Some(format!("expected one of: {}", e.values().join(", "))),
        _ => None,
    }
}

/// Parses a date as facts write it: strictly `YYYY-MM-DD`, years 0001 to 9999.
///
/// ```
/// assert!(salesplay_expr::parse_date("2026-02-28").is_some());
/// assert!(salesplay_expr::parse_date("2026-02-30").is_none());
/// assert!(salesplay_expr::parse_date("2026-2-28").is_none());
/// ```
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *s.as_bytes() else {
        return None;
    };
    let digit = |b: u8| b.is_ascii_digit().then(|| u32::from(b - b'0'));
    let year = digit(y0)? * 1000 + digit(y1)? * 100 + digit(y2)? * 10 + digit(y3)?;
    let month = digit(m0)? * 10 + digit(m1)?;
    let day = digit(d0)? * 10 + digit(d1)?;
    if year == 0 {
        return None;
    }
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// Parses a timestamp as facts write it: RFC 3339 with a zone, years 0001 to 9999.
///
/// ```
/// assert!(salesplay_expr::parse_timestamp("2026-11-22T09:30:00+08:00").is_some());
/// assert!(salesplay_expr::parse_timestamp("2026-11-22T09:30:00").is_none());
/// ```
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
    in_timestamp_range(t).then_some(t)
}

pub(crate) fn in_timestamp_range(t: DateTime<Utc>) -> bool {
    (1..=9999).contains(&t.year())
}

/// CEL durations are a signed 64-bit count of nanoseconds: about ±292 years.
pub(crate) fn in_duration_range(d: TimeDelta) -> bool {
    d.num_nanoseconds().is_some()
}

/// Parses a CEL duration: an optional sign, then numbers with units `h`, `m`, `s`, `ms`,
/// `us`, `ns` (`1h30m`, `-1.5s`, `0`).
pub(crate) fn parse_duration(s: &str) -> Option<TimeDelta> {
    let (negative, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(TimeDelta::zero());
    }
    if rest.is_empty() {
        return None;
    }
    let mut total_nanos: i128 = 0;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        if number.is_empty() || number == "." {
            return None;
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let unit_nanos: i128 = match unit {
            "h" => 3_600_000_000_000,
            "m" => 60_000_000_000,
            "s" => 1_000_000_000,
            "ms" => 1_000_000,
            "us" | "µs" => 1_000,
            "ns" => 1,
            _ => return None,
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if fraction.contains('.') {
            return None;
        }
        let whole: i128 = if whole.is_empty() {
            0
        } else {
            whole.parse().ok()?
        };
        let mut nanos = whole.checked_mul(unit_nanos)?;
        let mut scale = unit_nanos;
        for digit in fraction.chars().take(18) {
            scale /= 10;
            nanos += i128::from(digit.to_digit(10)?) * scale;
        }
        total_nanos = total_nanos.checked_add(nanos)?;
        // i64::MIN nanoseconds is a valid (negative) duration; anything beyond is not.
        if total_nanos > i128::from(i64::MAX) + 1 {
            return None;
        }
        rest = after;
    }
    if negative {
        total_nanos = -total_nanos;
    }
    if i64::try_from(total_nanos).is_err() {
        return None;
    }
    let seconds = i64::try_from(total_nanos.div_euclid(1_000_000_000)).ok()?;
    let nanos = u32::try_from(total_nanos.rem_euclid(1_000_000_000)).ok()?;
    TimeDelta::new(seconds, nanos).filter(|d| in_duration_range(*d))
}

/// Formats a timestamp as RFC 3339 in UTC with the shortest exact fraction.
pub(crate) fn format_timestamp(t: &DateTime<Utc>) -> String {
    let full = t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    // `…:00.500000000Z` → `…:00.5Z`; `…:00.000000000Z` → `…:00Z`.
    match full.strip_suffix('Z').and_then(|body| body.split_once('.')) {
        Some((whole, fraction)) => {
            let fraction = fraction.trim_end_matches('0');
            if fraction.is_empty() {
                format!("{whole}Z")
            } else {
                format!("{whole}.{fraction}Z")
            }
        }
        None => full,
    }
}

/// Formats a duration as CEL does: seconds with the shortest exact fraction (`5400s`, `1.5s`).
pub(crate) fn format_duration(d: TimeDelta) -> String {
    let nanos = d.num_nanoseconds().map(i128::from).unwrap_or_else(|| {
        i128::from(d.num_seconds()) * 1_000_000_000 + i128::from(d.subsec_nanos())
    });
    let sign = if nanos < 0 { "-" } else { "" };
    let magnitude = nanos.unsigned_abs();
    let seconds = magnitude / 1_000_000_000;
    let fraction = magnitude % 1_000_000_000;
    if fraction == 0 {
        format!("{sign}{seconds}s")
    } else {
        let digits = format!("{fraction:09}");
        format!("{sign}{seconds}.{}s", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Some(TimeDelta::minutes(90)));
        assert_eq!(
            parse_duration("-1.5s"),
            Some(TimeDelta::milliseconds(-1500))
        );
        assert_eq!(parse_duration("0"), Some(TimeDelta::zero()));
        assert_eq!(parse_duration("100ns"), Some(TimeDelta::nanoseconds(100)));
        assert_eq!(parse_duration("1d"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("1.2.3s"), None);
        assert_eq!(parse_duration("99999999999999999999999h"), None);
        assert_eq!(format_duration(TimeDelta::minutes(90)), "5400s");
        assert_eq!(format_duration(TimeDelta::milliseconds(-1500)), "-1.5s");
    }

    #[test]
    fn dates_and_timestamps() {
        assert!(parse_date("2026-02-28").is_some());
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("2026-2-28").is_none());
        assert!(parse_date("0000-01-01").is_none());
        assert!(parse_timestamp("2026-11-22T09:30:00Z").is_some());
        assert!(parse_timestamp("2026-11-22T09:30:00+08:00").is_some());
        assert!(parse_timestamp("2026-11-22T09:30:00").is_none());
        let t = parse_timestamp("2026-11-22T09:30:00.250+01:00").unwrap();
        assert_eq!(format_timestamp(&t), "2026-11-22T08:30:00.25Z");
    }

    #[test]
    fn binding_reports_every_bad_value_with_its_path() {
        let mut schema = Schema::new();
        schema.declare("a.flag", Type::Bool).unwrap();
        schema
            .declare("level", Type::enumeration(["low", "high"], true))
            .unwrap();
        schema
            .declare(
                "contacts",
                Type::list_of_records([("role", Type::String), ("age", Type::Int)]),
            )
            .unwrap();
        schema.declare("signed_on", Type::Date).unwrap();
        let errors = Facts::from_json(
            &schema,
            &json!({
                "a": {"flag": "yes"},
                "level": "hihg",
                "contacts": [{"role": "user", "age": 3}, {"role": 5}],
                "signed_on": "2026-02-30"
            }),
        )
        .unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["a.flag", "level", "contacts[1].role", "signed_on"]);
        assert_eq!(errors[1].help.as_deref(), Some("did you mean `high`?"));
        assert_eq!(errors[0].message, "expected a boolean, found a string");
    }

    #[test]
    fn binding_reads_nested_and_flat_paths() {
        let mut schema = Schema::new();
        let nested = schema.declare("a.b", Type::Int).unwrap();
        let flat = schema.declare("c.d", Type::Int).unwrap();
        let absent = schema.declare("e", Type::Int).unwrap();
        let facts =
            Facts::from_json(&schema, &json!({"a": {"b": 1}, "c.d": 2, "e": null})).unwrap();
        assert_eq!(facts.get(nested), &Value::Int(1));
        assert_eq!(facts.get(flat), &Value::Int(2));
        assert_eq!(facts.get(absent), &Value::Null);
        let too_big =
            Facts::from_json(&schema, &json!({"e": 18446744073709551615u64})).unwrap_err();
        assert_eq!(too_big[0].path, "e");
    }

    #[test]
    fn set_checks_the_type() {
        let mut schema = Schema::new();
        let slot = schema.declare("x", Type::Int).unwrap();
        let mut facts = Facts::new(&schema);
        assert!(facts.set(&schema, slot, Value::Bool(true)).is_err());
        assert!(facts.set(&schema, slot, Value::Int(3)).is_ok());
    }
}
