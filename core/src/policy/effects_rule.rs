//! Rule `filesystem.effects_outside`: a command whose predicted effects
//! ([`Classification::effects`]) reach outside the workspace is denied
//! (asked about, warned about) before it runs.
//!
//! The workspace is where the command runs, which a policy check does not
//! know: a relative path that does not climb out with `..` is inside; an
//! absolute path, a `~` path and a `..` escape are outside, unless under
//! an entry of `filesystem.writable` or `/tmp` (each run has a private
//! one). An uncertain effect counts by its root ([`PathEffect::root`]);
//! one whose root is not known (`$DIR/x`) is not judged.

use super::decision::{DecisionReason, Effect};
use super::settings::{EffectsOutside, FilesystemPolicy};
use crate::classify::{Classification, PathEffect, PathEffectKind};
use std::path::{Component, Path, PathBuf};

/// The rule's name in reasons.
pub const RULE: &str = "filesystem.effects_outside";

/// Adds a reason for each effect of `c` outside the workspace.
pub fn check(fs: &FilesystemPolicy, c: &Classification, out: &mut Vec<DecisionReason>) {
    let effect = match fs.effects_outside {
        None | Some(EffectsOutside::Allow) => return,
        Some(EffectsOutside::Warn) => Effect::Warn,
        Some(EffectsOutside::Ask) => Effect::Ask,
        Some(EffectsOutside::Deny) => Effect::Deny,
    };
    if c.effects.is_empty() {
        return;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let writable: Vec<PathBuf> = fs
        .writable
        .iter()
        .filter(|w| w.starts_with(['/', '~']))
        .map(|w| {
            normal(&FilesystemPolicy::resolve(
                w,
                home.as_deref(),
                Path::new("/"),
            ))
        })
        .collect();
    for e in &c.effects {
        if let Some(message) = outside(e, home.as_deref(), &writable) {
            out.push(DecisionReason {
                rule: RULE.to_string(),
                effect,
                message,
            });
        }
    }
}

/// Why `e` is outside the workspace, or `None` when it is inside (or its
/// place is not known).
fn outside(e: &PathEffect, home: Option<&Path>, writable: &[PathBuf]) -> Option<String> {
    let other_home = e.path.starts_with('~') && e.path != "~" && !e.path.starts_with("~/");
    let root = match e.root() {
        Some(r) => r,
        // `~bob/x`: another user's home.
        None if other_home => e.path.split('/').next().unwrap_or("~"),
        None => return None,
    };
    if !other_home && !root.starts_with(['/', '~']) {
        // Relative: inside unless `..` climbs out of the working directory.
        let mut depth = 0usize;
        let mut escapes = false;
        for comp in Path::new(root).components() {
            match comp {
                Component::ParentDir if depth == 0 => escapes = true,
                Component::ParentDir => depth -= 1,
                Component::Normal(_) => depth += 1,
                _ => {}
            }
        }
        if !escapes {
            return None;
        }
    } else if !other_home {
        let abs = normal(&FilesystemPolicy::resolve(root, home, Path::new("/")));
        if abs.starts_with("/tmp") || writable.iter().any(|w| abs.starts_with(w)) {
            return None;
        }
    }
    let verb = match e.effect {
        PathEffectKind::Write => "write",
        PathEffectKind::Create => "create",
        PathEffectKind::Delete => "delete",
        PathEffectKind::Mode => "change the mode of",
    };
    Some(if e.certain {
        format!(
            "the command would {verb} `{}`, outside the workspace",
            e.path
        )
    } else {
        format!(
            "the command may {verb} paths under `{root}` (`{}`, decided at run time), outside the workspace",
            e.path
        )
    })
}

/// `p` with `.` and `..` resolved lexically.
fn normal(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for comp in p.components() {
        match comp {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(c) => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Policy, Verdict};

    fn policy(extra: &str) -> Policy {
        Policy::from_yaml_str(&format!(
            "enforcement: enforce\nfilesystem:\n  effects_outside: deny\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn outside_effects_are_denied_and_inside_ones_allowed() {
        let p = policy("");
        for cmd in [
            "echo x > /etc/x",
            "rm -rf ~/x",
            "cp a ../../b",
            "rm -rf $HOME",
            "mv a ~bob/",
        ] {
            let d = p.check(cmd);
            assert_eq!(d.verdict, Verdict::Deny, "{cmd}: {d:?}");
            assert!(d.reasons.iter().any(|r| r.rule == RULE), "{cmd}: {d:?}");
        }
        let d = p.check("echo x > /data/x");
        assert_eq!(d.matched_rule.as_deref(), Some(RULE));
        assert!(d.reasons[0].message.contains("write `/data/x`"), "{d:?}");
        for cmd in [
            "echo x > out.txt",
            "rm -rf build",
            "touch /tmp/x",
            "cp a sub/../b",
            "ls /etc",
        ] {
            let d = p.check(cmd);
            assert!(!d.reasons.iter().any(|r| r.rule == RULE), "{cmd}: {d:?}");
        }
    }

    #[test]
    fn uncertain_effects_count_by_their_root() {
        let p = policy("");
        let d = p.check("find /etc -name '*.bak' -delete");
        assert_eq!(d.verdict, Verdict::Deny, "{d:?}");
        let m = &d.reasons.iter().find(|r| r.rule == RULE).unwrap().message;
        assert!(m.contains("may delete paths under `/etc`"), "{m}");
        assert_eq!(p.check("rm -f /var/log/*.gz").verdict, Verdict::Deny);
        // Nothing is known of where `$DIR` is.
        assert!(!p
            .check("rm -rf \"$DIR\"")
            .reasons
            .iter()
            .any(|r| r.rule == RULE));
    }

    #[test]
    fn writable_entries_are_inside() {
        let p = policy("  writable: [\"~/.cache\", /srv/data]\n");
        assert!(!p
            .check("rm -rf ~/.cache/pip")
            .reasons
            .iter()
            .any(|r| r.rule == RULE));
        assert!(!p
            .check("touch /srv/data/x")
            .reasons
            .iter()
            .any(|r| r.rule == RULE));
        assert_eq!(p.check("rm -rf ~/.cachex").verdict, Verdict::Deny);
        assert_eq!(p.check("touch /srv/data/../x").verdict, Verdict::Deny);
    }

    #[test]
    fn the_setting_chooses_the_effect_and_enforcement_still_applies() {
        for (value, verdict) in [
            ("ask", Verdict::Ask),
            ("warn", Verdict::Warn),
            ("allow", Verdict::Allow),
        ] {
            let p = Policy::from_yaml_str(&format!(
                "enforcement: enforce\nfilesystem:\n  effects_outside: {value}\n"
            ))
            .unwrap();
            assert_eq!(p.check("touch /opt/x").verdict, verdict, "{value}");
        }
        let p = Policy::from_yaml_str("enforcement: warn\nfilesystem:\n  effects_outside: deny\n")
            .unwrap();
        assert_eq!(p.check("touch /opt/x").verdict, Verdict::Warn);
        // Not set: today's behaviour.
        let p = Policy::from_yaml_str("enforcement: enforce\n").unwrap();
        assert!(!p
            .check("touch /opt/x")
            .reasons
            .iter()
            .any(|r| r.rule == RULE));
    }
}
