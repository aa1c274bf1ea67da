//! Support code for salesplay's end-to-end and conformance tests.
//!
//! This package is never published; its integration tests live in `tests/` beside this
//! folder. The library part holds what those tests share:
//!
//! - [`textproto`]: a small parser for the protobuf text format, enough to read CEL's
//!   conformance test files without a protobuf toolchain;
//! - [`conformance`]: the typed view of those files (files, sections, tests, values,
//!   type environments), and [`conformance_dir`] to find them.

pub mod conformance;
pub mod textproto;

use std::path::PathBuf;

/// Environment variable naming the CEL conformance data folder explicitly.
pub const CONFORMANCE_DIR_VAR: &str = "SALESPLAY_CEL_CONFORMANCE";

/// Environment variable that, when `1`, makes a missing conformance folder a test failure
/// instead of a skip (for CI, where the data must be present).
pub const REQUIRE_CONFORMANCE_VAR: &str = "SALESPLAY_REQUIRE_CONFORMANCE";

/// Where the CEL conformance data should be: `$SALESPLAY_CEL_CONFORMANCE` if set, otherwise
/// `shared/cel-conformance` beside the repository (`<repo>/../shared/cel-conformance`).
///
/// The folder may not exist; callers decide whether that is a skip or a failure
/// (see [`conformance_required`]).
pub fn conformance_dir() -> PathBuf {
    match std::env::var_os(CONFORMANCE_DIR_VAR) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/cel-conformance"),
    }
}

/// Whether `$SALESPLAY_REQUIRE_CONFORMANCE` is `1`: a missing data folder must then fail.
pub fn conformance_required() -> bool {
    std::env::var_os(REQUIRE_CONFORMANCE_VAR).is_some_and(|value| value == "1")
}
