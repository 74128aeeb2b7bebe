//! The words after `--` of `run` and `check`: one word is a command line
//! (`sandboxcore run -- 'pytest -q && ruff .'`, parsed as a shell would);
//! several are an argv, run and judged exactly as given, with no shell
//! (`sandboxcore run -- sh -c 'ls -l'` runs `sh` with the two arguments
//! `-c` and `ls -l`, as `env`, `timeout` or `bwrap` would). Joining them
//! with spaces and parsing the result again would lose their quoting.

use sandboxcore::Command;

/// The command the words give (not empty: the caller checks).
pub fn command(words: &[String]) -> Command {
    match words {
        [line] => Command::Line(line.clone()),
        argv => Command::Argv(argv.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_is_a_line_and_several_are_an_argv() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            command(&words(&["ls -l | wc -l"])),
            Command::Line("ls -l | wc -l".into())
        );
        let argv = command(&words(&["sh", "-c", "ls -l /proc/self/fd"]));
        assert_eq!(
            argv,
            Command::Argv(words(&["sh", "-c", "ls -l /proc/self/fd"]))
        );
        assert_eq!(argv.text(), "sh -c 'ls -l /proc/self/fd'");
        // An operator among several words is a word, not an operator.
        let policy = sandboxcore::Policy::for_mode(sandboxcore::policy::DeploymentMode::default());
        let d = policy.check_command(&command(&words(&["echo", "a", "&&", "rm", "-rf", "/"])));
        assert_eq!(
            d.plan,
            Some(sandboxcore::Plan::Direct(words(&[
                "echo", "a", "&&", "rm", "-rf", "/"
            ])))
        );
    }
}
