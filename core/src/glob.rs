//! Shell-style glob matching, shared by the policy's rules, the
//! environment filter and the secret-name list.

/// Shell-style glob matching with `*` (any run of characters, `/`
/// included) and `?` (one character). Linear in practice: the classic
/// single-backtrack algorithm; ASCII input is matched without allocating.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        return glob_match_units(pattern.as_bytes(), text.as_bytes());
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    glob_match_units(&p, &t)
}

fn glob_match_units<T: Copy + PartialEq + From<u8>>(p: &[T], t: &[T]) -> bool {
    let (star, any) = (T::from(b'*'), T::from(b'?'));
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == any || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == star {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = backtrack {
            pi = sp + 1;
            ti = st + 1;
            backtrack = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == star)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match(
            "*://external-domain.com/*",
            "https://external-domain.com/a/b"
        ));
        assert!(!glob_match(
            "*://external-domain.com/*",
            "https://other.com/external-domain.com"
        ));
        assert!(glob_match("a?c*", "abcdef"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*", ""));
        assert!(glob_match(
            "*a*a*a*b",
            &"a".repeat(3000).replace("aaa", "aab")
        ));
    }
}
