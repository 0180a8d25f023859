//! Why a lab's report was refused: every refusal names the FHIR path and, when
//! there is one, the bad value, and becomes the `OperationOutcome` the lab is
//! answered with.

use super::outcome::{IssueCode, IssueSeverity, operation_outcome};
use serde_json::Value;
use thiserror::Error;

/// Why a lab's report was refused. Each names the FHIR path (a FHIRPath expression, also
/// usable as `OperationOutcome.issue.expression`) and, when there is one, the bad value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FhirError {
    /// Something required is not there.
    #[error("{path}: missing ({what})")]
    Missing {
        /// Where (FHIRPath).
        path: String,
        /// What was expected there.
        what: String,
    },
    /// Something is there but wrong.
    #[error("{path}: {value} {problem}")]
    Invalid {
        /// Where (FHIRPath).
        path: String,
        /// The offending JSON, as sent (shortened when long).
        value: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl FhirError {
    /// The FHIRPath of the offending element.
    pub fn path(&self) -> &str {
        match self {
            Self::Missing { path, .. } | Self::Invalid { path, .. } => path,
        }
    }

    /// The `OperationOutcome` to answer the lab with.
    pub fn to_operation_outcome(&self) -> Value {
        let code = match self {
            Self::Missing { .. } => IssueCode::Required,
            Self::Invalid { .. } => IssueCode::Value,
        };
        operation_outcome(
            IssueSeverity::Error,
            code,
            &self.to_string(),
            Some(self.path()),
        )
    }
}

pub(super) fn missing(path: impl Into<String>, what: impl Into<String>) -> FhirError {
    FhirError::Missing {
        path: path.into(),
        what: what.into(),
    }
}

pub(super) fn invalid(
    path: impl Into<String>,
    value: &Value,
    problem: impl Into<String>,
) -> FhirError {
    let mut shown = value.to_string();
    if shown.chars().count() > 120 {
        shown = shown.chars().take(117).collect::<String>() + "...";
    }
    FhirError::Invalid {
        path: path.into(),
        value: shown,
        problem: problem.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::contained_report;
    use super::super::report_in::parse_lab_report;
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_become_operation_outcomes() {
        let mut body = contained_report();
        body["status"] = json!("cancelled");
        let oo = parse_lab_report(&body).unwrap_err().to_operation_outcome();
        assert_eq!(oo["resourceType"], "OperationOutcome");
        assert_eq!(oo["issue"][0]["severity"], "error");
        assert_eq!(oo["issue"][0]["code"], "value");
        assert_eq!(oo["issue"][0]["expression"][0], "DiagnosticReport.status");
        assert!(
            oo["issue"][0]["diagnostics"]
                .as_str()
                .unwrap()
                .contains("\"cancelled\"")
        );
        let ok = operation_outcome(
            IssueSeverity::Information,
            IssueCode::Informational,
            "accepted",
            None,
        );
        assert_eq!(ok["issue"][0]["severity"], "information");
        assert!(ok["issue"][0].get("expression").is_none());
    }
}
