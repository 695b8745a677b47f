//! `cargo xtask setup`: make sure the Debian packages gstpipe builds and tests with are present.

use crate::util::Result;
use std::process::{Command, Stdio};

/// Debian 12 packages: build dependencies (pkg-config, the -dev packages), the plugins the
/// tests use (videotestsrc, videoconvert, appsink/appsrc in base; pngenc, jpegenc, vp8, matroska,
/// RTP and RTSP in good; x264enc in ugly; H.265 and VP9 parsers/encoders in bad; avdec_* in
/// libav), gst-launch-1.0 in tools, gst-rtsp-server's library for the live tests, and Python's
/// venv and headers for the Python package.
pub const PACKAGES: &[&str] = &[
    "pkg-config",
    "libgstreamer1.0-dev",
    "libgstreamer-plugins-base1.0-dev",
    "gstreamer1.0-plugins-base",
    "gstreamer1.0-plugins-good",
    "gstreamer1.0-plugins-bad",
    "gstreamer1.0-plugins-ugly",
    "gstreamer1.0-libav",
    "gstreamer1.0-tools",
    "libgstrtspserver-1.0-dev",
    "python3-venv",
    "python3-dev",
    // gst-python (GStreamer's own Python bindings): the baseline of benches/python/bench.py.
    "python3-gst-1.0",
    // ffmpeg and ffprobe: independent writers and readers of test media (the reader's corpus,
    // the clip-sampler clips, the MP4 a CLI test finishes after SIGTERM).
    "ffmpeg",
    // ip: the Ray tests run their cluster in a network namespace whose only interface is
    // loopback (Ray's servers listen on every interface), brought up with `ip link set lo up`.
    "iproute2",
];

/// Installs the missing packages, or explains how when this process cannot.
pub fn run() -> Result {
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        eprintln!(
            "xtask: setup: system packages present ({})",
            PACKAGES.join(", ")
        );
        return Ok(());
    }
    let list = missing.join(" ");
    if !has("apt-get") {
        return Err(format!(
            "missing system packages: {list}; this is not a Debian-like system (no apt-get): \
             install GStreamer 1.22+ development files and the base/good plugins, then retry"
        )
        .into());
    }
    let sudo: &[&str] = if is_root() {
        &[]
    } else if sudo_works() {
        &["sudo", "-n"]
    } else {
        return Err(format!(
            "missing system packages: {list}\nrun this, then retry:\n  \
             sudo apt-get update && sudo apt-get install -y {list}"
        )
        .into());
    };
    eprintln!("xtask: setup: installing {list}");
    apt(sudo, &["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    apt(sudo, &args)?;
    let still: Vec<&str> = missing.into_iter().filter(|p| !installed(p)).collect();
    if !still.is_empty() {
        return Err(format!(
            "apt-get finished but these are still missing: {}",
            still.join(" ")
        )
        .into());
    }
    Ok(())
}

fn apt(sudo: &[&str], args: &[&str]) -> Result {
    let mut cmd = if let Some((first, rest)) = sudo.split_first() {
        let mut c = Command::new(first);
        c.args(rest).arg("apt-get");
        c
    } else {
        Command::new("apt-get")
    };
    cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
    crate::util::run_checked(cmd, "apt-get")
}

fn installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        .unwrap_or(false)
}

fn has(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn sudo_works() -> bool {
    Command::new("sudo")
        .args(["-n", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
