//! The one error type for configuration and data files: it always names the file,
//! and where it can the field (or line) and the offending value.

use std::path::PathBuf;

/// A configuration or data file that cannot be used, naming the file and, where it
/// can, the field and the value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The reason is in the message (not a `source`), so it is told once.
    #[error("{file}: cannot read: {reason}")]
    Io {
        /// The file.
        file: PathBuf,
        /// Why it cannot be read.
        reason: std::io::Error,
    },
    /// The file does not parse (bad syntax, unknown field, wrong type); `message`
    /// comes from the parser and names the line and the field.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A field holds a value that is not allowed.
    #[error("{file}: field `{field}` = {value}: {reason}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// The field (dotted path).
        field: String,
        /// The value found.
        value: String,
        /// Why it is not allowed.
        reason: String,
    },
}

impl ConfigError {
    /// An `Invalid` error.
    pub fn invalid(
        file: impl Into<PathBuf>,
        field: impl Into<String>,
        value: impl ToString,
        reason: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            file: file.into(),
            field: field.into(),
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
