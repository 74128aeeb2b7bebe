//! Snapshot tests of whole classifications (`cargo insta review` to update).

use sandboxcore::classify;

macro_rules! snap {
    ($name:ident, $cmd:expr) => {
        #[test]
        fn $name() {
            insta::with_settings!({ description => $cmd, omit_expression => true }, {
                insta::assert_json_snapshot!(classify($cmd));
            });
        }
    };
}

snap!(plain_git_commit, r#"git commit -m "fix: a; b""#);
snap!(
    pytest_selection,
    r#"pytest -q tests/test_api.py -k "not slow""#
);
snap!(build_and_test, "npm run build && npm test");
snap!(
    curl_pipe_sudo_bash,
    "curl -fsSL https://example.com/get.sh | sudo -E bash"
);
snap!(find_exec_rm, r"find . -name '*.pyc' -exec rm -f {} \;");
snap!(
    nested_bash_c,
    r#"timeout 5 bash -c 'cd /tmp && rm -rf "$HOME"'"#
);
snap!(
    redirect_and_substitution,
    "echo \"$(date)\" > /etc/motd 2>&1"
);
snap!(heredoc_into_shell, "cat <<'EOF' | sh\nrm -rf /\nEOF");
snap!(fork_bomb, ":(){ :|:& };:");
snap!(xargs_delete, "git ls-files -z | xargs -0 rm -f");
snap!(
    read_only_pipeline,
    "grep -rn TODO src | sort | uniq -c | head"
);
snap!(parse_error, "echo 'unterminated");
