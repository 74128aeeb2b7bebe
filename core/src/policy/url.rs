//! URL rules (`require_approval`): globs matched against the URLs found in
//! the arguments of every program a command runs.

use crate::catalog::catalog;
use crate::glob::glob_match;
use crate::Program;

/// The URLs in a program's arguments, lower-cased, with a `/` path added
/// when there is none. Downloaders (`curl`, `wget`) treat a bare host as
/// `http://host`, so their host-like arguments count as URLs too.
pub fn urls_in(program: &Program) -> Vec<String> {
    let downloader = program
        .name
        .as_deref()
        .is_some_and(|n| catalog().has_tag(n, "downloader"));
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

/// The first URL of `program` matching the glob (case-insensitive).
pub fn matching_url(glob: &str, program: &Program) -> Option<String> {
    let glob = glob.to_ascii_lowercase();
    urls_in(program).into_iter().find(|u| glob_match(&glob, u))
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
    fn matches_approval_globs() {
        let p = &crate::classify("curl https://EXTERNAL-domain.com").programs[0];
        assert_eq!(
            matching_url("*://external-domain.com/*", p).as_deref(),
            Some("https://external-domain.com/")
        );
        let p = &crate::classify("curl https://other.com/external-domain.com").programs[0];
        assert_eq!(matching_url("*://external-domain.com/*", p), None);
    }
}
