"""The package's layer order: no module imports from a higher layer (see docs/design.md, "Layers").

Lowest first; a module imports only from its own layer or below:

    1. _checks, _files, _precision, _status, _version, data, systems, compile_cache
    2. models
    3. rollout
    4. metrics
    5. analysis, evaluation
    6. training, baselines
    7. runs, io, export
    8. pipeline, report, bench, verdict, reconstruction, hierarchical
    9. cli

`dsrkit/__init__.py` is the public API and may import anything; every other module counts, and so does every
import in it: module level or inside a function, absolute (`dsrkit.x`) or relative (`from ..x import y`).
Importing the package `dsrkit` itself (its public API) from inside the package counts as importing the top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dsrkit"

LAYERS = [
    ("_checks", "_files", "_precision", "_status", "_version", "data", "systems", "compile_cache"),
    ("models",),
    ("rollout",),
    ("metrics",),
    ("analysis", "evaluation"),
    ("training", "baselines"),
    ("runs", "io", "export"),
    ("pipeline", "report", "bench", "verdict", "reconstruction", "hierarchical"),
    ("cli", "__main__"),
]
LAYER = {name: i + 1 for i, names in enumerate(LAYERS) for name in names}
TOP = len(LAYERS) + 1  # the package itself: its public API, dsrkit/__init__.py


def _module_name(path: Path, root: Path = PACKAGE) -> list[str]:
    """Dotted parts of a source file's module below `dsrkit` (a package's __init__ is the package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _exists(parts: list[str], root: Path) -> bool:
    base = root.joinpath(*parts)
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imported(path: Path, root: Path = PACKAGE) -> list[tuple[int, list[str]]]:
    """(line, module parts below dsrkit) of every dsrkit module the file imports, anywhere in it ([] = dsrkit)."""
    here = _module_name(path, root)
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "dsrkit":
                    found.append((node.lineno, parts[1:]))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                assert node.level - 1 <= len(package), f"{path}:{node.lineno}: relative import beyond dsrkit"
                parts = package[: len(package) - (node.level - 1)] + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "dsrkit":
                parts = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:  # `from package import submodule` imports the submodule
                sub = parts + [alias.name]
                found.append((node.lineno, sub if alias.name != "*" and _exists(sub, root) else parts))
    return found


def _layer(parts: list[str]) -> int:
    if not parts:
        return TOP
    assert parts[0] in LAYER, f"dsrkit.{parts[0]} has no layer: add it to LAYERS here and to docs/design.md"
    return LAYER[parts[0]]


def upward_imports(root: Path = PACKAGE) -> list[str]:
    """One line per import of a higher layer in the package at `root`."""
    bad = []
    for path in sorted(p for p in root.rglob("*.py") if p != root / "__init__.py"):
        here = _module_name(path, root)
        own = _layer(here)
        for line, parts in imported(path, root):
            if parts[:1] == here[:1]:
                continue  # within its own top-level module or package
            if _layer(parts) > own:
                target = ".".join(["dsrkit"] + parts)
                bad.append(f"{path.relative_to(root.parent)}:{line}: dsrkit.{'.'.join(here)} (layer {own}) "
                           f"imports {target} (layer {_layer(parts)})")
    return bad


def test_every_top_level_module_has_a_layer():
    names = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    names |= {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert sorted(names - set(LAYER)) == []


def test_no_module_imports_from_a_higher_layer():
    bad = upward_imports()
    assert not bad, "imports from a higher layer:\n" + "\n".join(bad)


def _fake_package(tmp_path: Path, source: str) -> Path:
    root = tmp_path / "dsrkit"
    for rel in ("__init__.py", "runs.py", "evaluation.py", "metrics/__init__.py", "metrics/_checks.py",
                "training/__init__.py", "bench/__init__.py", "bench/store.py"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("")
    (root / "metrics" / "x.py").write_text(source)
    return root


@pytest.mark.parametrize("source, expected, upward", [
    ("from ..training import generate\n", ["training"], True),
    ("def f():\n    from dsrkit.evaluation import evaluate\n", ["evaluation"], True),
    ("def f():\n    import dsrkit.bench.store\n", ["bench", "store"], True),
    ("from .. import runs\n", ["runs"], True),
    ("import dsrkit\n", [], True),
    ("from ._checks import as_2d\n", ["metrics", "_checks"], False),
    ("from ..evaluation import *\n", ["evaluation"], True),
])
def test_the_scan_sees_every_kind_of_import(tmp_path, source, expected, upward):
    root = _fake_package(tmp_path, source)
    assert [parts for _, parts in imported(root / "metrics" / "x.py", root)] == [expected]
    assert bool(upward_imports(root)) == upward
