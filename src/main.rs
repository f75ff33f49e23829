//! The `deployer` binary: the example stack (`deployer::example`) passed to
//! the library's CLI entry point.
fn main() -> std::process::ExitCode {
    deployer::App::default().main()
}
