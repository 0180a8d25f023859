//! Tube deadlines: the families a set of boxes needs, the earliest stability limit
//! among them, and the latest lab arrival that keeps every tube within its limits
//! and the cutoff.

use crate::state::SpecimenBox;
use crate::world::World;
use labflight_core::scenario::minutes;
use labflight_core::{Instant, TestFamily};

/// The families the tubes of `boxes` need, in order, each once: a set of at most
/// five, gathered without a tree per centre.
pub fn families_of<'b>(boxes: impl IntoIterator<Item = &'b SpecimenBox>) -> Vec<TestFamily> {
    let mask = boxes
        .into_iter()
        .flat_map(|b| b.families.iter())
        .fold(0u8, |m, f| m | 1 << *f as u8);
    TestFamily::ALL
        .into_iter()
        .filter(|f| mask & 1 << *f as u8 != 0)
        .collect()
}

/// When the first tube of `boxes` passes its stability limit (`None`: no boxes).
pub fn earliest_stability<'b>(boxes: impl IntoIterator<Item = &'b SpecimenBox>) -> Option<Instant> {
    boxes.into_iter().map(|b| b.stability_deadline).min()
}

/// The latest lab arrival that keeps every tube of boxes whose earliest stability
/// limit is `stability_deadline` within it and gets their result to the centre by
/// the cutoff, at this lab, each with its safety margin (`None` with no boxes:
/// `result_at`). The strictest box sets it, so the boxes of a pickup are weighed
/// once per lab.
pub fn arrival_deadline(
    world: &World,
    stability_deadline: Option<Instant>,
    result_at: Instant,
    arrive: Instant,
) -> Instant {
    let Some(stability_deadline) = stability_deadline else {
        return result_at;
    };
    let processing = result_at - arrive;
    let margin = minutes(world.params.deadline_margin_minutes);
    let stability_margin = minutes(world.params.stability_margin_minutes);
    (stability_deadline - stability_margin).min(world.service.cutoff - processing - margin)
}

/// Whether a lab keeps the promise for boxes whose earliest stability limit is
/// `stability_deadline`: their result at the centre by the cutoff, and the boxes
/// there by their limit. A partition sends boxes to another group's lab only when
/// none of its own does.
pub fn keeps_promise(
    world: &World,
    stability_deadline: Option<Instant>,
    result_at: Instant,
    arrive: Instant,
) -> bool {
    result_at <= world.service.cutoff && stability_deadline.is_none_or(|s| arrive <= s)
}
