"""A built wheel carries the default model and the console script."""

from __future__ import annotations

import json
import os
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
        manifest = json.loads(archive.read("kanalml/models/ekstremisme-v3/manifest.json"))
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    for name in manifest["files"]:
        assert f"kanalml/models/ekstremisme-v3/{name}" in names
    assert "kanalml = kanalml.cli:main" in scripts
    assert not any(n.startswith(("tests/", "data/", "benchmarks/")) for n in names)


def test_the_wheel_alone_scores_with_its_own_model(wheel, tmp_path) -> None:
    """Unpacked away from the checkout, the wheel's kanalml finds the model it carries."""
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        assert not any("netifier-v1" in n for n in archive.namelist())  # kept for benchmarks
        archive.extractall(site)
    code = ("import kanalml, kanalml.api as a; "
            "print(a.default_model_path()); "
            "print(kanalml.score('thaghut wajib diperangi, bangkitlah ikhwan')['category'])")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(site)}, check=True)
    path, category = done.stdout.split()
    assert path.startswith(str(site))
    assert category in {"hasutan", "glorifikasi", "rekrutmen", "takfir", "pendanaan", "ancaman"}


def test_wheel_carries_the_review_page(wheel) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    for name in ("review.html", "review.js", "review.css"):
        assert f"kanalml/review/static/{name}" in names


def test_wheel_declares_the_code_and_model_licences(wheel) -> None:
    """The metadata names both licences (an SPDX expression) and the wheel carries both texts:
    the code is MIT, the bundled model CC BY-NC-SA 4.0 (it is trained on Netifier)."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        licences = {n.split(".dist-info/licenses/", 1)[1]: archive.read(n).decode("utf-8")
                    for n in names if ".dist-info/licenses/" in n}
    lines = metadata.decode("utf-8").splitlines()
    assert "License-Expression: MIT AND CC-BY-NC-SA-4.0" in lines
    assert not any(line.startswith("License: ") for line in lines)  # no contradicting field
    assert {"LICENSE", "LICENSES/CC-BY-NC-SA-4.0.txt", "LICENSES/NOTICE.md"} <= set(licences)
    assert licences["LICENSE"].startswith("MIT License")
    assert "Attribution-NonCommercial-ShareAlike 4.0 International Public License" in licences[
        "LICENSES/CC-BY-NC-SA-4.0.txt"]
    from kanalml.api import DEFAULT_MODEL

    assert DEFAULT_MODEL in licences["LICENSES/NOTICE.md"]
    card = (ROOT / "models" / DEFAULT_MODEL / "README.md").read_text(encoding="utf-8")
    assert "CC BY-NC-SA 4.0" in card  # what the model card says is what the metadata declares
