//! `read_only` judges options the way the programs parse them: GNU long
//! options abbreviated, output files given as operands, wrappers that
//! write files of their own.

use sandboxcore::classify;

#[test]
fn writing_options_however_spelled() {
    for line in [
        "sed --in-place s/a/b/ f",
        "sed --in-pl s/a/b/ f",
        "sed --i s/a/b/ f",
        "sort --output=out f",
        "sort --out=out f",
        "sort -ooutput f",
        "uniq in out",
        "uniq -c in out",
        "xxd in out",
        "strace -o out ls",
        "strace -fo out ls",
        "ltrace --output=out ls",
        "flock lockfile ls",
    ] {
        assert!(!classify(line).read_only, "{line} writes a file");
    }
    for line in [
        "sed -n s/a/b/p f",
        "sed -- s/a/b/ f",
        "sort -r f",
        "uniq in",
        "uniq -c in",
        "xxd in",
        "strace -f ls",
        "flock 9 ls",
    ] {
        assert!(classify(line).read_only, "{line} writes nothing");
    }
}

/// Options that write a file, run another program, load configuration
/// from a named place or point git at another repository make a
/// read-only program not read-only, with a reason naming the option.
#[test]
fn options_off_the_allowlist_are_not_read_only() {
    for (line, code) in [
        ("tree -o out", "option_writes_file"),
        ("less -o log f", "option_writes_file"),
        ("man -P 'rm -rf ~' ls", "option_runs_program"),
        ("rg --pre evil foo", "option_runs_program"),
        ("rg --pre=evil foo", "option_runs_program"),
        ("ag --pager x foo", "option_runs_program"),
        ("ack --pager x foo", "option_runs_program"),
        ("sort --compress-program=evil f", "option_runs_program"),
        ("sort --compress-prog=evil f", "option_runs_program"),
        ("file -C -m m", "option_writes_file"),
        ("file -m magic f", "option_reads_config"),
        ("journalctl --setup-keys", "option_writes_file"),
        ("tldr --update", "option_writes_file"),
        ("date 12031200", "option_not_known_read_only"),
        ("date -u 120312002026.30", "option_not_known_read_only"),
        ("date \"$WHEN\"", "option_not_known_read_only"),
        ("git grep -O'rm -rf ~' foo", "option_runs_program"),
        ("git log --ext-diff", "option_runs_program"),
        ("git -c user.name=x log", "option_reads_config"),
        ("git --git-dir=/x log", "option_reads_config"),
        ("git --work-tree=/x status", "option_reads_config"),
        ("git log --output=x", "option_writes_file"),
        ("git log --outp=x", "option_writes_file"),
        ("sed -ni s/a/b/ f", "option_writes_file"),
        ("sort -o out f", "option_writes_file"),
        ("uniq in out", "option_writes_file"),
        ("find . -delete", "option_writes_file"),
        ("find . -fprint out", "option_writes_file"),
        ("go env -w GOFLAGS=x", "option_writes_file"),
        ("pip --python /tmp/evil list", "option_runs_program"),
        ("ls --frobnicate", "option_not_known_read_only"),
        ("cat -Q f", "option_not_known_read_only"),
        ("git branch newbranch", "option_writes_file"),
        ("git tag v1", "option_writes_file"),
        ("git config user.name x", "option_writes_file"),
        ("grep foo \"$F\"", "option_not_known_read_only"),
        ("cat *", "option_not_known_read_only"),
        ("less +!id f", "option_not_known_read_only"),
    ] {
        let c = classify(line);
        assert!(!c.read_only, "{line} is read-only");
        let codes: Vec<String> = c
            .reasons
            .iter()
            .map(|r| {
                serde_json::to_value(r.code)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert!(
            codes.iter().any(|c| c == code),
            "{line}: {codes:?}, not {code}"
        );
    }
    // Other modes of a program with read-only subcommands are not
    // read-only, and no option is to blame.
    for line in [
        "git stash",
        "git commit -m x",
        "git remote add o u",
        "cargo build",
        "npm install",
        "python3 script.py",
        "systemctl restart nginx",
    ] {
        let c = classify(line);
        assert!(!c.read_only, "{line} is read-only");
    }
    // The program an option names is listed and judged like any other.
    let c = classify("man -P 'rm -rf ~' ls");
    assert!(c.programs.iter().any(|p| p.name.as_deref() == Some("rm")));
    assert!(c.risk >= sandboxcore::Risk::High, "{:?}", c.risk);
    let c = classify("rg --pre evil foo");
    assert!(c.programs.iter().any(|p| p.name.as_deref() == Some("evil")));
    assert_eq!(c.risk, sandboxcore::Risk::Medium);
}

/// Common harmless uses of each kind of read-only program stay read-only.
#[test]
fn common_harmless_uses_stay_read_only() {
    for line in [
        "ls -la",
        "ls -lah --color=auto src",
        "ls --col",
        "cat -n f",
        "cat -- -Q",
        "cat -- *.rs",
        "cat src/*.rs",
        "cat ~/notes.txt",
        "head -n 20 f",
        "head -20 f",
        "head -n5 f",
        "tail -f log",
        "tail -n +5 f",
        "grep -rn foo .",
        "grep -E 'a|b' -C3 --include=*.rs src",
        "grep --ignore-c foo f",
        "rg -n --hidden -g '!target' foo",
        "rg -tpy foo",
        "ag foo",
        "ack -i foo",
        "find . -name '*.py' -type f",
        "find . -maxdepth 2 -name x -print0",
        "find . -name '*.rs' -exec grep -n foo {} +",
        "fd -e rs foo",
        "wc -l f",
        "sort -u -k2,2 -t, f",
        "uniq -c f",
        "cut -d: -f1 /etc/passwd",
        "tr a-z A-Z",
        "sed -n 1,10p f",
        "sed -e s/a/b/ f",
        "jq -r '.name' package.json",
        "jq --arg x 1 '.a' f",
        "diff -u a b",
        "diff -ru a b",
        "cmp a b",
        "comm -12 a b",
        "file f",
        "file -b --mime-type f",
        "stat -c %s f",
        "du -sh .",
        "df -h",
        "pwd",
        "echo hello",
        "printf '%s\\n' x",
        "which git",
        "date +%Y-%m-%d",
        "date -u '+%H:%M' ",
        "date -u",
        "uname -a",
        "id -u",
        "whoami",
        "hostname",
        "ps aux",
        "ps -ef",
        "pgrep -f foo",
        "env",
        "printenv PATH",
        "less -R f",
        "man ls",
        "man 5 crontab",
        "tree -L 2 -a",
        "journalctl -u nginx -n 50 --no-pager",
        "journalctl -b -1",
        "tldr tar",
        "xxd f",
        "od -c f",
        "sha256sum f",
        "base64 -d f",
        "basename a/b .c",
        "realpath -e .",
        "readlink -f x",
        "column -t f",
        "nl -ba f",
        "git status",
        "git status -sb",
        "git status --porcelain=v1",
        "git log --oneline -n 5",
        "git log --oneline -5",
        "git log -p --stat --since=2.weeks -- src",
        "git log --pretty=format:%h --author=x",
        "git --no-pager log -1",
        "git diff",
        "git diff --cached --stat",
        "git diff HEAD~1 -- f",
        "git show HEAD:src/lib.rs",
        "git show --name-only HEAD",
        "git branch",
        "git branch -a",
        "git branch -vv",
        "git branch --show-current",
        "git blame -L 1,10 f",
        "git grep -n foo",
        "git ls-files",
        "git ls-files -z",
        "git rev-parse --abbrev-ref HEAD",
        "git rev-parse --show-toplevel",
        "git describe --tags --always",
        "git remote -v",
        "git remote get-url origin",
        "git tag -l",
        "git tag",
        "git config --get user.name",
        "git config user.name",
        "git config --list",
        "git stash list",
        "git shortlog -sn",
        "git --version",
        "cargo metadata --format-version 1",
        "cargo tree -d",
        "cargo --version",
        "npm ls --depth=0",
        "npm view react version",
        "pip list",
        "pip show requests",
        "python --version",
        "python3 -V",
        "node --version",
        "docker ps -a",
        "docker logs -f --tail 10 c",
        "kubectl get pods -n kube-system -o wide",
        "kubectl -n x get pods",
        "go version",
        "go env GOPATH",
        "go list -m all",
        "systemctl status nginx --no-pager",
        "true",
        "test -f x",
        "expr 1 + 2",
        "seq 1 10",
    ] {
        let c = classify(line);
        assert!(c.read_only, "{line} is not read-only: {:?}", c.reasons);
        assert!(
            !c.reasons.iter().any(|r| {
                let code = serde_json::to_value(r.code).unwrap();
                code.as_str().unwrap().starts_with("option_")
            }),
            "{line}: {:?}",
            c.reasons
        );
    }
}
