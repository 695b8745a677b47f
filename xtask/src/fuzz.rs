//! `cargo xtask fuzz`: the property tests, long: `PROPTEST_CASES` cases each, in release.

use crate::util::{Result, cargo, root};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Cases per property unless `--cases N` (or `PROPTEST_CASES`) says otherwise.
const DEFAULT_CASES: u64 = 2000;

/// The property suites: (package, crate directory, test module in its `tests` binary).
const SUITES: &[(&str, &str, &str)] = &[
    ("gstpipe-frame", "frame", "props"),
    ("gstpipe-core", "core", "fuzz"),
];

/// How long one suite may run.
const LIMIT: Duration = Duration::from_secs(60 * 60);

/// Runs each property module with `PROPTEST_CASES` cases (`--cases N`, else the environment's
/// `PROPTEST_CASES`, else 2000). Fails when a suite fails, or when its module is missing or
/// ran no test.
pub fn run(args: &[String]) -> Result {
    let mut cases = match std::env::var("PROPTEST_CASES") {
        Ok(v) => v
            .parse::<u64>()
            .map_err(|_| format!("PROPTEST_CASES={v:?} is not a number"))?,
        Err(_) => DEFAULT_CASES,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cases" => {
                let n = args.next().ok_or("--cases needs a number")?;
                cases = n
                    .parse()
                    .map_err(|_| format!("--cases {n:?} is not a number"))?;
            }
            other => return Err(format!("fuzz: unknown argument `{other}`").into()),
        }
    }
    crate::setup::run()?;
    let mut problems = Vec::new();
    let mut figures = Vec::new();
    for &(package, dir, module) in SUITES {
        let file = root()
            .join("crates")
            .join(dir)
            .join("tests")
            .join(format!("{module}.rs"));
        if !file.exists() {
            problems.push(format!("{package}: {} does not exist", file.display()));
            continue;
        }
        match run_suite(package, module, cases) {
            Ok(line) => figures.push(format!("{package} {module}: {line}")),
            Err(e) => problems.push(format!("{package} {module}: {e}")),
        }
    }
    eprintln!("\nxtask: fuzz: PROPTEST_CASES={cases}");
    for f in &figures {
        eprintln!("xtask: fuzz: {f}");
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n").into())
    }
}

/// Runs one module's tests, echoing their output; returns the `test result` line and time.
fn run_suite(package: &str, module: &str, cases: u64) -> Result<String> {
    let mut cmd = cargo();
    cmd.args([
        "test",
        "--release",
        "--package",
        package,
        "--test",
        "tests",
        &format!("{module}::"),
        "--",
        "--test-threads=2",
    ])
    .env("PROPTEST_CASES", cases.to_string())
    .env("RUST_BACKTRACE", "1")
    .stdout(Stdio::piped());
    eprintln!(
        "xtask: fuzz: PROPTEST_CASES={cases} cargo test --release -p {package} --test tests {module}::"
    );
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    // Echo the output as it comes, keeping the libtest summary lines.
    let reader = std::thread::spawn(move || {
        let mut summary = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            println!("{line}");
            if line.starts_with("running ") || line.starts_with("test result:") {
                summary.push(line);
            }
        }
        summary
    });
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("still running after {LIMIT:?}; killed").into());
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let summary = reader.join().map_err(|_| "output reader panicked")?;
    if !status.success() {
        return Err(format!("failed ({status})").into());
    }
    if summary.iter().any(|l| l == "running 0 tests") {
        return Err("the filter matched no test".into());
    }
    let result = summary
        .iter()
        .rev()
        .find(|l| l.starts_with("test result:"))
        .cloned()
        .unwrap_or_default();
    Ok(format!(
        "{result} (wall {:.1} s with the build)",
        started.elapsed().as_secs_f64()
    ))
}
