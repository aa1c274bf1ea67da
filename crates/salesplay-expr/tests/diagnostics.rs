//! Every error code, as the author sees it: message, help and the underlined snippet.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use salesplay_expr::{Code, Limits, compile_criterion, compile_criterion_with};

/// One minimal bad criterion per code.
const CASES: &[(Code, &str)] = &[
    (Code::InvalidCharacter, "amount > 5 # comment"),
    (Code::UnterminatedString, r#"stage == "qualify"#),
    (Code::InvalidEscape, r#"stage == "a\qb""#),
    (Code::InvalidNumber, "count > 99999999999999999999"),
    (Code::UnexpectedToken, "amount > > 5"),
    (Code::UnexpectedEnd, "flag &&"),
    (Code::TooDeep, "((((((((((flag))))))))))"),
    (
        Code::TooLong,
        "flag || flag || flag || flag || flag || flag",
    ),
    (Code::Unsupported, "{'a': 1}.size() > 0"),
    (Code::ReservedWord, "while > 3"),
    (Code::UnknownFact, r#"relationship.levle >= "dating""#),
    (Code::TypeMismatch, "amount > 50000 && count + amount > 3.0"),
    (Code::UnknownEnumValue, r#"relationship.level >= "datng""#),
    (
        Code::MacroMisuse,
        r#"contacts.exists(c.role == "champion")"#,
    ),
    (Code::NotBool, "relationship.level"),
    (Code::UnknownFunction, r#"stage.startswith("q")"#),
    (
        Code::UnknownField,
        r#"contacts.exists(c, c.rol == "champion")"#,
    ),
    (Code::UnorderedEnum, r#"segment >= "mid""#),
    (Code::InvalidLiteral, r#"signed_on > date("2026-02-30")"#),
];

fn limits_for(code: Code) -> Limits {
    match code {
        Code::TooDeep => Limits {
            max_depth: 8,
            ..Limits::default()
        },
        Code::TooLong => Limits {
            max_source_len: 32,
            ..Limits::default()
        },
        _ => Limits::default(),
    }
}

#[test]
fn every_code_has_a_case() {
    for code in Code::ALL {
        assert!(
            CASES.iter().any(|(c, _)| *c == code),
            "no case for {code:?}"
        );
    }
}

#[test]
fn each_case_gives_its_code_and_renders_like_rustc() {
    let schema = common::schema();
    for (code, source) in CASES {
        let errors = compile_criterion_with(source, &schema, &limits_for(*code)).expect_err(source);
        assert_eq!(errors[0].code, *code, "{source}: {errors:?}");
        let rendered: String = errors
            .iter()
            .map(|e| e.render("criterion", source))
            .collect::<Vec<_>>()
            .join("\n");
        insta::assert_snapshot!(code.as_str(), rendered, source);
    }
}

#[test]
fn several_type_errors_are_reported_at_once() {
    let schema = common::schema();
    let errors = compile_criterion(
        r#"amout > 5.0 && relationship.level >= "datng" && stage > 3"#,
        &schema,
    )
    .unwrap_err();
    let codes: Vec<Code> = errors.iter().map(|e| e.code).collect();
    assert_eq!(
        codes,
        [
            Code::UnknownFact,
            Code::UnknownEnumValue,
            Code::TypeMismatch
        ]
    );
}

#[test]
fn helpful_hints() {
    let schema = common::schema();
    let help = |src: &str| {
        compile_criterion(src, &schema).unwrap_err()[0]
            .help
            .clone()
            .unwrap_or_default()
    };
    assert_eq!(
        help("amount + 1 > 5.0"),
        "`amount` is a number: write the literal as `1.0`"
    );
    assert_eq!(
        help("relationship > 1"),
        "name one of the facts inside it: `relationship.level`"
    );
    assert_eq!(
        help(r#"contacts.role == "x""#),
        "test its elements with a macro, such as `contacts.exists(x, x.role == ...)`"
    );
    assert_eq!(
        help(r#"stage.startswith("q")"#),
        "did you mean `startsWith`?"
    );
    assert_eq!(help("count = 3"), "use `==` to compare");
    assert_eq!(
        help("days_since(stage) > 3"),
        "write `days_since(agreement.signed_on)`"
    );
    assert_eq!(
        help(r#"segment == stage"#),
        "compare the enum with a string literal naming one of its values: smb, mid, enterprise"
    );
}

#[test]
fn spans_shift_into_an_enclosing_file() {
    let schema = common::schema();
    let yaml = "    when: amout > 5.0\n";
    let offset = yaml.find("amout").unwrap();
    let error = compile_criterion("amout > 5.0", &schema).unwrap_err()[0]
        .clone()
        .offset(offset);
    assert_eq!(
        salesplay_expr::line_col(yaml, error.span.start as usize),
        (1, 11)
    );
    insta::assert_snapshot!(error.render("playbook.yaml", yaml), @r"
    playbook.yaml:1:11: error[E0201]: unknown fact `amout`
      |
    1 |     when: amout > 5.0
      |           ^^^^^ not a declared fact
      |
      = help: did you mean `amount`?
    ");
}

#[test]
fn diagnostics_work_with_miette() {
    let schema = common::schema();
    let error = compile_criterion("amout > 5.0", &schema)
        .unwrap_err()
        .remove(0);
    let report = miette::Report::new(error).with_source_code("amout > 5.0");
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut out, report.as_ref())
        .unwrap();
    assert!(out.contains("E0201"), "{out}");
    assert!(out.contains("did you mean `amount`?"), "{out}");
}
