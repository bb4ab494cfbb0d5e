"""`specflow report`: one self-contained HTML file, checked as text and in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from specflow.observe.report import CSP
from specflow.observe.report.data import layered_layout
from tests.conftest import run_cli
from tests.observe.conftest import SECRET

# CI: `apt-get install -y chromium` (Debian/Ubuntu); without it these tests skip.
CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser")) if p), None)
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH")


def _report(repo: Path, out: Path) -> str:
    res = run_cli(["report", "-o", str(out)], repo)
    assert res.code == 0, res.stderr
    return out.read_text(encoding="utf-8")


def _assert_self_contained(html: str) -> None:
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(?:https?:)?//", html, re.I)
    assert "<link" not in html.lower()


def test_failing_run_report_has_failures_transcripts_and_no_secret(
    failing_run: Path, tmp_path: Path
) -> None:
    html = _report(failing_run, tmp_path / "r.html")
    _assert_self_contained(html)
    assert SECRET not in html  # the agent printed it into its log; the report redacts
    assert "[REDACTED]" in html
    assert 'id="sec-failures"' in html and "T002 failed" in html
    assert "add(1, 2) returned -1, expected 3" in html
    assert html.count("<title>T002 attempt 2: agent ") == 1  # the retry as its own segment
    assert html.count('class="node blocked"') == 2 and html.count('class="node failed"') == 1
    assert "return a - b" in html  # the failed task's diff


def _chromium(url: str, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={tmp / 'profile'}",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@needs_chromium
def test_demo_report_renders_in_headless_chromium(demo_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    html = _report(demo_run, out)
    _assert_self_contained(html)
    dom = _chromium(out.as_uri(), tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = dom.stdout
    assert 'data-js="ready"' in rendered  # the inline script ran under the CSP
    assert '<svg id="timeline"' in rendered
    assert rendered.count('class="seg agent"') == 6
    assert rendered.count('class="node merged"') == 6
    assert 'merged <b class="count">(6)</b>' in rendered  # counted by the script
    for kind in ("per-task", "per-model", "per-stage"):
        assert f'data-kind="{kind}"' in rendered
    assert re.search(r"\$0\.00\d\d", rendered)
    png = tmp_path / "shot.png"
    shot = _chromium(out.as_uri(), tmp_path, f"--screenshot={png}", "--window-size=1400,1500")
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_layered_layout_orders_layers_by_dependencies() -> None:
    deps = {"A": [], "B": ["A"], "C": ["A"], "D": ["B", "C"], "E": []}
    lay = layered_layout(["A", "B", "C", "D", "E"], deps)
    assert lay.layers[0] == ["A", "E"] and sorted(lay.layers[1]) == ["B", "C"]
    assert lay.layers[2] == ["D"] and ("B", "D") in lay.edges
