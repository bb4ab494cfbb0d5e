"""A compact, bounded map of the repository for prompts: files and their key symbols."""

from __future__ import annotations

import ast
import re
from pathlib import Path

SKIP_DIRS = {".git", ".specflow", ".venv", "venv", "node_modules", "__pycache__", "dist", "build"}
JS_SYMBOL = re.compile(
    r"^\s*(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\*?|class|interface|type|const)\s+([A-Za-z_$][\w$]*)",
    re.M,
)
GO_SYMBOL = re.compile(r"^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)|^type\s+([A-Za-z_]\w*)", re.M)
RUST_SYMBOL = re.compile(r"^\s*(?:pub\s+)?(?:fn|struct|enum|trait)\s+([A-Za-z_]\w*)", re.M)
MAX_SYMBOL_FILE_BYTES = 200_000


def list_files(root: Path, exclude: tuple[str, ...] = ()) -> list[str]:
    """Tracked and untracked-but-not-ignored files (git), else a plain walk."""
    from specflow.workspace.git import Git

    try:
        out = Git(root).run(
            "ls-files", "--cached", "--others", "--exclude-standard", "-z", check=False
        )
        if out.returncode == 0:
            files = sorted({f for f in out.stdout.split("\0") if f})
            return [f for f in files if not _excluded(f, exclude)]
    except FileNotFoundError:
        pass
    found: list[str] = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in SKIP_DIRS for part in rel.parts) or not path.is_file():
            continue
        if not _excluded(rel.as_posix(), exclude):
            found.append(rel.as_posix())
    return found


def _excluded(rel: str, exclude: tuple[str, ...]) -> bool:
    parts = rel.split("/")
    if any(p in SKIP_DIRS for p in parts):
        return True
    return any(rel == e or rel.startswith(e.rstrip("/") + "/") for e in exclude)


def symbols(path: Path) -> list[str]:
    try:
        if path.stat().st_size > MAX_SYMBOL_FILE_BYTES:
            return []
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    suffix = path.suffix
    if suffix == ".py":
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return []
        names: list[str] = []
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.append(f"def {node.name}")
            elif isinstance(node, ast.ClassDef):
                methods = [
                    n.name
                    for n in node.body
                    if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and not n.name.startswith("_")
                ]
                names.append(
                    f"class {node.name}" + (f"({', '.join(methods[:6])})" if methods else "")
                )
        return names
    if suffix in {".js", ".jsx", ".ts", ".tsx", ".mjs"}:
        return [m.group(1) for m in JS_SYMBOL.finditer(text)]
    if suffix == ".go":
        return [m.group(1) or m.group(2) for m in GO_SYMBOL.finditer(text)]
    if suffix == ".rs":
        return [m.group(1) for m in RUST_SYMBOL.finditer(text)]
    return []


def repo_map(
    root: Path, *, max_chars: int = 6000, max_files: int = 400, exclude: tuple[str, ...] = ()
) -> str:
    """One line per file (`path: symbols`), most informative first, cut at the bounds."""
    files = list_files(root, exclude)
    lines: list[str] = []
    used = 0
    for i, rel in enumerate(files):
        if i >= max_files:
            lines.append(f"… and {len(files) - i} more files")
            break
        syms = symbols(root / rel)
        line = rel + (f": {', '.join(syms[:12])}" if syms else "")
        if used + len(line) + 1 > max_chars:
            lines.append(f"… and {len(files) - i} more files")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines) if lines else "(empty repository)"
