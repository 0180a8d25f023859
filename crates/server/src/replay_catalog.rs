//! The recorded runs replay can open: the catalogue lists the folders holding a
//! `journal.jsonl` written by `labflight sim` (and each partition's, of a day
//! dispatched by partitions), and keeps a few runs open, each
//! cut into frames rendered on demand and kept once rendered. Re-running a
//! journal is the binary's job (the loader it hands in); the replay API
//! ([`crate::replay`]) serves what is here.

use crate::day_series::{DayData, DayRenderer};
use crate::error::ApiError;
use axum::http::StatusCode;
use serde::Serialize;
use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};

/// The file a recorded run's journal is in.
pub const JOURNAL_FILE: &str = "journal.jsonl";
/// The folder of a run dispatched by partitions that holds one per group.
const PARTITIONS_DIR: &str = "partitions";
/// Between a run's folder and a group in the id of a partition's journal.
const PARTITION_MARK: char = '~';
/// Runs kept open at once (each holds its frames in memory).
const OPEN_RUNS: usize = 4;

/// Renders frame `i` of a run as View JSON.
pub type FrameRenderer = Box<dyn FnMut(usize) -> Result<String, String> + Send>;

/// An opened run: its span, and its frames as they are rendered.
pub struct ReplayRun {
    /// When the run starts (service time, local).
    pub start: String,
    /// When the run ends (service time, local).
    pub end: String,
    /// Service seconds between frames.
    pub step_s: i64,
    /// How many frames the run has.
    pub frames: usize,
    render: Mutex<FrameRenderer>,
    rendered: Mutex<HashMap<usize, Arc<String>>>,
    /// Re-runs the journal for the day views (none: the run has none).
    day_render: Mutex<Option<DayRenderer>>,
    /// The day views' data, once made.
    day: std::sync::OnceLock<Arc<DayData>>,
}

impl std::fmt::Debug for ReplayRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayRun")
            .field("start", &self.start)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl ReplayRun {
    /// A run of `frames` frames, each rendered by `render` when first asked for.
    pub fn new(
        start: String,
        end: String,
        step_s: i64,
        frames: usize,
        render: FrameRenderer,
    ) -> ReplayRun {
        ReplayRun {
            start,
            end,
            step_s,
            frames,
            render: Mutex::new(render),
            rendered: Mutex::new(HashMap::new()),
            day_render: Mutex::new(None),
            day: std::sync::OnceLock::new(),
        }
    }

    /// The run, with `render` making its day views' data when first asked.
    pub fn with_day(self, render: DayRenderer) -> ReplayRun {
        if let Ok(mut slot) = self.day_render.lock() {
            *slot = Some(render);
        }
        self
    }

    /// The day views' data: the journal re-run and sampled once, then kept.
    pub fn day(&self) -> Result<Arc<DayData>, String> {
        if let Some(d) = self.day.get() {
            return Ok(Arc::clone(d));
        }
        let mut render = self.day_render.lock().map_err(|e| e.to_string())?;
        if let Some(d) = self.day.get() {
            return Ok(Arc::clone(d));
        }
        let render = render
            .as_mut()
            .ok_or_else(|| "this run has no day views".to_owned())?;
        let data = Arc::new(render()?);
        Ok(Arc::clone(self.day.get_or_init(|| data)))
    }

    /// Frame `i` as View JSON (rendered once, then kept).
    pub fn frame(&self, i: usize) -> Result<Arc<String>, String> {
        if i >= self.frames {
            return Err(format!("frame {i}: the run has {} frames", self.frames));
        }
        if let Some(f) = self.rendered.lock().map_err(|e| e.to_string())?.get(&i) {
            return Ok(Arc::clone(f));
        }
        let text = Arc::new((self.render.lock().map_err(|e| e.to_string())?)(i)?);
        self.rendered
            .lock()
            .map_err(|e| e.to_string())?
            .insert(i, Arc::clone(&text));
        Ok(text)
    }
}

/// Re-runs a journal file into frames, or says why it cannot.
pub type ReplayLoader = Arc<dyn Fn(&FsPath) -> Result<ReplayRun, String> + Send + Sync>;

/// The recorded runs under one folder, and the few open at once.
pub struct ReplayCatalog {
    dir: PathBuf,
    loader: ReplayLoader,
    open: Mutex<Vec<(String, Arc<ReplayRun>)>>,
    /// Line counts of journals already listed, by path and size.
    counts: Mutex<HashMap<(PathBuf, u64), usize>>,
}

impl std::fmt::Debug for ReplayCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayCatalog")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// A recorded run, as listed.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RunEntry {
    /// The run's folder name under the runs directory (`<folder>~<group>`: one
    /// partition of a day dispatched by partitions).
    pub id: String,
    /// The scenario it ran.
    pub scenario: String,
    /// The dispatch policy it ran with.
    pub policy: String,
    /// Its random seed.
    pub seed: u64,
    /// How many events its journal holds.
    pub events: usize,
}

impl ReplayCatalog {
    /// The catalogue of `dir`; `loader` re-runs a journal into frames.
    pub fn new(dir: PathBuf, loader: ReplayLoader) -> ReplayCatalog {
        ReplayCatalog {
            dir,
            loader,
            open: Mutex::new(Vec::new()),
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// The recorded runs, by folder name; a day dispatched by partitions is
    /// listed whole (`<folder>`, its partitions opened together) and each
    /// partition's journal as `<folder>~<group>`.
    pub fn runs(&self) -> Vec<RunEntry> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut runs = Vec::new();
        for e in entries.filter_map(Result::ok) {
            let Some(id) = e.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Ok(parts) = std::fs::read_dir(e.path().join(PARTITIONS_DIR)) else {
                runs.extend(self.entry(id.clone(), &e.path().join(JOURNAL_FILE)));
                continue;
            };
            let mut partitions: Vec<RunEntry> = Vec::new();
            for p in parts.filter_map(Result::ok) {
                let Some(group) = p.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                let id = format!("{id}{PARTITION_MARK}{group}");
                partitions.extend(self.entry(id, &p.path().join(JOURNAL_FILE)));
            }
            partitions.sort_by(|a, b| a.id.cmp(&b.id));
            // The whole day too: its partitions opened together.
            if let Some(first) = partitions.first() {
                runs.push(RunEntry {
                    id: id.clone(),
                    events: partitions.iter().map(|p| p.events).sum(),
                    ..first.clone()
                });
            }
            runs.extend(partitions);
        }
        runs.sort_by(|a, b| a.id.cmp(&b.id));
        runs
    }

    /// Where run `id`'s journal is (`<folder>~<group>`: a partition's); for a
    /// day dispatched by partitions, the folder of its partitions' journals.
    fn journal_of(&self, id: &str) -> PathBuf {
        match id.split_once(PARTITION_MARK) {
            Some((run, group)) => self
                .dir
                .join(run)
                .join(PARTITIONS_DIR)
                .join(group)
                .join(JOURNAL_FILE),
            None if self.dir.join(id).join(PARTITIONS_DIR).is_dir() => {
                self.dir.join(id).join(PARTITIONS_DIR)
            }
            None => self.dir.join(id).join(JOURNAL_FILE),
        }
    }

    /// The catalogue's entry for the journal at `journal`, if it is one.
    fn entry(&self, id: String, journal: &FsPath) -> Option<RunEntry> {
        let size = std::fs::metadata(journal).ok()?.len();
        let file = std::fs::File::open(journal).ok()?;
        let mut lines = std::io::BufReader::new(file).lines();
        let header: serde_json::Value = serde_json::from_str(&lines.next()?.ok()?).ok()?;
        header.get("labflight_journal")?;
        let events = *self
            .counts
            .lock()
            .ok()?
            .entry((journal.to_owned(), size))
            .or_insert_with(|| lines.count());
        let named = header
            .get("scenario")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let scenario = named
            .or_else(|| {
                header
                    .get("scenario_file")
                    .and_then(|v| v.as_str())
                    .map(|p| {
                        FsPath::new(p)
                            .file_stem()
                            .and_then(|s| s.to_str())
                            .unwrap_or(p)
                            .to_owned()
                    })
            })
            .unwrap_or_default();
        Some(RunEntry {
            id,
            scenario,
            policy: header["policy"].as_str().unwrap_or_default().to_owned(),
            seed: header["seed"].as_u64().unwrap_or_default(),
            events,
        })
    }

    pub(crate) fn find_open(&self, id: &str) -> Option<Arc<ReplayRun>> {
        let open = self.open.lock().ok()?;
        open.iter()
            .find(|(k, _)| k == id)
            .map(|(_, r)| Arc::clone(r))
    }

    /// Opens a run (re-running it unless it is open already).
    pub fn open(&self, id: &str) -> Result<Arc<ReplayRun>, ApiError> {
        if let Some(r) = self.find_open(id) {
            return Ok(r);
        }
        if !self.runs().iter().any(|r| r.id == id) {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                format!(
                    "no recorded run `{id}` in {} (a folder with {JOURNAL_FILE})",
                    self.dir.display()
                ),
            ));
        }
        let run = (self.loader)(&self.journal_of(id))
            .map_err(|e| ApiError(StatusCode::UNPROCESSABLE_ENTITY, e))?;
        let run = Arc::new(run);
        if let Ok(mut open) = self.open.lock() {
            open.retain(|(k, _)| k != id);
            open.push((id.to_owned(), Arc::clone(&run)));
            while open.len() > OPEN_RUNS {
                open.remove(0);
            }
        }
        Ok(run)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(dir: &FsPath, scenario: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let header = format!(
            "{{\"labflight_journal\":1,\"scenario_file\":\"x.toml\",\"overrides\":[],\"seed\":7,\"policy\":\"drone\",\"scenario\":\"{scenario}\"}}\n"
        );
        let events = "{\"at\":\"2026-06-15T00:00:00Z\",\"event\":{\"type\":\"tick\"}}\n";
        std::fs::write(dir.join(JOURNAL_FILE), header + events + events).unwrap();
    }

    #[test]
    fn a_day_by_partitions_lists_and_opens_each_partitions_journal() {
        let dir = std::env::temp_dir().join(format!("lf-catalog-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        journal(&dir.join("longhua"), "longhua");
        journal(&dir.join("city/partitions/LH-PH"), "shenzhen");
        journal(&dir.join("city/partitions/LH-CH"), "shenzhen");
        let opened = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&opened);
        let loader: ReplayLoader = Arc::new(move |path: &FsPath| {
            seen.lock().unwrap().push(path.to_owned());
            Err("not rendered here".to_owned())
        });
        let catalog = ReplayCatalog::new(dir.clone(), loader);
        let ids: Vec<_> = catalog
            .runs()
            .into_iter()
            .map(|r| (r.id, r.events))
            .collect();
        assert_eq!(
            ids,
            [
                ("city".to_owned(), 4),
                ("city~LH-CH".to_owned(), 2),
                ("city~LH-PH".to_owned(), 2),
                ("longhua".to_owned(), 2)
            ]
        );
        assert!(catalog.open("city~LH-PH").is_err());
        assert!(catalog.open("city~NOPE").is_err(), "only listed runs open");
        assert!(catalog.open("city").is_err());
        let want = [
            dir.join("city/partitions/LH-PH").join(JOURNAL_FILE),
            dir.join("city/partitions"),
        ];
        assert_eq!(
            *opened.lock().unwrap(),
            want,
            "a partition, then the whole day"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
