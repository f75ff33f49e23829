//! The operations: `up`, `plan`, `down`, `outputs` (and what `deployer dev`,
//! `logs` and `state` reuse): open a stack's target and state, run the
//! program, drive the engine. The CLI parses into these; the offline mode
//! calls them too.

pub mod logs;
pub mod state;
pub mod watch;

mod build;
mod declared;
mod down;
mod flags;
mod import;
mod outputs;
mod session;
mod up;

pub use build::{build_for_run, build_package, codes_of};
pub use declared::{apply_moves, nodes_for, targeted, Declared};
pub use down::down;
pub use flags::{quota_share, stack_name, Global};
pub use import::import;
pub use outputs::outputs;
pub use session::{
    backend_of, local_sdk_config, make_ctx, open, open_store, read_store, refuse_govcloud,
    sdk_config, stack_sdk, urls_of, Session,
};
pub use up::{check_demo_password, up, up_local, Report};

#[cfg(test)]
mod demo_password_tests;

#[cfg(test)]
mod orphan_tests;
