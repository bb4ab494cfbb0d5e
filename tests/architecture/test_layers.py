"""Imports point down: each package of specflow imports only from the layers below its own.

Every import counts — module level, inside functions (lazy) and under TYPE_CHECKING. The
layers, top first, are the ones drawn in docs/architecture.md; a test below checks the drawing
lists the same packages in the same order.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SPECFLOW = ROOT / "specflow"

# Top first. A package (or top-level module) may import from any layer below its own, never
# from its own layer's other members or from above.
LAYERS: list[list[str]] = [
    ["__main__"],
    ["cli"],
    ["mcp"],
    ["stages", "github"],
    ["executors", "bugfix"],
    ["engine"],
    ["observe"],
    ["review", "importers", "lint"],
    ["agents", "artifacts"],
    ["formats"],
    ["templating", "llm"],
    ["library", "workspace"],
    ["project", "schemas", "runs", "sandbox"],
    ["config", "domain", "inputstore", "secretscan"],
    ["fsutil", "flock", "redact", "resources", "extras", "specflow"],
    ["errors"],
]
LEVEL = {name: len(LAYERS) - i for i, layer in enumerate(LAYERS) for name in layer}


def unit_of(module: str) -> str | None:
    """`specflow.engine.runner` -> engine; `specflow.errors` -> errors; `specflow` -> specflow."""
    parts = module.split(".")
    if parts[0] != "specflow":
        return None
    return parts[1] if len(parts) > 1 else "specflow"


def imports_of(path: Path, module: str) -> list[tuple[str, int]]:
    """(imported module, line) for every import in the file, at any depth."""
    out: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package this file is in
                pkg = module.split(".")
                if path.name != "__init__.py":
                    pkg = pkg[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join([*pkg, base] if base else pkg)
            out.append((base, node.lineno))
            if base == "specflow":  # `from specflow import x`: x may be a package
                out += [(f"specflow.{a.name}", node.lineno) for a in node.names]
    return out


def edges(root: Path) -> list[tuple[str, str, str]]:
    """(importing unit, imported unit, where) between units, lazy imports included."""

    def known(unit: str) -> bool:
        return unit == "specflow" or (root / unit).is_dir() or (root / f"{unit}.py").is_file()

    found: list[tuple[str, str, str]] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        src = unit_of(module)
        for target, line in imports_of(path, module):
            dst = unit_of(target)
            if src and dst and dst != src and known(dst):
                found.append((src, dst, f"{rel}.py:{line}"))
    return found


def violations(found: list[tuple[str, str, str]]) -> list[str]:
    bad = []
    for src, dst, where in found:
        if src not in LEVEL or dst not in LEVEL:
            bad.append(f"{where}: {src} -> {dst}: add the package to LAYERS")
        elif LEVEL[dst] >= LEVEL[src]:
            bad.append(f"{where}: {src} imports {dst}, which is not below it")
    return bad


def units(root: Path) -> set[str]:
    out = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    out |= {p.stem for p in root.glob("*.py") if p.stem != "__init__"}
    return out | {"specflow"}


def test_every_package_has_a_layer() -> None:
    assert units(SPECFLOW) == set(LEVEL)


def test_imports_point_down() -> None:
    found = edges(SPECFLOW)
    assert len(found) > 100  # the scan sees the code, lazy imports included
    assert violations(found) == []


def test_a_lazy_import_upwards_is_caught(tmp_path: Path) -> None:
    pkg = tmp_path / "specflow"
    for name in ("engine", "stages", "runs"):
        (pkg / name).mkdir(parents=True)
        (pkg / name / "__init__.py").write_text("")
    (pkg / "engine" / "x.py").write_text(
        "from specflow.runs.events import EventLog\n"
        "def f():\n"
        "    from specflow.stages.common import open_model\n"
        "    import specflow.stages.implement\n"
    )
    (pkg / "runs" / "y.py").write_text("from ..engine import x\n")
    found = edges(pkg)
    assert violations(found) == [
        "specflow/engine/x.py:3: engine imports stages, which is not below it",
        "specflow/engine/x.py:4: engine imports stages, which is not below it",
        "specflow/runs/y.py:1: runs imports engine, which is not below it",
    ]


def test_the_architecture_drawing_lists_the_layers_in_order() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    drawing = text.split("```", 2)[1]
    rows = [ln for ln in drawing.splitlines() if re.match(r"^\S", ln)]
    drawn = [re.findall(r"\w+", row.split("  ")[0]) for row in rows]
    named = {"__init__": "specflow"}  # the package's own __init__.py (its version)
    assert [[named.get(n, n) for n in row if n != "py"] for row in drawn] == LAYERS
