//! The at-risk list as the dashboard shows it: each tube the dispatcher's forecast
//! calls at risk, with its planned times in local time and why, as a code with its
//! values (for the page to say in the reader's language) and in English.

use super::local_time::local;
use chrono::FixedOffset;
use labflight_core::Instant;
use labflight_core::forecast::Risk;
use serde::Serialize;
use utoipa::ToSchema;

/// A tube at risk of missing the cutoff.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AtRiskTube {
    /// The tube's barcode.
    pub barcode: String,
    /// The centre it was collected at.
    pub station: String,
    /// The box it is in.
    #[serde(rename = "box")]
    pub box_id: String,
    /// Where it is (`in_box`, `at_lab`, …).
    pub status: String,
    /// The lab the dispatcher's plan takes it to (or that has it).
    pub lab: Option<String>,
    /// When the plan has a carrier collect it, local.
    pub pickup_at: Option<String>,
    /// When the plan has it at the lab, local.
    pub lab_arrival: Option<String>,
    /// When its result is expected at the centre, local (none: the plan has no
    /// time for it).
    pub predicted_result: Option<String>,
    /// The cutoff it is held to, local.
    pub cutoff: String,
    /// Its stability limit (latest lab arrival), local: the list is sorted by it.
    pub stability_limit: String,
    /// Why it is at risk: a code and its values, for the dashboard to say in
    /// the reader's language.
    pub risk: RiskView,
    /// Why it is at risk, in English (the same as `risk`).
    pub reason: String,
}

/// Why a tube is at risk, as the dispatcher's forecast gives it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RiskView {
    /// The reason: `result_after_cutoff`, `stability_before_arrival`,
    /// `no_lab`, `beyond_range_no_van`,
    /// `grounded_no_van`, `grounded_van_late`, `stranded` or `rejected`.
    pub code: String,
    /// The lab concerned, if any.
    pub lab: Option<String>,
    /// The time the reason is about (a planned arrival or result), local.
    pub at: Option<String>,
    /// The limit it is held to (a deadline or stability limit), local.
    pub limit: Option<String>,
}

/// A forecast risk with its times in local time.
pub(super) fn risk_view(risk: &Risk, offset: FixedOffset) -> RiskView {
    let t = |at: &Instant| Some(local(*at, offset));
    let (lab, at, limit) = match risk {
        Risk::StabilityBeforeArrival {
            lab,
            arrival,
            limit,
        } => (Some(lab), t(arrival), t(limit)),
        Risk::ResultAfterCutoff { lab, result } => (Some(lab), t(result), None),
        Risk::GroundedVanLate {
            lab,
            arrival,
            deadline,
        } => (Some(lab), t(arrival), t(deadline)),
        Risk::GroundedNoVan { limit } => (None, None, t(limit)),
        Risk::HeldForStorm { resume, limit } => (None, t(resume), t(limit)),
        Risk::NoLab | Risk::BeyondRangeNoVan | Risk::Stranded | Risk::Rejected => {
            (None, None, None)
        }
    };
    RiskView {
        code: risk_code(risk).into(),
        lab: lab
            .filter(|l| !l.as_str().is_empty())
            .map(|l| l.to_string()),
        at,
        limit,
    }
}

/// The code a risk is known by (its `code` in JSON).
pub(super) fn risk_code(risk: &Risk) -> &'static str {
    match risk {
        Risk::StabilityBeforeArrival { .. } => "stability_before_arrival",
        Risk::ResultAfterCutoff { .. } => "result_after_cutoff",
        Risk::NoLab => "no_lab",
        Risk::BeyondRangeNoVan => "beyond_range_no_van",
        Risk::GroundedNoVan { .. } => "grounded_no_van",
        Risk::GroundedVanLate { .. } => "grounded_van_late",
        Risk::HeldForStorm { .. } => "held_for_storm",
        Risk::Stranded => "stranded",
        Risk::Rejected => "rejected",
    }
}

/// A risk in English, times as `hm` gives them (local, no zone: the dashboard
/// states the zone once).
pub fn risk_text(risk: &Risk, hm: &dyn Fn(Instant) -> String) -> String {
    match risk {
        Risk::StabilityBeforeArrival {
            lab,
            arrival,
            limit,
        } => format!(
            "planned at {lab} at {}, after its stability limit {}",
            hm(*arrival),
            hm(*limit)
        ),
        Risk::ResultAfterCutoff { lab, result } => {
            format!(
                "{lab}: result predicted at {}, after the cutoff",
                hm(*result)
            )
        }
        Risk::NoLab => "no lab can take it now".into(),
        Risk::BeyondRangeNoVan => "beyond every drone's range and no van to take it".into(),
        Risk::GroundedNoVan { limit } => format!(
            "fleet grounded and no van to send; stability limit {}",
            hm(*limit)
        ),
        Risk::GroundedVanLate {
            lab,
            arrival,
            deadline,
        } => format!(
            "fleet grounded; the first van reaches {lab} at {}, after its deadline {}",
            hm(*arrival),
            hm(*deadline)
        ),
        Risk::HeldForStorm { resume, limit } => format!(
            "held for the storm forecast until {}; stability limit {}",
            hm(*resume),
            hm(*limit)
        ),
        Risk::Stranded => "set down away from a lab: waiting for a carrier".into(),
        Risk::Rejected => "rejected by the lab: a redraw was asked for".into(),
    }
}
