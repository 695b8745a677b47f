//! `cargo xtask wheel [--test]`: the Python package as an abi3 wheel, built with maturin.
//!
//! The wheel holds the compiled extension (one file for every CPython >= 3.9, pyo3's
//! `abi3-py39`) and links the system's GStreamer and GLib dynamically: it is tagged
//! `linux_x86_64` (not manylinux), because GStreamer and its plugins come from the
//! distribution (`apt install gstreamer1.0-plugins-base ...`), not from the wheel. The build
//! checks the extension's `NEEDED` libraries (`readelf -d`) and fails on anything beyond
//! GStreamer, GLib and the C runtime.
//!
//! `--test` then installs the wheel into a fresh venv whose `PATH` has no Rust toolchain,
//! reports the install and `import gstpipe` times, and runs the pytest suite against it.

use crate::util::{Result, cargo, root, run_with_timeout};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Libraries the extension may link: GStreamer, GLib and the C runtime.
const ALLOWED: &[&str] = &[
    "libgstreamer-1.0.so",
    "libgstapp-1.0.so",
    "libgstvideo-1.0.so",
    "libgstbase-1.0.so",
    "libglib-2.0.so",
    "libgobject-2.0.so",
    "libgmodule-2.0.so",
    "libgio-2.0.so",
    "libc.so",
    "libm.so",
    "libgcc_s.so",
    "libpthread.so",
    "libdl.so",
    "librt.so",
    "ld-linux-x86-64.so",
];

/// Builds the wheel, checks what it links and prints its path; `--test` also installs it
/// in a fresh venv and runs the suite against it.
pub fn run(args: &[String]) -> Result {
    let test = match args {
        [] => false,
        [flag] if flag == "--test" => true,
        other => return Err(format!("wheel: unknown arguments {other:?} (only --test)").into()),
    };
    crate::setup::run()?;
    let wheel = build()?;
    println!("{}", wheel.display());
    if test {
        test_wheel(&wheel)?;
    }
    Ok(())
}

/// `maturin build --release` into `target/wheels`; the wheel's path.
fn build() -> Result<PathBuf> {
    let root = root();
    let python = crate::python::venv()?;
    let out = root.join("target").join("wheels");
    if out.exists() {
        for entry in std::fs::read_dir(&out)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "whl") {
                std::fs::remove_file(path)?;
            }
        }
    }
    let mut maturin = Command::new(&python);
    maturin
        .args([
            "-m",
            "maturin",
            "build",
            "--release",
            "--compatibility",
            "linux",
        ])
        .arg("--out")
        .arg(&out)
        .arg("--manifest-path")
        .arg(root.join("crates").join("python").join("Cargo.toml"));
    run_with_timeout(maturin, "maturin build", Duration::from_secs(30 * 60))?;
    let wheel = std::fs::read_dir(&out)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .ok_or("maturin built no wheel")?;
    let name = wheel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if !name.contains("-cp39-abi3-linux_x86_64") && !name.contains("-cp39-abi3-linux_") {
        return Err(format!("{name}: expected an abi3 (cp39-abi3) linux wheel").into());
    }
    check_links(&python, &wheel)?;
    Ok(wheel)
}

/// Fails unless the wheel's extension links only [`ALLOWED`] libraries.
fn check_links(python: &Path, wheel: &Path) -> Result {
    let dir = root().join("target").join("wheels").join("inspect");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let mut unzip = Command::new(python);
    unzip.args(["-m", "zipfile", "-e"]).arg(wheel).arg(&dir);
    run_with_timeout(unzip, "unpack the wheel", Duration::from_secs(60))?;
    let so = dir.join("gstpipe");
    let extension = std::fs::read_dir(&so)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(".so"))
        .ok_or("the wheel has no gstpipe/*.so extension")?;
    let output = Command::new("readelf")
        .arg("-d")
        .arg(&extension)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("readelf (binutils): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let needed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next())
        .collect();
    let foreign: Vec<&&str> = needed
        .iter()
        .filter(|lib| !ALLOWED.iter().any(|a| lib.starts_with(a)))
        .collect();
    eprintln!("xtask: wheel links {}", needed.join(", "));
    if !foreign.is_empty() {
        return Err(
            format!("the extension links more than GStreamer, GLib and libc: {foreign:?}").into(),
        );
    }
    Ok(())
}

/// `PATH` without the Rust toolchain (no `cargo`, `rustc` or `rustup` directory).
fn path_without_rust() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .filter(|p| {
            !["cargo", "rustc", "rustup"]
                .iter()
                .any(|tool| p.join(tool).exists())
        })
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

/// Runs `cmd` with a limit and returns how long it took.
fn timed(cmd: Command, what: &str, limit: Duration) -> Result<Duration> {
    let started = Instant::now();
    run_with_timeout(cmd, what, limit)?;
    Ok(started.elapsed())
}

/// A fresh venv, the wheel installed with its dependencies, then the test requirements and
/// the pytest suite, all with a `PATH` that has no Rust toolchain.
fn test_wheel(wheel: &Path) -> Result {
    let root = root();
    // The launcher test compares `python -m gstpipe` with the CLI: built now, with cargo.
    let mut cli = cargo();
    cli.args(["build", "--package", "gstpipe-cli", "--bin", "gstpipe"]);
    run_with_timeout(cli, "build the CLI", Duration::from_secs(20 * 60))?;

    let venv = root.join("target").join("wheel-venv");
    let _ = std::fs::remove_dir_all(&venv);
    let path = path_without_rust();
    let python = venv.join("bin").join("python");
    let command = |program: &Path| {
        let mut cmd = Command::new(program);
        cmd.env("PATH", &path)
            .env_remove("CARGO")
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO_TARGET_DIR")
            .current_dir(&root);
        cmd
    };
    let mut create = command(&crate::python::system_python());
    create.arg("-m").arg("venv").arg(&venv);
    let made = timed(create, "fresh venv", Duration::from_secs(120))?;

    let mut no_rust = command(&python);
    no_rust.args([
        "-c",
        "import shutil, sys; found = [t for t in ('cargo', 'rustc') if shutil.which(t)]; \
         sys.exit(f'a Rust toolchain is on PATH: {found}' if found else 0)",
    ]);
    run_with_timeout(
        no_rust,
        "no Rust toolchain on PATH",
        Duration::from_secs(60),
    )?;

    let mut install = command(&python);
    install.args(["-m", "pip", "install", "--quiet"]).arg(wheel);
    let installed = timed(
        install,
        "pip install the wheel",
        Duration::from_secs(10 * 60),
    )?;

    // import time, measured in the interpreter (the best of three fresh processes), from the
    // wheel's copy (checked).
    let seconds = venv.join("import-seconds");
    let mut import = Duration::MAX;
    for _ in 0..3 {
        let mut run = command(&python);
        run.arg("-c").arg(format!(
            "import sys, time; t = time.perf_counter(); import gstpipe; t = time.perf_counter() - t\n\
             if '/wheel-venv/' not in gstpipe.__file__: sys.exit(f'not the wheel: {{gstpipe.__file__}}')\n\
             open({:?}, 'w').write(repr(t))",
            seconds.display().to_string()
        ));
        run_with_timeout(run, "import gstpipe", Duration::from_secs(60))?;
        let measured: f64 = std::fs::read_to_string(&seconds)?.trim().parse()?;
        import = import.min(Duration::from_secs_f64(measured));
    }

    let mut reqs = command(&python);
    reqs.args(["-m", "pip", "install", "--quiet"]).args(
        crate::python::test_requirements()
            .iter()
            .filter(|r| !r.starts_with("maturin")),
    );
    run_with_timeout(
        reqs,
        "pip install test requirements",
        Duration::from_secs(10 * 60),
    )?;
    let mut pytest = command(&python);
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(root.join("crates").join("python").join("tests"))
        .env(
            "GSTPIPE_CLI",
            root.join("target").join("debug").join("gstpipe"),
        );
    let tested = timed(
        pytest,
        "python tests against the wheel",
        Duration::from_secs(10 * 60),
    )?;
    eprintln!(
        "xtask: wheel: fresh venv {:.1} s, pip install {:.1} s, import gstpipe {:.0} ms, \
         pytest {:.1} s",
        made.as_secs_f64(),
        installed.as_secs_f64(),
        import.as_secs_f64() * 1e3,
        tested.as_secs_f64()
    );
    Ok(())
}
