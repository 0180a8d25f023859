//! Writes a run's files: `kpis.json`, `specimens.csv` (a row per tube with every
//! custody timestamp), `flights.csv`, the journal (`journal.jsonl`: a header line,
//! then one stamped event per line) and the dispatcher's `commands.jsonl`.

use crate::DayResult;
use crate::ledger::Ledger;
use labflight_core::{Command, Instant, Scenario, Stamped};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The journal's first line: what to rebuild the world from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JournalHeader {
    pub labflight_journal: u32,
    pub scenario_file: PathBuf,
    pub overrides: Vec<(String, String)>,
    pub seed: u64,
    pub policy: String,
    /// The scenario's name (journals written before it was recorded have none).
    #[serde(default)]
    pub scenario: String,
}

pub const JOURNAL: &str = "journal.jsonl";
pub const COMMANDS: &str = "commands.jsonl";

/// Writes every file of a run; `others` are compared runs shown beside it in the report.
pub fn write_run(
    dir: &Path,
    header: &JournalHeader,
    scenario: &Scenario,
    world: &labflight_dispatch::World,
    day: &DayResult,
    others: &[(String, crate::kpi::Kpis)],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let date = scenario.at(scenario.service.first_draw);
    let html = crate::report::render(scenario, world, &day.ledger, &day.kpis, others, date);
    std::fs::write(dir.join("report.html"), html)?;
    std::fs::write(
        dir.join("kpis.json"),
        serde_json::to_string_pretty(&day.kpis)? + "\n",
    )?;
    write_journal(&dir.join(JOURNAL), header, &day.run.journal)?;
    write_commands(&dir.join(COMMANDS), &day.run.journal, &day.run.commands)?;
    write_specimens(&dir.join("specimens.csv"), scenario, &day.ledger)?;
    write_flights(&dir.join("flights.csv"), &day.ledger)?;
    Ok(())
}

pub fn write_journal(
    path: &Path,
    header: &JournalHeader,
    events: &[Stamped],
) -> std::io::Result<()> {
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    serde_json::to_writer(&mut w, header)?;
    w.write_all(b"\n")?;
    for e in events {
        serde_json::to_writer(&mut w, e)?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

/// Reads a journal; errors name the file and the line.
pub fn read_journal(path: &Path) -> Result<(JournalHeader, Vec<Stamped>), String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let mut lines = std::io::BufReader::new(file).lines();
    let first = lines
        .next()
        .ok_or_else(|| format!("{}: empty journal", path.display()))?
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let header: JournalHeader = serde_json::from_str(&first).map_err(|e| {
        format!(
            "{}: line 1: not a labflight journal header: {e}",
            path.display()
        )
    })?;
    let mut events = Vec::new();
    for (i, line) in lines.enumerate() {
        let line = line.map_err(|e| format!("{}: line {}: {e}", path.display(), i + 2))?;
        if line.trim().is_empty() {
            continue;
        }
        events.push(
            serde_json::from_str(&line)
                .map_err(|e| format!("{}: line {}: {e}", path.display(), i + 2))?,
        );
    }
    Ok((header, events))
}

pub fn write_commands(
    path: &Path,
    journal: &[Stamped],
    commands: &[(usize, Command)],
) -> std::io::Result<()> {
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    for (i, c) in commands {
        #[derive(Serialize)]
        struct Line<'a> {
            at: Instant,
            event: usize,
            command: &'a Command,
        }
        serde_json::to_writer(
            &mut w,
            &Line {
                at: journal[*i].at,
                event: *i,
                command: c,
            },
        )?;
        w.write_all(b"\n")?;
    }
    w.flush()
}

fn ts(t: Option<Instant>) -> String {
    t.map(|t| t.to_rfc3339()).unwrap_or_default()
}

fn write_specimens(path: &Path, scenario: &Scenario, ledger: &Ledger) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    w.write_record([
        "barcode",
        "station",
        "tube_type",
        "tests",
        "spun",
        "box",
        "drawn_at",
        "sealed_at",
        "loaded_at",
        "carrier",
        "mission",
        "received_at",
        "lab",
        "resulted_at",
        "reported_at",
        "stability_deadline",
        "tat_minutes",
        "on_time",
        "temperature_excursion",
        "miss_reason",
    ])?;
    let cutoff = scenario.at(scenario.service.cutoff);
    let last_draw = scenario.at(scenario.service.last_draw);
    for c in ledger.tubes.values() {
        let eligible = c.drawn_at <= last_draw;
        let on_time = c.reported_at.is_some_and(|r| r <= cutoff);
        let reason = if eligible {
            ledger.miss_reason(c, cutoff).unwrap_or_default()
        } else {
            String::new()
        };
        w.write_record([
            c.barcode.to_string(),
            c.station.to_string(),
            c.tube_type.clone(),
            c.tests.clone(),
            c.spun.to_string(),
            c.box_id.to_string(),
            c.drawn_at.to_rfc3339(),
            c.sealed_at.to_rfc3339(),
            ts(c.loaded_at),
            c.carrier.clone().unwrap_or_default(),
            c.mission.clone().unwrap_or_default(),
            ts(c.received_at),
            c.lab.as_ref().map(|l| l.to_string()).unwrap_or_default(),
            ts(c.resulted_at),
            ts(c.reported_at),
            c.stability_deadline.to_rfc3339(),
            c.reported_at
                .map(|r| (r - c.drawn_at).num_minutes().to_string())
                .unwrap_or_default(),
            on_time.to_string(),
            c.temperature_excursion.to_string(),
            reason,
        ])?;
    }
    w.flush()
}

fn write_flights(path: &Path, ledger: &Ledger) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    for f in &ledger.flights {
        w.serialize(f).map_err(std::io::Error::other)?;
    }
    w.flush()
}
