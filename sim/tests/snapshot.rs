//! A dispatcher restored from a snapshot taken mid-day (through JSON, as the live
//! service stores it) decides exactly as the one that never stopped: the same
//! commands for every later event and the same state at the end, for every policy.

use labflight_core::Scenario;
use labflight_dispatch::{Dispatcher, DispatcherSnapshot, PolicyKind, World};
use labflight_geo::MapData;
use std::path::Path;
use std::sync::Arc;

#[test]
fn a_restored_dispatcher_carries_on_exactly() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/longhua/longhua-short.toml");
    let scenario = Scenario::load(&path).unwrap();
    let map = MapData::load(&scenario.map_dir(&path)).unwrap();
    let world = Arc::new(World::from_map(&scenario, &map));
    for policy in PolicyKind::ALL {
        let day = labflight_sim::simulate(&scenario, Arc::clone(&world), policy, 11, &mut |_| {});
        let events = &day.run.journal;
        assert!(events.len() > 1000, "{}: a real day", policy.name());
        let start = events[0].at;
        let mut unbroken = Dispatcher::new(Arc::clone(&world), policy, 11, start);
        let mut interrupted = Dispatcher::new(Arc::clone(&world), policy, 11, start);
        let cut = events.len() / 2;
        let mut later = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let commands = unbroken.handle(e);
            if i >= cut {
                later.push(serde_json::to_string(&commands).unwrap());
            } else {
                interrupted.handle(e);
            }
        }
        let saved = serde_json::to_string(&interrupted.snapshot()).unwrap();
        let snapshot: DispatcherSnapshot = serde_json::from_str(&saved).unwrap();
        let mut restored = Dispatcher::restore(Arc::clone(&world), policy, snapshot).unwrap();
        let mut differing = 0;
        for (e, want) in events[cut..].iter().zip(&later) {
            if serde_json::to_string(&restored.handle(e)).unwrap() != *want {
                differing += 1;
            }
        }
        assert_eq!(
            differing,
            0,
            "{}: commands after the restore differ",
            policy.name()
        );
        let (got, want) = (
            serde_json::to_value(restored.state()).unwrap(),
            serde_json::to_value(unbroken.state()).unwrap(),
        );
        assert!(
            got == want,
            "{}: end state differs at {}",
            policy.name(),
            first_difference(&got, &want, String::new()).unwrap_or_default()
        );
        assert!(
            day.run.commands.iter().any(|(i, _)| *i >= cut),
            "{}: the second half of the day decides something",
            policy.name()
        );
    }
    let other = Dispatcher::new(
        Arc::clone(&world),
        PolicyKind::Drone,
        11,
        chrono::Utc::now(),
    );
    assert!(
        Dispatcher::restore(world, PolicyKind::Greedy, other.snapshot()).is_err(),
        "a snapshot of one policy does not restore another"
    );
}

/// Where two JSON trees first differ, as a path with both values.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, at: String) -> Option<String> {
    use serde_json::Value::{Array, Object};
    match (a, b) {
        (Object(x), Object(y)) => x
            .iter()
            .find_map(|(k, v)| match y.get(k) {
                Some(w) => first_difference(v, w, format!("{at}.{k}")),
                None => Some(format!("{at}.{k}: only in the restored state")),
            })
            .or_else(|| (x.len() != y.len()).then(|| format!("{at}: keys differ"))),
        (Array(x), Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, format!("{at}[{i}]"))),
        _ => (a != b).then(|| format!("{at}: {a} vs {b}")),
    }
}
