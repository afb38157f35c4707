//! A failed command: what to print, and the exit code. Below `manage` and
//! `import`, which both answer with it (so neither imports the other for
//! it).
//!
//! Invariant: a message never holds a key or token (callers build it from
//! problem codes, details and file positions).

/// A failed command: what to print, and the exit code.
pub struct Failure {
    pub message: String,
    pub exit: u8,
}

impl From<&str> for Failure {
    fn from(message: &str) -> Self {
        Failure::from(message.to_owned())
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure { message, exit: 2 }
    }
}
