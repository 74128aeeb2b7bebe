//! Prints what each line of the benches' mixed corpus costs to classify,
//! dearest first (for finding what to speed up):
//! `cargo run --release --example corpus_costs [N [ROUNDS]]` (N: lines
//! shown; ROUNDS: timed calls per line, 2000 by default).
#[path = "../benches/common/corpus.rs"]
mod corpus;

use std::path::Path;
use std::time::Instant;

fn main() {
    let shown: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let cmds = corpus::commands(Path::new(env!("CARGO_MANIFEST_DIR")), true);
    let rounds: u32 = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let mut costs: Vec<(f64, &str)> = cmds
        .iter()
        .map(|c| {
            for _ in 0..rounds.min(50) {
                std::hint::black_box(sandboxcore::classify(std::hint::black_box(c)));
            }
            let start = Instant::now();
            for _ in 0..rounds {
                std::hint::black_box(sandboxcore::classify(std::hint::black_box(c)));
            }
            (
                start.elapsed().as_nanos() as f64 / rounds as f64,
                c.as_str(),
            )
        })
        .collect();
    let total: f64 = costs.iter().map(|c| c.0).sum();
    println!(
        "{} lines, mean {:.0} ns",
        costs.len(),
        total / costs.len() as f64
    );
    costs.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ns, c) in costs.iter().take(shown) {
        println!("{ns:8.0} ns {:5.1}%  {c}", 100.0 * ns / total);
    }
}
