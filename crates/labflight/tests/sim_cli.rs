//! `labflight sim` and `labflight replay` as a user runs them: outputs written,
//! replay byte-identical, a what-if under another policy, bad input exits 2.

mod common;

use common::{bin, scratch};
use std::path::Path;

#[test]
fn sim_writes_its_outputs_and_replay_is_byte_identical() {
    let a = scratch("a");
    let b = scratch("b");
    let out = bin()
        .args([
            "sim",
            "--scenario",
            "maps/longhua/scenario.toml",
            "--seed",
            "3",
            "--quiet",
            "--out",
        ])
        .arg(&a)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "kpis.json",
        "specimens.csv",
        "flights.csv",
        "journal.jsonl",
        "commands.jsonl",
        "report.html",
    ] {
        assert!(a.join(f).is_file(), "{f} missing");
    }
    let kpis: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("kpis.json")).unwrap()).unwrap();
    for field in [
        "scenario",
        "seed",
        "policy",
        "specimens",
        "on_time_rate",
        "tat_minutes",
        "lost_specimens",
        "drones",
        "couriers",
    ] {
        assert!(kpis.get(field).is_some(), "kpis.json lacks {field}");
    }
    let rows = std::fs::read_to_string(a.join("specimens.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(rows as u64, kpis["specimens"].as_u64().unwrap());
    let missed =
        kpis["drawn_by_last_draw"].as_u64().unwrap() - kpis["resulted_by_cutoff"].as_u64().unwrap();
    let report = std::fs::read_to_string(a.join("report.html")).unwrap();
    for table in [
        "<h2>Why tubes missed</h2>",
        "<h2>When the tubes that missed were drawn</h2>",
    ] {
        assert_eq!(
            report.contains(table),
            missed > 0,
            "{table}: {missed} tubes missed"
        );
    }

    let out = bin()
        .args(["replay", "--quiet", "--journal"])
        .arg(a.join("journal.jsonl"))
        .arg("--out")
        .arg(&b)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["kpis.json", "commands.jsonl", "specimens.csv"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs after replay"
        );
    }

    // A run copied from another checkout: its scenario file is not where it was
    // recorded. Replay says so, and re-runs it exactly on `--scenario`.
    let moved = scratch("moved");
    std::fs::create_dir_all(&moved).unwrap();
    let journal = std::fs::read_to_string(a.join("journal.jsonl")).unwrap();
    let (first, rest) = journal.split_once('\n').unwrap();
    let mut header: serde_json::Value = serde_json::from_str(first).unwrap();
    header["scenario_file"] = "/elsewhere/maps/longhua/scenario.toml".into();
    std::fs::write(moved.join("journal.jsonl"), format!("{header}\n{rest}")).unwrap();
    let replay_moved = |extra: &[&str], to: &Path| {
        bin()
            .args(["replay", "--quiet", "--journal"])
            .arg(moved.join("journal.jsonl"))
            .args(extra)
            .arg("--out")
            .arg(to)
            .output()
            .unwrap()
    };
    let out = replay_moved(&[], &moved.join("out"));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/elsewhere/maps/longhua/scenario.toml") && err.contains("--scenario"),
        "{err}"
    );
    let out = replay_moved(
        &["--scenario", "maps/longhua/longhua-storm.toml"],
        &moved.join("out"),
    );
    assert_eq!(out.status.code(), Some(2), "another scenario is refused");
    let out = replay_moved(
        &["--scenario", "maps/longhua/scenario.toml"],
        &moved.join("out"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["kpis.json", "commands.jsonl"] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(moved.join("out").join(f)).unwrap(),
            "{f} differs after a replay on --scenario"
        );
    }

    let c = scratch("c");
    let out = bin()
        .args(["replay", "--quiet", "--policy", "greedy", "--journal"])
        .arg(a.join("journal.jsonl"))
        .arg("--out")
        .arg(&c)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let whatif: serde_json::Value =
        serde_json::from_slice(&std::fs::read(c.join("kpis.json")).unwrap()).unwrap();
    assert_eq!(whatif["policy"], "greedy");
    assert_eq!(whatif["specimens"], kpis["specimens"], "same demand");

    // A journal broken deep inside (thousands of events already decided on when
    // the parser reaches it) is refused by its line, and nothing is written.
    let broken = scratch("broken");
    std::fs::create_dir_all(&broken).unwrap();
    let mut lines: Vec<&str> = journal.lines().collect();
    assert!(lines.len() > 5000, "a day has thousands of events");
    lines[5000] = r#"{"at":"2026-06-15T01:00:00Z","event":{"type":"no_such_event"}}"#;
    std::fs::write(broken.join("journal.jsonl"), lines.join("\n") + "\n").unwrap();
    let out = bin()
        .args(["replay", "--quiet", "--journal"])
        .arg(broken.join("journal.jsonl"))
        .arg("--out")
        .arg(broken.join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("journal.jsonl: line 5001") && err.contains("no_such_event"),
        "{err}"
    );
    assert!(
        !broken.join("out").exists(),
        "no output from a broken journal"
    );
}

#[test]
fn a_bad_scenario_exits_2_naming_file_field_and_value() {
    let dir = scratch("bad");
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../maps/longhua/scenario.toml"),
    )
    .unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        good.replace("drones = 32", "drones = -4")
            .replace("map = \".\"", "map = \"../../../../maps/longhua\""),
    )
    .unwrap();
    let out = bin()
        .args(["sim", "--quiet", "--scenario"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("drones") && err.contains("-4"),
        "{err}"
    );
    let out = bin()
        .args([
            "sim",
            "--quiet",
            "--scenario",
            "maps/longhua/scenario.toml",
            "--policy",
            "teleport",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The `output:` and `report:` lines a run prints last, in order.
fn written(stdout: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| {
            let (key, path) = l.split_once(": ")?;
            ["output", "report"]
                .contains(&key)
                .then(|| (key.to_owned(), path.to_owned()))
        })
        .collect()
}

#[test]
fn out_needs_its_parent_unless_mkdir_and_runs_say_where_they_wrote() {
    let dir = scratch("out");
    let short = "maps/longhua/longhua-short.toml";
    let sim = |out: &Path, extra: &[&str]| {
        bin()
            .args(["sim", "--quiet", "--no-baselines", "--scenario", short])
            .args(extra)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };

    // A missing parent is refused before anything runs, naming it; nothing is made.
    let deep = dir.join("no-such-folder").join("run");
    let out = sim(&deep, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&dir.join("no-such-folder").display().to_string()) && err.contains("--mkdir"),
        "{err}"
    );
    assert!(!dir.join("no-such-folder").exists(), "nothing created");

    // --mkdir creates it; --quiet still prints where the run went, absolute, last.
    let out = sim(&deep, &["--mkdir"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let abs = std::fs::canonicalize(&deep).unwrap();
    assert_eq!(
        written(&out.stdout),
        [
            ("output".to_owned(), abs.display().to_string()),
            (
                "report".to_owned(),
                abs.join("report.html").display().to_string()
            ),
        ]
    );
    assert!(abs.join("report.html").is_file());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let kpis_end = stdout.rfind('}').unwrap();
    assert!(
        stdout.find("output: ").unwrap() > kpis_end,
        "the paths come after the KPIs: {stdout}"
    );

    // The out folder itself may be made when its parent exists.
    let fresh = dir.join("fresh");
    let out = sim(&fresh, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(fresh.join("kpis.json").is_file());

    // A comparison: the folder, then each run's report in its subfolder.
    let cmp = dir.join("cmp");
    let out = sim(&cmp, &["--compare", "drone,greedy"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let abs = std::fs::canonicalize(&cmp).unwrap();
    let lines = written(&out.stdout);
    assert_eq!(lines[0], ("output".to_owned(), abs.display().to_string()));
    let reports: Vec<&str> = lines[1..].iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(
        reports,
        [
            abs.join("drone/report.html").display().to_string(),
            abs.join("greedy/report.html").display().to_string(),
        ]
    );
    assert!(reports.iter().all(|r| Path::new(r).is_file()));
    let out = sim(
        &dir.join("gone").join("cmp"),
        &["--compare", "drone,greedy"],
    );
    assert_eq!(out.status.code(), Some(2), "a comparison checks too");

    // replay: the same rule and the same two lines.
    let journal = deep.join("journal.jsonl");
    let replay = |out: &Path, extra: &[&str]| {
        bin()
            .args(["replay", "--quiet", "--journal"])
            .arg(&journal)
            .args(extra)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap()
    };
    let again = dir.join("missing").join("again");
    let out = replay(&again, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&dir.join("missing").display().to_string()) && err.contains("--mkdir"),
        "{err}"
    );
    assert!(!dir.join("missing").exists());
    for extra in [&[][..], &["--policy", "greedy"][..]] {
        let to = again.join(extra.len().to_string());
        let out = replay(&to, &[&["--mkdir"], extra].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let abs = std::fs::canonicalize(&to).unwrap();
        assert_eq!(
            written(&out.stdout),
            [
                ("output".to_owned(), abs.display().to_string()),
                (
                    "report".to_owned(),
                    abs.join("report.html").display().to_string()
                ),
            ],
            "replay {extra:?}"
        );
        assert!(abs.join("report.html").is_file());
    }
}

#[test]
fn the_courier_baseline_runs_the_old_rounds_with_a_van_per_route() {
    let run = |extra: &[&str]| {
        let out = bin()
            .args([
                "sim",
                "--quiet",
                "--scenario",
                "maps/longhua/scenario.toml",
                "--seed",
                "7",
                "--policy",
                "courier",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let json = &text[..=text.rfind('}').unwrap()];
        serde_json::from_str::<serde_json::Value>(json).unwrap()
    };
    let old_way = run(&[]);
    let vans = old_way["couriers"].as_u64().unwrap();
    assert!(vans > 6, "more vans than the drone day's 6 backups: {vans}");
    let on_time = old_way["on_time_rate"].as_f64().unwrap();
    assert!(
        (0.2..0.95).contains(&on_time),
        "the old rounds get some tubes back by the cutoff, not all: {on_time}"
    );
    assert!(old_way["courier_trips"].as_u64().unwrap() > 0);
    // Told the fleet, it keeps to it.
    let six = run(&["--set", "fleet.couriers=6"]);
    assert_eq!(six["couriers"], 6);
    assert!(six["on_time_rate"].as_f64().unwrap() < on_time);
}

/// `--policy vans --set fleet.couriers=…` ends with the on-time rate per van count
/// and the smallest count reaching 99.5 % (or that none does), as the table says.
#[test]
fn a_van_count_sweep_says_which_count_reaches_the_target() {
    let out = bin()
        .args([
            "sim",
            "--scenario",
            "maps/longhua/longhua-short.toml",
            "--seed",
            "3",
            "--quiet",
            "--policy",
            "vans",
            "--set",
            "fleet.couriers=2,12,40",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // From the table: each count's on-time rate.
    let rates: Vec<(u32, f64)> = [2, 12, 40]
        .into_iter()
        .map(|n| {
            let row = text
                .lines()
                .find(|l| l.starts_with(&format!("vans fleet.couriers={n} ")))
                .unwrap_or_else(|| panic!("no row for {n}: {text}"));
            let rate = row
                .split_whitespace()
                .find(|c| c.ends_with('%'))
                .and_then(|c| c.trim_end_matches('%').parse::<f64>().ok())
                .unwrap();
            (n, rate)
        })
        .collect();
    assert!(
        rates[0].1 < rates[2].1,
        "more vans, more on time: {rates:?}"
    );
    let listed = rates
        .iter()
        .map(|(n, r)| format!("{n}: {r:.2} %"))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(
        text.contains(&format!("vans on time by fleet.couriers: {listed}\n")),
        "{text}"
    );
    let verdict = match rates.iter().find(|(_, r)| *r >= 99.5) {
        Some((n, r)) => {
            format!("vans: smallest fleet.couriers with ≥ 99.5 % on time: {n} ({r:.2} %)")
        }
        None => "vans: no fleet.couriers swept reaches 99.5 % on time".to_owned(),
    };
    assert!(text.contains(&verdict), "expected `{verdict}` in {text}");
}

#[test]
fn a_day_by_partitions_writes_a_journal_per_group_each_replaying_alone() {
    let out_dir = scratch("by-group");
    let run = |threads: &str, dir: &Path| {
        bin()
            .args([
                "sim",
                "--scenario",
                "maps/longhua/longhua-short.toml",
                "--set",
                "dispatch.partition_by=group",
                "--seed",
                "4",
                "--quiet",
                "--no-baselines",
                "--threads",
                threads,
                "--out",
            ])
            .arg(dir)
            .output()
            .unwrap()
    };
    let out = run("2", &out_dir);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in ["kpis.json", "specimens.csv", "flights.csv", "report.html"] {
        assert!(out_dir.join(f).is_file(), "{f} missing");
    }
    let groups: Vec<String> = std::fs::read_dir(out_dir.join("partitions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(groups.len(), 2, "Longhua's two groups: {groups:?}");
    for g in &groups {
        let folder = out_dir.join("partitions").join(g);
        let journal = folder.join("journal.jsonl");
        let header = std::fs::read_to_string(&journal).unwrap();
        let first = header.lines().next().unwrap();
        assert!(first.contains(&format!("\"partition\":\"{g}\"")), "{first}");
        let again = scratch(&format!("replay-{g}"));
        let replay = bin()
            .args(["replay", "--quiet", "--journal"])
            .arg(&journal)
            .arg("--out")
            .arg(&again)
            .output()
            .unwrap();
        assert!(
            replay.status.success(),
            "{}",
            String::from_utf8_lossy(&replay.stderr)
        );
        let want = std::fs::read(folder.join("commands.jsonl")).unwrap();
        let got = std::fs::read(again.join("commands.jsonl")).unwrap();
        assert!(want == got, "{g}: replayed commands differ");
    }
    // One thread writes the same day.
    let one = scratch("by-group-1");
    assert!(run("1", &one).status.success());
    for f in ["kpis.json", "specimens.csv", "flights.csv"] {
        let (a, b) = (out_dir.join(f), one.join(f));
        assert!(
            std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
            "{f} differs by threads"
        );
    }
}
