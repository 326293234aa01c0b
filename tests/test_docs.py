"""The README is the front door and the user guide runs as written: the README's size, its two
commands (the test one is what CI runs), links that resolve, and every command of the user guide
run on the shipped data in a fresh folder."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDE = ROOT / "docs" / "user-guide.md"
DOCS = [README, GUIDE, ROOT / "docs" / "reference.md", ROOT / "docs" / "development.md",
        ROOT / "benchmarks" / "README.md"]


def bash_blocks(path: Path) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def commands(block: str) -> list[str]:
    return [line.split("  #")[0].strip() for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_readme_is_a_front_door_of_at_most_12_kb() -> None:
    assert len(README.read_bytes()) <= 12 * 1024
    text = README.read_text(encoding="utf-8")
    for topic in ("Python 3.11", "venv", "What the score means", "The five commands",
                  "Python API", "Licences", "docs/user-guide.md", "docs/development.md",
                  "benchmarks/README.md", "data/DATA_CARD.md", "models/ekstremisme-v3/README.md"):
        assert topic in text, topic


def test_the_readme_has_two_commands_and_ci_runs_its_test_command() -> None:
    first = commands(bash_blocks(README)[0])
    assert first == ['pip install . && kanalml rank data/demo_export.csv --budget 10',
                     'pip install ".[test]" && pytest']
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert first[1] in ci  # then the Label Studio round trip, in a venv of its own


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        assert (doc.parent / target).exists(), f"{doc.name}: {target}"


def test_the_user_guide_runs_as_written(tmp_path: Path) -> None:
    """Every command of the guide, in order, in a folder holding the shipped data and models:
    the installs and the interactive review page excepted (the guide's Python snippet records
    the same decisions)."""
    for name in ("data", "models"):
        (tmp_path / name).symlink_to(ROOT / name)
    skipped = ("python3 -m venv", "pip install", "kanalml review ")
    lines = []
    for block in bash_blocks(GUIDE):
        lines += [line for line in block.splitlines() if not line.startswith(skipped)]
    script = "\n".join(["set -euo pipefail",
                        f"kanalml() {{ {shlex.quote(sys.executable)} -m kanalml \"$@\"; }}",
                        f"python() {{ {shlex.quote(sys.executable)} \"$@\"; }}",
                        *lines])
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    work = tmp_path / "work"
    for name in ("queue.csv", "channels.csv", "queue.html", "queue.xlsx", "queue.decisions.csv",
                 "queue-known.csv", "scored.xlsx", "report/report.html",
                 "models/guide-v1/manifest.json", "to_label.csv", "tasks.json",
                 "tasks.label-config.xml"):
        assert (work / name).exists(), name
    assert "500 posts from data/extremism_corpus.csv where pass = 9" in done.stdout
    assert "guide-v1" in done.stdout and "netifier-v1" in done.stdout
    assert "ekstremisme-v2" in done.stdout
