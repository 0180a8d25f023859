//! The one error type for configuration and data files: it always names the file,
//! and where it can the field (or line) and the offending value.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The reason is in the message (not a `source`), so it is told once.
    #[error("{file}: cannot read: {reason}")]
    Io {
        file: PathBuf,
        reason: std::io::Error,
    },
    /// The file does not parse (bad syntax, unknown field, wrong type); `message`
    /// comes from the parser and names the line and the field.
    #[error("{file}: {message}")]
    Parse { file: PathBuf, message: String },
    #[error("{file}: field `{field}` = {value}: {reason}")]
    Invalid {
        file: PathBuf,
        field: String,
        value: String,
        reason: String,
    },
}

impl ConfigError {
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
