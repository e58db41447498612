//! The `trinity` binary; everything is in the library (`trinity_runtime::cli`).
#![deny(unsafe_code)]
fn main() -> std::process::ExitCode {
    trinity_runtime::cli::main()
}
