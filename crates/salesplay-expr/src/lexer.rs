//! Turns expression source text into tokens. Never fails outright: bad input becomes
//! diagnostics and the lexer carries on, so one pass reports every lexical problem.

use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// An integer literal's magnitude; the sign is a separate token.
    Int(u64),
    /// An integer literal too large for `u64`.
    IntOverflow,
    Uint,
    Double(f64),
    Str(String),
    Bytes,
    /// A name; its text is the token's span in the source.
    Ident,
    True,
    False,
    Null,
    In,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Dot,
    Comma,
    Question,
    Colon,
    Bang,
    Minus,
    Plus,
    Star,
    Slash,
    Percent,
    Lt,
    Le,
    Gt,
    Ge,
    EqEq,
    Ne,
    AndAnd,
    OrOr,
    Eof,
}

impl Tok {
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Int(_) | Tok::IntOverflow | Tok::Uint | Tok::Double(_) => "a number".into(),
            Tok::Str(_) => "a string".into(),
            Tok::Bytes => "a bytes literal".into(),
            Tok::Ident => "a name".into(),
            Tok::True => "`true`".into(),
            Tok::False => "`false`".into(),
            Tok::Null => "`null`".into(),
            Tok::In => "`in`".into(),
            Tok::Eof => "the end of the expression".into(),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Dot => ".",
            Tok::Comma => ",",
            Tok::Question => "?",
            Tok::Colon => ":",
            Tok::Bang => "!",
            Tok::Minus => "-",
            Tok::Plus => "+",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::Percent => "%",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::EqEq => "==",
            Tok::Ne => "!=",
            Tok::AndAnd => "&&",
            Tok::OrOr => "||",
            _ => "?",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Span,
}

pub(crate) fn lex(src: &str, errors: &mut Vec<Diagnostic>) -> Vec<Token> {
    let mut lexer = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        errors,
    };
    // About one token per four bytes of criteria text; one allocation in the common case.
    let mut tokens = Vec::with_capacity(src.len() / 4 + 2);
    loop {
        let token = lexer.next_token();
        let done = token.tok == Tok::Eof;
        tokens.push(token);
        if done {
            return tokens;
        }
    }
}

struct Lexer<'s, 'e> {
    src: &'s str,
    bytes: &'s [u8],
    pos: usize,
    errors: &'e mut Vec<Diagnostic>,
}

impl Lexer<'_, '_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn next_token(&mut self) -> Token {
        loop {
            self.skip_trivia();
            let start = self.pos;
            let Some(c) = self.peek() else {
                return Token {
                    tok: Tok::Eof,
                    span: Span::new(start, start),
                };
            };
            if let Some(tok) = self.token_from(c) {
                return Token {
                    tok,
                    span: Span::new(start, self.pos),
                };
            }
            // An invalid character: report it and keep lexing.
            let ch = self
                .src
                .get(start..)
                .and_then(|s| s.chars().next())
                .unwrap_or('?');
            self.pos += ch.len_utf8();
            self.errors.push(
                Diagnostic::new(
                    Code::InvalidCharacter,
                    Span::new(start, self.pos),
                    format!("unexpected character `{}`", ch.escape_debug()),
                )
                .help_opt(character_help(ch)),
            );
        }
    }

    fn skip_trivia(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() {
                self.pos += 1;
            } else if c == b'/' && self.peek_at(1) == Some(b'/') {
                while let Some(c) = self.peek() {
                    if c == b'\n' {
                        break;
                    }
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
    }

    fn token_from(&mut self, c: u8) -> Option<Tok> {
        let two = |lexer: &mut Self, tok| {
            lexer.pos += 2;
            Some(tok)
        };
        let one = |lexer: &mut Self, tok| {
            lexer.pos += 1;
            Some(tok)
        };
        let next = self.peek_at(1);
        match c {
            b'(' => one(self, Tok::LParen),
            b')' => one(self, Tok::RParen),
            b'[' => one(self, Tok::LBracket),
            b']' => one(self, Tok::RBracket),
            b'{' => one(self, Tok::LBrace),
            b'}' => one(self, Tok::RBrace),
            b',' => one(self, Tok::Comma),
            b'?' => one(self, Tok::Question),
            b':' => one(self, Tok::Colon),
            b'+' => one(self, Tok::Plus),
            b'-' => one(self, Tok::Minus),
            b'*' => one(self, Tok::Star),
            b'/' => one(self, Tok::Slash),
            b'%' => one(self, Tok::Percent),
            b'!' if next == Some(b'=') => two(self, Tok::Ne),
            b'!' => one(self, Tok::Bang),
            b'<' if next == Some(b'=') => two(self, Tok::Le),
            b'<' => one(self, Tok::Lt),
            b'>' if next == Some(b'=') => two(self, Tok::Ge),
            b'>' => one(self, Tok::Gt),
            b'=' if next == Some(b'=') => two(self, Tok::EqEq),
            b'&' if next == Some(b'&') => two(self, Tok::AndAnd),
            b'|' if next == Some(b'|') => two(self, Tok::OrOr),
            b'.' if next.is_some_and(|n| n.is_ascii_digit()) => Some(self.number()),
            b'.' => one(self, Tok::Dot),
            b'0'..=b'9' => Some(self.number()),
            b'"' | b'\'' => Some(self.string(false, false)),
            b'r' | b'R' if matches!(next, Some(b'"' | b'\'')) => {
                self.pos += 1;
                Some(self.string(true, false))
            }
            b'b' | b'B' if matches!(next, Some(b'"' | b'\'')) => {
                self.pos += 1;
                Some(self.string(false, true))
            }
            b'b' | b'B' | b'r' | b'R'
                if matches!(next, Some(b'r' | b'R' | b'b' | b'B'))
                    && matches!(self.peek_at(2), Some(b'"' | b'\'')) =>
            {
                self.pos += 2;
                Some(self.string(true, true))
            }
            c if c == b'_' || c.is_ascii_alphabetic() => Some(self.word()),
            _ => None,
        }
    }

    fn word(&mut self) -> Tok {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| c == b'_' || c.is_ascii_alphanumeric())
        {
            self.pos += 1;
        }
        match self.src.get(start..self.pos).unwrap_or("") {
            "true" => Tok::True,
            "false" => Tok::False,
            "null" => Tok::Null,
            "in" => Tok::In,
            _ => Tok::Ident,
        }
    }

    fn number(&mut self) -> Tok {
        let start = self.pos;
        if self.peek() == Some(b'0') && matches!(self.peek_at(1), Some(b'x' | b'X')) {
            self.pos += 2;
            let digits_start = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                self.pos += 1;
            }
            let digits = self.src.get(digits_start..self.pos).unwrap_or("");
            let value = u64::from_str_radix(digits, 16);
            return self.int_suffix(start, value.ok(), digits.is_empty());
        }
        let mut is_double = false;
        self.digits();
        if self.peek() == Some(b'.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            is_double = true;
            self.pos += 1;
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.peek_at(1), Some(b'+' | b'-')));
            if self.peek_at(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                is_double = true;
                self.pos += 1 + sign;
                self.digits();
            }
        }
        let text = self.src.get(start..self.pos).unwrap_or("");
        if is_double {
            return match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Tok::Double(v),
                _ => {
                    self.errors.push(
                        Diagnostic::new(
                            Code::InvalidNumber,
                            Span::new(start, self.pos),
                            format!("number `{text}` is out of range"),
                        )
                        .help("doubles range up to about 1.8e308"),
                    );
                    Tok::Double(0.0)
                }
            };
        }
        let value = text.parse::<u64>().ok();
        self.int_suffix(start, value, false)
    }

    fn int_suffix(&mut self, start: usize, value: Option<u64>, empty: bool) -> Tok {
        let unsigned = matches!(self.peek(), Some(b'u' | b'U'));
        if unsigned {
            self.pos += 1;
        }
        if empty {
            self.errors.push(Diagnostic::new(
                Code::InvalidNumber,
                Span::new(start, self.pos),
                "hexadecimal literal has no digits",
            ));
            return Tok::Int(0);
        }
        if unsigned {
            return Tok::Uint;
        }
        match value {
            Some(v) => Tok::Int(v),
            None => Tok::IntOverflow,
        }
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// Lexes a string literal whose opening quote is at `self.pos`.
    fn string(&mut self, raw: bool, bytes: bool) -> Tok {
        let start = self.pos;
        let Some(quote) = self.peek() else {
            return Tok::Str(String::new());
        };
        let triple = self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote);
        self.pos += if triple { 3 } else { 1 };
        let mut value = String::new();
        loop {
            let Some(c) = self.peek() else {
                self.unterminated(start);
                break;
            };
            if c == quote
                && (!triple || (self.peek_at(1) == Some(quote) && self.peek_at(2) == Some(quote)))
            {
                self.pos += if triple { 3 } else { 1 };
                break;
            }
            if !triple && (c == b'\n' || c == b'\r') {
                self.unterminated(start);
                break;
            }
            if c == b'\\' && !raw {
                self.escape(&mut value);
                continue;
            }
            let ch = self
                .src
                .get(self.pos..)
                .and_then(|s| s.chars().next())
                .unwrap_or('\u{fffd}');
            value.push(ch);
            self.pos += ch.len_utf8();
        }
        if bytes { Tok::Bytes } else { Tok::Str(value) }
    }

    fn unterminated(&mut self, start: usize) {
        self.errors.push(
            Diagnostic::new(
                Code::UnterminatedString,
                Span::new(start, self.pos),
                "unterminated string literal",
            )
            .label("the string starts here")
            .help("close the string with the quote it was opened with"),
        );
        self.pos = self.bytes.len();
    }

    /// Lexes one backslash escape at `self.pos` into `out`.
    fn escape(&mut self, out: &mut String) {
        let start = self.pos;
        self.pos += 1;
        let Some(c) = self.peek() else {
            return;
        };
        self.pos += 1;
        let simple = match c {
            b'a' => Some('\u{7}'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            b'v' => Some('\u{b}'),
            b'\\' => Some('\\'),
            b'\'' => Some('\''),
            b'"' => Some('"'),
            b'`' => Some('`'),
            b'?' => Some('?'),
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            return;
        }
        let code = match c {
            b'x' | b'X' => self.hex_digits(2),
            b'u' => self.hex_digits(4),
            b'U' => self.hex_digits(8),
            b'0'..=b'3' => {
                let digits = self.src.get(self.pos - 1..self.pos + 2).unwrap_or("");
                if digits.len() == 3 && digits.bytes().all(|d| (b'0'..=b'7').contains(&d)) {
                    self.pos += 2;
                    u32::from_str_radix(digits, 8).ok()
                } else {
                    None
                }
            }
            _ => None,
        };
        match code.and_then(char::from_u32) {
            Some(ch) => out.push(ch),
            None => {
                // Step over a multi-byte character so the next read is on a boundary.
                while !self.src.is_char_boundary(self.pos) && self.pos < self.bytes.len() {
                    self.pos += 1;
                }
                let text = self.src.get(start..self.pos).unwrap_or("\\");
                self.errors.push(
                    Diagnostic::new(
                        Code::InvalidEscape,
                        Span::new(start, self.pos),
                        format!("invalid escape `{text}` in string literal"),
                    )
                    .help("valid escapes are \\n \\r \\t \\\\ \\\" \\' \\xHH \\uHHHH \\UHHHHHHHH and octal \\ooo; write \\\\ for a backslash"),
                );
            }
        }
    }

    fn hex_digits(&mut self, count: usize) -> Option<u32> {
        let digits = self.src.get(self.pos..self.pos + count)?;
        if !digits.bytes().all(|d| d.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += count;
        u32::from_str_radix(digits, 16).ok()
    }
}

fn character_help(ch: char) -> Option<String> {
    match ch {
        '=' => Some("use `==` to compare".into()),
        '&' => Some("use `&&` for logical and".into()),
        '|' => Some("use `||` for logical or".into()),
        '\u{201c}' | '\u{201d}' | '\u{2018}' | '\u{2019}' | '\u{300c}' | '\u{300d}' => {
            Some("use a plain ASCII quote `\"` around strings".into())
        }
        '\u{ff08}' | '\u{ff09}' => Some("use ASCII parentheses `(` `)`".into()),
        '\u{ff1e}' | '\u{ff1c}' | '\u{ff1d}' => Some("use ASCII comparison operators".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> (Vec<Tok>, Vec<Diagnostic>) {
        let mut errors = Vec::new();
        let tokens = lex(src, &mut errors);
        (tokens.into_iter().map(|t| t.tok).collect(), errors)
    }

    #[test]
    fn operators_and_words() {
        let (t, e) = toks("a.b >= 1 && !c || x in [1, 2]");
        assert!(e.is_empty());
        assert_eq!(
            t,
            vec![
                Tok::Ident,
                Tok::Dot,
                Tok::Ident,
                Tok::Ge,
                Tok::Int(1),
                Tok::AndAnd,
                Tok::Bang,
                Tok::Ident,
                Tok::OrOr,
                Tok::Ident,
                Tok::In,
                Tok::LBracket,
                Tok::Int(1),
                Tok::Comma,
                Tok::Int(2),
                Tok::RBracket,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(toks("0x1F").0[0], Tok::Int(31));
        assert_eq!(toks("1.5e3").0[0], Tok::Double(1500.0));
        assert_eq!(toks(".5").0[0], Tok::Double(0.5));
        assert_eq!(toks("1e-2").0[0], Tok::Double(0.01));
        assert_eq!(toks("3u").0[0], Tok::Uint);
        assert_eq!(toks("99999999999999999999").0[0], Tok::IntOverflow);
        assert_eq!(toks("1e999").1[0].code, Code::InvalidNumber);
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(toks(r#""a\nb""#).0[0], Tok::Str("a\nb".into()));
        assert_eq!(
            toks(r"'\x41\u00e9\101'").0[0],
            Tok::Str("Aé A".replace(' ', ""))
        );
        assert_eq!(toks(r#"r"\n""#).0[0], Tok::Str("\\n".into()));
        assert_eq!(toks("'''a'b'''").0[0], Tok::Str("a'b".into()));
        assert_eq!(toks("\"客户\"").0[0], Tok::Str("客户".into()));
        assert_eq!(toks("b'x'").0[0], Tok::Bytes);
    }

    #[test]
    fn errors_do_not_stop_the_lexer() {
        let (t, e) = toks("a # b = c");
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].code, Code::InvalidCharacter);
        assert_eq!(e[1].help.as_deref(), Some("use `==` to compare"));
        assert_eq!(t.len(), 4);
        let (_, e) = toks("\"abc");
        assert_eq!(e[0].code, Code::UnterminatedString);
        let (_, e) = toks(r#""\q""#);
        assert_eq!(e[0].code, Code::InvalidEscape);
        let (_, e) = toks("\"\\é\"");
        assert_eq!(e[0].code, Code::InvalidEscape);
    }
}
