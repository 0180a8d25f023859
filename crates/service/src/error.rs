//! The one error that is the operator's input, not labflight's fault: a bad
//! setting, file or flag. The binary exits with status 2 on it.

/// An error in the operator's input (configuration, command line), in words that
/// name the input, the field and the value.
#[derive(Debug)]
pub struct BadInput(pub String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}
