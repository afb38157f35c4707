//! Configuration errors: found once, at load, naming the product and field.

use std::fmt;

/// An invalid configuration. `field` is a path such as
/// `products[salesforge].route.path_prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the problem is.
    pub field: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl ConfigError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KEYGATE_CONFIG.{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ConfigError {}
