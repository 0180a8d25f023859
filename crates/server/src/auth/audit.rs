//! The audit log's writer: one line per action with its caller and how it
//! ended, each free-text part cut to [`limits::AUDIT_TEXT`].

use super::callers::Caller;
use crate::limits;
use crate::state::AppState;
use chrono::Utc;
use labflight_store::AuditEntry;

/// Writes one line of the audit log, each free-text part cut to
/// [`limits::AUDIT_TEXT`]; a failure to write is logged, not fatal.
pub(crate) async fn audit(
    s: &AppState,
    caller: &Caller,
    action: &str,
    target: Option<&str>,
    outcome: &str,
    detail: Option<String>,
) {
    let entry = AuditEntry {
        at: Utc::now(),
        user: limits::audit_text(&caller.user),
        role: caller.role.as_str().into(),
        action: limits::audit_text(action),
        target: target.map(limits::audit_text),
        outcome: limits::audit_text(outcome),
        detail: detail.as_deref().map(limits::audit_text),
    };
    if let Err(e) = s.store.audit(&entry).await {
        tracing::error!("audit log: {e}");
    }
}
