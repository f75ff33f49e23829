//! Every integration test in one test binary (`[[test]] name = "it"`): each
//! file below is a module. One binary links the AWS SDK and the shared
//! harness (`common`) once instead of once per file, which the clean-clone
//! test run measured (README, Figures). cargo-nextest still runs each test in
//! its own process; `cargo nextest run -E 'test(/^stack::/)'` runs one file.

mod common;

mod bad_input;
mod crash;
mod dev;
mod emulator;
mod mocks;
mod package;
mod program;
mod s3_backend;
mod scale;
mod soak;
mod stack;
mod state_safety;
