//! `cargo xtask fuzz`: the property tests, long: `PROPTEST_CASES` cases each, in release; and
//! the Python API driven by random call sequences (`crates/python/tests/test_fuzz_api.py`),
//! `GSTPIPE_FUZZ_SEQUENCES` of them.

use crate::util::{Result, cargo, root};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Cases per property unless `--cases N` (or `PROPTEST_CASES`) says otherwise.
const DEFAULT_CASES: u64 = 2000;

/// Random Python API sequences unless `--sequences N` (or `GSTPIPE_FUZZ_SEQUENCES`) says
/// otherwise.
const DEFAULT_SEQUENCES: u64 = 10_000;

/// The property suites: (package, crate directory, test module in its `tests` binary).
const SUITES: &[(&str, &str, &str)] = &[
    ("gstpipe-frame", "frame", "props"),
    ("gstpipe-core", "core", "fuzz"),
];

/// How long one suite may run.
const LIMIT: Duration = Duration::from_secs(60 * 60);

/// A count from the environment variable `name`, else `default`.
fn count_from_env(name: &str, default: u64) -> Result<u64> {
    match std::env::var(name) {
        Ok(v) => Ok(v
            .parse::<u64>()
            .map_err(|_| format!("{name}={v:?} is not a number"))?),
        Err(_) => Ok(default),
    }
}

/// Runs each property module with `PROPTEST_CASES` cases (`--cases N`, else the environment's
/// `PROPTEST_CASES`, else 2000), then the Python API sequences (`--sequences N`, else
/// `GSTPIPE_FUZZ_SEQUENCES`, else 10,000); `--suite rust` or `--suite python` runs one part.
/// Fails when a suite fails, or when its module is missing or ran no test.
pub fn run(args: &[String]) -> Result {
    let mut cases = count_from_env("PROPTEST_CASES", DEFAULT_CASES)?;
    let mut sequences = count_from_env("GSTPIPE_FUZZ_SEQUENCES", DEFAULT_SEQUENCES)?;
    let (mut rust, mut python) = (true, true);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |flag: &str| -> Result<u64> {
            let n = args.next().ok_or(format!("{flag} needs a number"))?;
            Ok(n.parse()
                .map_err(|_| format!("{flag} {n:?} is not a number"))?)
        };
        match arg.as_str() {
            "--cases" => cases = number("--cases")?,
            "--sequences" => sequences = number("--sequences")?,
            "--suite" => match args.next().map(String::as_str) {
                Some("rust") => python = false,
                Some("python") => rust = false,
                other => return Err(format!("--suite takes rust or python, got {other:?}").into()),
            },
            other => return Err(format!("fuzz: unknown argument `{other}`").into()),
        }
    }
    crate::setup::run()?;
    let mut problems = Vec::new();
    let mut figures = Vec::new();
    if python {
        match run_python(sequences) {
            Ok(line) => figures.push(format!("python API sequences: {line}")),
            Err(e) => problems.push(format!("python API sequences: {e}")),
        }
    }
    for &(package, dir, module) in SUITES.iter().filter(|_| rust) {
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

/// Builds the package into the xtask venv and runs `test_fuzz_api.py` with `sequences`
/// sequences, echoing its output; returns the figures line the test prints.
fn run_python(sequences: u64) -> Result<String> {
    let python = crate::python::venv()?;
    crate::python::install_package(&python)?;
    let test = root()
        .join("crates")
        .join("python")
        .join("tests")
        .join("test_fuzz_api.py");
    let mut cmd = std::process::Command::new(python);
    cmd.args(["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"])
        .arg(&test)
        .current_dir(root())
        .env("GSTPIPE_FUZZ_SEQUENCES", sequences.to_string());
    eprintln!(
        "xtask: fuzz: GSTPIPE_FUZZ_SEQUENCES={sequences} pytest {}",
        test.display()
    );
    let (summary, elapsed) = run_echoing(cmd, |line| line.starts_with("{\"sequences\""))?;
    let figures = summary
        .last()
        .cloned()
        .ok_or("the test printed no figures")?;
    Ok(format!("{figures} (wall {:.1} s)", elapsed.as_secs_f64()))
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
    let (summary, elapsed) = run_echoing(cmd, |line| {
        line.starts_with("running ") || line.starts_with("test result:")
    })?;
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
        elapsed.as_secs_f64()
    ))
}

/// Runs `cmd` (at most [`LIMIT`]), echoing its standard output; returns the lines `keep`
/// selects and the wall time. Fails when it fails or runs too long.
fn run_echoing(
    mut cmd: std::process::Command,
    keep: impl Fn(&str) -> bool + Send + 'static,
) -> Result<(Vec<String>, Duration)> {
    cmd.stdout(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    // Echo the output as it comes, keeping the lines asked for.
    let reader = std::thread::spawn(move || {
        let mut summary = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            println!("{line}");
            if keep(&line) {
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
    Ok((summary, started.elapsed()))
}
