//! Helpers shared by the subcommands: the workspace root, spawning cargo, timeouts.

use std::path::PathBuf;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// A boxed error with a message; xtask prints it and exits non-zero.
pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The workspace root (the parent of this crate's manifest directory).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Cargo's target directory for this workspace, as cargo itself resolves it
/// (`CARGO_TARGET_DIR`, `build.target-dir` in a config file, or `<root>/target`), asked once.
pub fn target_dir() -> Result<PathBuf> {
    static TARGET: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    if let Some(dir) = TARGET.get() {
        return Ok(dir.clone());
    }
    let dir = target_dir_of(cargo())?;
    Ok(TARGET.get_or_init(|| dir).clone())
}

/// The `target_directory` that `cargo metadata` (run as `cargo` is set up) reports.
fn target_dir_of(mut cargo: Command) -> Result<PathBuf> {
    let out = cargo
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    check(out.status, "cargo metadata")?;
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cargo metadata printed no JSON: {e}"))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata gave no target_directory".into())
}

/// A `cargo` command (the one running xtask, via `$CARGO`) started in the workspace root.
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root());
    cmd
}

/// Runs `cmd` to completion, failing with `what` when it exits non-zero.
pub fn run_checked(mut cmd: Command, what: &str) -> Result {
    eprintln!("xtask: {what}: {}", describe(&cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    check(status, what)
}

/// Runs `cmd`, killing it (and failing) when it runs longer than `limit`.
pub fn run_with_timeout(mut cmd: Command, what: &str, limit: Duration) -> Result {
    eprintln!("xtask: {what}: {}", describe(&cmd));
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    loop {
        if let Some(status) = child.try_wait()? {
            eprintln!("xtask: {what}: finished in {:.1?}", started.elapsed());
            return check(status, what);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{what}: still running after {limit:?}; killed").into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn check(status: ExitStatus, what: &str) -> Result {
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})").into())
    }
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `CARGO_TARGET_DIR` moves the target directory; without it, it is `<root>/target`.
    #[test]
    fn target_dir_follows_cargo() {
        let elsewhere = std::env::temp_dir().join("xtask-target-dir-test");
        let mut moved = cargo();
        moved.env("CARGO_TARGET_DIR", &elsewhere);
        assert_eq!(target_dir_of(moved).unwrap(), elsewhere);
        let mut default = cargo();
        default.env_remove("CARGO_TARGET_DIR");
        assert_eq!(target_dir_of(default).unwrap(), root().join("target"));
    }
}
