//! Programs that run other programs through their options, configuration
//! or scripts: `git -c core.pager=CMD`, `git fetch --upload-pack=CMD`,
//! `tar --checkpoint-action=exec=CMD`, `npx -c CMD`, sed's `e` command,
//! awk's `system()`, `rsync -e CMD`, `ssh -o ProxyCommand=CMD`. The
//! classifier walks the commands they run as nested scripts (so they are
//! listed, judged and matched by the policy like any other), and calls a
//! line not read-only when a program runs or writes what it cannot see.

use super::words::WordInfo;

/// What a program's arguments make it run or do besides its own work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launched {
    /// It runs this shell command (`via` says how).
    Script {
        /// The command text.
        text: String,
        /// How it is run, for `Program::via`.
        via: String,
    },
    /// It runs code the classifier cannot see (from a file, from data, or
    /// from another repository's configuration).
    Unseen(String),
    /// It writes a file through its script (`sed 'w out'`).
    Writes,
}

fn script(text: &str, via: &str) -> Launched {
    Launched::Script {
        text: text.to_string(),
        via: via.to_string(),
    }
}

/// What `name` (a base name) runs or writes, given its arguments.
pub fn launched(name: &str, args: &[WordInfo]) -> Vec<Launched> {
    match name {
        "git" => git(args),
        "tar" | "gtar" | "bsdtar" => tar(args),
        "npm" | "npx" | "pnpm" | "yarn" => npm(args),
        "sed" | "gsed" => sed(args),
        "awk" | "gawk" | "mawk" | "nawk" | "busybox-awk" => awk(args),
        "rsync" => option_values(args, &["-e", "--rsh"], "rsync -e"),
        "ssh" | "scp" | "sftp" => ssh(args),
        // Read-only programs whose options name a program to run
        // (`rg --pre`, `man -P`, `sort --compress-program`): the catalog
        // lists them (`runs_program`, value options).
        _ => match crate::catalog::catalog().options(name) {
            Some(l) if !l.runs_program.is_empty() => {
                let names: Vec<&str> = l.runs_program.iter().map(String::as_str).collect();
                option_values(args, &names, &format!("{name} {}", names[0]))
            }
            _ => Vec::new(),
        },
    }
}

/// The value of an option given as `--opt=V`, `--opt V`, `-o V` or `-oV`.
fn option_value<'a>(args: &'a [WordInfo], i: usize, names: &[&str]) -> Option<Option<&'a str>> {
    let w = args[i].value()?;
    for n in names {
        if w == *n {
            return Some(args.get(i + 1).and_then(WordInfo::value));
        }
        if let Some(v) = w.strip_prefix(n) {
            if n.starts_with("--") {
                if let Some(v) = v.strip_prefix('=') {
                    return Some(Some(v));
                }
            } else if n.len() == 2 && !v.is_empty() {
                return Some(Some(v));
            }
        }
    }
    None
}

/// Every value of the options `names`, as commands run through a shell.
fn option_values(args: &[WordInfo], names: &[&str], via: &str) -> Vec<Launched> {
    let mut out = Vec::new();
    for i in 1..args.len() {
        match option_value(args, i, names) {
            Some(Some(v)) => out.push(script(v, via)),
            Some(None) => out.push(Launched::Unseen(format!(
                "`{via}` runs a command known only at run time"
            ))),
            None => {}
        }
    }
    out
}

/// git configuration keys whose value is a command git runs (through a
/// shell), lowercase; `*` is one name segment.
const GIT_COMMAND_KEYS: &[&str] = &[
    "core.pager",
    "core.editor",
    "core.sshcommand",
    "core.fsmonitor",
    "core.askpass",
    "core.gitproxy",
    "sequence.editor",
    "diff.external",
    "diff.*.command",
    "diff.*.textconv",
    "difftool.*.cmd",
    "mergetool.*.cmd",
    "merge.*.driver",
    "filter.*.clean",
    "filter.*.smudge",
    "filter.*.process",
    "gpg.program",
    "gpg.*.program",
    "pager.*",
    "remote.*.uploadpack",
    "remote.*.receivepack",
    "uploadpack.packobjectshook",
    "receive.procreceiverefs",
];

/// git configuration keys that make git read configuration or hooks the
/// line does not show.
const GIT_UNSEEN_KEYS: &[&str] = &[
    "include.path",
    "includeif.*.path",
    "core.hookspath",
    "core.worktree",
];

fn key_matches(pattern: &str, key: &str) -> bool {
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    match (p.as_slice(), k.as_slice()) {
        ([a, "*"], [b, _, ..]) => a == b,
        ([a, "*", c], [b, .., d]) if k.len() >= 3 => a == b && c == d,
        _ => pattern == key,
    }
}

/// What a `-c key=value` makes git run.
fn git_config(kv: &str, aliases: &mut Vec<(String, String)>, out: &mut Vec<Launched>) {
    let (key, value) = kv.split_once('=').unwrap_or((kv, "true"));
    let key = key.to_ascii_lowercase();
    if let Some(alias) = key.strip_prefix("alias.") {
        aliases.push((alias.to_string(), value.to_string()));
        return;
    }
    if key == "credential.helper" {
        if let Some(cmd) = value.strip_prefix('!') {
            out.push(script(cmd, "git credential.helper"));
        } else if !value.is_empty() {
            out.push(Launched::Unseen(format!(
                "git runs the credential helper `{value}`"
            )));
        }
        return;
    }
    if key == "core.fsmonitor" && matches!(value, "true" | "false" | "") {
        return;
    }
    if GIT_COMMAND_KEYS.iter().any(|p| key_matches(p, &key)) {
        out.push(script(value, &format!("git -c {key}")));
    } else if GIT_UNSEEN_KEYS.iter().any(|p| key_matches(p, &key)) {
        out.push(Launched::Unseen(format!(
            "`git -c {key}` reads configuration or hooks the line does not show"
        )));
    }
}

/// The command of an `ext::` remote (`%` escapes a space, `%%` a percent).
fn ext_command(url: &str) -> Option<String> {
    let rest = url.strip_prefix("ext::")?;
    Some(rest.replace("% ", " ").replace("%%", "%"))
}

fn git(args: &[WordInfo]) -> Vec<Launched> {
    let mut out = Vec::new();
    let mut aliases = Vec::new();
    let mut i = 1;
    // Global options, before the subcommand.
    while i < args.len() {
        let Some(w) = args[i].value() else {
            out.push(Launched::Unseen(
                "git's arguments are only known at run time".into(),
            ));
            return out;
        };
        if !w.starts_with('-') {
            break;
        }
        if w == "-c" {
            match args.get(i + 1).and_then(WordInfo::value) {
                Some(kv) => git_config(kv, &mut aliases, &mut out),
                None => out.push(Launched::Unseen(
                    "`git -c` with a value known only at run time".into(),
                )),
            }
            i += 2;
            continue;
        }
        if w == "--config-env" || w.starts_with("--config-env=") {
            out.push(Launched::Unseen(
                "`git --config-env` takes configuration from the environment".into(),
            ));
        }
        if matches!(w, "-C" | "--git-dir" | "--work-tree")
            || w.starts_with("--git-dir=")
            || w.starts_with("--work-tree=")
            || w.starts_with("--exec-path=")
        {
            out.push(Launched::Unseen(format!(
                "`git {w}` uses another repository's configuration and hooks"
            )));
        }
        let takes_argument = matches!(
            w,
            "-C" | "--git-dir" | "--work-tree" | "--namespace" | "--config-env" | "--super-prefix"
        );
        i += if takes_argument { 2 } else { 1 };
    }
    let Some(sub) = args.get(i).and_then(WordInfo::value) else {
        return out;
    };
    let rest = &args[i + 1..];
    let words: Vec<&str> = rest.iter().filter_map(WordInfo::value).collect();
    if let Some((_, value)) = aliases.iter().find(|(name, _)| name == sub) {
        if let Some(cmd) = value.strip_prefix('!') {
            out.push(script(
                &format!("{cmd} {}", words.join(" ")),
                &format!("git alias {sub}"),
            ));
        }
    }
    let mut subcommand_options: Vec<&str> = vec!["--upload-pack", "--receive-pack", "--exec"];
    if matches!(sub, "clone" | "fetch" | "ls-remote" | "pull") {
        subcommand_options.push("-u");
    }
    if matches!(sub, "difftool") {
        subcommand_options.extend(["-x", "--extcmd"]);
    }
    if matches!(sub, "rebase") {
        subcommand_options.extend(["-x"]);
    }
    if matches!(sub, "filter-branch") {
        subcommand_options.extend([
            "--env-filter",
            "--tree-filter",
            "--index-filter",
            "--parent-filter",
            "--msg-filter",
            "--commit-filter",
            "--tag-name-filter",
        ]);
    }
    let mut with_command = vec![args[0].clone()];
    with_command.extend(rest.iter().cloned());
    out.extend(option_values(
        &with_command,
        &subcommand_options,
        &format!("git {sub}"),
    ));
    for (j, w) in words.iter().enumerate() {
        if let Some(cmd) = ext_command(w) {
            out.push(script(&cmd, "git ext::"));
        }
        if matches!(sub, "clone") && (*w == "-c" || *w == "--config") {
            if let Some(kv) = words.get(j + 1) {
                git_config(kv, &mut aliases, &mut out);
            }
        }
        if let Some(kv) = w.strip_prefix("--config=") {
            git_config(kv, &mut aliases, &mut out);
        }
    }
    match sub {
        "bisect" if words.first() == Some(&"run") => {
            out.push(script(&words[1..].join(" "), "git bisect run"));
        }
        "submodule" => {
            if let Some(at) = words.iter().position(|w| *w == "foreach") {
                let cmd: Vec<&str> = words[at + 1..]
                    .iter()
                    .skip_while(|w| w.starts_with('-'))
                    .copied()
                    .collect();
                out.push(script(&cmd.join(" "), "git submodule foreach"));
            }
        }
        _ => {}
    }
    if words.len() < rest.len() {
        out.push(Launched::Unseen(
            "git's arguments are only known at run time".into(),
        ));
    }
    out
}

fn tar(args: &[WordInfo]) -> Vec<Launched> {
    let mut out = option_values(
        args,
        &[
            "--use-compress-program",
            "-I",
            "--to-command",
            "--info-script",
            "--new-volume-script",
            "-F",
            "--rsh-command",
        ],
        "tar",
    );
    for a in &args[1..] {
        let Some(w) = a.value() else { continue };
        let action = w
            .strip_prefix("--checkpoint-action=")
            .unwrap_or(if w.starts_with("exec=") { w } else { "" });
        if let Some(cmd) = action.strip_prefix("exec=") {
            out.push(script(cmd, "tar --checkpoint-action"));
        }
    }
    out
}

fn npm(args: &[WordInfo]) -> Vec<Launched> {
    let mut out = option_values(args, &["-c", "--call"], "npm exec -c");
    for i in 1..args.len() {
        if option_value(args, i, &["--script-shell"]).is_some() {
            out.push(Launched::Unseen(
                "`--script-shell` names the shell npm runs scripts with".into(),
            ));
        }
    }
    out
}

fn ssh(args: &[WordInfo]) -> Vec<Launched> {
    let mut out = Vec::new();
    for i in 1..args.len() {
        let Some(Some(opt)) = option_value(args, i, &["-o"]) else {
            continue;
        };
        let (key, value) = opt
            .split_once(['=', ' '])
            .map_or((opt, ""), |(k, v)| (k, v.trim_start_matches(['=', ' '])));
        match key.to_ascii_lowercase().as_str() {
            "proxycommand" | "localcommand" | "knownhostscommand" => {
                out.push(script(value, &format!("ssh -o {key}")))
            }
            "include" => out.push(Launched::Unseen(
                "`ssh -o Include` reads other configuration".into(),
            )),
            _ => {}
        }
    }
    out.extend(option_values(args, &["-F"], "ssh -F").into_iter().map(|_| {
        Launched::Unseen("`ssh -F` reads a configuration file, which can name commands".into())
    }));
    out
}

/// The sed script (from `-e`, `--expression` or the first operand), or
/// `None` when it comes from a file or is only known at run time.
fn sed_script(args: &[WordInfo]) -> Result<String, Launched> {
    let mut parts = Vec::new();
    let mut operands = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let Some(w) = args[i].value() else {
            return Err(Launched::Unseen(
                "sed's script is only known at run time".into(),
            ));
        };
        if let Some(v) = option_value(args, i, &["-e", "--expression"]) {
            parts.push(
                v.ok_or_else(|| Launched::Unseen("sed's script is only known at run time".into()))?
                    .to_string(),
            );
            i += if w == "-e" || w == "--expression" {
                2
            } else {
                1
            };
            continue;
        }
        if option_value(args, i, &["-f", "--file"]).is_some() {
            return Err(Launched::Unseen("sed reads its script from a file".into()));
        }
        if option_value(args, i, &["-l", "--line-length"]).is_some() {
            i += if w == "-l" || w == "--line-length" {
                2
            } else {
                1
            };
            continue;
        }
        if w == "--" {
            operands.extend(args[i + 1..].iter().filter_map(WordInfo::value));
            break;
        }
        if !w.starts_with('-') || w == "-" {
            operands.push(w);
        }
        i += 1;
    }
    if parts.is_empty() {
        match operands.first() {
            Some(s) => parts.push(s.to_string()),
            None => return Ok(String::new()),
        }
    }
    Ok(parts.join("\n"))
}

fn sed(args: &[WordInfo]) -> Vec<Launched> {
    match sed_script(args) {
        Ok(s) => sed_effects(&s),
        Err(l) => vec![l],
    }
}

/// What a sed script runs or writes: the `e` command, the `e` and `w`
/// flags of `s`, the `w`/`W` commands.
fn sed_effects(text: &str) -> Vec<Launched> {
    let b: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let rest_of_line = |i: &mut usize| -> String {
        let start = *i;
        while *i < b.len() && b[*i] != '\n' {
            *i += 1;
        }
        b[start..*i].iter().collect::<String>().trim().to_string()
    };
    // Skips a delimited part (`/re/`, the parts of `s`), honouring `\`.
    let skip_delimited = |i: &mut usize, delim: char| {
        while *i < b.len() && b[*i] != delim {
            if b[*i] == '\\' {
                *i += 1;
            }
            *i += 1;
        }
        *i += 1;
    };
    while i < b.len() {
        let c = b[i];
        match c {
            ' ' | '\t' | '\n' | ';' | '{' | '}' | '!' | ',' | '$' | '~' | '+' => i += 1,
            '0'..='9' => i += 1,
            '/' => {
                i += 1;
                skip_delimited(&mut i, '/');
            }
            '\\' => {
                let delim = b.get(i + 1).copied().unwrap_or('/');
                i += 2;
                skip_delimited(&mut i, delim);
            }
            'e' => {
                i += 1;
                let cmd = rest_of_line(&mut i);
                out.push(if cmd.is_empty() {
                    Launched::Unseen("sed's `e` runs the pattern space as a command".into())
                } else {
                    script(&cmd, "sed e")
                });
            }
            'w' | 'W' => {
                i += 1;
                rest_of_line(&mut i);
                out.push(Launched::Writes);
            }
            'a' | 'i' | 'c' | 'r' | 'R' | ':' | 'b' | 't' | 'T' => {
                i += 1;
                rest_of_line_or_semicolon(&b, &mut i, c);
            }
            's' | 'y' => {
                let delim = b.get(i + 1).copied().unwrap_or('/');
                i += 2;
                skip_delimited(&mut i, delim);
                skip_delimited(&mut i, delim);
                if c == 's' {
                    while i < b.len() && !matches!(b[i], ';' | '\n' | '}') {
                        match b[i] {
                            'e' => out.push(Launched::Unseen(
                                "sed's `s///e` runs the result as a command".into(),
                            )),
                            'w' => {
                                out.push(Launched::Writes);
                                rest_of_line(&mut i);
                                break;
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// Skips the argument of a sed command: text commands (`a`, `i`, `c`) and
/// file commands (`r`, `R`) take the rest of the line, labels end at `;`.
fn rest_of_line_or_semicolon(b: &[char], i: &mut usize, command: char) {
    let ends_at_semicolon = matches!(command, ':' | 'b' | 't' | 'T');
    while *i < b.len() && b[*i] != '\n' && !(ends_at_semicolon && b[*i] == ';') {
        *i += 1;
    }
}

/// The awk program (first operand), or `Err` when it comes from a file.
fn awk(args: &[WordInfo]) -> Vec<Launched> {
    let mut i = 1;
    let mut program = None;
    while i < args.len() {
        let Some(w) = args[i].value() else {
            return vec![Launched::Unseen(
                "awk's program is only known at run time".into(),
            )];
        };
        if option_value(
            args,
            i,
            &[
                "-f",
                "--file",
                "-i",
                "--include",
                "-l",
                "--load",
                "-E",
                "--exec",
            ],
        )
        .is_some()
        {
            return vec![Launched::Unseen("awk reads its program from a file".into())];
        }
        if let Some(v) = option_value(args, i, &["-e", "--source"]) {
            program = v.map(str::to_string);
            break;
        }
        if option_value(args, i, &["-F", "-v", "--field-separator", "--assign"]).is_some() {
            i += if matches!(w, "-F" | "-v" | "--field-separator" | "--assign") {
                2
            } else {
                1
            };
            continue;
        }
        if w == "--" {
            program = args
                .get(i + 1)
                .and_then(WordInfo::value)
                .map(str::to_string);
            break;
        }
        if !w.starts_with('-') {
            program = Some(w.to_string());
            break;
        }
        i += 1;
    }
    program.map(|p| awk_effects(&p)).unwrap_or_default()
}

/// What an awk program runs: `system("cmd")`, `"cmd" | getline`,
/// `print | "cmd"` with literal commands; anything else that runs a
/// command is unseen. `print > "file"` writes.
fn awk_effects(program: &str) -> Vec<Launched> {
    let mut out = Vec::new();
    let literal_after = |s: &str| -> Option<String> {
        let s = s.trim_start();
        let body = s.strip_prefix('"')?;
        let mut text = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(text),
                '\\' => match chars.next()? {
                    'n' => text.push('\n'),
                    't' => text.push('\t'),
                    other => text.push(other),
                },
                c => text.push(c),
            }
        }
        None
    };
    for (at, _) in program.match_indices("system") {
        let after = program[at + "system".len()..].trim_start();
        match after.strip_prefix('(').and_then(literal_after) {
            Some(cmd) => out.push(script(&cmd, "awk system()")),
            None => out.push(Launched::Unseen(
                "awk's system() runs a command built at run time".into(),
            )),
        }
    }
    let bytes = program.as_bytes();
    for (at, _) in program.match_indices('|') {
        let doubled = bytes.get(at + 1) == Some(&b'|') || (at > 0 && bytes[at - 1] == b'|');
        if doubled {
            continue;
        }
        let after = &program[at + 1..];
        let before = program[..at].trim_end();
        if after.trim_start().starts_with("getline") {
            // `"cmd" | getline`: the literal just before.
            match before
                .strip_suffix('"')
                .and_then(|b| b.rfind('"').map(|q| &b[q + 1..]))
            {
                Some(cmd) => out.push(script(cmd, "awk | getline")),
                None => out.push(Launched::Unseen(
                    "awk reads from a command built at run time".into(),
                )),
            }
        } else {
            match literal_after(after.trim_start_matches('&')) {
                Some(cmd) => out.push(script(&cmd, "awk print |")),
                None => out.push(Launched::Unseen(
                    "awk pipes into a command built at run time".into(),
                )),
            }
        }
    }
    let writes = ["print", "printf"].iter().any(|p| {
        program.match_indices(p).any(|(at, _)| {
            let stmt = &program[at..];
            let end = stmt.find([';', '}', '\n']).unwrap_or(stmt.len());
            stmt[..end].contains('>')
        })
    });
    if writes {
        out.push(Launched::Writes);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &[&str]) -> Vec<Launched> {
        let args: Vec<WordInfo> = line.iter().map(|w| WordInfo::literal(*w)).collect();
        launched(line[0], &args)
    }

    fn scripts(line: &[&str]) -> Vec<String> {
        run(line)
            .into_iter()
            .filter_map(|l| match l {
                Launched::Script { text, .. } => Some(text),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn git_commands_in_options_and_configuration() {
        assert_eq!(
            scripts(&["git", "-c", "core.pager=less -R", "log"]),
            ["less -R"]
        );
        assert_eq!(
            scripts(&["git", "-c", "alias.x=!rm -rf ~", "x"]),
            ["rm -rf ~ "]
        );
        assert_eq!(
            scripts(&["git", "-c", "diff.foo.textconv=cat", "diff"]),
            ["cat"]
        );
        assert_eq!(
            scripts(&["git", "fetch", "--upload-pack=touch x", "o"]),
            ["touch x"]
        );
        assert_eq!(
            scripts(&["git", "clone", "-u", "touch x", "o"]),
            ["touch x"]
        );
        assert_eq!(
            scripts(&["git", "clone", "ext::sh -c touch% x", "d"]),
            ["sh -c touch x"]
        );
        assert_eq!(
            scripts(&["git", "bisect", "run", "make", "test"]),
            ["make test"]
        );
        assert_eq!(scripts(&["git", "difftool", "-x", "vimdiff"]), ["vimdiff"]);
        assert_eq!(
            scripts(&["git", "rebase", "--exec", "make", "main"]),
            ["make"]
        );
        assert!(scripts(&["git", "push", "-u", "origin", "main"]).is_empty());
        assert!(run(&["git", "-c", "user.name=x", "commit"]).is_empty());
        assert!(matches!(
            run(&["git", "-C", "../other", "log"])[..],
            [Launched::Unseen(_)]
        ));
    }

    #[test]
    fn sed_scripts() {
        assert_eq!(scripts(&["sed", "-n", "e touch x", "f"]), ["touch x"]);
        assert!(matches!(
            run(&["sed", "s/a/b/e", "f"])[..],
            [Launched::Unseen(_)]
        ));
        assert_eq!(run(&["sed", "-n", "w out", "f"]), [Launched::Writes]);
        assert_eq!(run(&["sed", "s/a/b/w out", "f"]), [Launched::Writes]);
        assert!(run(&["sed", "s/hello/world/g", "f"]).is_empty());
        assert!(run(&["sed", "-e", "/^#/d", "-e", "s/we/us/", "f"]).is_empty());
        assert!(run(&["sed", "-i", "1i\\# header", "f"]).is_empty());
        assert!(matches!(
            run(&["sed", "-f", "s.sed", "f"])[..],
            [Launched::Unseen(_)]
        ));
    }

    #[test]
    fn awk_programs() {
        assert_eq!(scripts(&["awk", "BEGIN{system(\"touch x\")}"]), ["touch x"]);
        assert_eq!(scripts(&["awk", "{print | \"sort -u\"}"]), ["sort -u"]);
        assert_eq!(scripts(&["awk", "BEGIN{\"date\" | getline d}"]), ["date"]);
        assert!(matches!(
            run(&["awk", "{system($0)}"])[..],
            [Launched::Unseen(_)]
        ));
        assert_eq!(run(&["awk", "{print > \"out\"}"]), [Launched::Writes]);
        assert!(run(&["awk", "-F:", "$3 > 1000 || $1 == \"x\" {print $1}", "f"]).is_empty());
    }

    #[test]
    fn others() {
        assert_eq!(
            scripts(&[
                "tar",
                "-cf",
                "a.tar",
                "--checkpoint-action=exec=touch x",
                "."
            ]),
            ["touch x"]
        );
        assert_eq!(
            scripts(&["tar", "-I", "zstd -19", "-cf", "a.tar", "."]),
            ["zstd -19"]
        );
        assert_eq!(scripts(&["npx", "-c", "touch x"]), ["touch x"]);
        assert_eq!(
            scripts(&["rsync", "-e", "ssh -p 2222", "a", "h:b"]),
            ["ssh -p 2222"]
        );
        assert_eq!(
            scripts(&["ssh", "-o", "ProxyCommand=nc %h %p", "h"]),
            ["nc %h %p"]
        );
    }
}
