//! Alerts and result-sharing deliveries as the dashboard lists them, from the
//! dispatcher's commands or the store's rows.

use super::local_time::local;
use chrono::FixedOffset;
use serde::Serialize;
use utoipa::ToSchema;

/// An alert as the dashboard lists it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AlertView {
    /// The alert's command id.
    pub id: String,
    /// When it was raised.
    pub at: String,
    /// What kind of alert.
    pub kind: String,
    /// How severe.
    pub severity: String,
    /// What it is about (a drone, box, tube, lab, …).
    pub subject: String,
    /// What happened, in English.
    pub message: String,
    /// What happened as a code and values, for the dashboard to say in the
    /// reader's language (none for an alert recorded before reasons were coded).
    #[schema(value_type = Option<crate::shapes::Reason>)]
    pub reason: Option<labflight_core::Reason>,
    /// Who acknowledged it.
    pub acked_by: Option<String>,
    /// When it was acknowledged, local.
    pub acked_at: Option<String>,
}

/// The result-sharing panel: deliveries by state, and the latest.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct HooksView {
    /// Deliveries not yet made.
    pub pending: i64,
    /// Deliveries given up on.
    pub failed: i64,
    /// Deliveries made.
    pub delivered: i64,
    /// The latest deliveries.
    pub recent: Vec<HookItem>,
}

/// One delivery of a result to a subscriber.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HookItem {
    /// The delivery's id (sent with it).
    pub webhook_id: String,
    /// The tube the result is for.
    pub barcode: String,
    /// What was sent.
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// How the last attempt failed, if it did.
    pub last_error: Option<String>,
}

/// How many of `alerts` nobody acknowledged yet.
pub(crate) fn unacked(alerts: &[AlertView]) -> usize {
    alerts.iter().filter(|a| a.acked_by.is_none()).count()
}

/// An alert as the dashboard lists it.
pub fn alert_row(
    id: String,
    at: String,
    alert: &labflight_core::command::Alert,
    acked_by: Option<String>,
    acked_at: Option<String>,
) -> AlertView {
    let name = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    AlertView {
        id,
        at,
        kind: name(serde_json::to_value(alert.kind)),
        severity: name(serde_json::to_value(alert.severity)),
        subject: alert.subject.clone(),
        message: alert.message.clone(),
        reason: alert.reason.clone(),
        acked_by,
        acked_at,
    }
}

/// The dashboard's alert row from a stored `alert` command envelope.
pub fn alert_view(stored: &labflight_store::StoredAlert, offset: FixedOffset) -> Option<AlertView> {
    let v: serde_json::Value = serde_json::from_str(&stored.body).ok()?;
    let labflight_core::Command::Alert(alert) =
        serde_json::from_value(v.get("command")?.clone()).ok()?
    else {
        return None;
    };
    Some(alert_row(
        stored.command_id.clone(),
        v.get("time")?.as_str()?.to_owned(),
        &alert,
        stored.acked_by.clone(),
        stored.acked_at.map(|t| local(t, offset)),
    ))
}

/// The hook panel from the store's summary.
pub fn hooks_view(s: &labflight_store::HookSummary) -> HooksView {
    HooksView {
        pending: s.pending,
        failed: s.failed,
        delivered: s.delivered,
        recent: s
            .recent
            .iter()
            .map(|o| HookItem {
                webhook_id: o.webhook_id.clone(),
                barcode: o.barcode.clone(),
                kind: o.kind.clone(),
                status: o.status.clone(),
                attempts: o.attempts,
                last_error: o.last_error.clone(),
            })
            .collect(),
    }
}
