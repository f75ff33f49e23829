//! The stack's outputs: what the program exports, evaluated against what is
//! known (a run's results, or the state).

use crate::kind::{Ctx, Known};
use crate::model::Output;

/// What a secret output shows without `--show-secrets`.
pub const HIDDEN: &str = "(hidden: pass --show-secrets)";

/// One exported output's value (`None` while unknown, or a secret whose
/// value is not at hand).
#[derive(Debug, Clone)]
pub struct Value {
    pub name: String,
    pub value: Option<String>,
    pub secret: bool,
}

/// Every export, in the program's order.
pub fn compute(exports: &[(String, Output<String>)], ctx: &Ctx, k: &Known) -> Vec<Value> {
    exports
        .iter()
        .map(|(name, o)| Value {
            name: name.clone(),
            value: o.resolve(ctx, k),
            secret: o.is_secret(),
        })
        .collect()
}

impl Value {
    /// The value as shown: a secret is hidden unless `show_secrets`.
    pub fn shown(&self, show_secrets: bool) -> String {
        if self.secret && !show_secrets {
            HIDDEN.to_string()
        } else {
            self.value.clone().unwrap_or_default()
        }
    }
}
