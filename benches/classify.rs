//! Classifier benchmarks.
//!
//! - `classify/typical`: the command the performance goal names.
//! - `classify/plain_corpus` and `classify/mixed_corpus`: per-command time
//!   over `tests/data/plain_commands.txt` and that corpus plus the shell and
//!   risk corpora.
//! - After criterion, the same corpora are timed with the Python `shlex`
//!   classifier (`benches/shlex_classifier.py`) in the same run, with the
//!   same method (median of per-round averages), and the ratios are printed
//!   and written to `target/criterion/shlex_ratio.txt`.
//! - Then the batch CLI end to end: `sandboxcore classify --jsonl` (the
//!   release binary) against the Python classifier as a batch program
//!   (`shlex_classifier.py --batch`: JSON lines in, JSON lines out) on the
//!   same 200 000-line mix of the corpora, wall clock of the whole process,
//!   median of 5 interleaved runs each; appended to the same file.

#[path = "common/corpus.rs"]
mod corpus;

use criterion::{black_box, criterion_group, Criterion};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const TYPICAL: &str = r#"pytest -q tests/test_api.py -k "not slow""#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus(mixed: bool) -> Vec<String> {
    corpus::commands(&root(), mixed)
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("classify");
    g.bench_function("typical", |b| {
        b.iter(|| sandboxcore::classify(black_box(TYPICAL)))
    });
    for (name, mixed) in [("plain_corpus", false), ("mixed_corpus", true)] {
        let cmds = corpus(mixed);
        g.throughput(criterion::Throughput::Elements(cmds.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| {
                for c in &cmds {
                    black_box(sandboxcore::classify(black_box(c)));
                }
            })
        });
    }
    g.finish();
}

/// Median over rounds of the average ns per command.
fn rust_ns_per_command(cmds: &[String], rounds: usize) -> f64 {
    let mut samples: Vec<f64> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for c in cmds {
                black_box(sandboxcore::classify(black_box(c)));
            }
            start.elapsed().as_nanos() as f64 / cmds.len() as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn python_ns_per_command(file: &Path) -> Option<f64> {
    let out = Command::new("python3")
        .arg(root().join("benches/shlex_classifier.py"))
        .arg(file)
        .arg("30")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().next()?.parse().ok()
}

fn compare_with_shlex() {
    let dir = root().join("target/criterion");
    std::fs::create_dir_all(&dir).unwrap();
    let mut report = String::new();
    for (name, cmds) in [
        ("typical", vec![TYPICAL.to_string()]),
        ("plain_corpus", corpus(false)),
        ("mixed_corpus", corpus(true)),
    ] {
        let file = dir.join(format!("{name}.jsonl"));
        let lines: Vec<String> = cmds
            .iter()
            .map(|c| serde_json::json!({ "command": c }).to_string())
            .collect();
        std::fs::write(&file, lines.join("\n")).unwrap();
        let rounds = if cmds.len() == 1 { 20_001 } else { 301 };
        let rust = rust_ns_per_command(&cmds, rounds);
        if cmds.len() == 1 {
            // Repeat the one command so each Python round is long enough to time.
            std::fs::write(&file, vec![lines[0].clone(); 1000].join("\n")).unwrap();
        }
        let python = python_ns_per_command(&file);
        let line = match python {
            Some(py) => format!(
                "{name}: sandboxcore {rust:.0} ns/cmd, python shlex {py:.0} ns/cmd, ratio {:.1}x ({} commands)\n",
                py / rust,
                cmds.len()
            ),
            None => format!("{name}: sandboxcore {rust:.0} ns/cmd, python3 not available\n"),
        };
        print!("{line}");
        report.push_str(&line);
    }
    report.push_str(&compare_batch_cli(&dir));
    std::fs::write(dir.join("shlex_ratio.txt"), report).unwrap();
}

/// CPU seconds (user + system) used so far by waited-for children.
fn children_cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given and reads nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Wall-clock and CPU seconds of `program args < input > /dev/null`.
fn time_batch(program: &Path, args: &[&str], input: &Path) -> Option<(f64, f64)> {
    let cpu = children_cpu_seconds();
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdin(std::fs::File::open(input).ok()?)
        .stdout(std::process::Stdio::null())
        .status()
        .ok()?;
    let wall = start.elapsed().as_secs_f64();
    status
        .success()
        .then(|| (wall, children_cpu_seconds() - cpu))
}

fn compare_batch_cli(dir: &Path) -> String {
    const LINES: usize = 200_000;
    let cli = root().join("target/release/sandboxcore");
    if !cli.exists() {
        let line = "batch_cli: target/release/sandboxcore missing (cargo build --release -p sandboxcore-cli)\n";
        print!("{line}");
        return line.to_string();
    }
    let cmds = corpus(true);
    let file = dir.join("batch_mix.jsonl");
    let lines: Vec<String> = (0..LINES)
        .map(|i| serde_json::json!({ "command": cmds[i * 7919 % cmds.len()] }).to_string())
        .collect();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let python = Path::new("python3");
    let script = root().join("benches/shlex_classifier.py");
    let script = script.to_str().unwrap();
    let (mut rust, mut py) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        rust.extend(time_batch(&cli, &["classify", "--jsonl"], &file));
        py.extend(time_batch(python, &[script, "--batch"], &file));
    }
    if rust.is_empty() || py.is_empty() {
        let line = "batch_cli: a run failed\n";
        print!("{line}");
        return line.to_string();
    }
    let median = |v: &[(f64, f64)], pick: fn(&(f64, f64)) -> f64| {
        let mut v: Vec<f64> = v.iter().map(pick).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (r, p) = (median(&rust, |t| t.0), median(&py, |t| t.0));
    let (r_cpu, p_cpu) = (median(&rust, |t| t.1), median(&py, |t| t.1));
    let per = |s: f64| s * 1e6 / LINES as f64;
    // The CLI classifies on every core: wall clock is what a caller waits,
    // CPU time what it costs.
    let line = format!(
        "batch_cli: sandboxcore classify --jsonl {:.2} us/cmd wall ({:.2} us/cmd CPU), python shlex batch {:.2} us/cmd wall ({:.2} CPU), ratio {:.1}x wall, {:.1}x CPU ({LINES} lines)\n",
        per(r),
        per(r_cpu),
        per(p),
        per(p_cpu),
        p / r,
        p_cpu / r_cpu
    );
    print!("{line}");
    line
}

criterion_group!(classify_benches, benches);

fn main() {
    classify_benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --all-targets` runs benches once as tests, without --bench.
    if std::env::args().any(|a| a == "--bench") {
        compare_with_shlex();
    }
}
