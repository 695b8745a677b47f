//! `cargo xtask soak`: the full soak of gstpipe-sinks (`tests/soak.rs`) in release: 1,000
//! pipeline lifecycles and 100,000 frames through every adapter, printing the figures; then
//! 100 reconnect cycles of gstpipe-live against a killed and restarted RTSP server.

use crate::util::{Result, cargo, run_with_timeout};
use std::time::Duration;

/// Runs `soak::` of the sinks tests with `GSTPIPE_SOAK_CYCLES` (`--cycles N`, default 1000)
/// and `GSTPIPE_SOAK_FRAMES` (`--frames N`, default 100000), `--release`, `--nocapture`, one
/// test at a time (each measures its own child process; alone, they do not compete for CPU).
pub fn run(args: &[String]) -> Result {
    let mut cycles: u64 = 1000;
    let mut frames: u64 = 100_000;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let target = match arg.as_str() {
            "--cycles" => &mut cycles,
            "--frames" => &mut frames,
            other => return Err(format!("soak: unknown argument `{other}`").into()),
        };
        let value = args.next().ok_or_else(|| format!("{arg} needs a number"))?;
        *target = value
            .parse()
            .map_err(|_| format!("{arg} {value:?} is not a number"))?;
    }
    if frames == 0 {
        return Err("--frames must be at least 1".into());
    }
    crate::setup::run()?;
    let mut cmd = cargo();
    cmd.args([
        "test",
        "--release",
        "--package",
        "gstpipe-sinks",
        "--test",
        "tests",
        "soak::",
        "--",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("GSTPIPE_SOAK_CYCLES", cycles.to_string())
    .env("GSTPIPE_SOAK_FRAMES", frames.to_string())
    .env("RUST_BACKTRACE", "1");
    run_with_timeout(
        cmd,
        &format!("soak ({cycles} cycles, {frames} frames per adapter)"),
        Duration::from_secs(60 * 60),
    )?;
    // gstpipe-live: 100 kill/restart cycles of a real RTSP server, threads and memory flat.
    let mut live = cargo();
    live.args([
        "test",
        "--release",
        "--package",
        "gstpipe-live",
        "--test",
        "tests",
        "rtsp::reconnect_cycles_keep_threads_and_memory_flat",
        "--",
        "--exact",
        "--nocapture",
    ])
    .env("GSTPIPE_LIVE_CYCLES", "100")
    .env("RUST_BACKTRACE", "1");
    run_with_timeout(
        live,
        "live soak (100 RTSP reconnect cycles)",
        Duration::from_secs(20 * 60),
    )
}
