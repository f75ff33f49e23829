//! The `deployer` binary: the example stack (`deployer::example`) passed to
//! the library's CLI entry point.
fn main() -> std::process::ExitCode {
    deployer::cli::main_with(deployer::example::program)
}
