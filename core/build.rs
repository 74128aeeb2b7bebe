//! Converts the program catalog, `catalog/programs.toml` (written and
//! reviewed as TOML), into JSON in `OUT_DIR`, which the library embeds and
//! parses at start-up: `serde_json` reads it several times faster than
//! `toml` reads the TOML, which matters to a CLI that starts per command.
//! A unit test (`catalog::tests`) checks that both give the same catalog.

fn main() {
    let source = "catalog/programs.toml";
    println!("cargo:rerun-if-changed={source}");
    let text = std::fs::read_to_string(source).expect("catalog/programs.toml is readable");
    let value: toml::Value = toml::from_str(&text)
        .unwrap_or_else(|e| panic!("catalog/programs.toml is not valid TOML: {e}"));
    let json = serde_json::to_string(&value).expect("a TOML value converts to JSON");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("programs.json"), json).expect("OUT_DIR is writable");
}
