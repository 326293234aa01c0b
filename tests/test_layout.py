"""The package's layering holds: the command line is a leaf, modules share public names only,
and the type checker passes.

These read the source (ast) or run mypy; they fail on the change that breaks a rule, naming it.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "kanalml"


def _imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, names) for every ``import`` and ``from ... import`` in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name, []) for a in node.names)
    return found


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _package_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_only_the_entry_point_imports_the_command_line() -> None:
    offenders = [f"{p.relative_to(ROOT)}:{line} imports {module}"
                 for p in _modules() if p.name != "__main__.py" and p.name != "cli.py"
                 for line, module, _ in _imports(p)
                 if module == "kanalml.cli" or module.startswith("kanalml.cli.")]
    assert offenders == []


def test_modules_import_only_public_names_from_each_other() -> None:
    offenders = []
    for path in _modules():
        own = _package_of(path)
        for line, module, names in _imports(path):
            if not module.startswith("kanalml") or module == own or module.startswith(own + "."):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            offenders += [f"{path.relative_to(ROOT)}:{line} {module}.{n}" for n in private]
    assert offenders == []


def test_mypy_strict_is_clean() -> None:
    mypy = shutil.which("mypy") or str(Path(sys.executable).with_name("mypy"))
    if not Path(mypy).exists():
        pytest.skip("mypy is not installed (it comes with the test extra)")
    # The configuration (strict, the package, untyped libraries) is in pyproject.toml.
    result = subprocess.run([mypy], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
