//! What a centre's pickup weighs that changes only with its waiting boxes, the
//! labs' state or the wind (`PickupBasis`), kept between passes: a pass re-weighs
//! a centre's boxes and labs only when one of those moved, and otherwise does the
//! arithmetic of the clock alone (`LabOptions::choose`). Debug builds check every
//! kept basis against a fresh one.

use crate::ctx::Ctx;
use crate::planner::{LabOptions, earliest_stability, families_of};
use crate::policy::base::load_boxes;
use labflight_core::{BoxId, Instant, StationId, TestFamily};
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// A centre's waiting boxes as a pickup sees them, and its labs.
#[derive(Debug, PartialEq)]
pub(super) struct PickupBasis {
    /// The waiting boxes it was worked out from, oldest seal first.
    waiting: Vec<BoxId>,
    /// The boxes no lab can test (`alert_untestable`).
    pub(super) untestable: Vec<BoxId>,
    /// What one drone loads (`load_boxes`).
    pub(super) boxes: Vec<BoxId>,
    pub(super) payload_kg: f64,
    /// How many tubes `boxes` hold.
    pub(super) tubes: usize,
    /// The earliest seal among `boxes`.
    pub(super) oldest_seal: Option<Instant>,
    /// The earliest stability limit among `boxes`.
    pub(super) stability_deadline: Option<Instant>,
    /// The families the loaded boxes need.
    families: Vec<TestFamily>,
    /// The labs the loaded boxes could fly to (empty with no boxes).
    pub(super) labs: LabOptions,
    /// The labs' `changes` the labs' forms were worked out at.
    labs_changes: u64,
    /// The wind the legs to the labs were planned in.
    wind: [u64; 2],
}

/// Every centre's kept basis (`PickupBasis`), by centre: the `drone` policy's
/// memory between passes. Never saved: a restored dispatcher rebuilds it.
#[derive(Debug, Default)]
pub(super) struct PickupBases {
    by_station: FxHashMap<StationId, Arc<PickupBasis>>,
}

impl PickupBases {
    /// The basis of `station`'s pickup of `waiting`: the kept one while its
    /// boxes, the labs' state and the wind hold; its labs re-weighed when only
    /// the labs or the wind moved; worked out afresh otherwise.
    pub(super) fn basis(
        &mut self,
        ctx: &mut Ctx<'_>,
        station: &StationId,
        waiting: Vec<BoxId>,
    ) -> Arc<PickupBasis> {
        let labs_changes = ctx.state.labs.changes();
        let wind = wind_bits(ctx);
        let kept = self.by_station.get(station);
        let basis = match kept {
            Some(k) if k.waiting == waiting && k.wind == wind && k.labs_changes == labs_changes => {
                Arc::clone(k)
            }
            // Only the labs' state moved: their forms again, the legs kept.
            Some(k) if k.waiting == waiting && k.wind == wind => Arc::new(PickupBasis {
                waiting,
                untestable: k.untestable.clone(),
                boxes: k.boxes.clone(),
                families: k.families.clone(),
                labs: k.labs.reformed(|lab| ctx.lab_form(lab, &k.families)),
                labs_changes,
                ..**k
            }),
            _ => Arc::new(fresh(ctx, station, waiting)),
        };
        debug_assert_eq!(
            *basis,
            fresh(ctx, station, basis.waiting.clone()),
            "{station}: a kept pickup basis outlived what it was worked out from"
        );
        self.by_station.insert(station.clone(), Arc::clone(&basis));
        basis
    }
}

/// The wind the legs to the labs are planned in, exactly.
fn wind_bits(ctx: &Ctx<'_>) -> [u64; 2] {
    let wind = ctx.state.weather.wind();
    [wind.x.to_bits(), wind.y.to_bits()]
}

/// `station`'s basis worked out from nothing.
fn fresh(ctx: &mut Ctx<'_>, station: &StationId, waiting: Vec<BoxId>) -> PickupBasis {
    let untestable = waiting
        .iter()
        .filter(|id| {
            ctx.state
                .boxes
                .get(*id)
                .is_some_and(|b| !ctx.world.some_lab_runs(&b.families))
        })
        .cloned()
        .collect();
    let boxes = load_boxes(ctx, &waiting);
    let state: &crate::state::State = ctx.state;
    let refs: Vec<_> = boxes.iter().map(|b| &state.boxes[b]).collect();
    let payload_kg: f64 = refs.iter().map(|b| b.payload_kg).sum();
    let tubes = refs.iter().map(|b| b.tubes.len()).sum();
    let oldest_seal = refs.iter().map(|b| b.sealed_at).min();
    let stability_deadline = earliest_stability(refs.iter().copied());
    let families = families_of(refs.iter().copied());
    let labs = weigh_labs(ctx, station, &boxes, payload_kg);
    PickupBasis {
        waiting,
        untestable,
        boxes,
        payload_kg,
        tubes,
        oldest_seal,
        stability_deadline,
        families,
        labs,
        labs_changes: ctx.state.labs.changes(),
        wind: wind_bits(ctx),
    }
}

/// The labs `boxes` from `station` could fly to (none without boxes).
fn weigh_labs(
    ctx: &mut Ctx<'_>,
    station: &StationId,
    boxes: &[BoxId],
    payload_kg: f64,
) -> LabOptions {
    if boxes.is_empty() {
        return LabOptions {
            stability: None,
            labs: Vec::new(),
        };
    }
    let pos = ctx.world.stations[station].position;
    ctx.lab_options(pos, boxes, payload_kg)
}
