//! URL rules (`require_approval`): patterns matched against the URLs found
//! in the arguments of every program a command runs.

use crate::catalog::catalog;
use crate::net::url_pattern::scp_to_url;
use crate::net::UrlPattern;
use crate::Program;

/// The URLs in a program's arguments, lower-cased, with a `/` path added
/// when there is none. Downloaders (`curl`, `wget`) treat a bare host as
/// `http://host`, so their host-like arguments count as URLs too. Programs
/// that take scp-style remotes (catalog tag `remote`: `git`, `scp`,
/// `rsync`, `sftp`) add those arguments as written (`git@host:org/repo`,
/// also after `--option=`).
pub fn urls_in(program: &Program) -> Vec<String> {
    let has_tag = |tag| {
        program
            .name
            .as_deref()
            .is_some_and(|n| catalog().has_tag(n, tag))
    };
    let (downloader, remote) = (has_tag("downloader"), has_tag("remote"));
    let mut urls = Vec::new();
    for word in program.words.iter().skip(1) {
        let lower = word.to_ascii_lowercase();
        let mut found = false;
        let mut rest = lower.as_str();
        while let Some(i) = rest.find("://") {
            // After the last character that cannot be in a scheme (which
            // may take more than one byte: `é://`).
            let start = rest[..i]
                .char_indices()
                .rev()
                .find(|&(_, c)| !(c.is_ascii_alphanumeric() || "+.-".contains(c)))
                .map_or(0, |(j, c)| j + c.len_utf8());
            let end = rest[i + 3..]
                .find(|c: char| c.is_whitespace() || "\"'<>`".contains(c))
                .map_or(rest.len(), |j| i + 3 + j);
            if start < i {
                urls.push(with_path(&rest[start..end]));
                found = true;
            }
            rest = &rest[end.max(i + 3)..];
        }
        if !found && downloader && looks_like_host(&lower) {
            urls.push(with_path(&format!("http://{lower}")));
        }
        if !found && remote {
            let value = match lower.strip_prefix("--") {
                Some(opt) => opt.split_once('=').map_or("", |(_, v)| v),
                None if lower.starts_with('-') => "",
                None => &lower,
            };
            if scp_to_url(value).is_some() {
                urls.push(value.to_string());
            }
        }
    }
    urls
}

fn looks_like_host(word: &str) -> bool {
    !word.starts_with(['-', '/', '.', '@'])
        && word.contains('.')
        && !word.contains(char::is_whitespace)
        && word.split(['/', ':']).next().is_some_and(|h| {
            h.contains('.')
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-.".contains(c))
        })
}

fn with_path(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    if url[after_scheme..].contains('/') {
        url.to_string()
    } else {
        format!("{url}/")
    }
}

/// The first URL of `program` the pattern matches (see
/// [`UrlPattern::matches_url`]).
pub fn matching_url(pattern: &UrlPattern, program: &Program) -> Option<String> {
    urls_in(program)
        .into_iter()
        .find(|u| pattern.matches_url(u))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(cmd: &str) -> Vec<String> {
        crate::classify(cmd)
            .programs
            .iter()
            .flat_map(urls_in)
            .collect()
    }

    #[test]
    fn finds_urls_in_arguments() {
        assert_eq!(
            urls("curl -fsSL https://Example.com/a?b=1"),
            ["https://example.com/a?b=1"]
        );
        assert_eq!(urls("git clone --url=ssh://git@host"), ["ssh://git@host/"]);
        assert_eq!(
            urls("wget external-domain.com/x.sh"),
            ["http://external-domain.com/x.sh"]
        );
        assert_eq!(
            urls("echo 'see http://a.io and ftp://b.io/x'"),
            ["http://a.io/", "ftp://b.io/x"]
        );
        assert!(urls("ls -la ./src").is_empty());
        // Host-like downloader arguments count (an over-approximation: the
        // output file name here is taken for a host too).
        assert_eq!(
            urls("curl -o out.txt https://a.io"),
            ["http://out.txt/", "https://a.io/"]
        );
    }

    #[test]
    fn finds_scp_style_remotes_for_remote_programs() {
        assert_eq!(
            urls("git clone git@External-Domain.com:org/repo"),
            ["git@external-domain.com:org/repo"]
        );
        assert_eq!(
            urls("git remote add o --mirror=fetch x.io:org/r"),
            ["x.io:org/r"]
        );
        assert_eq!(urls("scp a.txt me@h.io:/tmp/"), ["me@h.io:/tmp/"]);
        assert_eq!(urls("rsync -a --rsh=ssh d/ me@h.io:d/"), ["me@h.io:d/"]);
        // Revisions and paths are no remotes; other programs' words neither.
        assert!(urls("git show HEAD:README.md").is_empty());
        assert!(urls("git show origin/main:a.txt").is_empty());
        assert!(urls("echo git@external-domain.com:org/repo").is_empty());
    }

    fn ask(glob: &str, cmd: &str) -> Option<String> {
        let pattern = UrlPattern::parse(glob).unwrap();
        crate::classify(cmd)
            .programs
            .iter()
            .find_map(|p| matching_url(&pattern, p))
    }

    #[test]
    fn matches_approval_globs() {
        let g = "*://external-domain.com/*";
        assert_eq!(
            ask(g, "curl https://EXTERNAL-domain.com").as_deref(),
            Some("https://external-domain.com/")
        );
        assert_eq!(ask(g, "curl https://other.com/external-domain.com"), None);
    }

    #[test]
    fn approval_cannot_be_bypassed_by_spelling() {
        let g = "*://external-domain.com/*";
        for cmd in [
            "curl https://External-Domain.COM.:443/r",
            "curl https://u:p@external-domain.com/r",
            "curl https://external-domain.com:443/r",
            "wget external-domain.com.",
            "git clone git@external-domain.com:org/repo",
            "git clone ssh://git@external-domain.com/org/repo",
            "git clone external-domain.com:org/repo",
            "pip install git+https://external-domain.com/org/pkg",
            "curl https://EXTERNAL-DOMAIN.com.:8443",
        ] {
            assert!(ask(g, cmd).is_some(), "{cmd}");
        }
        assert!(ask("*://127.0.0.1/*", "curl http://0x7f.1:8080/x").is_some());
        assert!(ask("*://xn--bcher-kva.de/*", "curl https://bücher.de/x").is_some());
    }
}
