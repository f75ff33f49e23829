//! deployer: the Cognito + API Gateway + Lambda OIDC example, deployed
//! straight through the AWS SDK for Rust. See README.md.

pub mod app;
pub mod aws;
pub mod cli;
pub mod config;
pub mod engine;
pub mod error;
pub mod example;
pub mod local;
pub mod model;
pub mod ops;
pub mod outputs;
pub mod package;
pub mod render;
pub mod resources;
pub mod state;
pub mod tools;

pub use app::App;
