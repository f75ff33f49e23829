//! IAM: a role's inline policy, with a typed policy document.

pub(crate) mod role;
mod role_policy;

pub use role::{managed_policy, Role, RoleProvider, BASIC_EXECUTION, XRAY_WRITE};
pub use role_policy::{
    normalise, Condition, Effect, PolicyDocument, RolePolicy, RolePolicyProvider, Statement,
};
