"""A built wheel carries the default model and the console script."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(ROOT)], check=True, capture_output=True)
    return next(out.glob("kanalml-*.whl"))


def test_wheel_carries_the_default_model(wheel) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("kanalml/models/netifier-v1/manifest.json"))
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    for name in manifest["files"]:
        assert f"kanalml/models/netifier-v1/{name}" in names
    assert "kanalml = kanalml.cli:main" in scripts
    assert not any(n.startswith(("tests/", "data/", "benchmarks/")) for n in names)
