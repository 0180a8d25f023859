//! FHIR's answer to a request: an `OperationOutcome` with one issue, its severity
//! and its code from R4's IssueType value set.

use super::elements::prune;
use serde_json::{Value, json};

/// `OperationOutcome.issue.severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueSeverity {
    /// `fatal`.
    Fatal,
    /// `error`.
    Error,
    /// `warning`.
    Warning,
    /// `information`.
    Information,
}

impl IssueSeverity {
    /// The FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fatal => "fatal",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Information => "information",
        }
    }
}

/// `OperationOutcome.issue.code`: FHIR R4's IssueType value set, complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueCode {
    /// `invalid`.
    Invalid,
    /// `structure`.
    Structure,
    /// `required`.
    Required,
    /// `value`.
    Value,
    /// `invariant`.
    Invariant,
    /// `security`.
    Security,
    /// `login`.
    Login,
    /// `unknown`.
    Unknown,
    /// `expired`.
    Expired,
    /// `forbidden`.
    Forbidden,
    /// `suppressed`.
    Suppressed,
    /// `processing`.
    Processing,
    /// `not-supported`.
    NotSupported,
    /// `duplicate`.
    Duplicate,
    /// `multiple-matches`.
    MultipleMatches,
    /// `not-found`.
    NotFound,
    /// `deleted`.
    Deleted,
    /// `too-long`.
    TooLong,
    /// `code-invalid`.
    CodeInvalid,
    /// `extension`.
    Extension,
    /// `too-costly`.
    TooCostly,
    /// `business-rule`.
    BusinessRule,
    /// `conflict`.
    Conflict,
    /// `transient`.
    Transient,
    /// `lock-error`.
    LockError,
    /// `no-store`.
    NoStore,
    /// `exception`.
    Exception,
    /// `timeout`.
    Timeout,
    /// `incomplete`.
    Incomplete,
    /// `throttled`.
    Throttled,
    /// `informational`.
    Informational,
}

impl IssueCode {
    /// The FHIR code.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::Structure => "structure",
            Self::Required => "required",
            Self::Value => "value",
            Self::Invariant => "invariant",
            Self::Security => "security",
            Self::Login => "login",
            Self::Unknown => "unknown",
            Self::Expired => "expired",
            Self::Forbidden => "forbidden",
            Self::Suppressed => "suppressed",
            Self::Processing => "processing",
            Self::NotSupported => "not-supported",
            Self::Duplicate => "duplicate",
            Self::MultipleMatches => "multiple-matches",
            Self::NotFound => "not-found",
            Self::Deleted => "deleted",
            Self::TooLong => "too-long",
            Self::CodeInvalid => "code-invalid",
            Self::Extension => "extension",
            Self::TooCostly => "too-costly",
            Self::BusinessRule => "business-rule",
            Self::Conflict => "conflict",
            Self::Transient => "transient",
            Self::LockError => "lock-error",
            Self::NoStore => "no-store",
            Self::Exception => "exception",
            Self::Timeout => "timeout",
            Self::Incomplete => "incomplete",
            Self::Throttled => "throttled",
            Self::Informational => "informational",
        }
    }
}

/// A FHIR R4 `OperationOutcome` with one issue; `expression` is a FHIRPath to the
/// offending element.
pub fn operation_outcome(
    severity: IssueSeverity,
    code: IssueCode,
    diagnostics: &str,
    expression: Option<&str>,
) -> Value {
    prune(json!({
        "resourceType": "OperationOutcome",
        "issue": [{
            "severity": severity.as_str(),
            "code": code.as_str(),
            "diagnostics": diagnostics,
            "expression": expression.map(|e| vec![e]),
        }],
    }))
    .unwrap_or(Value::Null)
}
