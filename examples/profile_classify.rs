//! Runs the classifier in a loop (for profilers): `cargo run --release --example profile_classify`.
//! Arguments: the command line and the iteration count; with `CLASSIFY_ONLY`
//! set in the environment the parser-only loop is skipped.
fn main() {
    let cmd = std::env::args()
        .nth(1)
        .unwrap_or_else(|| r#"pytest -q tests/test_api.py -k "not slow""#.to_string());
    let n: usize = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    let start = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(sandboxcore::classify(std::hint::black_box(&cmd)));
    }
    let parse_start = std::time::Instant::now();
    let parse_n = if std::env::var_os("CLASSIFY_ONLY").is_some() {
        0
    } else {
        n
    };
    for _ in 0..parse_n {
        std::hint::black_box(sandboxcore::shell::parse(std::hint::black_box(&cmd)).ok());
    }
    println!(
        "classify {:.0} ns, parse {:.0} ns",
        (parse_start - start).as_nanos() as f64 / n as f64,
        parse_start.elapsed().as_nanos() as f64 / parse_n.max(1) as f64
    );
}
