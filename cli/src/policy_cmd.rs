//! `sandboxcore policy validate|show|replay`.

use crate::policy_source::{LayerArgs, PolicySource};
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use sandboxcore::policy::{FileFormat, Policy, PolicySettings, DEFAULT_SAFE_COMMANDS};
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `sandboxcore policy`.
#[derive(Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Check a policy file: exit 0 and name its format when it is valid;
    /// otherwise print where it is wrong (file:line:column) and exit 1.
    /// With --policy-layer or --layers auto, check each layer's file and
    /// the stack they make.
    Validate {
        /// The policy file.
        #[arg(required_unless_present_any = ["policy_layer", "layers"], conflicts_with_all = ["policy_layer", "layers"])]
        file: Option<PathBuf>,
        #[command(flatten)]
        layers: LayerArgs,
    },
    /// Print the effective policy (mode defaults, then the file, then the
    /// SANDBOXCORE_*/CODEFRAME_* environment, then --mode) as JSON. With
    /// layers: the summary (each setting at its strictest), each layer's
    /// settings, and every rule with the layer it came from.
    Show {
        #[command(flatten)]
        source: PolicySource,
    },
    /// Decide every command of an audit log (the JSON lines `--audit-log`
    /// writes) again under a policy and print each one whose verdict would
    /// change (old -> new, with the rule), then the count of each
    /// transition. Exit 1 when a command that ran would now be denied, so
    /// CI can gate a switch from warn to enforce.
    Replay {
        #[command(flatten)]
        source: PolicySource,
        /// The audit log (JSON lines); `-` for standard input.
        log: PathBuf,
        /// `text` (default) or `json`.
        #[arg(long, value_enum, default_value_t = ReplayFormat::Text)]
        format: ReplayFormat,
    },
}

/// How `policy replay` prints its report.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ReplayFormat {
    Text,
    Json,
}

#[derive(Serialize)]
struct Shown<'a> {
    file: Option<String>,
    #[serde(flatten)]
    settings: &'a PolicySettings,
    /// Each layer, most trusted first (stacked policies only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    layers: Vec<ShownLayer<'a>>,
    /// Every rule with its layer (stacked policies only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    rules: Vec<ShownRule>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

#[derive(Serialize)]
struct ShownLayer<'a> {
    name: &'a str,
    file: Option<String>,
    settings: &'a PolicySettings,
}

/// A rule of a layer, named as decisions name it
/// (`blocked_patterns[0]: rm -rf`).
#[derive(Serialize)]
struct ShownRule {
    layer: String,
    rule: String,
    /// A writable path this layer may not add (outside the workspace).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    ignored: bool,
}

/// Every rule of one layer's settings, as `setting[i]: text`.
fn rules_of(s: &PolicySettings) -> Vec<String> {
    let lists: [(&str, &Vec<String>); 9] = [
        ("allowed_commands", &s.allowed_commands),
        ("denied_commands", &s.denied_commands),
        ("blocked_patterns", &s.blocked_patterns),
        ("require_approval", &s.require_approval),
        ("allowed_shell_operators", &s.allowed_shell_operators),
        ("network.allow", &s.network.allow),
        ("network.deny", &s.network.deny),
        ("filesystem.writable", &s.filesystem.writable),
        ("filesystem.deny_read", &s.filesystem.deny_read),
    ];
    let mut out: Vec<String> = lists
        .iter()
        .flat_map(|(name, list)| {
            list.iter()
                .enumerate()
                .map(move |(i, r)| format!("{name}[{i}]: {r}"))
        })
        .collect();
    // Safe commands beyond the defaults.
    out.extend(
        s.safe_commands
            .iter()
            .filter(|c| !DEFAULT_SAFE_COMMANDS.contains(&c.as_str()))
            .map(|c| format!("safe_commands: {c}")),
    );
    out
}

/// `policy validate FILE`: the line to print, or the error.
fn validate_file(file: &Path) -> Result<String, sandboxcore::policy::PolicyError> {
    let (format, layer) = Policy::read_layer(file)?;
    Policy::from_layers(&[&layer])?;
    let examples = layer.examples.map_or(0, |e| e.iter().count());
    let name = match format {
        FileFormat::Native => "sandboxcore",
        FileFormat::CodeframeConfig => "CodeFRAME config/security.yml",
        FileFormat::CodeframePolicy => "CodeFRAME .codeframe/security-policy.yml",
    };
    let held = match examples {
        0 => String::new(),
        1 => ", its 1 example holds".to_string(),
        n => format!(", its {n} examples hold"),
    };
    Ok(format!("{}: valid ({name} format{held})", file.display()))
}

/// `policy validate` with layers: each layer's file, then the stack.
fn validate_layers(layers: &LayerArgs) -> Result<ExitCode> {
    let Some(sources) = layers.selected()? else {
        bail!("no policy file or layer to validate");
    };
    if sources.is_empty() {
        println!("no policy layer found (the standard locations have no file)");
        return Ok(ExitCode::SUCCESS);
    }
    let mut failed = false;
    for s in &sources {
        match validate_file(&s.path) {
            Ok(line) => println!("{}: {line}", s.name),
            Err(e) => {
                eprintln!("{}: {e}", s.name);
                failed = true;
            }
        }
    }
    if failed {
        return Ok(ExitCode::from(1));
    }
    // The files are valid on their own; stacking them can only add warnings.
    let stack = Policy::from_named_layers_with(&sources, &[])?;
    for w in stack.warnings() {
        eprintln!("warning: {w}");
    }
    let names: Vec<&str> = sources.iter().map(|s| s.name.as_str()).collect();
    println!(
        "{} layer(s), most trusted first: {}",
        names.len(),
        names.join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs the subcommand.
pub fn run(args: PolicyArgs) -> Result<ExitCode> {
    match args.command {
        PolicyCommand::Validate { file, layers } => match file {
            Some(file) => match validate_file(&file) {
                Ok(line) => {
                    println!("{line}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::from(1))
                }
            },
            None => validate_layers(&layers),
        },
        PolicyCommand::Show { source } => {
            let policy = source.load()?;
            let file = match source.selection()? {
                crate::policy_source::Selection::File(p) => Some(p.display().to_string()),
                _ => None,
            };
            let mut rules = Vec::new();
            for l in policy.layers() {
                rules.extend(
                    rules_of(l.policy.settings())
                        .into_iter()
                        .map(|rule| ShownRule {
                            layer: l.name.clone(),
                            rule,
                            ignored: false,
                        }),
                );
                rules.extend(l.ignored_writable.iter().map(|w| ShownRule {
                    layer: l.name.clone(),
                    rule: format!("filesystem.writable: {w}"),
                    ignored: true,
                }));
            }
            let shown = Shown {
                file,
                settings: policy.settings(),
                layers: policy
                    .layers()
                    .iter()
                    .map(|l| ShownLayer {
                        name: &l.name,
                        file: l.path.as_ref().map(|p| p.display().to_string()),
                        settings: l.policy.settings(),
                    })
                    .collect(),
                rules,
                warnings: policy.warnings(),
            };
            let mut out = io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &shown)?;
            out.write_all(b"\n")?;
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Replay {
            source,
            log,
            format,
        } => replay(&source.load()?, &log, format),
    }
}

fn replay(policy: &Policy, log: &Path, format: ReplayFormat) -> Result<ExitCode> {
    let report = if log == Path::new("-") {
        sandboxcore::policy::replay::replay(policy, io::stdin().lock())
    } else {
        let file = File::open(log).with_context(|| format!("cannot read {}", log.display()))?;
        sandboxcore::policy::replay::replay(policy, BufReader::new(file))
    }
    .with_context(|| log.display().to_string())?;
    let mut out = io::stdout().lock();
    match format {
        ReplayFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            out.write_all(b"\n")?;
        }
        ReplayFormat::Text => {
            for c in &report.changed {
                let rule = c
                    .rule
                    .as_deref()
                    .map(|r| format!("  ({r})"))
                    .unwrap_or_default();
                let ran = if c.ran { " [ran]" } else { "" };
                writeln!(out, "{} -> {}{ran}  {}{rule}", c.old, c.new, c.command)?;
            }
            writeln!(
                out,
                "{} decisions replayed, {} would change",
                report.decisions,
                report.changed.len()
            )?;
            for (transition, n) in &report.transitions {
                writeln!(out, "  {transition}: {n}")?;
            }
        }
    }
    out.flush()?;
    let stopped = report.ran_now_denied().count();
    if stopped > 0 {
        eprintln!("{stopped} command(s) that ran would now be denied");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
