"""Precision of `specflow lint`: false positives per 100 requirements on a labelled corpus.

    python benchmarks/lint_precision.py [CORPUS_DIR] [LABELS_TOML]

Every finding must carry a hand label (tp: a reviewer would want the spec changed; fp: they
would not); an unlabelled finding or a label without a finding is an error, so the figure in
docs/lint.md cannot drift from what the linter does. Defaults: tests/lint/corpus.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Precision:
    files: int
    requirements: int
    findings: int
    false_positives: int
    per_rule: dict[str, tuple[int, int]]  # rule -> (tp, fp)
    unlabelled: list[str]
    stale_labels: list[str]

    @property
    def fp_per_100(self) -> float:
        return 100.0 * self.false_positives / max(self.requirements, 1)


def measure(corpus: Path, labels_file: Path) -> Precision:
    from specflow.lint import sentence
    from specflow.lint.checks import lint_text
    from specflow.lint.document import parse
    from specflow.lint.run import settings_for

    labels = {
        (e["file"], e["line"], e["rule"]): e["label"]
        for e in tomllib.loads(labels_file.read_text(encoding="utf-8")).get("finding", [])
    }
    settings = settings_for(None)
    files = sorted(p for p in corpus.glob("*.md"))
    requirements = 0
    seen: set[tuple[str, int, str]] = set()
    per_rule: dict[str, Counter[str]] = {}
    unlabelled: list[str] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        requirements += sum(
            1 for s in parse(text).statements if s.kind == "requirement" and sentence.latin(s.text)
        )
        for f in lint_text(text, path.name, settings):
            key = (path.name, f.line, f.rule)
            label = labels.get(key)
            if label is None:
                unlabelled.append(f"{path.name}:{f.line} {f.rule}")
                continue
            seen.add(key)
            per_rule.setdefault(f.rule, Counter())[label] += 1
    stale = [f"{k[0]}:{k[1]} {k[2]}" for k in labels if k not in seen]
    fps = sum(c["fp"] for c in per_rule.values())
    return Precision(
        files=len(files),
        requirements=requirements,
        findings=sum(sum(c.values()) for c in per_rule.values()),
        false_positives=fps,
        per_rule={r: (c["tp"], c["fp"]) for r, c in sorted(per_rule.items())},
        unlabelled=unlabelled,
        stale_labels=stale,
    )


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else ROOT / "tests" / "lint" / "corpus"
    labels = Path(argv[1]) if len(argv) > 1 else corpus / "labels.toml"
    p = measure(corpus, labels)
    for rule, (tp, fp) in p.per_rule.items():
        print(f"{rule:26} tp {tp:3}  fp {fp:3}")
    print(
        f"{p.files} files, {p.requirements} requirements, {p.findings} findings, "
        f"{p.false_positives} false positives: {p.fp_per_100:.1f} per 100 requirements"
    )
    for item in p.unlabelled:
        print(f"unlabelled: {item}")
    for item in p.stale_labels:
        print(f"label without a finding: {item}")
    return 1 if p.unlabelled or p.stale_labels else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
