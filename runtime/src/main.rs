//! The `trinity` binary; everything is in the library (`trinity_runtime::cli`).
#![forbid(unsafe_code)]
fn main() -> std::process::ExitCode {
    trinity_runtime::cli::main()
}
