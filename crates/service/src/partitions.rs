//! Which partitions `labflight serve --partitions auto|LIST` runs. A district
//! scenario (`dispatch.partition_by = "none"`) is one partition, named after
//! the scenario, kept where the database URL points. A city scenario
//! (`partition_by = "group"`) has one partition per medical group, each with
//! its own world, dispatcher, journal (its own schema) and topic subtree.

use crate::error::BadInput;
use labflight_core::{GroupId, Scenario, scenario::PartitionBy};
use labflight_dispatch::partitions_of;

/// What `serve` runs for one partition: `None` for a district scenario's one
/// partition, else the medical group.
pub type Chosen = Option<String>;

/// The partitions `spec` names for the scenario at `path`: `auto` (all of them)
/// or a comma-separated list, each checked against the scenario's partitions.
pub fn choose_partitions(
    spec: &str,
    path: &std::path::Path,
    overrides: &[(String, String)],
) -> anyhow::Result<Vec<Chosen>> {
    let scenario = Scenario::load_with_overrides(path, overrides)?;
    let all: Vec<String> = match scenario.dispatch.partition_by {
        PartitionBy::None => vec![scenario.name.clone()],
        PartitionBy::Group => {
            let map = labflight_geo::MapData::load(&scenario.map_dir(path))?;
            partitions_of(&map)
                .iter()
                .map(|g| g.as_str().to_owned())
                .collect()
        }
    };
    let chosen: Vec<String> = if spec.trim() == "auto" {
        all.clone()
    } else {
        let mut list = Vec::new();
        for name in spec.split(',').map(str::trim) {
            if !all.iter().any(|p| p == name) {
                return Err(BadInput(format!(
                    "--partitions: `{name}` is not a partition of scenario `{}`; its partitions: {}",
                    scenario.name,
                    all.join(", ")
                ))
                .into());
            }
            if !list.iter().any(|p: &String| p == name) {
                list.push(name.to_owned());
            }
        }
        list
    };
    Ok(chosen
        .into_iter()
        .map(|p| (scenario.dispatch.partition_by == PartitionBy::Group).then_some(p))
        .collect())
}

/// Checks that `group` is one of the city scenario's partitions.
pub(crate) fn check_group(
    scenario: &Scenario,
    map: &labflight_geo::MapData,
    group: &str,
) -> Result<GroupId, BadInput> {
    if scenario.dispatch.partition_by != PartitionBy::Group {
        return Err(BadInput(format!(
            "partition `{group}`: scenario `{}` is dispatched as one partition (`dispatch.partition_by = \"none\"`), named `{}`",
            scenario.name, scenario.name
        )));
    }
    let groups = partitions_of(map);
    groups
        .iter()
        .find(|g| g.as_str() == group)
        .cloned()
        .ok_or_else(|| {
            BadInput(format!(
                "partition `{group}` is not a medical group of scenario `{}`; its partitions: {}",
                scenario.name,
                groups
                    .iter()
                    .map(|g| g.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}
