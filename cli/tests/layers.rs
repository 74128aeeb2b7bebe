//! Policy layers from the command line: `--policy-layer NAME=FILE`,
//! discovery of the standard locations (`--layers auto`,
//! `SANDBOXCORE_LAYERS=auto`), `policy show` provenance, `policy validate`
//! per layer and `policy replay` under a stack. Runs the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const USER: &str = "enforcement: enforce
blocked_patterns: [\"rm -rf\"]
network: {allow: [pypi.org]}
";

/// A workspace file that tries to open everything and adds one denial.
const WORKSPACE: &str = "enforcement: disabled
allowed_commands: [rm, git, ls]
blocked_patterns: [\"git push\"]
network: {mode: full}
filesystem: {writable: [/, build]}
";

struct Dirs {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    ws: PathBuf,
}

impl Dirs {
    fn user_file(&self) -> PathBuf {
        self.home.join(".config/sandboxcore/policy.yml")
    }
    fn ws_file(&self) -> PathBuf {
        self.ws.join(".sandboxcore/policy.yml")
    }
}

fn dirs() -> Dirs {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let ws = tmp.path().join("ws");
    let d = Dirs {
        home,
        ws,
        _tmp: tmp,
    };
    std::fs::create_dir_all(d.user_file().parent().unwrap()).unwrap();
    std::fs::create_dir_all(d.ws_file().parent().unwrap()).unwrap();
    std::fs::write(d.user_file(), USER).unwrap();
    std::fs::write(d.ws_file(), WORKSPACE).unwrap();
    d
}

/// The binary, run in `cwd` with HOME set and no policy variable
/// inherited from the caller.
fn bin(d: &Dirs) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sandboxcore"));
    c.current_dir(&d.ws).env("HOME", &d.home);
    for (k, _) in std::env::vars() {
        if k.starts_with("SANDBOXCORE_") || k.starts_with("CODEFRAME_") || k == "XDG_CONFIG_HOME" {
            c.env_remove(k);
        }
    }
    c
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn layer_arg(name: &str, p: &Path) -> String {
    format!("{name}={}", p.display())
}

#[test]
fn explicit_layers_deny_from_any_layer_and_name_it() {
    let d = dirs();
    let check = |ws: &Path, cmd: &str| {
        let out = bin(&d)
            .args(["check", "--policy-layer"])
            .arg(layer_arg("user", &d.user_file()))
            .arg("--policy-layer")
            .arg(layer_arg("workspace", ws))
            .args(["--", cmd])
            .output()
            .unwrap();
        (out.status.code(), json(&out), out)
    };
    // The workspace allows `rm` and disables enforcement: the user's
    // blocked pattern still denies.
    let (code, v, out) = check(&d.ws_file(), "rm -rf build");
    assert_eq!(code, Some(4));
    assert_eq!(v["matched_rule"], "user: blocked_patterns[0]: rm -rf");
    // Ignored writable paths are reported.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("policy layer `workspace`") && err.contains("`/` ignored"),
        "{err}"
    );
    // The workspace's own rules bind only what it decides, and it decides
    // under `disabled`: its `git push` denial does nothing...
    let (code, v, _) = check(&d.ws_file(), "git push origin main");
    assert_eq!((code, v["verdict"].as_str()), (Some(0), Some("allow")));
    // ...but a workspace that enforces denies.
    let strict = d.ws.join("strict.yml");
    std::fs::write(
        &strict,
        "enforcement: enforce\nblocked_patterns: [\"git push\"]\n",
    )
    .unwrap();
    let (code, v, _) = check(&strict, "git push origin main");
    assert_eq!(code, Some(4));
    assert_eq!(
        v["matched_rule"],
        "workspace: blocked_patterns[0]: git push"
    );
    assert_eq!(
        v["reasons"][0]["rule"],
        "workspace: blocked_patterns[0]: git push"
    );
    // A layer option needs NAME=FILE, and does not mix with --policy.
    let out = bin(&d)
        .args(["check", "--policy-layer", "nameless", "--", "ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin(&d)
        .args(["check", "--policy", "x.yml", "--policy-layer"])
        .arg(layer_arg("user", &d.user_file()))
        .args(["--", "ls"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn policy_show_names_the_layer_of_every_rule() {
    let d = dirs();
    let out = policy_show(&d);
    let v = json(&out);
    let names = layer_names(&v);
    assert!(names.ends_with(&["user", "workspace"]), "{names:?}");
    let user = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "user")
        .unwrap();
    assert_eq!(user["file"], d.user_file().display().to_string());
    assert_eq!(user["settings"]["enforcement"], "enforce");
    let rules = v["rules"].as_array().unwrap();
    let has = |layer: &str, rule: &str| {
        rules
            .iter()
            .any(|r| r["layer"] == layer && r["rule"] == rule && r.get("ignored").is_none())
    };
    assert!(has("user", "blocked_patterns[0]: rm -rf"), "{rules:?}");
    assert!(has("user", "network.allow[0]: pypi.org"), "{rules:?}");
    assert!(
        has("workspace", "blocked_patterns[0]: git push"),
        "{rules:?}"
    );
    assert!(
        has("workspace", "filesystem.writable[0]: build"),
        "{rules:?}"
    );
    assert!(rules.iter().any(|r| r["layer"] == "workspace"
        && r["rule"] == "filesystem.writable: /"
        && r["ignored"] == true));
    // The summary: each setting at its strictest.
    assert_eq!(v["enforcement"], "enforce");
    assert_eq!(v["network"]["mode"], "allowlist");
    assert_eq!(v["filesystem"]["writable"], serde_json::json!(["build"]));
    assert_eq!(
        v["blocked_patterns"],
        serde_json::json!(["rm -rf", "git push"])
    );
    assert_eq!(v["warnings"].as_array().unwrap().len(), 1);

    // A single file shows as before: no layers, rules or warnings keys.
    let out = bin(&d)
        .args(["policy", "show", "--policy"])
        .arg(d.user_file())
        .output()
        .unwrap();
    let v = json(&out);
    assert_eq!(v["file"], d.user_file().display().to_string());
    assert!(v.get("layers").is_none() && v.get("rules").is_none());
}

#[test]
fn discovery_is_opt_in_and_follows_xdg() {
    let d = dirs();
    let verdict = |cmd: &mut Command| {
        let out = cmd.args(["--", "rm -rf build"]).output().unwrap();
        (out.status.code(), json(&out)["matched_rule"].clone())
    };
    // Without discovery the files are not read: the default policy warns.
    let (code, rule) = verdict(bin(&d).arg("check"));
    assert_eq!(code, Some(0));
    assert!(!rule.to_string().contains("user:"), "{rule}");
    // --layers auto and SANDBOXCORE_LAYERS=auto read them.
    let (code, rule) = verdict(bin(&d).args(["check", "--layers", "auto"]));
    assert_eq!(
        (code, rule.as_str()),
        (Some(4), Some("user: blocked_patterns[0]: rm -rf"))
    );
    let (code, _) = verdict(bin(&d).env("SANDBOXCORE_LAYERS", "auto").arg("check"));
    assert_eq!(code, Some(4));
    // --layers off beats the variable.
    let (code, _) = verdict(
        bin(&d)
            .env("SANDBOXCORE_LAYERS", "auto")
            .args(["check", "--layers", "off"]),
    );
    assert_eq!(code, Some(0));
    // XDG_CONFIG_HOME moves the user file: an empty config dir there
    // means no user layer, only the workspace's (decided under disabled).
    let xdg = d.home.join("xdg");
    std::fs::create_dir_all(&xdg).unwrap();
    let (code, _) = verdict(
        bin(&d)
            .env("XDG_CONFIG_HOME", &xdg)
            .args(["check", "--layers", "auto"]),
    );
    assert_eq!(code, Some(0));
    std::fs::create_dir_all(xdg.join("sandboxcore")).unwrap();
    std::fs::write(
        xdg.join("sandboxcore/policy.yml"),
        "enforcement: enforce\ndenied_commands: [rm]\n",
    )
    .unwrap();
    let (code, rule) = verdict(
        bin(&d)
            .env("XDG_CONFIG_HOME", &xdg)
            .args(["check", "--layers", "auto"]),
    );
    assert_eq!(
        (code, rule.as_str()),
        (Some(4), Some("user: denied_commands[0]: rm"))
    );
    // Both a single file and discovery from the environment: an error.
    let out = bin(&d)
        .env("SANDBOXCORE_LAYERS", "auto")
        .env("SANDBOXCORE_POLICY", d.user_file())
        .args(["check", "--", "ls"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SANDBOXCORE_LAYERS"));
}

#[test]
fn validate_checks_each_layer() {
    let d = dirs();
    let out = bin(&d)
        .args(["policy", "validate", "--layers", "auto"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("user: {}: valid", d.user_file().display())),
        "{stdout}"
    );
    assert!(stdout.contains("workspace: "), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("`/` ignored"));

    std::fs::write(d.ws_file(), "enforcement: warn\nblocked_paterns: [x]\n").unwrap();
    let out = bin(&d)
        .args(["policy", "validate", "--layers", "auto"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The good layer is still reported, the bad one with its place.
    assert!(stdout.contains("user: "), "{stdout}");
    assert!(
        stderr.contains(&format!("workspace: {}:2:1: ", d.ws_file().display()))
            && stderr.contains("did you mean `blocked_patterns`?"),
        "{stderr}"
    );
}

#[test]
fn replay_decides_under_the_stack() {
    let d = dirs();
    let log = d.ws.join("audit.jsonl");
    std::fs::write(
        &log,
        concat!(
            r#"{"event":"decision","command":"rm -rf build","verdict":"warn"}"#,
            "\n",
            r#"{"event":"execution","command":"rm -rf build","verdict":"warn","status":"ok"}"#,
            "\n",
            r#"{"event":"decision","command":"ls","verdict":"allow"}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = bin(&d)
        .args(["policy", "replay", "--layers", "auto", "--format", "json"])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["decisions"], 2);
    assert_eq!(v["changed"][0]["rule"], "user: blocked_patterns[0]: rm -rf");
    assert_eq!(v["transitions"]["warn -> deny"], 1);
}

/// A workspace file alone (no user file; a command run in the workspace
/// may have written it) cannot widen the defaults: the mode's defaults
/// stand above it as the layer `defaults`, its absolute writable path is
/// ignored and its `network: {mode: full}` opens nothing.
#[test]
fn a_workspace_file_alone_cannot_widen_the_defaults() {
    let d = dirs();
    std::fs::remove_file(d.user_file()).unwrap();
    let out = policy_show(&d);
    let v = json(&out);
    let names = layer_names(&v);
    // An administrator's /etc/sandboxcore/policy.yml, where there is one,
    // is the most trusted layer instead.
    let most_trusted = if Path::new("/etc/sandboxcore/policy.yml").exists() {
        "system"
    } else {
        "defaults"
    };
    assert_eq!(names, [most_trusted, "workspace"]);
    // No mode: each run gets the network it asks for (none by default);
    // the workspace's `full` grants nothing.
    assert_eq!(v["network"]["mode"], serde_json::Value::Null, "{v}");
    assert_eq!(v["filesystem"]["writable"], serde_json::json!(["build"]));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("`/` ignored"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The names of the layers `policy show` lists, most trusted first.
fn layer_names(v: &serde_json::Value) -> Vec<&str> {
    v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect()
}

/// `policy show --layers auto` in `d`'s workspace, which must succeed.
fn policy_show(d: &Dirs) -> Output {
    let out = bin(d)
        .args(["policy", "show", "--layers", "auto"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
