//! A fast writer of a [`Classification`]'s JSON: byte for byte what
//! `serde_json` writes from its `Serialize` impl (the tests compare the two
//! on every line of the corpora and on generated text), without serde's
//! per-string calls. The batch CLI (`classify --jsonl`) spent a quarter of
//! its CPU in `serde_json`'s escaping of ~60 short keys and strings a line.

use super::types::{Classification, Program};

impl Classification {
    /// Appends this classification as a compact JSON object to `out`: the
    /// same bytes as `serde_json::to_writer(out, self)`, faster.
    ///
    /// ```
    /// let c = sandboxcore::classify("ls -la");
    /// let mut fast = Vec::new();
    /// c.write_json(&mut fast);
    /// assert_eq!(fast, serde_json::to_vec(&c).unwrap());
    /// ```
    pub fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"needs_shell\":");
        write_bool(out, self.needs_shell);
        out.extend_from_slice(b",\"argv\":");
        write_optional_strings(out, self.argv());
        out.extend_from_slice(b",\"programs\":[");
        for (i, p) in self.programs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_program(out, p);
        }
        out.extend_from_slice(b"],\"constructs\":[");
        for (i, c) in self.constructs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"kind\":");
            write_str(out, c.kind.as_str());
            if let Some(detail) = &c.detail {
                out.extend_from_slice(b",\"detail\":");
                write_str(out, detail);
            }
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"read_only\":");
        write_bool(out, self.read_only);
        out.extend_from_slice(b",\"risk\":");
        write_str(out, self.risk.as_str());
        out.extend_from_slice(b",\"reasons\":[");
        for (i, r) in self.reasons.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"code\":");
            // A unit variant: serde writes its snake_case name. Writing
            // into a vector cannot fail.
            let _ = serde_json::to_writer(&mut *out, &r.code);
            out.extend_from_slice(b",\"risk\":");
            write_str(out, r.risk.as_str());
            out.extend_from_slice(b",\"message\":");
            write_str(out, &r.message);
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"parse_error\":");
        match &self.parse_error {
            Some(e) => write_str(out, e),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"effects\":[");
        for (i, e) in self.effects.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"path\":");
            write_str(out, &e.path);
            out.extend_from_slice(b",\"effect\":");
            write_str(out, e.effect.as_str());
            out.extend_from_slice(b",\"certain\":");
            write_bool(out, e.certain);
            out.push(b'}');
        }
        out.extend_from_slice(b"]}");
    }
}

fn write_program(out: &mut Vec<u8>, p: &Program) {
    out.extend_from_slice(b"{\"name\":");
    match &p.name {
        Some(name) => write_str(out, name),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"argv\":");
    write_optional_strings(out, p.argv());
    out.extend_from_slice(b",\"words\":");
    write_strings(out, &p.words);
    out.extend_from_slice(b",\"via\":");
    write_strings(out, &p.via);
    out.push(b'}');
}

fn write_bool(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

fn write_optional_strings(out: &mut Vec<u8>, strings: Option<&[String]>) {
    match strings {
        Some(s) => write_strings(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn write_strings(out: &mut Vec<u8>, strings: &[String]) {
    out.push(b'[');
    for (i, s) in strings.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, s);
    }
    out.push(b']');
}

/// Bytes that a JSON string must escape: control characters, `"` and `\`.
const fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether any of the 8 bytes in `word` needs escaping (SWAR: the
/// classic "has a byte less than n" and "has a zero byte" tests, exact
/// about whether any byte matches).
fn any_needs_escape(word: u64) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS != 0;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS != 0;
    below_space
        || has_zero(word ^ (ONES * u64::from(b'"')))
        || has_zero(word ^ (ONES * u64::from(b'\\')))
}

/// The index of the first byte of `bytes` that needs escaping, if any.
fn first_escape(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8]));
        if any_needs_escape(word) {
            break;
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| needs_escape(b))
        .map(|j| i + j)
}

/// `s` as a JSON string, escaped as `serde_json` escapes it: the short
/// forms `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u00xx` (lowercase
/// hex) for other control characters, everything else as it is.
fn write_str(out: &mut Vec<u8>, s: &str) {
    let mut rest = s.as_bytes();
    out.reserve(rest.len() + 2);
    out.push(b'"');
    while let Some(i) = first_escape(rest) {
        out.extend_from_slice(&rest[..i]);
        match rest[i] {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
        }
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same_as_serde(command: &str) {
        let c = crate::classify(command);
        let mut fast = Vec::new();
        c.write_json(&mut fast);
        let serde = serde_json::to_vec(&c).unwrap();
        assert!(
            fast == serde,
            "{command:?}\nfast:  {}\nserde: {}",
            String::from_utf8_lossy(&fast),
            String::from_utf8_lossy(&serde)
        );
    }

    #[test]
    fn every_corpus_line_is_written_as_serde_writes_it() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/");
        let mut lines = 0;
        for file in std::fs::read_dir(root).unwrap() {
            let path = file.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                // JSON lines hold a command (and more); text files hold one
                // command a line.
                let command = match serde_json::from_str::<serde_json::Value>(line) {
                    Ok(v) => match v.get("command").and_then(|c| c.as_str()) {
                        Some(c) => c.to_string(),
                        None => continue,
                    },
                    Err(_) => line.to_string(),
                };
                same_as_serde(&command);
                lines += 1;
            }
        }
        assert!(lines > 1000, "only {lines} lines found in {root}");
    }

    #[test]
    fn control_characters_quotes_and_unicode_are_escaped_as_serde_does() {
        for command in [
            "echo \"a\\\"b\" 'c\\d'",
            "printf '\u{1}\u{8}\u{c}\n\r\t\u{1f}\u{7f}'",
            "echo $'\\x01'",
            "echo 'é ü 漢字 🦀'",
            "rm -rf \"/tmp/\u{0}x\"",
            "cat <<EOF\n\"x\"\nEOF",
            "bash -c 'a ('",
            "((",
            "",
        ] {
            same_as_serde(command);
        }
    }

    #[test]
    fn the_word_at_a_time_scan_finds_the_first_byte_to_escape() {
        for b in 0..=255u8 {
            for at in 0..20 {
                let mut bytes = vec![b'a'; 20];
                bytes[at] = b;
                let expected = needs_escape(b).then_some(at);
                assert_eq!(first_escape(&bytes), expected, "byte {b:#x} at {at}");
                // With a byte of every other value before it.
                for other in [0x7f, 0x80, 0xff, 0x21, 0x5b, 0x5d, 0x23] {
                    if at > 0 {
                        bytes[at - 1] = other;
                        assert_eq!(first_escape(&bytes), expected, "{b:#x} after {other:#x}");
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn the_scan_agrees_with_the_byte_test(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            prop_assert_eq!(first_escape(&bytes), bytes.iter().position(|&b| needs_escape(b)));
        }

        #[test]
        fn any_text_is_written_as_serde_writes_it(command in "\\PC{0,40}|[ -~\\x00-\\x1f\"'\\\\$|;&<>()~*]{0,40}") {
            same_as_serde(&command);
        }
    }
}
