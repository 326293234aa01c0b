"""The package's layering holds: the command line is a leaf, modules share public names only,
no module imports one that imports it back (at run time, directly or not), and the type
checker passes.

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


# --- no import cycles ---------------------------------------------------------------------

def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _run_time_nodes(node: ast.AST) -> list[ast.AST]:
    """Every node under ``node`` that runs at some time: module level and function bodies
    alike, but not the body of ``if TYPE_CHECKING:`` (annotations only)."""
    found: list[ast.AST] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                found += [other, *_run_time_nodes(other)]
            continue
        found += [child, *_run_time_nodes(child)]
    return found


def import_graph() -> dict[str, set[str]]:
    """kanalml module -> the kanalml modules it imports at run time, at the top or in a function.

    ``from a import b`` imports ``a.b`` where that is a module, else ``a``; importing ``a.b.c``
    also runs the ``__init__`` of each package on the way (``a.b``), except the packages the
    importing module is itself inside, whose ``__init__`` has always begun before it runs.
    """
    modules = {_module_name(p): p for p in _modules()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()

        def add(target: str, name: str = name, targets: set[str] = targets) -> None:
            if target not in modules:
                return
            parts = target.split(".")
            for i in range(1, len(parts)):
                parent = ".".join(parts[:i])
                if name != parent and not name.startswith(parent + "."):
                    targets.add(parent)
            if target != name:
                targets.add(target)

        for node in _run_time_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name)
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] \
                    if node.level else []
                source = ".".join([*base, *([node.module] if node.module else [])])
                for alias in node.names:
                    add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules
                        else source)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Cycles of ``graph`` as ``[a, b, ..., a]``: one through each module on a cycle, skipping
    the modules an earlier one already passed through."""
    found: list[list[str]] = []
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        # the modules that reach back to start are the ones in a cycle with it
        stack, path, seen = [iter(sorted(graph[start]))], [start], {start}
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                path.pop()
            elif child == start:
                found.append([*path, start])
                done.update(path)
                break
            elif child not in seen and child in graph:
                seen.add(child)
                stack.append(iter(sorted(graph[child])))
                path.append(child)
        done.add(start)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_the_graph_sees_function_level_imports_and_skips_type_checking_ones() -> None:
    graph = import_graph()
    assert "kanalml.scoring" in graph["kanalml.api"]  # top level
    assert "kanalml.model" in graph["kanalml.scoring"]  # in load_model
    assert "kanalml.model" not in graph["kanalml.pipeline"]  # only under TYPE_CHECKING
    assert "kanalml.io" in graph["kanalml.labelled"]  # a package's __init__ runs on the way


def test_no_import_cycle_among_the_modules() -> None:
    # Each layer imports only those below it: scoring (model loading, the output columns) below
    # api and pipeline, lexicon below preprocess, the version below provenance and the package.
    assert [" -> ".join(cycle) for cycle in cycles(import_graph())] == []
