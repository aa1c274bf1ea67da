//! A small, hand-written parser for the protobuf *text format*.
//!
//! It reads a document into a generic tree — [`Message`]s holding an ordered list of named
//! [`Field`]s, each either a nested message or a [`Scalar`] — without knowing any `.proto`
//! schema. Meaning is given afterwards by a typed layer (see [`crate::conformance`]).
//!
//! Supported, as far as the CEL conformance data needs and a little beyond:
//! - `#` comments to the end of the line;
//! - `name: value`, `name: { ... }`, `name { ... }`, and `<` `>` as message delimiters;
//! - `[type.googleapis.com/full.Name] { ... }` extension / `Any` names;
//! - `name: [a, b, c]` list shorthand for repeated fields (expanded into repeated fields);
//! - fields optionally separated by `,` or `;`;
//! - strings in either quote kind, with every text-format escape (`\a \b \f \n \r \t \v \\ \'
//!   \" \?`, octal `\NNN`, hex `\xNN`, `\uXXXX`, `\UXXXXXXXX`) and adjacent-string
//!   concatenation (`"ab" 'cd'`);
//! - numbers: decimal, hex (`0x`) and octal (leading `0`) integers, floats with fraction and
//!   exponent and an optional `f` suffix, a leading `-`, and `inf` / `infinity` / `nan`;
//! - identifiers, which stand for enum values (`NULL_VALUE`) and booleans (`true`).
//!
//! Strings are kept as bytes, since text format strings may hold arbitrary bytes
//! (`bytes_value: "\xff"`); [`Scalar::as_str`] checks UTF-8 where a `string` field is meant.

use std::fmt;

/// A message: its fields in document order. A repeated field appears once per element.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Message {
    /// The fields, in the order they were written.
    pub fields: Vec<Field>,
}

/// One `name: value` (or `name { ... }`) entry of a message.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The field's name.
    pub name: FieldName,
    /// The field's value.
    pub value: FieldValue,
    /// 1-based line of the field name, for error messages.
    pub line: usize,
}

/// The name of a field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldName {
    /// An ordinary field name, `name`.
    Plain(String),
    /// A bracketed name, `[type.googleapis.com/pkg.Type]` (an `Any` type URL or an
    /// extension), stored without brackets and without whitespace.
    Extension(String),
}

impl FieldName {
    /// The plain field name, or `None` for an extension name.
    pub fn plain(&self) -> Option<&str> {
        match self {
            FieldName::Plain(name) => Some(name),
            FieldName::Extension(_) => None,
        }
    }
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldName::Plain(name) => f.write_str(name),
            FieldName::Extension(name) => write!(f, "[{name}]"),
        }
    }
}

/// The value of a field: a nested message or a scalar.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// A nested message, `{ ... }` or `< ... >`.
    Message(Message),
    /// A scalar.
    Scalar(Scalar),
}

/// A scalar value, kept close to how it was written; the typed layer interprets it.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// A string (possibly several adjacent literals, concatenated), escapes resolved.
    String(Vec<u8>),
    /// A numeric literal.
    Number(Number),
    /// An identifier: an enum value name, `true`, `false`, `inf`, `nan`, …
    Identifier(String),
}

/// A numeric literal as written: an optional minus sign and the literal text.
///
/// The text is one of: a decimal, hex (`0x1F`) or octal (`017`) integer; a float (`1.5`,
/// `.5`, `1e-3`, `2.5f`); or `inf` / `infinity` / `nan` (any case) after a minus sign.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Number {
    /// Whether a `-` preceded the literal.
    pub negative: bool,
    /// The literal without the sign.
    pub text: String,
}

impl Number {
    fn is_hex(&self) -> bool {
        self.text.starts_with("0x") || self.text.starts_with("0X")
    }

    fn is_float_text(&self) -> bool {
        if self.is_hex() {
            return false;
        }
        is_special_float(&self.text) || self.text.contains(['.', 'e', 'E', 'f', 'F'].as_slice())
    }

    /// The magnitude as an unsigned integer, if the literal is an integer.
    fn magnitude(&self) -> Option<u64> {
        if self.is_float_text() {
            return None;
        }
        let text = self.text.as_str();
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            u64::from_str_radix(hex, 16).ok()
        } else if text.len() > 1 && text.starts_with('0') {
            u64::from_str_radix(text.get(1..)?, 8).ok()
        } else {
            text.parse().ok()
        }
    }

    /// The value as a signed 64-bit integer (`int32`/`int64` fields).
    pub fn as_i64(&self) -> Option<i64> {
        let magnitude = i128::from(self.magnitude()?);
        let value = if self.negative { -magnitude } else { magnitude };
        i64::try_from(value).ok()
    }

    /// The value as an unsigned 64-bit integer (`uint32`/`uint64` fields).
    pub fn as_u64(&self) -> Option<u64> {
        if self.negative {
            // `-0` is still zero.
            return (self.magnitude()? == 0).then_some(0);
        }
        self.magnitude()
    }

    /// The value as a double (`float`/`double` fields); integers convert.
    pub fn as_f64(&self) -> Option<f64> {
        let magnitude = if is_special_float(&self.text) {
            special_float(&self.text)?
        } else if self.is_float_text() {
            let text = self
                .text
                .strip_suffix(['f', 'F'].as_slice())
                .unwrap_or(&self.text);
            text.parse::<f64>().ok()?
        } else {
            // An integer literal in a double field: exact up to 2^53, rounded beyond.
            #[expect(
                clippy::cast_precision_loss,
                reason = "text format gives large integers in double fields the nearest double"
            )]
            let value = self.magnitude()? as f64;
            value
        };
        Some(if self.negative { -magnitude } else { magnitude })
    }
}

fn is_special_float(text: &str) -> bool {
    special_float(text).is_some()
}

fn special_float(text: &str) -> Option<f64> {
    match text.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    }
}

impl Scalar {
    /// The scalar as UTF-8 text, if it is a string literal holding valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::String(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
    }

    /// The scalar as raw bytes, if it is a string literal.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Scalar::String(bytes) => Some(bytes),
            _ => None,
        }
    }

    /// The scalar as a boolean: `true`/`True`/`t`/`1` or `false`/`False`/`f`/`0`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Scalar::Identifier(name) => match name.as_str() {
                "true" | "True" | "t" => Some(true),
                "false" | "False" | "f" => Some(false),
                _ => None,
            },
            Scalar::Number(number) if !number.negative => match number.text.as_str() {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The scalar as a signed integer.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Scalar::Number(number) => number.as_i64(),
            _ => None,
        }
    }

    /// The scalar as an unsigned integer.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Scalar::Number(number) => number.as_u64(),
            _ => None,
        }
    }

    /// The scalar as a double; the bare identifiers `inf`, `infinity` and `nan` are accepted.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Number(number) => number.as_f64(),
            Scalar::Identifier(name) => special_float(name),
            Scalar::String(_) => None,
        }
    }

    /// The scalar as an identifier (an enum value name).
    pub fn as_identifier(&self) -> Option<&str> {
        match self {
            Scalar::Identifier(name) => Some(name),
            _ => None,
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::String(bytes) => write!(f, "{:?}", String::from_utf8_lossy(bytes)),
            Scalar::Number(number) => {
                if number.negative {
                    f.write_str("-")?;
                }
                f.write_str(&number.text)
            }
            Scalar::Identifier(name) => f.write_str(name),
        }
    }
}

impl Message {
    /// The values of every field called `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a FieldValue> + 'a {
        self.fields
            .iter()
            .filter(move |field| field.name.plain() == Some(name))
            .map(|field| &field.value)
    }
}

/// Where and why a document could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parses a whole text-format document into its top-level message.
pub fn parse(source: &str) -> Result<Message, ParseError> {
    let mut parser = Parser { source, pos: 0 };
    parser.message_body(None)
}

/// How deep messages may nest before the parser gives up (guards the recursion).
const MAX_DEPTH: usize = 100;

struct Parser<'s> {
    source: &'s str,
    /// Byte offset of the next unread character.
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        self.source.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, expected: char) -> bool {
        if self.peek() == Some(expected) {
            self.pos += expected.len_utf8();
            true
        } else {
            false
        }
    }

    fn line(&self) -> usize {
        let before = self.source.get(..self.pos).unwrap_or("");
        before.matches('\n').count() + 1
    }

    fn error(&self, message: impl Into<String>) -> ParseError {
        let before = self.source.get(..self.pos).unwrap_or("");
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).unwrap_or("").chars().count() + 1;
        ParseError {
            line: self.line(),
            column,
            message: message.into(),
        }
    }

    fn describe_next(&self) -> String {
        match self.peek() {
            None => "end of input".to_owned(),
            Some(c) => format!("`{c}`"),
        }
    }

    /// Skips whitespace and `#` comments.
    fn skip_trivia(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('#') => {
                    while let Some(c) = self.bump() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                _ => return,
            }
        }
    }

    /// Fields up to `close` (or to the end of input when `close` is `None`).
    fn message_body(&mut self, close: Option<char>) -> Result<Message, ParseError> {
        self.message_body_at(close, 0)
    }

    fn message_body_at(
        &mut self,
        close: Option<char>,
        depth: usize,
    ) -> Result<Message, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error("messages nest too deeply"));
        }
        let mut message = Message::default();
        loop {
            self.skip_trivia();
            match (self.peek(), close) {
                (None, None) => return Ok(message),
                (None, Some(close)) => {
                    return Err(self.error(format!("expected `{close}` before end of input")));
                }
                (Some(c), Some(close)) if c == close => {
                    self.bump();
                    return Ok(message);
                }
                _ => {}
            }
            self.field(&mut message, depth)?;
            self.skip_trivia();
            if !self.eat(',') {
                self.eat(';');
            }
        }
    }

    fn field(&mut self, message: &mut Message, depth: usize) -> Result<(), ParseError> {
        let line = self.line();
        let name = self.field_name()?;
        self.skip_trivia();
        let has_colon = self.eat(':');
        self.skip_trivia();
        match self.peek() {
            Some('{' | '<') => {
                let value = self.nested_message(depth)?;
                message.fields.push(Field { name, value, line });
            }
            Some('[') if has_colon => {
                self.bump();
                loop {
                    self.skip_trivia();
                    if self.eat(']') {
                        break;
                    }
                    let value = match self.peek() {
                        Some('{' | '<') => self.nested_message(depth)?,
                        _ => FieldValue::Scalar(self.scalar()?),
                    };
                    message.fields.push(Field {
                        name: name.clone(),
                        value,
                        line,
                    });
                    self.skip_trivia();
                    if !self.eat(',') && self.peek() != Some(']') {
                        return Err(self.error(format!(
                            "expected `,` or `]` in the list for `{name}`, found {}",
                            self.describe_next()
                        )));
                    }
                }
            }
            _ if has_colon => {
                let value = FieldValue::Scalar(self.scalar()?);
                message.fields.push(Field { name, value, line });
            }
            _ => {
                return Err(self.error(format!(
                    "expected `:` or `{{` after `{name}`, found {}",
                    self.describe_next()
                )));
            }
        }
        Ok(())
    }

    fn nested_message(&mut self, depth: usize) -> Result<FieldValue, ParseError> {
        let close = match self.bump() {
            Some('{') => '}',
            Some('<') => '>',
            _ => return Err(self.error("expected `{` or `<`")),
        };
        Ok(FieldValue::Message(
            self.message_body_at(Some(close), depth + 1)?,
        ))
    }

    fn field_name(&mut self) -> Result<FieldName, ParseError> {
        if self.eat('[') {
            let mut name = String::new();
            loop {
                match self.bump() {
                    Some(']') => break,
                    Some(c) if c.is_whitespace() => {}
                    Some(c) if c.is_ascii_alphanumeric() || "._/-".contains(c) => name.push(c),
                    Some(c) => {
                        return Err(self.error(format!("unexpected `{c}` in a bracketed name")));
                    }
                    None => return Err(self.error("unterminated bracketed name")),
                }
            }
            if name.is_empty() {
                return Err(self.error("empty bracketed name"));
            }
            return Ok(FieldName::Extension(name));
        }
        match self.identifier() {
            Some(name) => Ok(FieldName::Plain(name)),
            None => Err(self.error(format!(
                "expected a field name, found {}",
                self.describe_next()
            ))),
        }
    }

    fn identifier(&mut self) -> Option<String> {
        let first = self.peek()?;
        if !(first.is_ascii_alphabetic() || first == '_') {
            return None;
        }
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '_') {
            self.bump();
        }
        self.source.get(start..self.pos).map(str::to_owned)
    }

    fn scalar(&mut self) -> Result<Scalar, ParseError> {
        match self.peek() {
            Some('"' | '\'') => {
                let mut bytes = Vec::new();
                while let Some(quote @ ('"' | '\'')) = self.peek() {
                    self.bump();
                    self.string_body(quote, &mut bytes)?;
                    self.skip_trivia();
                }
                Ok(Scalar::String(bytes))
            }
            Some('-') => {
                self.bump();
                self.skip_trivia();
                if let Some(text) = self.number_text() {
                    return Ok(Scalar::Number(Number {
                        negative: true,
                        text,
                    }));
                }
                match self.identifier() {
                    Some(text) if is_special_float(&text) => Ok(Scalar::Number(Number {
                        negative: true,
                        text,
                    })),
                    _ => Err(self.error("expected a number after `-`")),
                }
            }
            _ => {
                if let Some(text) = self.number_text() {
                    return Ok(Scalar::Number(Number {
                        negative: false,
                        text,
                    }));
                }
                match self.identifier() {
                    Some(name) => Ok(Scalar::Identifier(name)),
                    None => {
                        Err(self.error(format!("expected a value, found {}", self.describe_next())))
                    }
                }
            }
        }
    }

    /// A numeric literal's text, or `None` (consuming nothing) if none starts here.
    fn number_text(&mut self) -> Option<String> {
        let starts_number = match self.peek()? {
            c if c.is_ascii_digit() => true,
            '.' => self.peek_second().is_some_and(|c| c.is_ascii_digit()),
            _ => false,
        };
        if !starts_number {
            return None;
        }
        let start = self.pos;
        let hex = self.rest().starts_with("0x") || self.rest().starts_with("0X");
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                self.bump();
                if !hex && (c == 'e' || c == 'E') && matches!(self.peek(), Some('+' | '-')) {
                    self.bump();
                }
            } else {
                break;
            }
        }
        self.source.get(start..self.pos).map(str::to_owned)
    }

    /// The body of a string literal after its opening `quote`, appended to `out`.
    fn string_body(&mut self, quote: char, out: &mut Vec<u8>) -> Result<(), ParseError> {
        loop {
            match self.bump() {
                None | Some('\n') => return Err(self.error("unterminated string")),
                Some(c) if c == quote => return Ok(()),
                Some('\\') => self.escape(out)?,
                Some(c) => {
                    let mut buf = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), ParseError> {
        let Some(c) = self.bump() else {
            return Err(self.error("unterminated escape"));
        };
        let simple = match c {
            'a' => Some(0x07),
            'b' => Some(0x08),
            'f' => Some(0x0c),
            'n' => Some(b'\n'),
            'r' => Some(b'\r'),
            't' => Some(b'\t'),
            'v' => Some(0x0b),
            '\\' => Some(b'\\'),
            '\'' => Some(b'\''),
            '"' => Some(b'"'),
            '?' => Some(b'?'),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            return Ok(());
        }
        match c {
            '0'..='7' => {
                let mut value = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek().and_then(|d| d.to_digit(8)) {
                        Some(digit) => {
                            self.bump();
                            value = value * 8 + digit;
                        }
                        None => break,
                    }
                }
                let byte = u8::try_from(value)
                    .map_err(|_| self.error(format!("octal escape `\\{value:o}` is over 255")))?;
                out.push(byte);
            }
            'x' | 'X' => {
                let value = self.hex_digits(1, 2)?;
                // INVARIANT: at most two hex digits, so the value fits a byte.
                out.push(u8::try_from(value).unwrap_or(u8::MAX));
            }
            'u' => {
                let unit = self.hex_digits(4, 4)?;
                let code = if (0xD800..0xDC00).contains(&unit) {
                    // A high surrogate must be followed by `\u` and a low surrogate.
                    if !(self.eat('\\') && self.eat('u')) {
                        return Err(self.error("unpaired surrogate in a `\\u` escape"));
                    }
                    let low = self.hex_digits(4, 4)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(self.error("unpaired surrogate in a `\\u` escape"));
                    }
                    0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else {
                    unit
                };
                self.push_code_point(code, out)?;
            }
            'U' => {
                let code = self.hex_digits(8, 8)?;
                self.push_code_point(code, out)?;
            }
            other => return Err(self.error(format!("unknown escape `\\{other}`"))),
        }
        Ok(())
    }

    fn hex_digits(&mut self, min: usize, max: usize) -> Result<u32, ParseError> {
        let mut value = 0_u32;
        let mut count = 0;
        while count < max {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(digit) => {
                    self.bump();
                    value = value * 16 + digit;
                    count += 1;
                }
                None => break,
            }
        }
        if count < min {
            return Err(self.error(format!("expected {min} hex digits in an escape")));
        }
        Ok(value)
    }

    fn push_code_point(&self, code: u32, out: &mut Vec<u8>) -> Result<(), ParseError> {
        let c = char::from_u32(code)
            .ok_or_else(|| self.error(format!("`{code:X}` is not a Unicode scalar value")))?;
        let mut buf = [0; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar_of(source: &str) -> Scalar {
        let message = parse(source).unwrap();
        assert_eq!(message.fields.len(), 1, "{message:?}");
        match &message.fields[0].value {
            FieldValue::Scalar(scalar) => scalar.clone(),
            FieldValue::Message(m) => panic!("expected a scalar, got {m:?}"),
        }
    }

    fn string_of(source: &str) -> Vec<u8> {
        scalar_of(source).as_bytes().unwrap().to_vec()
    }

    #[test]
    fn empty_document_and_comments() {
        assert_eq!(parse("").unwrap(), Message::default());
        assert_eq!(
            parse("# only a comment\n  \n# another").unwrap(),
            Message::default()
        );
    }

    #[test]
    fn fields_in_every_form() {
        let message = parse(
            r#"
            name: "basic"   # trailing comment
            section { name: "a" }
            section: { name: "b" }
            section < name: "c" >
            "#,
        )
        .unwrap();
        let names: Vec<_> = message.fields.iter().map(|f| f.name.to_string()).collect();
        assert_eq!(names, ["name", "section", "section", "section"]);
        assert_eq!(message.fields[0].line, 2);
        assert_eq!(message.fields[3].line, 5);
        let inner: Vec<_> = message
            .all("section")
            .map(|value| match value {
                FieldValue::Message(m) => m.fields[0].value.clone(),
                FieldValue::Scalar(_) => panic!("section is a message"),
            })
            .collect();
        assert_eq!(
            inner,
            ["a", "b", "c"].map(|s| FieldValue::Scalar(Scalar::String(s.into())))
        );
    }

    #[test]
    fn separators_between_fields() {
        let message =
            parse(r#"type_env: { name: "x", ident: { type: { primitive: INT64 } }; }"#).unwrap();
        let FieldValue::Message(env) = &message.fields[0].value else {
            panic!("expected a message")
        };
        assert_eq!(env.fields.len(), 2);
        assert_eq!(
            env.fields[0].value,
            FieldValue::Scalar(Scalar::String(b"x".to_vec()))
        );
    }

    #[test]
    fn list_shorthand_expands_to_repeated_fields() {
        let message = parse("exprs: [1, 2, 3] values: [{ a: 1 }, { a: 2 }] none: []").unwrap();
        let exprs: Vec<_> = message
            .all("exprs")
            .map(|v| match v {
                FieldValue::Scalar(s) => s.as_i64().unwrap(),
                FieldValue::Message(_) => panic!(),
            })
            .collect();
        assert_eq!(exprs, [1, 2, 3]);
        assert_eq!(message.all("values").count(), 2);
        assert_eq!(message.all("none").count(), 0);
    }

    #[test]
    fn extension_names() {
        let message = parse(
            "object_value {\n  [type.googleapis.com/google.protobuf.Duration] { seconds: 123 nanos: 321456789 }\n}",
        )
        .unwrap();
        let FieldValue::Message(any) = &message.fields[0].value else {
            panic!("expected a message")
        };
        assert_eq!(
            any.fields[0].name,
            FieldName::Extension("type.googleapis.com/google.protobuf.Duration".into())
        );
        let spaced = parse("[ a.b / c.D ] { }").unwrap();
        assert_eq!(
            spaced.fields[0].name,
            FieldName::Extension("a.b/c.D".into())
        );
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            string_of(r#"s: "\a\b\f\n\r\t\v\"'\\\?""#),
            b"\x07\x08\x0c\n\r\t\x0b\"'\\?"
        );
        assert_eq!(string_of(r"s: '\'\x41\x4a\101\0\377\7'"), b"'AJA\0\xff\x07");
        assert_eq!(string_of(r#"s: "\xf""#), b"\x0f");
        assert_eq!(string_of(r#"s: "\u00E1\U0001F600""#), "á😀".as_bytes());
        assert_eq!(string_of(r#"s: "\ud83d\ude00""#), "😀".as_bytes());
        assert_eq!(string_of("s: \"caf\u{e9}\""), "café".as_bytes());
        // `\\u` is an escaped backslash followed by a `u`: the CEL escape stays for CEL.
        assert_eq!(string_of(r#"s: "'\\u00E1'""#), br"'\u00E1'");
    }

    #[test]
    fn adjacent_strings_concatenate() {
        assert_eq!(
            string_of("s: \"ab\" 'cd'\n  # comment between\n  \"ef\""),
            b"abcdef"
        );
    }

    #[test]
    fn bad_strings_are_errors() {
        assert!(parse(r#"s: "abc"#).is_err());
        assert!(parse("s: \"ab\ncd\"").is_err());
        assert!(parse(r#"s: "\q""#).is_err());
        assert!(parse(r#"s: "\400""#).is_err());
        assert!(parse(r#"s: "\x""#).is_err());
        assert!(parse(r#"s: "\ud83d""#).is_err());
        assert!(parse(r#"s: "\U00110000""#).is_err());
    }

    #[test]
    fn numbers() {
        assert_eq!(scalar_of("n: 123").as_i64(), Some(123));
        assert_eq!(scalar_of("n: -123").as_i64(), Some(-123));
        assert_eq!(
            scalar_of("n: -9223372036854775808").as_i64(),
            Some(i64::MIN)
        );
        assert_eq!(scalar_of("n: 9223372036854775808").as_i64(), None);
        assert_eq!(
            scalar_of("n: 18446744073709551615").as_u64(),
            Some(u64::MAX)
        );
        assert_eq!(scalar_of("n: -1").as_u64(), None);
        assert_eq!(scalar_of("n: 0x1F").as_i64(), Some(31));
        assert_eq!(scalar_of("n: 017").as_i64(), Some(15));
        assert_eq!(scalar_of("n: 0").as_i64(), Some(0));
        assert_eq!(scalar_of("n: 1.5").as_i64(), None);
        assert_eq!(scalar_of("n: 1.5").as_f64(), Some(1.5));
        assert_eq!(scalar_of("n: -5.43e-21").as_f64(), Some(-5.43e-21));
        assert_eq!(scalar_of("n: 6.02214e23").as_f64(), Some(6.02214e23));
        assert_eq!(scalar_of("n: 1e+3").as_f64(), Some(1000.0));
        assert_eq!(scalar_of("n: .5").as_f64(), Some(0.5));
        assert_eq!(scalar_of("n: 2.5f").as_f64(), Some(2.5));
        assert_eq!(scalar_of("n: 30").as_f64(), Some(30.0));
        assert_eq!(scalar_of("n: 0x10").as_f64(), Some(16.0));
        let negative_zero = scalar_of("n: -0.0").as_f64().unwrap();
        assert!(negative_zero == 0.0 && negative_zero.is_sign_negative());
        assert_eq!(scalar_of("n: inf").as_f64(), Some(f64::INFINITY));
        assert_eq!(scalar_of("n: Infinity").as_f64(), Some(f64::INFINITY));
        assert_eq!(scalar_of("n: -inf").as_f64(), Some(f64::NEG_INFINITY));
        assert_eq!(scalar_of("n: -Infinity").as_f64(), Some(f64::NEG_INFINITY));
        assert!(scalar_of("n: nan").as_f64().unwrap().is_nan());
        assert!(scalar_of("n: -nan").as_f64().unwrap().is_nan());
        assert!(parse("n: -foo").is_err());
    }

    #[test]
    fn identifiers_and_booleans() {
        assert_eq!(
            scalar_of("null_value: NULL_VALUE").as_identifier(),
            Some("NULL_VALUE")
        );
        assert_eq!(scalar_of("b: true").as_bool(), Some(true));
        assert_eq!(scalar_of("b: False").as_bool(), Some(false));
        assert_eq!(scalar_of("b: 1").as_bool(), Some(true));
        assert_eq!(scalar_of("b: maybe").as_bool(), None);
        assert_eq!(scalar_of("b: NULL_VALUE").as_f64(), None);
    }

    #[test]
    fn errors_carry_positions() {
        let error = parse("a: 1\nb { c: 2\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.message.contains("`}`"), "{error}");
        let error = parse("a: 1\n  b 2").unwrap_err();
        assert_eq!((error.line, error.column), (2, 5));
        assert!(parse("a: }").is_err());
        assert!(parse("}").is_err());
        assert!(parse("a: [1 2]").is_err());
        assert!(parse("a: 1 [x").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "a { ".repeat(1000), "}".repeat(1000));
        let error = parse(&deep).unwrap_err();
        assert!(error.message.contains("nest"), "{error}");
        let fine = format!("{}{}", "a { ".repeat(50), "}".repeat(50));
        assert!(parse(&fine).is_ok());
    }
}
