"""Shared helpers for the gstpipe Python tests."""

from __future__ import annotations

import os
import pathlib

import pytest

import gstpipe


def frames_of(description: str, **kwargs) -> list:
    """Every frame of a (finite) pipeline, read inside a with-block."""
    with gstpipe.Pipeline(description) as p:
        return list(p.frames(**kwargs))


def repo_root() -> pathlib.Path:
    return pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture
def cli() -> str:
    """The `gstpipe` binary to compare `python -m gstpipe` with (GSTPIPE_CLI, set by
    `cargo xtask test`, or the workspace's debug build)."""
    path = os.environ.get("GSTPIPE_CLI") or str(repo_root() / "target" / "debug" / "gstpipe")
    assert os.path.exists(path), f"build the CLI first (cargo build -p gstpipe-cli): {path}"
    return path
