//! The program catalog: what the classifier knows about programs by name.
//!
//! The catalog is data (`core/catalog/programs.toml`, documented in
//! `docs/catalog.md`), compiled into the library; each entry is parsed the
//! first time it is looked up (see [`Table`]).

use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{LazyLock, OnceLock};

/// FNV-1a: the catalog's keys are short program names in a fixed,
/// compiled-in table, so SipHash's flooding resistance buys nothing and
/// costs time on every lookup.
#[derive(Clone, Copy)]
pub struct FnvHasher(u64);

impl Default for FnvHasher {
    fn default() -> Self {
        FnvHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for FnvHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The hasher of the catalog's maps.
pub type Fnv = BuildHasherDefault<FnvHasher>;

/// A wrapper: a program that runs another command given on its command line.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WrapperSpec {
    /// Options that take a value (`-u root`, `--user=root`, `-uroot`).
    #[serde(default)]
    pub value_options: Vec<String>,
    /// Options after which no command runs (`sudo -l`).
    #[serde(default)]
    pub no_command_options: Vec<String>,
    /// Options that start a login shell when no command follows (`sudo -i`).
    #[serde(default)]
    pub login_shell_options: Vec<String>,
    /// Positional arguments before the command (`timeout 5 cmd`).
    #[serde(default)]
    pub positionals: usize,
    /// `NAME=value` words may precede the command (`env`).
    #[serde(default)]
    pub assignments: bool,
    /// `-N` numeric options are accepted (`nice -10 cmd`).
    #[serde(default)]
    pub numeric_options: bool,
    /// The command runs with other privileges.
    #[serde(default)]
    pub privileged: bool,
    /// The remaining words are joined with spaces and run by `sh -c` (`watch`).
    #[serde(default)]
    pub joined_shell_command: bool,
}

/// Facts about an ordinary program.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramSpec {
    /// The program modifies nothing when called with the options of its
    /// allowlist (`[options.NAME]`, which every read-only program has).
    #[serde(default)]
    pub read_only: bool,
    /// Tags the risk rules use.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The options a read-only program is read-only with (`[options.NAME]`),
/// and the options known to make it write, run a program or read
/// configuration from elsewhere. Any option not listed makes the call not
/// read-only.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionList {
    /// Options that take no value (`-l`, `--all`); short ones may be
    /// clustered (`-la`).
    #[serde(default)]
    pub flags: Vec<String>,
    /// Options that take a value: `-n 5`, `-n5`, `--lines=5`, `--lines 5`.
    #[serde(default)]
    pub values: Vec<String>,
    /// Long options whose value is optional and only given after `=`
    /// (`--color`, `--color=auto`).
    #[serde(default)]
    pub optional: Vec<String>,
    /// Options that run another program (its name or command is the
    /// value, or it is configured elsewhere: `--pager`, `--ext-diff`).
    #[serde(default)]
    pub runs_program: Vec<String>,
    /// Options that write a file.
    #[serde(default)]
    pub writes: Vec<String>,
    /// Options that read configuration, rules or code from a named place,
    /// or point the program at another repository or configuration
    /// directory (`git -c`, `--git-dir`, `file -m`).
    #[serde(default)]
    pub config: Vec<String>,
    /// `-NUM` is an option (`head -5`).
    #[serde(default)]
    pub numeric: bool,
    /// An argument starting with `+` is a command the program runs at
    /// start (`less +CMD`, `more +/PATTERN`): not read-only.
    #[serde(default)]
    pub plus_commands: bool,
    /// Every argument is an operand; the program parses no options that
    /// matter (`echo`, `test`).
    #[serde(default)]
    pub operands_only: bool,
    /// At most this many operands (`uniq IN OUT` writes OUT: 1; `python
    /// --version`: 0).
    #[serde(default)]
    pub max_operands: Option<usize>,
    /// Every operand must start with this (`date +FORMAT`; any other
    /// operand, `date MMDDhhmm`, sets the clock).
    #[serde(default)]
    pub operand_prefix: Option<String>,
    /// Subcommands (the first operand) and their own lists; a subcommand
    /// not listed is not read-only.
    #[serde(default)]
    pub subcommands: HashMap<String, OptionList, Fnv>,
    /// Without a subcommand the program does something else (`git stash`
    /// alone pushes).
    #[serde(default)]
    pub subcommand_required: bool,
    /// Every listed option and the list it is on (0 `runs_program`, 1
    /// `writes`, 2 `config`, 3 `flags`, 4 `values`, 5 `optional`; the
    /// first list wins), built on first use.
    #[serde(skip)]
    pub index: std::sync::OnceLock<HashMap<String, u8, Fnv>>,
}

impl OptionList {
    /// The lists in the order of [`OptionList::index`].
    pub fn lists(&self) -> [&[String]; 6] {
        [
            &self.runs_program,
            &self.writes,
            &self.config,
            &self.flags,
            &self.values,
            &self.optional,
        ]
    }

    /// Which list `option` is on (see [`OptionList::index`]).
    pub fn list_of(&self, option: &str) -> Option<u8> {
        self.index
            .get_or_init(|| {
                let mut m = HashMap::default();
                for (i, list) in (0u8..).zip(self.lists()) {
                    for o in list {
                        m.entry(o.clone()).or_insert(i);
                    }
                }
                m
            })
            .get(option)
            .copied()
    }
}

/// Shell builtins.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Builtins {
    /// Builtins that only work inside a shell or differ from their external twin.
    pub shell_only: HashSet<String, Fnv>,
    /// Builtins that behave like the external program under conditions.
    pub same_as_external: HashSet<String, Fnv>,
}

/// One table of the catalog: its entries' names, sorted, and each
/// entry's JSON, compiled in by `build.rs` and parsed the first time the
/// entry is looked up. (Parsing the whole catalog at start-up took about
/// a sixth of a one-shot CLI's CPU.)
pub struct Table<T> {
    entries: &'static [(&'static str, &'static str)],
    parsed: Box<[OnceLock<T>]>,
    index: HashMap<&'static str, u32, Fnv>,
}

impl<T: serde::de::DeserializeOwned> Table<T> {
    fn new(entries: &'static [(&'static str, &'static str)]) -> Table<T> {
        Table {
            entries,
            parsed: entries.iter().map(|_| OnceLock::new()).collect(),
            index: (0u32..)
                .zip(entries)
                .map(|(i, (name, _))| (*name, i))
                .collect(),
        }
    }

    fn entry(&self, i: usize) -> &T {
        self.parsed[i].get_or_init(|| {
            let (name, json) = self.entries[i];
            // Compiled in and checked by a unit test, so this cannot fail
            // in a released build.
            serde_json::from_str(json)
                .unwrap_or_else(|e| panic!("catalog entry {name} is invalid: {e}"))
        })
    }

    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.index.get(name).map(|&i| self.entry(i as usize))
    }

    /// Whether there is an entry named `name` (without parsing it).
    pub fn contains_key(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// The entries' names, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.iter().map(|(name, _)| *name)
    }

    /// Every entry with its name, sorted by name (parsing them all).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &T)> + '_ {
        self.entries
            .iter()
            .enumerate()
            .map(|(i, (name, _))| (*name, self.entry(i)))
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a, T: serde::de::DeserializeOwned> IntoIterator for &'a Table<T> {
    type Item = (&'static str, &'a T);
    type IntoIter = Box<dyn Iterator<Item = (&'static str, &'a T)> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl<T> std::fmt::Debug for Table<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.entries.iter().map(|(name, _)| name))
            .finish()
    }
}

/// The whole catalog.
#[derive(Debug)]
pub struct Catalog {
    /// Shell builtins.
    pub builtins: Builtins,
    /// Wrappers by name.
    pub wrappers: Table<WrapperSpec>,
    /// Programs by name.
    pub programs: Table<ProgramSpec>,
    /// Per program: option spellings and the canonical option they mean
    /// (`--recursive` → `-r` for `rm`), for policy rule matching.
    pub option_aliases: Table<HashMap<String, String>>,
    /// Per read-only program: the options it is read-only with.
    pub options: Table<OptionList>,
}

/// `catalog/programs.toml` as written.
#[cfg(test)]
static SOURCE: &str = include_str!("../catalog/programs.toml");

// The tables, made by `build.rs`: `BUILTINS` (JSON), and `WRAPPERS`,
// `PROGRAMS`, `OPTION_ALIASES`, `OPTIONS` (sorted names, each entry's JSON).
include!(concat!(env!("OUT_DIR"), "/catalog_tables.rs"));

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog {
    // Compiled in and checked by a unit test, so this cannot fail in a
    // released build.
    builtins: serde_json::from_str(BUILTINS).expect("core/catalog/programs.toml is valid"),
    wrappers: Table::new(WRAPPERS),
    programs: Table::new(PROGRAMS),
    option_aliases: Table::new(OPTION_ALIASES),
    options: Table::new(OPTIONS),
});

/// The catalog compiled into this build.
pub fn catalog() -> &'static Catalog {
    &CATALOG
}

impl Catalog {
    /// Looks a program up by name, trying version-less forms
    /// (`python3.13` → `python3`, `mkfs.ext4` → `mkfs`).
    pub fn program(&self, name: &str) -> Option<&ProgramSpec> {
        self.programs.get(name).or_else(|| {
            let base = base_name(name);
            // No second lookup of the same key (most names have no `.`).
            (base.len() < name.len())
                .then(|| self.programs.get(base))
                .flatten()
        })
    }

    /// The option allowlist of a read-only program, looked up like
    /// [`Catalog::program`].
    pub fn options(&self, name: &str) -> Option<&OptionList> {
        self.options.get(name).or_else(|| {
            let base = base_name(name);
            (base.len() < name.len())
                .then(|| self.options.get(base))
                .flatten()
        })
    }

    /// Whether the program carries a tag.
    pub fn has_tag(&self, name: &str, tag: &str) -> bool {
        self.program(name)
            .is_some_and(|p| p.tags.iter().any(|t| t == tag))
    }

    /// The canonical spelling of `option` for `program` (itself when the
    /// catalog lists no alias).
    pub fn canonical_option<'a>(&'a self, program: &str, option: &'a str) -> &'a str {
        self.option_aliases
            .get(program)
            .and_then(|m| m.get(option))
            .map_or(option, String::as_str)
    }

    /// Whether the catalog knows this program at all.
    pub fn knows(&self, name: &str) -> bool {
        self.program(name).is_some()
            || self.wrappers.contains_key(name)
            || self.builtins.shell_only.contains(name)
            || self.builtins.same_as_external.contains(name)
    }
}

/// Strips a version or variant suffix: `python3.13` → `python3`,
/// `mkfs.ext4` → `mkfs`, `pip3.11` → `pip3`.
pub fn base_name(name: &str) -> &str {
    // A byte loop: names are short, and `str::find`'s searcher costs more
    // than the scan (it runs on every catalog miss).
    match name.bytes().position(|b| b == b'.') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_loads_and_knows_common_programs() {
        let c = catalog();
        assert!(c.program("ls").is_some_and(|p| p.read_only));
        assert!(c.has_tag("python3.13", "interpreter"));
        assert!(c.has_tag("mkfs.ext4", "format"));
        assert!(c.wrappers.contains_key("sudo"));
        assert!(c.builtins.shell_only.contains("cd"));
        assert!(!c.knows("definitely-not-a-program"));
    }

    /// The whole catalog as written, every table read at once with
    /// unknown fields refused (what the tables compiled in must say).
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Written {
        builtins: Builtins,
        wrappers: HashMap<String, WrapperSpec>,
        programs: HashMap<String, ProgramSpec>,
        #[serde(default)]
        option_aliases: HashMap<String, HashMap<String, String>>,
        #[serde(default)]
        options: HashMap<String, OptionList>,
    }

    #[test]
    fn the_compiled_tables_are_the_toml_catalog() {
        let _: Written = toml::from_str(SOURCE).unwrap();
        let toml: toml::Value = toml::from_str(SOURCE).unwrap();
        let written = serde_json::to_value(&toml).unwrap();
        let compiled: [(&str, &[(&str, &str)]); 4] = [
            ("wrappers", WRAPPERS),
            ("programs", PROGRAMS),
            ("option_aliases", OPTION_ALIASES),
            ("options", OPTIONS),
        ];
        for (table, entries) in compiled {
            let want = written[table].as_object().unwrap();
            assert_eq!(entries.len(), want.len(), "[{table}]");
            assert!(
                entries.windows(2).all(|w| w[0].0 < w[1].0),
                "[{table}] is sorted"
            );
            for (name, json) in entries {
                let got: serde_json::Value = serde_json::from_str(json).unwrap();
                assert_eq!(Some(&got), want.get(*name), "[{table}.{name}]");
            }
        }
        let builtins: serde_json::Value = serde_json::from_str(BUILTINS).unwrap();
        assert_eq!(builtins, written["builtins"]);
    }

    #[test]
    fn every_entry_parses_and_is_found_by_name() {
        let c = catalog();
        for (name, spec) in &c.programs {
            assert!(std::ptr::eq(c.programs.get(name).unwrap(), spec));
        }
        assert_eq!(c.wrappers.iter().count(), c.wrappers.len());
        assert_eq!(c.option_aliases.iter().count(), c.option_aliases.len());
        assert_eq!(c.options.iter().count(), c.options.len());
        assert!(c.programs.len() > 100 && !c.options.is_empty());
        assert!(c.programs.get("no-such-program").is_none());
        assert!(!c.programs.contains_key("no-such-program"));
        assert_eq!(c.canonical_option("rm", "--recursive"), "-r");
    }
}
