//! `labflight sim` and `labflight replay`: one simulated day (or a comparison of
//! policies, or a parameter sweep) written to an output folder; a journal re-run
//! through the dispatcher. Both end by printing where they wrote (`output:` and
//! `report:` lines), and refuse an `--out` whose parent folder is missing unless
//! `--mkdir` is given.

use crate::BadInput;
use anyhow::Context;
use clap::Args;
use labflight_core::Scenario;
use labflight_core::scenario::PartitionBy;
use labflight_dispatch::{
    Dispatcher, PolicyKind, World, courier_vans_needed, partition_seed, partitions_of,
};
use labflight_geo::MapData;
use labflight_sim::{self as output, JournalHeader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Scenario file (TOML).
    #[arg(long)]
    scenario: PathBuf,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// drone, vans, courier or greedy. `vans` (deadline-aware planning with vans
    /// only) and `courier` (the old fixed van rounds) run with a van per round
    /// route unless `--set fleet.couriers=N` is given; `--policy vans --set
    /// fleet.couriers=6,8,10` answers how many vans reach the 99.5 % target.
    #[arg(long, default_value = "drone")]
    policy: String,
    /// Output folder (kpis.json, specimens.csv, flights.csv, journal.jsonl,
    /// commands.jsonl, report.html; with --compare or a sweep, a subfolder per run
    /// and comparison.txt). It is created if missing; its parent folder must exist
    /// (exit 2 if not) unless --mkdir is given. Without --out nothing is written.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Create the parent folders of --out too.
    #[arg(long)]
    mkdir: bool,
    /// Override a scenario field, `key=value`; `key=v1,v2,...` sweeps it.
    #[arg(long = "set")]
    set: Vec<String>,
    /// Run several policies on the same demand: `drone,vans,courier,greedy`.
    #[arg(long)]
    compare: Option<String>,
    /// No progress bar. The results are still printed: the KPIs (or the comparison
    /// table), then, with --out, `output: <folder>` and a `report: <report.html>`
    /// line per run written, as absolute paths.
    #[arg(long)]
    quiet: bool,
    /// Skip the vans, courier and greedy baselines shown beside a drone day in report.html.
    #[arg(long)]
    no_baselines: bool,
    /// Threads a day dispatched by partitions (`dispatch.partition_by = "group"`)
    /// runs its partitions on; the outcome is the same whatever the number.
    /// Default: the machine's cores.
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A run's journal.jsonl.
    #[arg(long)]
    journal: PathBuf,
    /// Another policy for a what-if (re-simulates the journal's day with it).
    #[arg(long)]
    policy: Option<String>,
    /// The scenario file to re-run it on, when it is no longer where the journal
    /// was recorded (a run copied from another machine or checkout). It must be
    /// the same scenario (by name).
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// Output folder, as for `sim --out`: created if missing; its parent folder
    /// must exist (exit 2 if not) unless --mkdir is given.
    #[arg(long)]
    out: PathBuf,
    /// Create the parent folders of --out too.
    #[arg(long)]
    mkdir: bool,
    /// No progress bar. The KPIs are still printed, then `output: <folder>` and
    /// `report: <report.html>` as absolute paths.
    #[arg(long)]
    quiet: bool,
}

pub(crate) fn parse_policy(name: &str) -> anyhow::Result<PolicyKind> {
    name.parse::<PolicyKind>()
        .map_err(|e| BadInput(format!("--policy: {e}")).into())
}

fn parse_sets(sets: &[String]) -> anyhow::Result<Vec<(String, Vec<String>)>> {
    sets.iter()
        .map(|s| {
            let (k, v) = s
                .split_once('=')
                .ok_or_else(|| BadInput(format!("--set `{s}`: expected key=value")))?;
            Ok((
                k.trim().to_owned(),
                v.split(',').map(|x| x.trim().to_owned()).collect(),
            ))
        })
        .collect()
}

pub(crate) fn load_world(
    scenario_file: &Path,
    overrides: &[(String, String)],
) -> anyhow::Result<(Scenario, Arc<World>)> {
    let (scenario, map) = load_map(scenario_file, overrides)?;
    let world = Arc::new(World::from_map(&scenario, &map));
    Ok((scenario, world))
}

/// The scenario with its overrides, and its map.
fn load_map(
    scenario_file: &Path,
    overrides: &[(String, String)],
) -> anyhow::Result<(Scenario, MapData)> {
    let scenario = Scenario::load_with_overrides(scenario_file, overrides)?;
    let map = MapData::load(&scenario.map_dir(scenario_file))?;
    Ok((scenario, map))
}

/// The scenario, world and dispatcher seed a journal (at `journal`) was recorded
/// with: a partition's journal replays on its group's world and seed, alone.
pub(crate) fn journal_world(
    header: &JournalHeader,
    journal: &Path,
) -> anyhow::Result<(Scenario, Arc<World>, u64)> {
    let (scenario, map) = load_map(&header.scenario_file, &header.overrides)?;
    let Some(group) = &header.partition else {
        let world = World::from_map(&scenario, &map);
        return Ok((scenario, Arc::new(world), header.seed));
    };
    let group = labflight_core::GroupId::new(group);
    if !partitions_of(&map).contains(&group) {
        return Err(BadInput(format!(
            "{}: recorded for partition `{group}`, which the map has no centre of",
            journal.display()
        ))
        .into());
    }
    let world = World::partition_from_map(&scenario, &map, &group);
    Ok((
        scenario,
        Arc::new(world),
        partition_seed(header.seed, &group),
    ))
}

/// The threads a partitioned day runs on: as asked, else the machine's cores.
fn threads(asked: Option<usize>) -> usize {
    asked.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Refuses an output folder whose parent is missing (a typo should not scatter
/// folders), unless `mkdir` asks for it to be created. The folder itself is
/// created when the run is written.
fn check_out(out: &Path, mkdir: bool) -> anyhow::Result<()> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => return Ok(()),
    };
    if mkdir || parent.is_dir() {
        return Ok(());
    }
    Err(BadInput(format!(
        "--out {}: the folder {} does not exist; create it or pass --mkdir",
        out.display(),
        parent.display()
    ))
    .into())
}

/// Prints where a run was written: the folder and its report, absolute.
fn print_written(dir: &Path) {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    println!("output: {}", dir.display());
    println!("report: {}", dir.join(output::REPORT).display());
}

fn progress_bar(quiet: bool, label: &str) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(1000);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix:>12} [{bar:40}] {percent:>3}% {elapsed}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_owned());
    bar
}

/// One simulated day, ready to be written.
struct Run {
    scenario: Scenario,
    world: Arc<World>,
    header: JournalHeader,
    day: labflight_sim::DayResult,
    /// A day dispatched by partitions: each one's journal and commands (the
    /// day's own `run` is then empty; its ledger and figures are the city's).
    partitions: Vec<labflight_sim::PartitionRun>,
}

impl Run {
    fn write(&self, dir: &Path, others: &[(String, labflight_sim::Kpis)]) -> anyhow::Result<()> {
        let context = || format!("writing {}", dir.display());
        if self.partitions.is_empty() {
            return output::write_run(
                dir,
                &self.header,
                &self.scenario,
                &self.world,
                &self.day,
                others,
            )
            .with_context(context);
        }
        std::fs::create_dir_all(dir).with_context(context)?;
        let (ledger, kpis) = (&self.day.ledger, &self.day.kpis);
        output::write_outcome(dir, &self.scenario, &self.world, ledger, kpis, others)
            .with_context(context)?;
        for p in &self.partitions {
            let folder = dir.join(output::PARTITIONS).join(p.group.as_str());
            std::fs::create_dir_all(&folder).with_context(context)?;
            let header = JournalHeader {
                partition: Some(p.group.to_string()),
                ..self.header.clone()
            };
            output::write_decisions(&folder, &header, &p.run).with_context(context)?;
        }
        Ok(())
    }
}

/// Simulates one day (with `overrides` set) and writes it as a recorded run into
/// `out` (the demo's replays).
pub(crate) fn record(
    scenario_file: &Path,
    overrides: &[(String, String)],
    seed: u64,
    policy: &str,
    out: &Path,
) -> anyhow::Result<()> {
    let run = run_one(
        scenario_file,
        overrides,
        seed,
        parse_policy(policy)?,
        true,
        None,
    )?;
    run.write(out, &[])
}

/// The scenario file a journal is re-run on: `--scenario` if given (the same
/// scenario by name), else the one it was recorded on, which must still be there.
fn replay_scenario(args: &ReplayArgs, header: &JournalHeader) -> anyhow::Result<PathBuf> {
    let journal = args.journal.display();
    let Some(file) = &args.scenario else {
        if !header.scenario_file.is_file() {
            return Err(BadInput(format!(
                "{journal}: recorded on the scenario file {}, which is not there; pass --scenario with its path here",
                header.scenario_file.display()
            ))
            .into());
        }
        return Ok(header.scenario_file.clone());
    };
    let scenario = Scenario::load(file)?;
    if !header.scenario.is_empty() && scenario.name != header.scenario {
        return Err(BadInput(format!(
            "--scenario {}: scenario `{}`, but {journal} was recorded on `{}`",
            file.display(),
            scenario.name,
            header.scenario
        ))
        .into());
    }
    Ok(std::fs::canonicalize(file).unwrap_or_else(|_| file.clone()))
}

/// The overrides a day runs with: `overrides`, and for the van baselines
/// (`courier`, `vans`) a van per route of the fixed rounds (`courier_vans_needed`)
/// unless `fleet.couriers` is set already — the scenario's vans are the drone
/// day's backups, far too few for a day of vans only, and both baselines run with
/// the same vans. Recorded in the journal's header, so a replay runs with the
/// same vans.
fn with_policy_fleet(
    scenario_file: &Path,
    overrides: &[(String, String)],
    policy: PolicyKind,
) -> anyhow::Result<Vec<(String, String)>> {
    const COURIERS: &str = "fleet.couriers";
    let mut overrides = overrides.to_vec();
    let vans_only = matches!(policy, PolicyKind::Courier | PolicyKind::Vans);
    if vans_only && !overrides.iter().any(|(k, _)| k == COURIERS) {
        let (_, world) = load_world(scenario_file, &overrides)?;
        overrides.push((COURIERS.to_owned(), courier_vans_needed(&world).to_string()));
    }
    Ok(overrides)
}

/// Runs one day.
fn run_one(
    scenario_file: &Path,
    overrides: &[(String, String)],
    seed: u64,
    policy: PolicyKind,
    quiet: bool,
    threads_asked: Option<usize>,
) -> anyhow::Result<Run> {
    let overrides = &with_policy_fleet(scenario_file, overrides, policy)?;
    let (scenario, map) = load_map(scenario_file, overrides)?;
    let world = Arc::new(World::from_map(&scenario, &map));
    let bar = progress_bar(quiet, policy.name());
    let mut progress = |share: f64| bar.set_position((share * 1000.0) as u64);
    let (day, partitions) = match scenario.dispatch.partition_by {
        PartitionBy::None => {
            let day =
                labflight_sim::simulate(&scenario, Arc::clone(&world), policy, seed, &mut progress);
            (day, Vec::new())
        }
        PartitionBy::Group => {
            let threads = threads(threads_asked);
            let city = labflight_sim::simulate_partitioned(
                &scenario,
                &map,
                policy,
                seed,
                threads,
                &mut progress,
            );
            let day = labflight_sim::DayResult {
                run: labflight_sim::DayRun::default(),
                ledger: city.ledger,
                kpis: city.kpis,
            };
            (day, city.partitions)
        }
    };
    bar.finish_and_clear();
    let header = JournalHeader {
        labflight_journal: 1,
        scenario_file: std::fs::canonicalize(scenario_file)
            .unwrap_or_else(|_| scenario_file.to_owned()),
        overrides: overrides.to_vec(),
        seed,
        policy: policy.name().to_owned(),
        scenario: scenario.name.clone(),
        partition: None,
    };
    Ok(Run {
        scenario,
        world,
        header,
        day,
        partitions,
    })
}

/// The comparison: per run the service level, then what it took (drone flights,
/// van trips, vehicles used, vehicle-km and energy, drones and vans together).
fn table(rows: &[(String, labflight_sim::Kpis)]) -> String {
    let mut s = format!(
        "{:<22} {:>8} {:>9} {:>7} {:>7} {:>7} {:>9} {:>5} {:>8} {:>7} {:>8} {:>9} {:>8} {:>7}\n",
        "run",
        "tubes",
        "on-time",
        "p50",
        "p90",
        "max",
        "stability",
        "lost",
        "flights",
        "vans",
        "util",
        "vehicles",
        "veh-km",
        "kWh"
    );
    for (name, k) in rows {
        s += &format!(
            "{:<22} {:>8} {:>8.2}% {:>7} {:>7} {:>7} {:>9} {:>5} {:>8} {:>7} {:>7.1}% {:>9} {:>8.1} {:>7.1}\n",
            name,
            k.specimens,
            k.on_time_rate * 100.0,
            k.tat_minutes.p50,
            k.tat_minutes.p90,
            k.tat_minutes.max,
            k.stability_violations,
            k.lost_specimens,
            k.flights,
            k.courier_trips,
            k.drone_utilisation * 100.0,
            k.drones_used + k.vans_used,
            k.drone_km + k.van_km,
            k.drone_kwh + k.van_kwh
        );
    }
    s
}

/// The on-time rate the service promises (README, "Measured service level"): a
/// sweep says which of its values is the smallest that reaches it.
const ON_TIME_TARGET: f64 = 0.995;

/// After a sweep's table: per policy, the on-time rate at each value swept and
/// the smallest value (in the order given) reaching `ON_TIME_TARGET` — for
/// `--policy vans --set fleet.couriers=…`, how many vans do what the drones do.
fn sweep_summary(
    key: &str,
    values: &[String],
    policies: &[PolicyKind],
    rows: &[(String, labflight_sim::Kpis)],
) -> String {
    let target = ON_TIME_TARGET * 100.0;
    let mut s = String::new();
    for policy in policies {
        let swept: Vec<(&String, f64)> = values
            .iter()
            .filter_map(|v| {
                let name = format!("{} {key}={v}", policy.name());
                let k = rows.iter().find(|(n, _)| *n == name).map(|(_, k)| k)?;
                Some((v, k.on_time_rate))
            })
            .collect();
        let rates: Vec<String> = swept
            .iter()
            .map(|(v, r)| format!("{v}: {:.2} %", r * 100.0))
            .collect();
        s += &format!(
            "\n{} on time by {key}: {}\n",
            policy.name(),
            rates.join(", ")
        );
        // The smallest by value when all are numbers, else the first in the order given.
        let mut reaching: Vec<&(&String, f64)> =
            swept.iter().filter(|(_, r)| *r >= ON_TIME_TARGET).collect();
        reaching.sort_by(|a, b| match (a.0.parse::<f64>(), b.0.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.total_cmp(&y),
            _ => std::cmp::Ordering::Equal,
        });
        s += &match reaching.first() {
            Some((v, r)) => format!(
                "{}: smallest {key} with ≥ {target:.1} % on time: {v} ({:.2} %)\n",
                policy.name(),
                r * 100.0
            ),
            None => format!(
                "{}: no {key} swept reaches {target:.1} % on time\n",
                policy.name()
            ),
        };
    }
    s
}

pub fn sim(args: SimArgs) -> anyhow::Result<()> {
    if let Some(out) = &args.out {
        check_out(out, args.mkdir)?;
    }
    let sets = parse_sets(&args.set)?;
    let fixed: Vec<(String, String)> = sets
        .iter()
        .filter(|(_, v)| v.len() == 1)
        .map(|(k, v)| (k.clone(), v[0].clone()))
        .collect();
    let sweeps: Vec<&(String, Vec<String>)> = sets.iter().filter(|(_, v)| v.len() > 1).collect();
    if sweeps.len() > 1 {
        return Err(BadInput("--set: sweep one parameter at a time".into()).into());
    }
    let policies: Vec<PolicyKind> = match &args.compare {
        Some(list) => list
            .split(',')
            .map(|p| parse_policy(p.trim()))
            .collect::<anyhow::Result<_>>()?,
        None => vec![parse_policy(&args.policy)?],
    };
    let sweep_values: Vec<Option<(String, String)>> = match sweeps.first() {
        Some((k, vs)) => vs.iter().map(|v| Some((k.clone(), v.clone()))).collect(),
        None => vec![None],
    };
    let mut runs: Vec<(String, Run)> = Vec::new();
    for value in &sweep_values {
        for policy in &policies {
            let mut overrides = fixed.clone();
            let mut name = policy.name().to_owned();
            if let Some((k, v)) = value {
                overrides.push((k.clone(), v.clone()));
                name = format!("{name} {k}={v}");
            }
            runs.push((
                name,
                run_one(
                    &args.scenario,
                    &overrides,
                    args.seed,
                    *policy,
                    args.quiet,
                    args.threads,
                )?,
            ));
        }
    }
    let rows: Vec<(String, labflight_sim::Kpis)> = runs
        .iter()
        .map(|(n, r)| (n.clone(), r.day.kpis.clone()))
        .collect();
    if let [(_, run)] = runs.as_slice() {
        if let Some(out) = &args.out {
            // The analysts' baselines beside a drone day, on the same demand.
            let mut baselines = Vec::new();
            if !args.no_baselines && policies == [PolicyKind::Drone] {
                for p in [PolicyKind::Vans, PolicyKind::Courier, PolicyKind::Greedy] {
                    let b = run_one(
                        &args.scenario,
                        &fixed,
                        args.seed,
                        p,
                        args.quiet,
                        args.threads,
                    )?;
                    baselines.push((format!("baseline: {}", p.name()), b.day.kpis));
                }
            }
            run.write(out, &baselines)?;
        }
        println!("{}", serde_json::to_string_pretty(&run.day.kpis)?);
        if let Some(out) = &args.out {
            print_written(out);
        }
        return Ok(());
    }
    let mut summary = String::new();
    if let Some((key, values)) = sweeps.first() {
        summary = sweep_summary(key, values, &policies, &rows);
    }
    let mut written = Vec::new();
    if let Some(out) = &args.out {
        for (name, run) in &runs {
            let others: Vec<_> = rows.iter().filter(|(n, _)| n != name).cloned().collect();
            let dir = out.join(name.replace(' ', "_"));
            run.write(&dir, &others)?;
            written.push(dir);
        }
        std::fs::write(out.join("comparison.txt"), table(&rows) + &summary)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    print!("{}{summary}", table(&rows));
    if let Some(out) = &args.out {
        let out = std::fs::canonicalize(out).unwrap_or_else(|_| out.clone());
        println!("output: {}", out.display());
        for dir in written {
            let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
            println!("report: {}", dir.join(output::REPORT).display());
        }
    }
    Ok(())
}

pub fn replay(args: ReplayArgs) -> anyhow::Result<()> {
    check_out(&args.out, args.mkdir)?;
    let reader = output::JournalReader::open(&args.journal).map_err(BadInput)?;
    let mut header = reader.header.clone();
    header.scenario_file = replay_scenario(&args, &header)?;
    let recorded = parse_policy(&header.policy)?;
    let policy = match &args.policy {
        Some(p) => parse_policy(p)?,
        None => recorded,
    };
    if policy != recorded {
        // A journal that does not read is refused whatever is asked of it.
        reader.events().map_err(BadInput)?;
        // A what-if: the same day (scenario, overrides, seed) re-simulated under another policy.
        let run = run_one(
            &header.scenario_file,
            &header.overrides,
            header.seed,
            policy,
            args.quiet,
            None,
        )?;
        run.write(&args.out, &[])?;
        println!("{}", serde_json::to_string_pretty(&run.day.kpis)?);
        print_written(&args.out);
        return Ok(());
    }
    let journal_bytes = reader.bytes.max(1);
    let (scenario, world, run) = std::thread::scope(|s| -> anyhow::Result<_> {
        // A second core parses the journal while this one loads the world, then
        // decides on each chunk as it comes.
        let (chunks, parsed) = std::sync::mpsc::sync_channel::<output::JournalChunk>(8);
        let parser = s.spawn(move || reader.each_chunk(|chunk| chunks.send(chunk).is_ok()));
        let (scenario, world, seed) = journal_world(&header, &args.journal)?;
        let bar = progress_bar(args.quiet, "replay");
        let mut dispatcher: Option<Dispatcher> = None;
        let mut run = labflight_sim::DayRun::default();
        for chunk in parsed {
            for e in chunk.events {
                let d = dispatcher
                    .get_or_insert_with(|| Dispatcher::new(Arc::clone(&world), policy, seed, e.at));
                let (index, commands) = run.decide(d, e);
                run.commands
                    .extend(commands.into_iter().map(|c| (index, c)));
            }
            bar.set_position(chunk.bytes_read * 1000 / journal_bytes);
        }
        bar.finish_and_clear();
        parser
            .join()
            .expect("the journal parser does not panic")
            .map_err(BadInput)?;
        if run.journal.is_empty() {
            return Err(BadInput(format!("{}: no events", args.journal.display())).into());
        }
        Ok((scenario, world, run))
    })?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let kpis = std::thread::scope(|s| -> anyhow::Result<_> {
        // The journal and commands are written while the ledger is drawn up.
        let decisions = s.spawn(|| output::write_decisions(&args.out, &header, &run));
        let ledger = labflight_sim::ledger_of(&scenario, &world, &run);
        let kpis = labflight_sim::compute_kpis(&scenario, header.seed, policy.name(), &ledger)
            .with_areas(&scenario, &ledger, world.stations.values());
        output::write_outcome(&args.out, &scenario, &world, &ledger, &kpis, &[])
            .with_context(|| format!("writing {}", args.out.display()))?;
        decisions
            .join()
            .expect("the journal writer does not panic")
            .with_context(|| format!("writing {}", args.out.display()))?;
        Ok(kpis)
    })?;
    println!("{}", serde_json::to_string_pretty(&kpis)?);
    print_written(&args.out);
    Ok(())
}
