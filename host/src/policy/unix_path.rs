//! Resolving a guest's Unix socket path with the file system, so that the
//! policy judges where it really leads.

use std::path::{Component, Path, PathBuf};

use super::{UnixPathError, UnixUse};

/// Resolve the directory of `path` (and, for a connect, a symlink at the
/// path itself) with the file system.
pub(super) fn resolve_path(path: &Path, usage: UnixUse) -> Result<PathBuf, UnixPathError> {
    if path.as_os_str().is_empty() {
        return Err(UnixPathError::Invalid);
    }
    if matches!(path.components().next_back(), Some(Component::ParentDir)) {
        return Err(UnixPathError::Invalid);
    }
    let name = path.file_name().ok_or(UnixPathError::Invalid)?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let joined = parent.canonicalize().map_err(UnixPathError::Io)?.join(name);
    if usage == UnixUse::Connect && joined.is_symlink() {
        return joined.canonicalize().map_err(UnixPathError::Io);
    }
    Ok(joined)
}

/// `path` made absolute against the working directory with `.` and `..`
/// removed by text alone: used only to decide whether to admit that a path
/// outside the allowed directories does not exist.
pub(super) fn lexical_absolute(path: &Path) -> PathBuf {
    let base = if path.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().unwrap_or_default()
    };
    let mut out = PathBuf::new();
    for component in base.join(path).components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::NetworkPolicy;
    use super::*;

    fn unix_policy(dir: &Path) -> NetworkPolicy {
        let mut p = NetworkPolicy::deny_all();
        p.allow_unix_dir(dir).unwrap();
        p
    }

    fn path_str(p: &Path) -> &str {
        p.to_str().unwrap()
    }

    #[test]
    fn unix_listen_inside_allowed_dir_resolves_the_parent() {
        let tmp = tempfile::tempdir().unwrap();
        let allowed = tmp.path().join("allowed");
        std::fs::create_dir_all(allowed.join("sub")).unwrap();
        let p = unix_policy(&allowed);
        let got = p
            .resolve_unix_path(path_str(&allowed.join("sub/../s.sock")), UnixUse::Listen)
            .unwrap();
        assert_eq!(got, allowed.canonicalize().unwrap().join("s.sock"));
    }

    #[test]
    fn unix_path_escaping_through_dotdot_is_denied() {
        let tmp = tempfile::tempdir().unwrap();
        let allowed = tmp.path().join("allowed");
        std::fs::create_dir(&allowed).unwrap();
        let p = unix_policy(&allowed);
        let escape = allowed.join("../outside.sock");
        for usage in [UnixUse::Listen, UnixUse::Connect] {
            assert!(matches!(
                p.resolve_unix_path(path_str(&escape), usage),
                Err(UnixPathError::Denied { .. })
            ));
        }
    }

    #[test]
    fn unix_path_escaping_through_a_symlinked_dir_is_denied() {
        let tmp = tempfile::tempdir().unwrap();
        let allowed = tmp.path().join("allowed");
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&allowed).unwrap();
        std::fs::create_dir(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, allowed.join("link")).unwrap();
        let p = unix_policy(&allowed);
        let via_link = allowed.join("link/s.sock");
        assert!(matches!(
            p.resolve_unix_path(path_str(&via_link), UnixUse::Listen),
            Err(UnixPathError::Denied { .. })
        ));
    }

    #[test]
    fn unix_connect_through_a_symlinked_file_is_denied() {
        let tmp = tempfile::tempdir().unwrap();
        let allowed = tmp.path().join("allowed");
        std::fs::create_dir(&allowed).unwrap();
        std::fs::write(tmp.path().join("target.sock"), b"").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("target.sock"), allowed.join("s.sock")).unwrap();
        let p = unix_policy(&allowed);
        assert!(matches!(
            p.resolve_unix_path(path_str(&allowed.join("s.sock")), UnixUse::Connect),
            Err(UnixPathError::Denied { .. })
        ));
    }

    #[test]
    fn unix_allowed_dir_reached_through_a_symlink_is_allowed() {
        let tmp = tempfile::tempdir().unwrap();
        let allowed = tmp.path().join("allowed");
        std::fs::create_dir(&allowed).unwrap();
        std::os::unix::fs::symlink(&allowed, tmp.path().join("alias")).unwrap();
        // The rule is given through the alias; the guest uses the real path.
        let p = unix_policy(&tmp.path().join("alias"));
        let got = p
            .resolve_unix_path(path_str(&allowed.join("s.sock")), UnixUse::Listen)
            .unwrap();
        assert_eq!(got, allowed.canonicalize().unwrap().join("s.sock"));
    }

    #[test]
    fn unix_missing_dir_is_io_inside_and_denied_outside() {
        let tmp = tempfile::tempdir().unwrap();
        let allowed = tmp.path().join("allowed");
        std::fs::create_dir(&allowed).unwrap();
        let p = unix_policy(&allowed);
        let inside = allowed.canonicalize().unwrap().join("missing/s.sock");
        assert!(matches!(
            p.resolve_unix_path(path_str(&inside), UnixUse::Connect),
            Err(UnixPathError::Io(_))
        ));
        let outside = tmp.path().join("missing/s.sock");
        assert!(matches!(
            p.resolve_unix_path(path_str(&outside), UnixUse::Connect),
            Err(UnixPathError::Denied { .. })
        ));
    }

    #[test]
    fn unix_paths_naming_no_file_are_invalid() {
        let tmp = tempfile::tempdir().unwrap();
        let p = unix_policy(tmp.path());
        for bad in ["", "/", &format!("{}/..", tmp.path().display())] {
            assert!(
                matches!(
                    p.resolve_unix_path(bad, UnixUse::Listen),
                    Err(UnixPathError::Invalid)
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn unix_allowed_dir_itself_is_not_a_socket_path() {
        let tmp = tempfile::tempdir().unwrap();
        let allowed = tmp.path().join("allowed");
        std::fs::create_dir(&allowed).unwrap();
        let p = unix_policy(&allowed);
        assert!(matches!(
            p.resolve_unix_path(path_str(&allowed.join(".")), UnixUse::Listen),
            Err(UnixPathError::Denied { .. })
        ));
    }

    #[test]
    fn unix_denied_without_any_dir_rule() {
        let tmp = tempfile::tempdir().unwrap();
        let p = NetworkPolicy::deny_all();
        assert!(matches!(
            p.resolve_unix_path(path_str(&tmp.path().join("s.sock")), UnixUse::Listen),
            Err(UnixPathError::Denied { .. })
        ));
    }
}
