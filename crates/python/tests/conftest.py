"""Shared helpers for the gstpipe Python tests."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys

import pytest

import gstpipe


def frames_of(description: str, **kwargs) -> list:
    """Every frame of a (finite) pipeline, read inside a with-block."""
    with gstpipe.Pipeline(description) as p:
        return list(p.frames(**kwargs))


def interrupted(script: str) -> list:
    """Runs ``script`` in a child Python, sends it Ctrl-C (SIGINT) once it prints ``ready``,
    and returns the words it printed after that; the child must exit with status 0 within
    30 s."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    return out.split()


def repo_root() -> pathlib.Path:
    return pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture
def cli() -> str:
    """The `gstpipe` binary to compare `python -m gstpipe` with (GSTPIPE_CLI, set by
    `cargo xtask test`, or the workspace's debug build)."""
    path = os.environ.get("GSTPIPE_CLI") or str(repo_root() / "target" / "debug" / "gstpipe")
    assert os.path.exists(path), f"build the CLI first (cargo build -p gstpipe-cli): {path}"
    return path
