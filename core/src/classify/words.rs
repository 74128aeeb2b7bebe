//! What a word will expand to, as far as it can be known without running a
//! shell.

use crate::shell::ast::{ProcDirection, Word, WordPart};

/// What the classifier knows about one word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordInfo {
    /// The word with quotes removed and expansions written back
    /// (`$HOME`, `${x:-y}`, `$(...)`): what a person reads.
    pub shape: String,
    /// Whether `shape` is the exact single field bash and dash both produce
    /// in any environment (no expansions, globs, expanded tildes, brace
    /// expansion, or quoting that differs between the shells).
    pub is_static: bool,
    /// When the word starts with the home directory (`~`, `$HOME`,
    /// `${HOME}`, `"$HOME"`), the shape of the rest (`""`, `"/"`, `"/x"`).
    pub home_rest: Option<String>,
    /// The word has unquoted glob characters (`*`, `?`, `[`).
    pub glob: bool,
    /// The word has a tilde that bash expands.
    pub tilde: bool,
    /// The word may undergo bash's brace expansion.
    pub brace: bool,
}

impl WordInfo {
    /// The exact value of the word when it is static.
    pub fn value(&self) -> Option<&str> {
        self.is_static.then_some(self.shape.as_str())
    }

    /// Analyses a parsed word.
    pub fn of(word: &Word) -> WordInfo {
        // A lone `[` (the `test` command) has no closing bracket: it is not
        // a pattern, and bash and dash both take it as it is.
        if let [WordPart::Lit { text, .. }] = word.parts.as_slice() {
            if text == "[" {
                return WordInfo::literal("[");
            }
        }
        let mut shape = String::with_capacity(16);
        let mut is_static = true;
        let mut state = StaticState::default();
        for part in &word.parts {
            add_part(part, &mut shape, &mut is_static, &mut state, false);
        }
        let brace = state.brace_open && state.brace_separator;
        if brace {
            is_static = false;
        }
        WordInfo {
            is_static,
            home_rest: home_rest(word),
            shape,
            glob: state.glob,
            tilde: state.tilde,
            brace,
        }
    }

    /// A word known statically (used for words the classifier synthesises).
    pub fn literal(s: impl Into<String>) -> WordInfo {
        WordInfo {
            is_static: true,
            shape: s.into(),
            home_rest: None,
            glob: false,
            tilde: false,
            brace: false,
        }
    }
}

#[derive(Default)]
struct StaticState {
    /// Characters emitted so far (to know whether `~` starts the word).
    len: usize,
    /// The previous emitted character was `=` or `:` (bash tilde-expands
    /// after them in words that look like assignments).
    after_assign_sep: bool,
    /// An unquoted `{` was seen.
    brace_open: bool,
    /// A `,` or `..` was seen (quoted or not; brace expansion is possible).
    brace_separator: bool,
    prev_dot: bool,
    glob: bool,
    tilde: bool,
}

fn add_part(
    part: &WordPart,
    shape: &mut String,
    is_static: &mut bool,
    st: &mut StaticState,
    in_dquotes: bool,
) {
    match part {
        WordPart::Lit { text, quoted } => {
            let unquoted = !quoted && !in_dquotes;
            let special = |b: u8| {
                matches!(
                    b,
                    b'*' | b'?' | b'[' | b'~' | b'{' | b',' | b'.' | b'=' | b':'
                )
            };
            if !text.bytes().any(special) {
                // Fast path: nothing that globbing, tildes or braces care about.
                st.len += text.len();
                st.after_assign_sep = false;
                st.prev_dot = false;
                shape.push_str(text);
                return;
            }
            for c in text.chars() {
                if unquoted {
                    if matches!(c, '*' | '?' | '[') {
                        st.glob = true;
                        *is_static = false;
                    }
                    if c == '~' && (st.len == 0 || st.after_assign_sep) {
                        st.tilde = true;
                        *is_static = false;
                    }
                    if c == '{' {
                        st.brace_open = true;
                    }
                }
                if c == ',' || (c == '.' && st.prev_dot) {
                    st.brace_separator = true;
                }
                st.prev_dot = c == '.';
                st.after_assign_sep = c == '=' || c == ':';
                st.len += 1;
                shape.push(c);
            }
        }
        WordPart::DoubleQuoted(inner) => {
            for p in inner {
                add_part(p, shape, is_static, st, true);
            }
            // `""` still makes a word even when empty.
            st.len += 1;
        }
        WordPart::AnsiC(s) => {
            // dash has no $'...': the word differs between the shells.
            shape.push_str(s);
            *is_static = false;
            st.len += 1;
        }
        WordPart::Locale(inner) => {
            for p in inner {
                add_part(p, shape, is_static, st, true);
            }
            *is_static = false;
            st.len += 1;
        }
        WordPart::Param(p) => {
            if !p.braced {
                shape.push('$');
                shape.push_str(&p.name);
            } else {
                shape.push_str("${");
                shape.push_str(&p.name);
                let mut inner_static = false;
                let mut inner_state = StaticState::default();
                for m in &p.modifier {
                    add_part(m, shape, &mut inner_static, &mut inner_state, in_dquotes);
                }
                shape.push('}');
            }
            *is_static = false;
            st.len += 1;
        }
        WordPart::CommandSubst(_) => {
            shape.push_str("$(...)");
            *is_static = false;
            st.len += 1;
        }
        WordPart::LegacyArith(_) => {
            shape.push_str("$[...]");
            *is_static = false;
            st.len += 1;
        }
        WordPart::Arith(inner) if constant_arith(inner).is_some() => {
            // Only digits and `-`: nothing for globbing, tildes or braces.
            let v = constant_arith(inner).unwrap_or_default().to_string();
            st.len += v.len();
            st.after_assign_sep = false;
            st.prev_dot = false;
            shape.push_str(&v);
        }
        WordPart::Arith(_) => {
            shape.push_str("$((...))");
            *is_static = false;
            st.len += 1;
        }
        WordPart::ProcessSubst(dir, _) => {
            shape.push_str(match dir {
                ProcDirection::Input => "<(...)",
                ProcDirection::Output => ">(...)",
            });
            *is_static = false;
            st.len += 1;
        }
    }
}

/// When the word starts with the home directory, the shape of the rest.
fn home_rest(word: &Word) -> Option<String> {
    let starts_home = match word.parts.first()? {
        WordPart::Lit { text, quoted } => !quoted && text.starts_with('~'),
        WordPart::Param(p) => p.name == "HOME",
        WordPart::DoubleQuoted(inner) => {
            matches!(inner.first(), Some(WordPart::Param(p)) if p.name == "HOME")
        }
        _ => false,
    };
    if !starts_home {
        return None;
    }
    let mut parts: Vec<&WordPart> = Vec::new();
    flatten(&word.parts, &mut parts);
    let (first, rest) = parts.split_first()?;
    let mut tail = String::new();
    match first {
        WordPart::Lit {
            text,
            quoted: false,
        } if text.starts_with('~') => {
            let after = &text[1..];
            if !(after.is_empty() || after.starts_with('/')) {
                return None; // ~user
            }
            tail.push_str(after);
        }
        WordPart::Param(p) if p.name == "HOME" && p.modifier.is_empty() => {}
        _ => return None,
    }
    for p in rest {
        match p {
            WordPart::Lit { text, .. } => tail.push_str(text),
            _ => tail.push('\u{1}'),
        }
    }
    Some(tail)
}

fn flatten<'a>(parts: &'a [WordPart], out: &mut Vec<&'a WordPart>) {
    for p in parts {
        match p {
            WordPart::DoubleQuoted(inner) => flatten(inner, out),
            other => out.push(other),
        }
    }
}

/// Where a path points, for the risk rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathClass {
    /// `/` itself or everything in it (`/*`).
    Root,
    /// The home directory itself or everything in it.
    Home,
    /// A system directory itself or everything in it (`/usr`, `/etc/*`).
    SystemDir,
    /// A path inside a system directory (`/etc/passwd`).
    InSystemDir,
    /// A block device or kernel memory (`/dev/sda`, `/dev/mem`).
    Device,
    /// Anything else.
    Other,
}

/// Top-level directories whose contents belong to the system.
const SYSTEM_DIRS: &[&str] = &[
    "bin", "boot", "etc", "lib", "lib32", "lib64", "libx32", "opt", "proc", "root", "sbin", "sys",
    "usr", "var",
];

/// Device files that are harmless to write to.
const HARMLESS_DEVICES: &[&str] = &[
    "null", "zero", "full", "random", "urandom", "stdin", "stdout", "stderr", "tty", "ptmx",
];

impl PathClass {
    /// Classifies a word used as a path.
    pub fn of(info: &WordInfo) -> PathClass {
        if let Some(rest) = &info.home_rest {
            return if is_whole_dir(rest) {
                PathClass::Home
            } else {
                PathClass::Other
            };
        }
        Self::of_path(&info.shape)
    }

    /// Classifies a path string.
    pub fn of_path(path: &str) -> PathClass {
        let Some(abs) = path.strip_prefix('/') else {
            return PathClass::Other;
        };
        let abs = abs.trim_start_matches('/');
        if is_whole_dir(abs) || abs == "." || abs == ".." {
            return PathClass::Root;
        }
        let (top, rest) = abs.split_once('/').unwrap_or((abs, ""));
        if top == "dev" {
            let dev = rest.trim_end_matches('/');
            let harmless = HARMLESS_DEVICES.contains(&dev)
                || dev.is_empty()
                || dev.starts_with("fd/")
                || dev.starts_with("pts/")
                || dev.starts_with("shm/")
                || dev.starts_with("tcp/")
                || dev.starts_with("udp/")
                || dev.starts_with("null");
            return if harmless {
                PathClass::Other
            } else {
                PathClass::Device
            };
        }
        if top == "var" && (rest.starts_with("tmp") || rest.starts_with("folders")) {
            return PathClass::Other;
        }
        if top == "tmp" {
            return PathClass::Other;
        }
        if SYSTEM_DIRS.contains(&top) {
            let rest_trimmed = rest.trim_end_matches('/');
            if is_whole_dir(rest)
                || (top == "usr"
                    && ["local", "bin", "lib", "sbin", "share"].contains(&rest_trimmed))
            {
                return PathClass::SystemDir;
            }
            return PathClass::InSystemDir;
        }
        PathClass::Other
    }
}

/// `""`, `"/"`, `"/*"`, `"/."`, `"*"`: the directory itself or all of it.
fn is_whole_dir(rest: &str) -> bool {
    matches!(rest, "" | "/" | "*" | "/*" | "/." | "/.*" | "/*/" | ".")
}

/// The value of `$((...))` when its text is only integer constants, `+ - *
/// / %`, parentheses and blanks, evaluated as bash and dash both do
/// (64-bit integers; `010` is octal, `0x10` hex). `None` when the text has
/// anything else (names, `$`, quotes, `**`, `++`, `--`, other operators),
/// is empty, or when bash and dash might disagree or fail: overflow
/// (bash wraps, dash need not), division by zero, malformed numbers.
pub fn constant_arith(parts: &[WordPart]) -> Option<i64> {
    let mut text = String::new();
    for p in parts {
        match p {
            WordPart::Lit {
                text: t,
                quoted: false,
            } => text.push_str(t),
            _ => return None,
        }
    }
    let b = text.as_bytes();
    if !b.iter().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'+' | b'-' | b'*' | b'/' | b'%' | b'(' | b')' | b' ' | b'\t'
            )
    }) {
        return None;
    }
    // `++`, `--` (increments in bash) and `**` (a power) are refused.
    if text.contains("++") || text.contains("--") || text.contains("**") {
        return None;
    }
    let mut p = ArithParser { b, i: 0, depth: 0 };
    let v = p.sum()?;
    p.blanks();
    (p.i == b.len()).then_some(v)
}

struct ArithParser<'a> {
    b: &'a [u8],
    i: usize,
    depth: usize,
}

impl ArithParser<'_> {
    fn blanks(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.blanks();
        self.b.get(self.i).copied()
    }

    fn sum(&mut self) -> Option<i64> {
        let mut v = self.product()?;
        while let Some(op @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            let r = self.product()?;
            v = if op == b'+' {
                v.checked_add(r)?
            } else {
                v.checked_sub(r)?
            };
        }
        Some(v)
    }

    fn product(&mut self) -> Option<i64> {
        let mut v = self.unary()?;
        while let Some(op @ (b'*' | b'/' | b'%')) = self.peek() {
            self.i += 1;
            let r = self.unary()?;
            v = match op {
                b'*' => v.checked_mul(r)?,
                b'/' => v.checked_div(r)?,
                _ => v.checked_rem(r)?,
            };
        }
        Some(v)
    }

    fn unary(&mut self) -> Option<i64> {
        match self.peek()? {
            b'-' => {
                self.i += 1;
                self.unary()?.checked_neg()
            }
            b'+' => {
                self.i += 1;
                self.unary()
            }
            b'(' => {
                // Deep nesting is refused rather than followed.
                if self.depth >= 32 {
                    return None;
                }
                self.i += 1;
                self.depth += 1;
                let v = self.sum()?;
                self.depth -= 1;
                (self.peek()? == b')').then(|| self.i += 1)?;
                Some(v)
            }
            _ => self.number(),
        }
    }

    fn number(&mut self) -> Option<i64> {
        let start = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_alphanumeric) {
            self.i += 1;
        }
        let digits = std::str::from_utf8(&self.b[start..self.i]).ok()?;
        let (radix, body) = if let Some(h) = digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            (16, h)
        } else if digits.len() > 1 && digits.starts_with('0') {
            (8, &digits[1..])
        } else {
            (10, digits)
        };
        if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        i64::from_str_radix(body, radix).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::parse;

    fn info(src: &str) -> WordInfo {
        let script = parse(&format!("x {src}")).unwrap();
        let crate::shell::ast::Command::Simple(c) = &script.body.items[0].and_or.first.commands[0]
        else {
            panic!("not simple")
        };
        WordInfo::of(&c.words[1])
    }

    #[test]
    fn static_values() {
        assert_eq!(info("'a b'").value(), Some("a b"));
        assert_eq!(info(r#""x\$y""#).value(), Some("x$y"));
        assert_eq!(info(r"a\ b").value(), Some("a b"));
        assert_eq!(info("''").value(), Some(""));
        assert_eq!(info("HEAD~1").value(), Some("HEAD~1"));
        assert_eq!(info("{}").value(), Some("{}"));
        assert_eq!(info("a$").value(), Some("a$"));
    }

    #[test]
    fn dynamic_words() {
        for w in [
            "*.py", "~", "~/x", "a=~", "x:~", "$X", "${X}", "\"$X\"", "$(ls)", "{a,b}", "{1..3}",
            "$'a'", "$\"a\"", "a?", "[ab]", "$((x))", "$((1/0))", "$[1]", "\"$[1]\"",
        ] {
            assert_eq!(info(w).value(), None, "{w}");
        }
        assert_eq!(info("'*'").value(), Some("*"));
        assert_eq!(info("\\~").value(), Some("~"));
        // Arithmetic of constants has its value.
        assert_eq!(info("$((1))").value(), Some("1"));
        assert_eq!(info("a\"$((2*(3+4)))\"b").value(), Some("a14b"));
    }

    #[test]
    fn path_classes() {
        assert_eq!(PathClass::of(&info("~")), PathClass::Home);
        assert_eq!(PathClass::of(&info("\"$HOME\"")), PathClass::Home);
        assert_eq!(PathClass::of(&info("${HOME}/")), PathClass::Home);
        assert_eq!(PathClass::of(&info("$HOMEDIR")), PathClass::Other);
        assert_eq!(PathClass::of(&info("~/src")), PathClass::Other);
        assert_eq!(PathClass::of(&info("/")), PathClass::Root);
        assert_eq!(PathClass::of(&info("/*")), PathClass::Root);
        assert_eq!(PathClass::of(&info("/usr")), PathClass::SystemDir);
        assert_eq!(PathClass::of(&info("/usr/bin/ls")), PathClass::InSystemDir);
        assert_eq!(PathClass::of(&info("/dev/sda")), PathClass::Device);
        assert_eq!(PathClass::of(&info("/dev/null")), PathClass::Other);
        assert_eq!(PathClass::of(&info("/tmp/f.deb")), PathClass::Other);
    }
}
