"""`specflow describe`: observed requirements read from real files, chunked, verified."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git, run_cli, snapshot
from tests.support.schema_stub import by_schema
from tests.support.stage_stub import FAST
from tests.support.stub_llm import StubLLM

CART = '''"""The shopping cart."""


class Cart:
    def add(self, name: str, price: int) -> None:
        """Add a line; a negative price is refused."""
        if price < 0:
            raise ValueError("price must not be negative")
        self.lines.append((name, price))

    def total(self) -> int:
        return sum(p for _, p in self.lines)
'''
CLI = (
    '''import sys


def main() -> int:
    """Print the cart total; exit 2 on a bad argument."""
    if len(sys.argv) < 2:
        print("usage: shop TOTAL", file=sys.stderr)
        return 2
    return 0
'''
    + "# padding\n" * 300
)


def answer(body: dict[str, Any]) -> dict[str, Any]:
    """What a model would say about the files in this request — plus two inventions."""
    prompt = body["messages"][1]["content"]
    reqs = []
    if "### shop/cart.py" in prompt:
        reqs += [
            {
                "text": "System MUST refuse a negative price.",
                "file": "shop/cart.py",
                "symbol": "Cart.add",
            },
            {
                "text": "System MUST total the prices of all lines.",
                "file": "shop/cart.py",
                "symbol": "total",
            },
            {
                "text": "System MUST round totals to cents.",
                "file": "shop/cart.py",
                "symbol": "round_total",
            },
            {"text": "System MUST e-mail receipts.", "file": "shop/mailer.py", "symbol": "send"},
        ]
    if "### shop/cli.py" in prompt:
        reqs += [
            {
                "text": "System MUST exit 2 and print usage without an argument.",
                "file": "shop/cli.py",
                "symbol": "main",
            },
        ]
    return {"title": "Shop cart", "summary": "A cart and its command line.", "requirements": reqs}


@pytest.fixture
def shop(project: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    cfg = project / "specflow.toml"
    cfg.write_text(cfg.read_text() + FAST)
    (project / "shop").mkdir()
    (project / "shop" / "cart.py").write_text(CART)
    (project / "shop" / "cli.py").write_text(CLI)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "shop")
    with StubLLM() as server:
        for k, v in server.env().items():
            monkeypatch.setenv(k, v)
        server.default_reply = by_schema({"ObservedChunk": answer})
        yield project, server


def test_describe_writes_observed_requirements_that_exist(shop: Any) -> None:
    root, stub = shop
    res = run_cli(["describe", "shop", "--budget", "820", "-m", "openai/stub"], root)
    assert res.code == 0, res.stderr
    assert len(stub.requests) == 2  # cli.py does not fit with cart.py in 820 tokens
    assert "dropped 1 naming files not read: shop/mailer.py: send" in res.stdout
    spec = next((root / "specs").glob("001-*")) / "spec.md"
    body = spec.read_text()
    observed = re.findall(r"\*\*(FR-\d+)\*\*: .*?observed in `([^`]+)`, `([^`]+)`", body)
    assert [o[0] for o in observed] == ["FR-001", "FR-002", "FR-003", "FR-004"]
    for _, file, _symbol in observed:
        assert (root / file).is_file()
    assert "mailer" not in body
    # a symbol the file does not have is kept, as an open question for a person
    assert "[NEEDS CLARIFICATION: round_total is not in shop/cart.py; keep this?]" in body
    assert "## Files Read\n\n- `shop/cart.py`\n- `shop/cli.py`\n" in body
    assert "files:\n    - shop/cart.py\n    - shop/cli.py" in body  # front matter
    assert run_cli(["check"], root).code == 0
    assert run_cli(["check", "--strict"], root).code == 1  # the open question
    lint = json.loads(run_cli(["lint", "--json"], root).stdout)
    assert [f["rule"] for f in lint["findings"]] == ["open-clarification"]


def test_large_file_is_split_by_lines(shop: Any) -> None:
    root, stub = shop
    res = run_cli(["describe", "shop/cli.py", "--budget", "500", "-m", "openai/stub"], root)
    assert res.code == 0, res.stderr
    prompts = [r["messages"][1]["content"] for r in stub.requests]
    assert len(prompts) >= 2
    assert "### shop/cli.py (lines 1-" in prompts[0]
    assert all(len(p) < 500 * 4 + 6000 for p in prompts)


def test_bad_paths_are_refused_before_any_call(shop: Any, tmp_path: Path) -> None:
    root, stub = shop
    before = snapshot(root)
    for args in (["nope.py"], [str(tmp_path)], []):
        res = run_cli(["describe", *args, "-m", "openai/stub"], root)
        assert res.code == 2, (args, res.stderr)
    assert stub.requests == [] and snapshot(root) == before
