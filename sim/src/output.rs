//! Writes a run's files: `kpis.json`, `specimens.csv` (a row per tube with every
//! custody timestamp), `flights.csv`, the journal (`journal.jsonl`: a header line,
//! then one stamped event per line) and the dispatcher's `commands.jsonl`. The
//! CSVs are for people: their times are the scenario's local time, each RFC 3339
//! with its offset (`2026-06-15T09:05:00+08:00`), so they read as the day was
//! lived and still parse to the instant.

use crate::DayResult;
use crate::ledger::Ledger;
use chrono::FixedOffset;
use labflight_core::{Command, Instant, Scenario, Stamped};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The journal's first line: what to rebuild the world from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct JournalHeader {
    /// The journal format's version.
    pub labflight_journal: u32,
    /// The scenario file the day was recorded on.
    pub scenario_file: PathBuf,
    /// The `--set` overrides applied to it (field, value).
    pub overrides: Vec<(String, String)>,
    /// The seed of the day.
    pub seed: u64,
    /// The policy that planned it.
    pub policy: String,
    /// The scenario's name (journals written before it was recorded have none).
    #[serde(default)]
    pub scenario: String,
    /// The partition (medical group) this journal is, on a day dispatched by
    /// partitions (`dispatch.partition_by = "group"`): its world is that group's
    /// and its dispatcher's seed `partition_seed(seed, group)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
}

/// The folder of a partitioned run that holds a folder per partition, each with
/// its own `journal.jsonl` and `commands.jsonl`.
pub const PARTITIONS: &str = "partitions";

/// The journal's file name in a run folder.
pub const JOURNAL: &str = "journal.jsonl";
/// The commands' file name in a run folder.
pub const COMMANDS: &str = "commands.jsonl";
/// The analysts' report's file name in a run folder.
pub const REPORT: &str = "report.html";

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
    // The two halves share nothing: the journal and commands are written on a
    // second core while the report is drawn.
    std::thread::scope(|s| {
        let decisions = s.spawn(|| write_decisions(dir, header, &day.run));
        let outcome = write_outcome(dir, scenario, world, &day.ledger, &day.kpis, others);
        decisions
            .join()
            .expect("the journal writer does not panic")?;
        outcome
    })
}

/// What the dispatcher was told and what it decided: `journal.jsonl` and
/// `commands.jsonl`, in an existing folder.
pub fn write_decisions(
    dir: &Path,
    header: &JournalHeader,
    run: &crate::engine::DayRun,
) -> std::io::Result<()> {
    write_journal(&dir.join(JOURNAL), header, &run.journal)?;
    write_commands(&dir.join(COMMANDS), &run.journal, &run.commands)
}

/// What came of it: `report.html`, `kpis.json`, `specimens.csv` and
/// `flights.csv`, in an existing folder.
pub fn write_outcome(
    dir: &Path,
    scenario: &Scenario,
    world: &labflight_dispatch::World,
    ledger: &Ledger,
    kpis: &crate::kpi::Kpis,
    others: &[(String, crate::kpi::Kpis)],
) -> std::io::Result<()> {
    let html = crate::report::render(scenario, world, ledger, kpis, others);
    std::fs::write(dir.join(REPORT), html)?;
    std::fs::write(
        dir.join("kpis.json"),
        serde_json::to_string_pretty(kpis)? + "\n",
    )?;
    write_specimens(&dir.join("specimens.csv"), scenario, ledger)?;
    write_flights(&dir.join("flights.csv"), ledger, scenario.offset())
}

/// Writes the journal: its header line, then one event per line.
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
    let reader = JournalReader::open(path)?;
    let header = reader.header.clone();
    Ok((header, reader.events()?))
}

/// Events a `JournalReader` hands on at a time.
const EVENTS_PER_CHUNK: usize = 1024;

/// A journal opened at its header, its events still to be parsed: a replay
/// starts deciding on the first events while a second core parses the rest.
#[derive(Debug)]
pub struct JournalReader {
    path: PathBuf,
    lines: std::io::Lines<std::io::BufReader<std::fs::File>>,
    /// The journal's header line.
    pub header: JournalHeader,
    /// The file's length in bytes, for a progress bar.
    pub bytes: u64,
}

/// Events parsed from a journal, in order, and how many of its bytes are read
/// once they are.
#[derive(Debug)]
pub struct JournalChunk {
    /// The events, in order.
    pub events: Vec<Stamped>,
    /// How many of the file's bytes are read once these are.
    pub bytes_read: u64,
}

impl JournalReader {
    /// Opens `path` and reads its header line; errors name the file and the line.
    pub fn open(path: &Path) -> Result<JournalReader, String> {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
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
        Ok(JournalReader {
            path: path.to_owned(),
            lines,
            header,
            bytes,
        })
    }

    /// Every event, at once.
    pub fn events(self) -> Result<Vec<Stamped>, String> {
        let mut events = Vec::new();
        self.each_chunk(|chunk| {
            events.extend(chunk.events);
            true
        })?;
        Ok(events)
    }

    /// Parses the events, handing them to `take` in chunks, in order, until the
    /// end, the first bad line (its error names the file and the line) or `take`
    /// returning false (nobody wants the rest).
    pub fn each_chunk(self, mut take: impl FnMut(JournalChunk) -> bool) -> Result<(), String> {
        let path = self.path.display();
        let mut bytes_read = 0u64;
        let mut events = Vec::with_capacity(EVENTS_PER_CHUNK);
        for (i, line) in self.lines.enumerate() {
            let line = line.map_err(|e| format!("{path}: line {}: {e}", i + 2))?;
            bytes_read += line.len() as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            events.push(
                serde_json::from_str(&line).map_err(|e| format!("{path}: line {}: {e}", i + 2))?,
            );
            if events.len() == EVENTS_PER_CHUNK {
                let full = std::mem::replace(&mut events, Vec::with_capacity(EVENTS_PER_CHUNK));
                if !take(JournalChunk {
                    events: full,
                    bytes_read,
                }) {
                    return Ok(());
                }
            }
        }
        if !events.is_empty() {
            take(JournalChunk { events, bytes_read });
        }
        Ok(())
    }
}

/// Writes the commands: one per line, with the index of the event that caused it.
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

/// An instant in the scenario's local time, RFC 3339 with the offset.
fn local(t: Instant, offset: FixedOffset) -> String {
    t.with_timezone(&offset).to_rfc3339()
}

/// `local`, or empty for none.
fn ts(t: Option<Instant>, offset: FixedOffset) -> String {
    t.map(|t| local(t, offset)).unwrap_or_default()
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
    let offset = scenario.offset();
    let ts = |t: Option<Instant>| ts(t, offset);
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
            local(c.drawn_at, offset),
            local(c.sealed_at, offset),
            ts(c.loaded_at),
            c.carrier.clone().unwrap_or_default(),
            c.mission.clone().unwrap_or_default(),
            ts(c.received_at),
            c.lab.as_ref().map(|l| l.to_string()).unwrap_or_default(),
            ts(c.resulted_at),
            ts(c.reported_at),
            local(c.stability_deadline, offset),
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

fn write_flights(path: &Path, ledger: &Ledger, offset: FixedOffset) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    for f in &ledger.flights {
        w.serialize(f.on_clock(offset))
            .map_err(std::io::Error::other)?;
    }
    w.flush()
}
