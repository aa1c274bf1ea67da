//! The `salesplay` binary: everything is in the library, so tests can run it in-process.

fn main() -> std::process::ExitCode {
    salesplay_cli::main_entry()
}
