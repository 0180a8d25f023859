//! The lab floor: reception, analyzers per family with their throughput and run
//! times, verification, opening hours and outages. A tube's result comes when the
//! last of its families is done and verified; a tube needing a family the lab
//! has no analyzer for is refused at reception.

use chrono::Duration;
use labflight_core::scenario::minutes;
use labflight_core::{Instant, LabId, Scenario, Tube};
use labflight_dispatch::World;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;

#[derive(Debug)]
struct Line {
    family: labflight_core::TestFamily,
    per_tube: Duration,
    run: Duration,
    free_at: Instant,
    outages: Vec<(Instant, Instant)>,
}

#[derive(Debug)]
pub struct LabFloor {
    lines: BTreeMap<LabId, Vec<Line>>,
    reception: BTreeMap<LabId, Duration>,
    verification: BTreeMap<LabId, Duration>,
    /// Result times of tubes in the lab, to report queue lengths.
    pending: BTreeMap<LabId, Vec<Instant>>,
}

impl LabFloor {
    pub fn new(scenario: &Scenario, world: &World) -> Self {
        let start = scenario.at(scenario.service.first_draw);
        let mut lines = BTreeMap::new();
        for lab in world.labs.values() {
            let l = lab
                .analyzers
                .iter()
                .map(|a| Line {
                    family: a.family,
                    per_tube: minutes(60.0 / a.tubes_per_hour),
                    run: minutes(a.run_minutes),
                    free_at: start,
                    outages: scenario
                        .outages
                        .iter()
                        .filter(|o| o.lab == lab.id && o.analyzer == a.id)
                        .map(|o| (scenario.at(o.from), scenario.at(o.to)))
                        .collect(),
                })
                .collect();
            lines.insert(lab.id.clone(), l);
        }
        LabFloor {
            lines,
            reception: world
                .labs
                .values()
                .map(|l| (l.id.clone(), minutes(l.reception_minutes)))
                .collect(),
            verification: world
                .labs
                .values()
                .map(|l| (l.id.clone(), minutes(l.verification_minutes)))
                .collect(),
            pending: BTreeMap::new(),
        }
    }

    /// The first of the tube's test families `lab` has no analyzer for: the lab
    /// cannot result it, whatever the queue.
    pub fn lacks(&self, lab: &LabId, tube: &Tube) -> Option<labflight_core::TestFamily> {
        let lines = self.lines.get(lab).map_or(&[][..], |l| &l[..]);
        tube.families
            .iter()
            .copied()
            .find(|f| !lines.iter().any(|l| l.family == *f))
    }

    /// Books a tube received at `at`; returns when its verified result is ready.
    /// How long reception takes at `lab` before a tube is spun or analysed.
    pub fn reception(&self, lab: &LabId) -> chrono::Duration {
        self.reception.get(lab).copied().unwrap_or_default()
    }

    pub fn process(
        &mut self,
        lab: &LabId,
        tube: &Tube,
        at: Instant,
        rng: &mut ChaCha8Rng,
    ) -> Instant {
        let ready = at + self.reception.get(lab).copied().unwrap_or_default();
        let verification = self.verification.get(lab).copied().unwrap_or_default();
        let mut done = ready;
        if let Some(lines) = self.lines.get_mut(lab) {
            for family in &tube.families {
                // The line of this family that can start soonest, outages considered.
                let best = lines
                    .iter_mut()
                    .filter(|l| l.family == *family)
                    .map(|l| {
                        let mut start = ready.max(l.free_at);
                        for (from, to) in &l.outages {
                            if start >= *from && start < *to {
                                start = *to;
                            }
                        }
                        (start, l)
                    })
                    .min_by_key(|(start, _)| *start);
                if let Some((start, line)) = best {
                    line.free_at = start + line.per_tube;
                    done = done.max(start + line.run);
                }
            }
        }
        // Verification takes a little longer for some results (re-runs, phone calls).
        let extra = Duration::seconds(rng.random_range(0..300));
        let result = done + verification + extra;
        self.pending.entry(lab.clone()).or_default().push(result);
        result
    }

    /// Tubes in each lab still without a result at `now`.
    pub fn queues(&mut self, now: Instant) -> BTreeMap<String, u32> {
        self.pending
            .iter_mut()
            .map(|(lab, results)| {
                results.retain(|r| *r > now);
                (lab.to_string(), results.len() as u32)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::LabFloor;
    use labflight_core::{LabId, Scenario, TestFamily, Tube, TubeBarcode, TubeType};
    use labflight_dispatch::World;
    use labflight_geo::MapData;

    fn tube(families: Vec<TestFamily>) -> Tube {
        Tube {
            barcode: TubeBarcode::from("T-1"),
            tube_type: TubeType("edta".into()),
            tests: Vec::new(),
            families,
            drawn_at: chrono::Utc::now(),
            stability_minutes: 120.0,
            band: labflight_core::TempBand {
                min_c: 2.0,
                max_c: 25.0,
            },
            spun: false,
        }
    }

    #[test]
    fn a_lab_refuses_a_tube_needing_a_family_it_has_no_analyzer_for() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/longhua/scenario.toml");
        let scenario = Scenario::load(&path).unwrap();
        let map = MapData::load(&scenario.map_dir(&path)).unwrap();
        let world = World::from_map(&scenario, &map);
        let floor = LabFloor::new(&scenario, &world);
        let both = tube(vec![TestFamily::Hematology, TestFamily::Hba1c]);
        assert_eq!(
            floor.lacks(&LabId::from("LAB-MCH"), &both),
            Some(TestFamily::Hba1c)
        );
        assert_eq!(floor.lacks(&LabId::from("LAB-CH"), &both), None);
        let cbc = tube(vec![TestFamily::Hematology]);
        assert_eq!(floor.lacks(&LabId::from("LAB-MCH"), &cbc), None);
        assert_eq!(
            floor.lacks(&LabId::from("LAB-NOWHERE"), &cbc),
            Some(TestFamily::Hematology)
        );
    }
}
