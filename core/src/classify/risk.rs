//! The risk rules. Each looks at the parsed structure (programs with their
//! arguments after wrappers are removed, redirection targets, functions),
//! never at substrings of the command line.

use super::types::{Reason, ReasonCode, Risk};
use super::walk::{Facts, Invocation, ScriptSource};
use super::words::{PathClass, WordInfo};
use crate::catalog::catalog;

/// Collects reasons for the facts of one command line.
pub fn assess(facts: &Facts) -> Vec<Reason> {
    let mut out = Reasons::default();
    for msg in &facts.remote_exec {
        out.add(
            ReasonCode::RemoteScriptExecution,
            Risk::Critical,
            format!("downloaded code is executed: {msg}"),
        );
    }
    for name in &facts.fork_bombs {
        out.add(
            ReasonCode::ForkBomb,
            Risk::Critical,
            format!("function `{name}` calls itself repeatedly (fork bomb)"),
        );
    }
    if facts.too_deep {
        out.add(
            ReasonCode::TooDeep,
            Risk::High,
            format!(
                "wrappers or nested scripts go deeper than {} levels, or re-parse more text than the classifier follows: what the command finally runs is not judged",
                crate::shell::MAX_DEPTH
            ),
        );
    }
    for e in &facts.nested_errors {
        out.add(
            ReasonCode::NestedParseError,
            Risk::High,
            format!("a nested script cannot be parsed: {e}"),
        );
    }
    for r in &facts.redirects {
        if r.op.writes_file() {
            written_path(
                &r.target,
                &format!("redirection `{}`", r.op.as_str()),
                &mut out,
            );
        } else if matches!(r.op, crate::shell::ast::RedirectOp::Input) {
            credential_path(&r.target, &mut out);
        }
    }
    for inv in &facts.invocations {
        program(inv, facts, &mut out);
    }
    exfiltration(facts, &mut out);
    out.0
}

/// Programs that send data over the network.
fn is_sender(name_base: &str) -> bool {
    matches!(
        name_base,
        "nc" | "ncat" | "netcat" | "socat" | "telnet" | "ssh" | "scp" | "sftp" | "ftp"
    ) || catalog().has_tag(name_base, "downloader")
}

/// A line that reads secrets (a credential file or directory, or the whole
/// environment with `env`/`printenv`) and runs a program that sends data
/// over the network.
fn exfiltration(facts: &Facts, out: &mut Reasons) {
    let secret = out.0.iter().any(|r| r.code == ReasonCode::CredentialAccess)
        || facts.invocations.iter().any(|i| {
            !i.wraps
                && matches!(
                    i.name.as_deref().map(crate::catalog::base_name),
                    Some("env" | "printenv")
                )
                && i.args[1..].iter().all(|a| a.shape.starts_with('-'))
        });
    if !secret {
        return;
    }
    if let Some(sender) = facts.invocations.iter().find_map(|i| {
        i.name
            .as_deref()
            .map(crate::catalog::base_name)
            .filter(|b| is_sender(b))
    }) {
        out.add(
            ReasonCode::Exfiltration,
            Risk::High,
            format!("secrets are read and `{sender}` sends data over the network"),
        );
    }
}

/// Directories that hold keys and credentials (archived or copied whole).
fn is_credential_dir(shape: &str) -> bool {
    let s = shape.trim_end_matches('/');
    [
        ".ssh",
        ".gnupg",
        ".aws",
        ".kube",
        ".docker",
        ".config/gcloud",
        ".config/gh",
        ".azure",
        ".password-store",
    ]
    .iter()
    .any(|d| s == *d || s.ends_with(&format!("/{d}")))
}

/// Programs that read whole directories to archive, copy or encode them.
fn reads_directories(name_base: &str) -> bool {
    matches!(
        name_base,
        "tar" | "zip" | "7z" | "7za" | "rar" | "cpio" | "pax" | "rsync" | "scp" | "cp" | "gpg"
    )
}

#[derive(Default)]
struct Reasons(Vec<Reason>);

impl Reasons {
    fn add(&mut self, code: ReasonCode, risk: Risk, message: String) {
        if !self
            .0
            .iter()
            .any(|r| r.code == code && r.message == message)
        {
            self.0.push(Reason {
                code,
                risk,
                message,
            });
        }
    }
}

fn written_path(target: &WordInfo, what: &str, out: &mut Reasons) {
    let shape = &target.shape;
    if shape.starts_with("/dev/tcp/") || shape.starts_with("/dev/udp/") {
        out.add(
            ReasonCode::NetworkRedirection,
            Risk::Medium,
            format!("{what} opens a network connection to `{shape}`"),
        );
        return;
    }
    match PathClass::of(target) {
        PathClass::Device => out.add(
            ReasonCode::DeviceWrite,
            Risk::Critical,
            format!("{what} writes to the device `{shape}`"),
        ),
        PathClass::Root | PathClass::SystemDir | PathClass::InSystemDir => out.add(
            ReasonCode::SystemPathWrite,
            Risk::High,
            format!("{what} writes into the system path `{shape}`"),
        ),
        PathClass::Home | PathClass::Other => {}
    }
}

/// Files that hold credentials or secrets.
///
/// Keyed on the last path component first: every rule names it (a suffix
/// rule's last component is its base name), so the common word that is no
/// such file is rejected after one `match` on its base name.
fn is_credential_path(shape: &str) -> bool {
    let base = match memchr_rev(b'/', shape.as_bytes()) {
        Some(i) => &shape[i + 1..],
        None => shape,
    };
    match base {
        ".netrc" | ".git-credentials" | ".pgpass" | ".npmrc" | ".pypirc" | ".env"
        | "credentials.json" | "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519" | "shadow" => true,
        "credentials" => {
            shape.ends_with(".aws/credentials") || shape.ends_with(".codeframe/credentials")
        }
        "config" => shape.ends_with(".aws/config") || shape.ends_with(".kube/config"),
        "config.json" => shape.ends_with(".docker/config.json"),
        "hosts.yml" => shape.ends_with(".config/gh/hosts.yml"),
        "accessTokens.json" => shape.ends_with(".azure/accessTokens.json"),
        "credentials.db" => shape.ends_with(".config/gcloud/credentials.db"),
        "gshadow" => shape.ends_with("/etc/gshadow"),
        "sudoers" => shape.ends_with("/etc/sudoers"),
        _ => {
            (base.starts_with(".env.") && !base.ends_with(".example") && !base.ends_with(".sample"))
                || (base.starts_with("id_") && !base.ends_with(".pub") && shape.contains(".ssh/"))
                || (base.ends_with(".pem") && base.contains("key"))
        }
    }
}

/// The index of the last `needle` in `haystack`.
fn memchr_rev(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().rposition(|&c| c == needle)
}

fn credential_path(w: &WordInfo, out: &mut Reasons) {
    if is_credential_path(&w.shape) {
        out.add(
            ReasonCode::CredentialAccess,
            Risk::High,
            format!("`{}` is a credential file", w.shape),
        );
    }
}

/// Splits arguments into options and operands (everything after `--` is an
/// operand).
fn operands(args: &[WordInfo]) -> (Vec<&str>, Vec<&WordInfo>) {
    let mut opts = Vec::new();
    let mut ops = Vec::new();
    let mut after_dashdash = false;
    for a in args.iter().skip(1) {
        let s = a.shape.as_str();
        if !after_dashdash && s == "--" {
            after_dashdash = true;
        } else if !after_dashdash && s.len() > 1 && s.starts_with('-') {
            opts.push(s);
        } else {
            ops.push(a);
        }
    }
    (opts, ops)
}

/// Whether a short-option cluster or long option is among `opts`.
fn has_flag(opts: &[&str], letters: &[char], long: &[&str]) -> bool {
    opts.iter().any(|o| {
        if let Some(l) = o.strip_prefix("--") {
            long.contains(&l)
        } else {
            o[1..].chars().any(|c| letters.contains(&c))
        }
    })
}

fn program(inv: &Invocation, facts: &Facts, out: &mut Reasons) {
    let Some(name) = inv.name.as_deref() else {
        out.add(
            ReasonCode::DynamicCommand,
            Risk::Medium,
            format!(
                "the program `{}` is only known at run time",
                inv.args.first().map_or("", |a| a.shape.as_str())
            ),
        );
        return;
    };
    let c = catalog();
    let spec = c.program(name);
    let name_base = crate::catalog::base_name(name);
    if name != "echo" && name != "printf" {
        for a in inv.args.iter().skip(1) {
            credential_path(a, out);
        }
    }
    if reads_directories(name_base) {
        for a in inv.args.iter().skip(1) {
            if is_credential_dir(&a.shape) {
                out.add(
                    ReasonCode::CredentialAccess,
                    Risk::High,
                    format!("`{name}` reads the credential directory `{}`", a.shape),
                );
            }
        }
    }
    if inv.script == ScriptSource::Stdin {
        out.add(
            ReasonCode::ScriptFromStdin,
            Risk::Medium,
            format!("`{name}` reads the program it runs from standard input"),
        );
    }
    if let Some(why) = &inv.unseen {
        out.add(
            ReasonCode::DynamicScript,
            Risk::Medium,
            format!("`{name}`: {why}"),
        );
    }
    if inv.script == ScriptSource::Dynamic {
        out.add(
            ReasonCode::DynamicScript,
            Risk::Medium,
            format!("`{name}` runs a script only known at run time"),
        );
    }
    if spec.is_none() && !c.knows(name) && !facts.functions.contains(name) {
        out.add(
            ReasonCode::UnknownProgram,
            Risk::Medium,
            format!("`{name}` is not in the program catalog"),
        );
    }
    let tags = spec.map(|p| p.tags.as_slice()).unwrap_or(&[]);
    rules(name, name_base, tags, inv, out);
    if inv.appended && is_deleter(name_base) && inv.via.iter().any(|v| v == "xargs") {
        deletes_from_input(name, facts, out);
    }
}

/// Programs that delete the files named in their operands.
fn is_deleter(name_base: &str) -> bool {
    matches!(name_base, "rm" | "unlink" | "shred" | "srm" | "rmdir")
}

/// Operands that name the whole working directory.
fn is_workspace(shape: &str) -> bool {
    matches!(
        shape,
        "." | "./" | "*" | "./*" | "$PWD" | "${PWD}" | "$PWD/" | "$PWD/*" | "${PWD}/*"
    )
}

/// A deleter fed its operands by `xargs`: the files are whatever the rest
/// of the line lists. Medium, as a recursive delete of unknown paths; high
/// when the line lists every tracked file (`git ls-files`) or everything in
/// the working directory; critical when it lists from `/`, the home
/// directory or a system directory.
fn deletes_from_input(name: &str, facts: &Facts, out: &mut Reasons) {
    let mut risk = Risk::Medium;
    let mut what = "the paths its input names".to_string();
    for other in &facts.invocations {
        let Some(other_name) = other.name.as_deref() else {
            continue;
        };
        let base = crate::catalog::base_name(other_name);
        let (opts, ops) = operands(&other.args);
        let wide = ops.iter().find(|p| {
            matches!(
                PathClass::of(p),
                PathClass::Root | PathClass::Home | PathClass::SystemDir
            )
        });
        if let (Some(p), "find" | "ls" | "fd" | "locate" | "tree" | "du") = (wide, base) {
            risk = Risk::Critical;
            what = format!("what `{base}` lists under `{}`", p.shape);
            break;
        }
        let everything = match base {
            "git" => other.args.iter().any(|a| a.shape == "ls-files"),
            "find" => {
                find_selects_everything(&other.args)
                    && ops.first().is_none_or(|p| is_workspace(&p.shape))
            }
            // `ls` lists every file of the directories it is given (of
            // the working directory when none).
            "ls" => {
                opts.iter().any(|o| o.contains('R'))
                    || ops.is_empty()
                    || ops.iter().all(|p| is_workspace(&p.shape))
            }
            _ => false,
        };
        if everything && risk < Risk::High {
            risk = Risk::High;
            what = format!("every file `{base}` lists in the working directory");
        }
    }
    let code = if risk == Risk::Critical {
        ReasonCode::RecursiveDeleteRoot
    } else {
        ReasonCode::RecursiveDelete
    };
    out.add(code, risk, format!("`xargs {name}` deletes {what}"));
}

/// Whether a `find` command line selects every file (no test on names,
/// paths, times or sizes; `-type`, depth and traversal options only).
fn find_selects_everything(args: &[WordInfo]) -> bool {
    !args.iter().any(|a| {
        a.shape.starts_with('-')
            && !matches!(
                a.shape.as_str(),
                "-type"
                    | "-xtype"
                    | "-mindepth"
                    | "-maxdepth"
                    | "-depth"
                    | "-xdev"
                    | "-mount"
                    | "-delete"
                    | "-print"
                    | "-print0"
                    | "-exec"
                    | "-execdir"
                    | "-ok"
                    | "-okdir"
                    | "-H"
                    | "-L"
                    | "-P"
                    | "-follow"
                    | "-noleaf"
                    | "-ignore_readdir_race"
            )
    })
}

/// Whether `find` deletes what it finds: `-delete`, or a deleter run by
/// `-exec`, `-execdir`, `-ok` or `-okdir` (the commands the walker unwraps).
fn find_deletes(args: &[WordInfo]) -> bool {
    if args.iter().any(|a| a.shape == "-delete") {
        return true;
    }
    match super::unwrap::layer(Some("find"), args) {
        super::unwrap::Layer::FindExec(ranges) => ranges
            .iter()
            .any(|&(start, _)| is_deleter(crate::catalog::base_name(&args[start].shape))),
        _ => false,
    }
}

/// The tag rules and the per-program rules. Options and operands are split
/// only inside the rules that need them, so programs without rules cost
/// nothing here.
fn rules(name: &str, name_base: &str, tags: &[String], inv: &Invocation, out: &mut Reasons) {
    let split = || operands(&inv.args);
    for tag in tags {
        match tag.as_str() {
            "privilege" => out.add(
                ReasonCode::PrivilegeEscalation,
                Risk::Medium,
                format!("`{name}` runs a command with other privileges"),
            ),
            "format" => out.add(
                ReasonCode::FilesystemFormat,
                Risk::Critical,
                format!("`{name}` creates or wipes a filesystem"),
            ),
            "disk" if name != "dd" => out.add(
                ReasonCode::DiskPartitioning,
                Risk::High,
                format!("`{name}` changes disks or partitions"),
            ),
            "power" if name != "init" && name != "telinit" || is_runlevel_change(&split().1) => out
                .add(
                    ReasonCode::PowerState,
                    Risk::High,
                    format!("`{name}` shuts down or restarts the machine"),
                ),
            "downloader" => out.add(
                ReasonCode::Network,
                Risk::Low,
                format!("`{name}` accesses the network"),
            ),
            _ => {}
        }
    }
    match name_base {
        "rm" => {
            let (opts, ops) = split();
            rm(&opts, &ops, out);
        }
        "find" => {
            if !find_deletes(&inv.args) {
                return;
            }
            // The roots: the words before the first expression.
            let roots: Vec<&WordInfo> = inv.args[1..]
                .iter()
                .skip_while(|a| matches!(a.shape.as_str(), "-H" | "-L" | "-P"))
                .take_while(|a| !a.shape.starts_with('-') && !matches!(a.shape.as_str(), "(" | "!"))
                .collect();
            let everything = find_selects_everything(&inv.args);
            let dot = WordInfo::literal(".");
            let roots = if roots.is_empty() { vec![&dot] } else { roots };
            for p in roots {
                if matches!(
                    PathClass::of(p),
                    PathClass::Root | PathClass::Home | PathClass::SystemDir
                ) {
                    out.add(
                        ReasonCode::RecursiveDeleteRoot,
                        Risk::Critical,
                        format!("`find {}` deletes what it finds under it", p.shape),
                    );
                } else if everything && is_workspace(&p.shape) {
                    out.add(
                        ReasonCode::RecursiveDelete,
                        Risk::High,
                        format!(
                            "`find {}` deletes everything in the working directory",
                            p.shape
                        ),
                    );
                } else {
                    out.add(
                        ReasonCode::RecursiveDelete,
                        Risk::Medium,
                        format!("`find {}` deletes what it finds under it", p.shape),
                    );
                }
            }
        }
        "dd" => {
            for a in &split().1 {
                if let Some(of) = a.shape.strip_prefix("of=") {
                    written_path(&WordInfo::literal(of), "`dd`", out);
                }
            }
        }
        "cp" | "mv" | "install" | "ln" | "rsync" => {
            let (opts, ops) = split();
            if name_base == "rsync" && opts.iter().any(|o| o.starts_with("--delete")) {
                if let Some(t) = ops.last().filter(|_| ops.len() >= 2) {
                    let (code, risk) = match PathClass::of(t) {
                        PathClass::Root | PathClass::Home | PathClass::SystemDir => {
                            (ReasonCode::RecursiveDeleteRoot, Risk::Critical)
                        }
                        _ if is_workspace(&t.shape) => (ReasonCode::RecursiveDelete, Risk::High),
                        _ => (ReasonCode::RecursiveDelete, Risk::Medium),
                    };
                    out.add(
                        code,
                        risk,
                        format!(
                            "`rsync --delete` deletes what the source lacks from `{}`",
                            t.shape
                        ),
                    );
                }
            }
            let target = opts
                .iter()
                .find_map(|o| o.strip_prefix("--target-directory="))
                .map(WordInfo::literal)
                .or_else(|| ops.last().map(|w| (*w).clone()));
            if let Some(t) = target {
                if ops.len() >= 2 || opts.iter().any(|o| o.starts_with("--target")) {
                    written_path(&t, &format!("`{name}`"), out);
                }
            }
        }
        "tee" | "truncate" | "shred" => {
            for a in &split().1 {
                written_path(a, &format!("`{name}`"), out);
            }
        }
        "chmod" | "chown" | "chgrp" => {
            let (opts, ops) = split();
            permissions(name, &opts, &ops, out);
        }
        "eval" => out.add(
            ReasonCode::Eval,
            Risk::Medium,
            "`eval` runs text as shell code".to_string(),
        ),
        "kill" | "pkill" | "killall" => {
            let (opts, ops) = split();
            let all = ops.iter().any(|a| a.shape == "-1" || a.shape == "1")
                || opts.contains(&"-1")
                // A pattern every process name or command line matches.
                || (name_base != "kill"
                    && ops
                        .iter()
                        .any(|a| matches!(a.shape.as_str(), "." | ".*" | "" | "^" | "$")));
            if all {
                out.add(
                    ReasonCode::KillAll,
                    Risk::High,
                    format!("`{name}` targets every process or init"),
                );
            }
        }
        "git" => git(&inv.args, out),
        "iptables" | "ip6tables" | "iptables-legacy" | "ip6tables-legacy" | "iptables-nft"
        | "ip6tables-nft" | "nft" | "ufw" => {
            let words: Vec<&str> = inv.args.iter().map(|a| a.shape.as_str()).collect();
            let flush = match name_base {
                "nft" => words.windows(2).any(|w| w == ["flush", "ruleset"]),
                "ufw" => words.iter().any(|w| matches!(*w, "disable" | "reset")),
                _ => {
                    words.iter().any(|w| {
                        matches!(*w, "-F" | "--flush" | "-X" | "--delete-chain")
                            || (w.starts_with('-') && !w.starts_with("--") && w.contains('F'))
                    }) || words.windows(3).any(|w| w[0] == "-P" && w[2] == "ACCEPT")
                }
            };
            if flush {
                out.add(
                    ReasonCode::FirewallFlush,
                    Risk::High,
                    format!("`{}` flushes or disables the firewall", words.join(" ")),
                );
            }
        }
        _ => {}
    }
}

fn is_runlevel_change(ops: &[&WordInfo]) -> bool {
    ops.iter().any(|a| a.shape == "0" || a.shape == "6")
}

fn rm(opts: &[&str], ops: &[&WordInfo], out: &mut Reasons) {
    let recursive = has_flag(opts, &['r', 'R'], &["recursive"]);
    if opts.contains(&"--no-preserve-root") {
        out.add(
            ReasonCode::RecursiveDeleteRoot,
            Risk::Critical,
            "`rm --no-preserve-root` disables the protection of `/`".to_string(),
        );
    }
    for t in ops {
        let class = PathClass::of(t);
        match class {
            PathClass::Root | PathClass::Home | PathClass::SystemDir if recursive => out.add(
                ReasonCode::RecursiveDeleteRoot,
                Risk::Critical,
                format!("recursive delete of `{}`", t.shape),
            ),
            PathClass::Root | PathClass::SystemDir | PathClass::InSystemDir | PathClass::Device => {
                out.add(
                    ReasonCode::SystemPathWrite,
                    Risk::High,
                    format!("`rm` deletes the system path `{}`", t.shape),
                )
            }
            _ if recursive && is_workspace(&t.shape) => out.add(
                ReasonCode::RecursiveDelete,
                Risk::High,
                format!(
                    "recursive delete of the whole working directory (`{}`)",
                    t.shape
                ),
            ),
            _ if recursive => out.add(
                ReasonCode::RecursiveDelete,
                Risk::Medium,
                format!("recursive delete of `{}`", t.shape),
            ),
            _ => {}
        }
    }
}

fn permissions(name: &str, opts: &[&str], ops: &[&WordInfo], out: &mut Reasons) {
    let recursive = has_flag(opts, &['R'], &["recursive"]);
    let Some((mode, targets)) = ops.split_first() else {
        return;
    };
    let sensitive = targets.iter().find(|t| {
        matches!(
            PathClass::of(t),
            PathClass::Root | PathClass::Home | PathClass::SystemDir
        ) || (!recursive && PathClass::of(t) == PathClass::InSystemDir)
    });
    if name == "chmod" {
        let m = mode.shape.as_str();
        let world_writable = if m.bytes().all(|b| b.is_ascii_digit()) && !m.is_empty() {
            let last = m.as_bytes()[m.len() - 1] - b'0';
            last & 2 != 0
        } else {
            m.split(',').any(|clause| {
                let (who, perm) = clause.split_at(clause.find(['+', '=']).unwrap_or(clause.len()));
                (who.contains('o') || who.contains('a')) && perm.contains('w')
            })
        };
        if !world_writable {
            return;
        }
        match sensitive {
            Some(t) => out.add(
                ReasonCode::WorldWritableSystem,
                Risk::Critical,
                format!("`chmod {m}` makes `{}` world-writable", t.shape),
            ),
            None => out.add(
                ReasonCode::WorldWritable,
                Risk::Medium,
                format!("`chmod {m}` makes files world-writable"),
            ),
        }
    } else if let Some(t) = sensitive.filter(|_| recursive) {
        out.add(
            ReasonCode::OwnershipChangeSystem,
            Risk::High,
            format!("`{name} -R` changes the owner of `{}`", t.shape),
        );
    }
}

fn git(args: &[WordInfo], out: &mut Reasons) {
    let words: Vec<&str> = args.iter().map(|a| a.shape.as_str()).collect();
    // The subcommand: the first word that is neither an option nor the
    // argument of one (`git -C DIR push`, `git -c k=v push`).
    let mut i = 1;
    while i < words.len() && words[i].starts_with('-') {
        let takes_argument = matches!(
            words[i],
            "-C" | "-c"
                | "--git-dir"
                | "--work-tree"
                | "--namespace"
                | "--config-env"
                | "--super-prefix"
                | "--exec-path"
                | "--list-cmds"
        );
        i += if takes_argument { 2 } else { 1 };
    }
    if i >= words.len() {
        return;
    }
    let rest = &words[i + 1..];
    let destructive = match words[i] {
        "push" => rest.iter().any(|w| {
            matches!(*w, "-f" | "--force" | "--mirror" | "--delete" | "-d")
                || w.starts_with("--force")
                || (w.starts_with('+') && w.len() > 1)
        }),
        "reset" => rest.contains(&"--hard"),
        "clean" => rest.iter().any(|w| {
            *w == "--force" || (w.starts_with('-') && !w.starts_with("--") && w.contains('f'))
        }),
        "checkout" | "restore" => rest
            .iter()
            .any(|w| *w == "." || *w == "--force" || *w == "-f"),
        "filter-branch" | "filter-repo" => true,
        "branch" => rest.contains(&"-D"),
        "rm" => {
            let recursive = rest.iter().any(|w| {
                *w == "-r" || (w.starts_with('-') && !w.starts_with("--") && w.contains('r'))
            });
            if recursive && rest.iter().any(|w| is_workspace(w)) {
                out.add(
                    ReasonCode::RecursiveDelete,
                    Risk::High,
                    "`git rm -r` of the whole working directory deletes every tracked file"
                        .to_string(),
                );
            }
            false
        }
        "stash" => rest.first().is_some_and(|w| *w == "clear" || *w == "drop"),
        _ => false,
    };
    if destructive {
        out.add(
            ReasonCode::DestructiveGit,
            Risk::Medium,
            format!(
                "`git {}` discards or rewrites history or work",
                words[i..].join(" ")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::is_credential_path;

    #[test]
    fn credential_paths_are_known_by_base_name_and_suffix() {
        for path in [
            "~/.aws/credentials",
            "/home/u/.aws/config",
            ".codeframe/credentials",
            "/root/.docker/config.json",
            "$HOME/.kube/config",
            "~/.config/gh/hosts.yml",
            ".azure/accessTokens.json",
            "~/.config/gcloud/credentials.db",
            "/etc/shadow",
            "shadow",
            "/etc/gshadow",
            "/etc/sudoers",
            ".netrc",
            "/x/.git-credentials",
            ".pgpass",
            "~/.npmrc",
            ".pypirc",
            ".env",
            "app/.env.production",
            "credentials.json",
            "id_rsa",
            "~/.ssh/id_ed25519",
            "~/.ssh/id_work",
            "certs/server-key.pem",
        ] {
            assert!(is_credential_path(path), "{path} is a credential file");
        }
        for path in [
            "",
            "/",
            "tests/test_api.py",
            "config",
            "credentials",
            "project/config.json",
            "hosts.yml",
            "gshadow",
            "sudoers",
            ".env.example",
            ".env.sample",
            "~/.ssh/id_rsa.pub",
            "id_work",
            "cert.pem",
            ".aws/credentials/",
            "not slow",
        ] {
            assert!(!is_credential_path(path), "{path} is not a credential file");
        }
    }
}
