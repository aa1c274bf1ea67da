//! The criterion language of salesplay (placeholder, being written).
#![warn(missing_docs)]

pub mod ast;
mod diagnostic;
mod lexer;
mod parser;
mod render;
mod span;

pub use diagnostic::{Code, Diagnostic, did_you_mean};
pub use parser::{Limits, parse, parse_with};
pub use render::{Snippet, line_col, render};
pub use span::Span;
