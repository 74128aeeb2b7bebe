//! The caller's home directories: `$HOME` and the home of the caller's
//! account in the user database. The default deny-read paths
//! (`~/.ssh`, ...) are hidden under each, and no writable root may contain
//! either. Taking only `$HOME` would lose both protections where the
//! variable is unset or points elsewhere (a harness that scrubs the
//! environment, `env -u HOME`, `HOME=/tmp`), while the credentials stay in
//! the account's home.

use std::ffi::CStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// `$HOME` and the account's home (of the real uid), each when it is an
/// absolute path other than `/`, without repeats.
pub fn caller_homes() -> Vec<PathBuf> {
    // Found once: every run's view asks, and the user database may be a
    // network service. Not found is asked again next time (the service
    // may have been down).
    static ACCOUNT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let account = ACCOUNT.get().cloned().or_else(|| {
        // SAFETY: getuid cannot fail.
        let found = account_home(unsafe { libc::getuid() })?;
        Some(ACCOUNT.get_or_init(|| found).clone())
    });
    homes_of(std::env::var_os("HOME").map(PathBuf::from), account)
}

/// The homes from `$HOME` and the account's entry (see [`caller_homes`]).
fn homes_of(env_home: Option<PathBuf>, account: Option<PathBuf>) -> Vec<PathBuf> {
    let mut homes: Vec<PathBuf> = Vec::with_capacity(2);
    for home in [env_home, account].into_iter().flatten() {
        if home.is_absolute() && home != Path::new("/") && !homes.contains(&home) {
            homes.push(home);
        }
    }
    homes
}

/// The home directory of `uid` in the user database (`getpwuid_r`: NSS,
/// so LDAP and systemd-homed users too), when it has an entry.
pub fn account_home(uid: libc::uid_t) -> Option<PathBuf> {
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: `passwd` is plain data (integers and pointers): all
        // zeroes is a valid value, filled in by the call below.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call, `buf` is writable
        // for `buf.len()` bytes; on success `found` points to `entry`,
        // whose strings live in `buf`.
        let rc = unsafe {
            libc::getpwuid_r(
                uid,
                &mut entry,
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut found,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || found.is_null() || entry.pw_dir.is_null() {
            return None;
        }
        // SAFETY: pw_dir is a NUL-terminated string inside `buf`.
        let dir = unsafe { CStr::from_ptr(entry.pw_dir) };
        return Some(PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_has_its_home_in_the_user_database() {
        assert_eq!(account_home(0), Some(PathBuf::from("/root")));
    }

    #[test]
    fn a_uid_without_an_entry_has_no_home() {
        assert_eq!(account_home(4_000_000_000 - 7), None);
    }

    #[test]
    fn the_account_home_counts_even_where_home_is_unset_or_elsewhere() {
        let p = |s: &str| Some(PathBuf::from(s));
        assert_eq!(homes_of(None, p("/home/a")), [PathBuf::from("/home/a")]);
        assert_eq!(
            homes_of(p("/tmp/x"), p("/home/a")),
            [PathBuf::from("/tmp/x"), PathBuf::from("/home/a")]
        );
        assert_eq!(
            homes_of(p("/home/a"), p("/home/a")),
            [PathBuf::from("/home/a")]
        );
        // `/` and relative values hide nothing and protect nothing.
        assert_eq!(homes_of(p("/"), p("/")), Vec::<PathBuf>::new());
        assert_eq!(homes_of(p("rel"), None), Vec::<PathBuf>::new());
        assert!(caller_homes()
            .iter()
            .all(|h| h.is_absolute() && h != Path::new("/")));
    }
}
