"""Shared fixtures: the featvis module, the CLI binary and the real models in ../shared.

Tests that need a real model skip (never pass) when ../shared has none; run from the
repository root (ctest does) so the model search path finds ../shared/models.
"""
import json
import os
import pathlib
import subprocess

import pytest

import featvis

SOURCE_DIR = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = SOURCE_DIR / ".." / "shared" / "images" / "imagenet-samples"


def cli_binary():
    return os.environ.get("FEATVIS_BINARY", str(SOURCE_DIR / "build" / "featvis"))


def run_cli(*args):
    """`featvis ARGS --json` parsed; skips when the CLI is not built."""
    binary = cli_binary()
    if not os.path.exists(binary):
        pytest.skip(f"featvis CLI not built at {binary}")
    out = subprocess.run([binary, *args, "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


@pytest.fixture(scope="session")
def mobilenet():
    try:
        return featvis.Model("mobilenet_v2")
    except featvis.Error as e:
        if "not found" in str(e):
            pytest.skip(f"real MobileNetV2 absent: {e}")
        raise


@pytest.fixture(scope="session")
def photo():
    path = SAMPLES / "n01440764_tench.JPEG"
    if not path.exists():
        pytest.skip(f"sample photo absent: {path}")
    return str(path)
