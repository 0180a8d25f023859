//! Every bound on what crosses the HTTP edge, in one place: free-text field
//! lengths and the NUL character no database column takes (checked with
//! `field`, refused naming the field and what is wrong), the
//! audit row's parts, the sign-in throttle and the password-hashing pool. The
//! table in docs/dashboard.md lists the same numbers.

use std::time::Duration;

/// User names (sign-in, `labflight users add`).
pub const USER_NAME: usize = 64;
/// Passwords: argon2's input is bounded so a huge body cannot buy a long hash.
pub const PASSWORD: usize = 256;
/// The shortest password accepted when one is set.
pub const PASSWORD_MIN: usize = 8;
/// Tube barcodes, in paths and queries.
pub const BARCODE: usize = 64;
/// Ids named in paths: drones, labs, centres, missions, alerts, subscriptions, deliveries.
pub const ID: usize = 128;
/// A lab's rejection reason.
pub const REASON: usize = 500;
/// A DiagnosticReport's identifier (the report id a duplicate is known by).
pub const REPORT_ID: usize = 128;
/// A subscription's URL.
pub const URL: usize = 2048;
/// A subscription's scope (`all`, `station:<id>`, `group:<id>`).
pub const SCOPE: usize = 160;
/// A subscription's secret (`whsec_…`).
pub const SECRET: usize = 512;
/// Bodies of the small JSON requests (sign-in, password change, reject, reassign).
pub const SMALL_BODY: usize = 16 * 1024;

/// Each free-text part of an audit row (user, action, target, outcome, detail) is
/// cut to this many characters, ending with [`TRUNCATED`].
pub const AUDIT_TEXT: usize = 512;
/// What a cut audit text ends with.
pub const TRUNCATED: &str = "…[truncated]";

/// Configured bearer tokens (admin, labs) are at least this long.
pub const TOKEN_MIN: usize = 16;

/// Sign-in attempts one user name may make in a burst, and how often one more is allowed.
pub const LOGIN_PER_USER_BURST: u32 = 8;
pub const LOGIN_PER_USER_EVERY: Duration = Duration::from_secs(6);
/// Sign-in attempts one source address may make in a burst, and how often one more is allowed.
pub const LOGIN_PER_ADDRESS_BURST: u32 = 30;
pub const LOGIN_PER_ADDRESS_EVERY: Duration = Duration::from_secs(1);
/// Distinct user names and addresses the throttle remembers; past that, idle ones
/// are forgotten, and while it is still full every new sign-in is refused (429).
pub const LOGIN_KEYS: usize = 10_000;

/// Password hashes computed at once (each runs on a blocking thread, ~20 ms and 19 MiB).
pub const HASHING_AT_ONCE: usize = 2;
/// How long a sign-in waits for a hashing slot before it is refused (503).
pub const HASHING_WAIT: Duration = Duration::from_secs(10);

/// A refused field: the error names it and says what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldError {
    /// Over its limit: its length and the limit.
    TooLong {
        field: &'static str,
        len: usize,
        limit: usize,
    },
    /// Holds a NUL character, which PostgreSQL's text columns refuse: taken in,
    /// it would fail the store (a 500, or a core retrying a commit for ever).
    Nul { field: &'static str },
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldError::TooLong { field, len, limit } => {
                write!(f, "{field} is {len} characters, at most {limit} allowed")
            }
            FieldError::Nul { field } => {
                write!(f, "{field} holds a NUL character, which is not allowed")
            }
        }
    }
}

/// `value` when it is at most `limit` characters long and holds no NUL.
pub fn field<'a>(name: &'static str, value: &'a str, limit: usize) -> Result<&'a str, FieldError> {
    let len = value.chars().count();
    if len > limit {
        Err(FieldError::TooLong {
            field: name,
            len,
            limit,
        })
    } else if value.contains('\0') {
        Err(FieldError::Nul { field: name })
    } else {
        Ok(value)
    }
}

/// `text` cut to [`AUDIT_TEXT`] characters (the marker included) when longer.
pub fn audit_text(text: &str) -> String {
    if text.chars().count() <= AUDIT_TEXT {
        return text.to_owned();
    }
    let keep = AUDIT_TEXT - TRUNCATED.chars().count();
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(TRUNCATED);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_at_its_limit_passes_and_one_over_is_named() {
        let at = "x".repeat(BARCODE);
        assert_eq!(field("barcode", &at, BARCODE), Ok(at.as_str()));
        let over = "é".repeat(BARCODE + 1);
        let e = field("barcode", &over, BARCODE).unwrap_err();
        assert!(
            matches!(e, FieldError::TooLong { field: "barcode", len, .. } if len == BARCODE + 1),
            "counted in characters, not bytes: {e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "barcode is {} characters, at most {BARCODE} allowed",
                BARCODE + 1
            )
        );
    }

    #[test]
    fn a_nul_character_is_refused_naming_the_field() {
        let e = field("reason", "bad\0reason", REASON).unwrap_err();
        assert_eq!(e, FieldError::Nul { field: "reason" });
        assert_eq!(
            e.to_string(),
            "reason holds a NUL character, which is not allowed"
        );
    }

    #[test]
    fn audit_text_is_cut_with_a_marker_at_the_limit() {
        assert_eq!(audit_text("short"), "short");
        let exact = "a".repeat(AUDIT_TEXT);
        assert_eq!(audit_text(&exact), exact);
        let cut = audit_text(&"ü".repeat(AUDIT_TEXT * 10));
        assert_eq!(cut.chars().count(), AUDIT_TEXT);
        assert!(cut.ends_with(TRUNCATED));
        assert!(cut.starts_with("üü"));
    }
}
