"""Builds recording.jsonl: the model answers the demo replays offline.

The answers are what a good model gives for this feature; they are kept as Python here so they
stay readable and reviewable. Run `python make_recording.py` after changing them.
Each line: {"purpose", "request_hash", "model", "response": {content, tool_calls, usage}}.
An empty request_hash makes the replay model answer by purpose, in order. The specify, plan
and tasks lines also carry `inputs`, the texts each stage asks about (feature.md, spec.md, …):
the replay model refuses to answer a stage for other inputs. They are found by running the
demo's pipeline on these answers once, so run this script with specflow installed.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL = "replay/unitconv-demo"
PRICE_IN, PRICE_OUT = 0.15e-6, 0.60e-6  # per token, a small model's price


def usage(prompt: int, completion: int) -> dict[str, float]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "cost_usd": round(prompt * PRICE_IN + completion * PRICE_OUT, 8),
    }


def answer(purpose: str, obj: object, prompt: int, completion: int) -> dict[str, object]:
    return {
        "purpose": purpose,
        "request_hash": "",
        "model": MODEL,
        "response": {"content": json.dumps(obj), "tool_calls": [], "usage": usage(prompt, completion)},
    }


def tools(purpose: str, calls: list[tuple[str, dict[str, object]]], prompt: int, completion: int) -> dict[str, object]:
    return {
        "purpose": purpose,
        "request_hash": "",
        "model": MODEL,
        "response": {
            "content": None,
            "tool_calls": [
                {"id": f"call_{purpose.split('/')[-1]}_{i}", "name": n, "arguments": a}
                for i, (n, a) in enumerate(calls)
            ],
            "usage": usage(prompt, completion),
        },
    }


SPEC = {
    "title": "Unit conversions for the command line",
    "summary": "A small library and command-line tool, unitconv, that converts temperatures, lengths and weights exactly and predictably, so that people stop opening a browser for everyday conversions.",
    "stories": [
        {
            "id": "US1",
            "title": "Convert a temperature",
            "priority": "P1",
            "description": "As a developer I convert a temperature between Celsius, Fahrenheit and Kelvin.",
            "why": "Temperature conversions are the most frequent request and the easiest to get subtly wrong.",
            "independent_test": "Convert 100 C to F and get 212, and -300 C is refused.",
            "scenarios": [
                {"given": "the value 100 in Celsius", "when": "it is converted to Fahrenheit", "then": "the result is 212"},
                {"given": "a temperature below absolute zero", "when": "it is converted", "then": "a clear error is reported and no number is returned"},
            ],
        },
        {
            "id": "US2",
            "title": "Convert lengths and weights",
            "priority": "P2",
            "description": "As a developer I convert lengths (m, km, mi, ft, in) and weights (g, kg, lb, oz).",
            "why": "These are the next most common conversions on the team.",
            "independent_test": "Convert 1 mi to km and 1 lb to g.",
            "scenarios": [
                {"given": "1 mile", "when": "it is converted to kilometres", "then": "the result is 1.6093"},
                {"given": "1 pound", "when": "it is converted to grams", "then": "the result is 453.5924"},
            ],
        },
        {
            "id": "US3",
            "title": "Convert from the command line",
            "priority": "P3",
            "description": "As a developer I run python -m unitconv VALUE FROM TO and read the result.",
            "why": "The command line is where the team works.",
            "independent_test": "Run python -m unitconv 100 C F and read 212 F.",
            "scenarios": [
                {"given": "the command python -m unitconv 100 C F", "when": "it runs", "then": "it prints 212 F and exits with status 0"},
                {"given": "an unknown unit", "when": "the command runs", "then": "it prints an error and exits with a non-zero status"},
            ],
        },
    ],
    "edge_cases": [
        "Temperatures below absolute zero are refused.",
        "Converting between units of different kinds (metres to grams) is refused.",
        "Unit symbols in other letter cases, such as c or KM: [NEEDS CLARIFICATION: should unit symbols be case-insensitive?]",
    ],
    "requirements": [
        {"id": "FR-001", "text": "System MUST convert temperatures between Celsius, Fahrenheit and Kelvin in both directions."},
        {"id": "FR-002", "text": "System MUST convert lengths between metres, kilometres, miles, feet and inches."},
        {"id": "FR-003", "text": "System MUST convert weights between grams, kilograms, pounds and ounces."},
        {"id": "FR-004", "text": "System MUST provide the command python -m unitconv VALUE FROM TO, which prints the converted value followed by the target unit."},
        {"id": "FR-005", "text": "System MUST refuse unknown units, mixed kinds and temperatures below absolute zero with a clear error message and a non-zero exit status."},
        {"id": "FR-006", "text": "System MUST round results to at most 4 decimal places without trailing zeros."},
    ],
    "entities": [
        {"name": "Unit", "description": "A symbol (C, km, lb) belonging to one kind: temperature, length or weight."},
    ],
    "success_criteria": [
        {"id": "SC-001", "text": "Every conversion in the acceptance scenarios gives the stated result."},
        {"id": "SC-002", "text": "A conversion answers in under 100 ms on a laptop."},
    ],
    "clarifications": [],
}

PLAN = {
    "title": "Unit conversions for the command line",
    "summary": "A pure-Python package unitconv with one module per kind of unit, a shared rounding helper and a thin command-line entry point; standard library only.",
    "technical_context": [
        {"key": "Language/Version", "value": "Python 3.10+"},
        {"key": "Primary Dependencies", "value": "none (standard library only)"},
        {"key": "Testing", "value": "unittest (python3 -m unittest)"},
        {"key": "Project Type", "value": "single library with a command-line entry point"},
    ],
    "constitution_check": [
        {"gate": "Tests first", "status": "pass", "note": "every module ships with its unittest module"},
        {"gate": "Small, reviewable changes", "status": "pass", "note": "one module per task"},
        {"gate": "No new dependency without a reason", "status": "pass", "note": "standard library only"},
        {"gate": "Security by default", "status": "pass", "note": "input validated in cli.py"},
        {"gate": "Simplicity", "status": "pass", "note": "lookup tables, no class hierarchy"},
    ],
    "structure": "unitconv/numbers.py holds ConversionError and fmt(); unitconv/temperature.py, unitconv/length.py and unitconv/weight.py each expose UNITS and a convert_* function; unitconv/cli.py parses arguments and unitconv/__main__.py runs it. Tests mirror each module under tests/.",
    "design_notes": [
        "Lengths and weights convert through a base unit (metre, gram) with exact factors; temperatures through Kelvin.",
        "Unit symbols are compared case-insensitively, as clarified.",
        "The command prints errors to stderr and exits with status 2, never a partial result.",
    ],
    "risks": [
        {"risk": "Floating-point noise such as 211.99999999999997", "mitigation": "fmt() rounds to 4 decimal places and strips trailing zeros"},
        {"risk": "Ambiguous symbols (m for metre or mile)", "mitigation": "use mi for miles and document the symbols"},
    ],
}

V = "python3 -m unittest -q"
TASKS = {
    "title": "Unit conversions for the command line",
    "phases": [
        {
            "title": "Phase 1: Foundational",
            "tasks": [
                {"id": "T001", "title": "Add ConversionError and the rounding helper fmt() in unitconv/numbers.py", "parallel": False, "story": None, "depends": [], "files": ["unitconv/numbers.py", "tests/test_numbers.py"], "covers": ["FR-006"], "verify": f"{V} tests.test_numbers", "risk": "low"},
            ],
        },
        {
            "title": "Phase 2: Conversions",
            "tasks": [
                {"id": "T002", "title": "Temperature conversions in unitconv/temperature.py", "parallel": True, "story": "US1", "depends": ["T001"], "files": ["unitconv/temperature.py", "tests/test_temperature.py"], "covers": ["FR-001", "FR-005"], "verify": f"{V} tests.test_temperature", "risk": "low"},
                {"id": "T003", "title": "Length conversions in unitconv/length.py", "parallel": True, "story": "US2", "depends": ["T001"], "files": ["unitconv/length.py", "tests/test_length.py"], "covers": ["FR-002"], "verify": f"{V} tests.test_length", "risk": "low"},
                {"id": "T004", "title": "Weight conversions in unitconv/weight.py", "parallel": True, "story": "US2", "depends": ["T001"], "files": ["unitconv/weight.py", "tests/test_weight.py"], "covers": ["FR-003"], "verify": f"{V} tests.test_weight", "risk": "low"},
            ],
        },
        {
            "title": "Phase 3: Command line",
            "tasks": [
                {"id": "T005", "title": "Command python -m unitconv VALUE FROM TO in unitconv/cli.py", "parallel": False, "story": "US3", "depends": ["T002", "T003", "T004"], "files": ["unitconv/cli.py", "unitconv/__main__.py", "tests/test_cli.py"], "covers": ["FR-004", "FR-005"], "verify": f"{V} tests.test_cli", "risk": "medium"},
                {"id": "T006", "title": "Document the command and the unit symbols in README.md", "parallel": True, "story": None, "depends": ["T005"], "files": ["README.md"], "covers": ["FR-004"], "verify": None, "risk": "low"},
            ],
        },
    ],
}

NUMBERS = '''"""Shared helpers: the error every conversion raises, and result formatting."""


class ConversionError(ValueError):
    """A conversion that has no meaningful result."""


def fmt(value: float) -> str:
    """At most 4 decimal places, no trailing zeros: 212.0 -> "212", 1.60934 -> "1.6093"."""
    text = f"{round(value, 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
'''
TEST_NUMBERS = '''import unittest

from unitconv.numbers import ConversionError, fmt


class FmtTest(unittest.TestCase):
    def test_strips_trailing_zeros(self) -> None:
        self.assertEqual(fmt(212.0), "212")
        self.assertEqual(fmt(1.5), "1.5")

    def test_rounds_to_four_places(self) -> None:
        self.assertEqual(fmt(1.609344), "1.6093")
        self.assertEqual(fmt(211.99999999999997), "212")

    def test_negative_zero(self) -> None:
        self.assertEqual(fmt(-0.00001), "0")

    def test_error_is_a_value_error(self) -> None:
        self.assertTrue(issubclass(ConversionError, ValueError))
'''
TEMPERATURE = '''"""Temperatures, through Kelvin."""

from unitconv.numbers import ConversionError

_TO_KELVIN = {
    "C": lambda v: v + 273.15,
    "F": lambda v: (v - 32) * 5 / 9 + 273.15,
    "K": lambda v: v,
}
_FROM_KELVIN = {
    "C": lambda k: k - 273.15,
    "F": lambda k: (k - 273.15) * 9 / 5 + 32,
    "K": lambda k: k,
}
UNITS = frozenset(_TO_KELVIN)


def convert_temperature(value: float, src: str, dst: str) -> float:
    src, dst = src.upper(), dst.upper()
    for unit in (src, dst):
        if unit not in UNITS:
            raise ConversionError(f"unknown temperature unit: {unit}")
    kelvin = _TO_KELVIN[src](value)
    if kelvin < 0:
        raise ConversionError(f"{value:g} {src} is below absolute zero")
    return _FROM_KELVIN[dst](kelvin)
'''
TEST_TEMPERATURE = '''import unittest

from unitconv.numbers import ConversionError
from unitconv.temperature import convert_temperature


class TemperatureTest(unittest.TestCase):
    def test_boiling_point(self) -> None:
        self.assertAlmostEqual(convert_temperature(100, "C", "F"), 212)
        self.assertAlmostEqual(convert_temperature(212, "F", "C"), 100)

    def test_kelvin_both_ways(self) -> None:
        self.assertAlmostEqual(convert_temperature(0, "C", "K"), 273.15)
        self.assertAlmostEqual(convert_temperature(0, "K", "F"), -459.67)

    def test_case_insensitive(self) -> None:
        self.assertAlmostEqual(convert_temperature(100, "c", "f"), 212)

    def test_below_absolute_zero(self) -> None:
        with self.assertRaises(ConversionError):
            convert_temperature(-300, "C", "F")

    def test_unknown_unit(self) -> None:
        with self.assertRaises(ConversionError):
            convert_temperature(1, "C", "X")
'''


def linear_module(doc: str, fn: str, kind: str, table: dict[str, str]) -> str:
    rows = "\n".join(f'    "{k}": {v},' for k, v in table.items())
    return f'''"""{doc}"""

from unitconv.numbers import ConversionError

_FACTORS = {{
{rows}
}}
UNITS = frozenset(_FACTORS)


def {fn}(value: float, src: str, dst: str) -> float:
    src, dst = src.lower(), dst.lower()
    for unit in (src, dst):
        if unit not in _FACTORS:
            raise ConversionError(f"unknown {kind} unit: {{unit}}")
    return value * _FACTORS[src] / _FACTORS[dst]
'''


LENGTH = linear_module("Lengths, through metres.", "convert_length", "length", {"m": "1.0", "km": "1000.0", "mi": "1609.344", "ft": "0.3048", "in": "0.0254"})
WEIGHT = linear_module("Weights, through grams.", "convert_weight", "weight", {"g": "1.0", "kg": "1000.0", "lb": "453.59237", "oz": "28.349523125"})
TEST_LENGTH = '''import unittest

from unitconv.length import convert_length
from unitconv.numbers import ConversionError


class LengthTest(unittest.TestCase):
    def test_mile_in_km(self) -> None:
        self.assertAlmostEqual(convert_length(1, "mi", "km"), 1.609344)

    def test_foot_in_inches(self) -> None:
        self.assertAlmostEqual(convert_length(1, "ft", "in"), 12)

    def test_case_insensitive(self) -> None:
        self.assertAlmostEqual(convert_length(1, "KM", "M"), 1000)

    def test_unknown_unit(self) -> None:
        with self.assertRaises(ConversionError):
            convert_length(1, "m", "parsec")
'''
TEST_WEIGHT = '''import unittest

from unitconv.numbers import ConversionError
from unitconv.weight import convert_weight


class WeightTest(unittest.TestCase):
    def test_pound_in_grams(self) -> None:
        self.assertAlmostEqual(convert_weight(1, "lb", "g"), 453.59237)

    def test_pound_in_ounces(self) -> None:
        self.assertAlmostEqual(convert_weight(1, "lb", "oz"), 16)

    def test_unknown_unit(self) -> None:
        with self.assertRaises(ConversionError):
            convert_weight(1, "kg", "stone")
'''
CLI = '''"""python -m unitconv VALUE FROM TO"""

import sys

from unitconv import length, temperature, weight
from unitconv.numbers import ConversionError, fmt

USAGE = "usage: python -m unitconv VALUE FROM TO   (e.g. python -m unitconv 100 C F)"
_KINDS = [
    (temperature.UNITS, temperature.convert_temperature, str.upper),
    (length.UNITS, length.convert_length, str.lower),
    (weight.UNITS, weight.convert_weight, str.lower),
]


def convert(value: float, src: str, dst: str) -> float:
    for units, fn, norm in _KINDS:
        if norm(src) in units and norm(dst) in units:
            return fn(value, src, dst)
    known = sorted(u for units, _, _ in _KINDS for u in units)
    raise ConversionError(f"cannot convert {src} to {dst} (known units: {', '.join(known)})")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        value = float(args[0])
    except ValueError:
        print(f"error: not a number: {args[0]}", file=sys.stderr)
        return 2
    try:
        result = convert(value, args[1], args[2])
    except ConversionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{fmt(result)} {args[2]}")
    return 0
'''
MAIN = '''from unitconv.cli import main

raise SystemExit(main())
'''
TEST_CLI = '''import subprocess
import sys
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "unitconv", *args], cwd=ROOT, capture_output=True, text=True
    )


class CliTest(unittest.TestCase):
    def test_boiling_point(self) -> None:
        out = run("100", "C", "F")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), "212 F")

    def test_miles(self) -> None:
        self.assertEqual(run("1", "mi", "km").stdout.strip(), "1.6093 km")

    def test_mixed_kinds_refused(self) -> None:
        out = run("1", "m", "g")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("cannot convert", out.stderr)
        self.assertEqual(out.stdout, "")

    def test_below_absolute_zero(self) -> None:
        out = run("-300", "C", "K")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("absolute zero", out.stderr)
'''
README_OLD = "A tiny unit-conversion library (the example project of specflow's demo).\n"
README_NEW = README_OLD + '''
## Usage

```
$ python -m unitconv 100 C F
212 F
$ python -m unitconv 1 mi km
1.6093 km
```

Units (any letter case): temperatures C, F, K; lengths m, km, mi, ft, in; weights g, kg, lb, oz.
Results are rounded to at most 4 decimal places.
'''

RUN_TESTS = {"command": ["python3", "-m", "unittest", "discover", "-s", "tests", "-t", "."]}


def implement(tid: str, files: dict[str, str], summary: str, tokens: int) -> list[dict[str, object]]:
    purpose = f"implement/{tid}"
    writes = [("write_file", {"path": p, "content": c}) for p, c in files.items()]
    return [
        tools(purpose, [("list_files", {"path": "."})], tokens, 40),
        tools(purpose, writes, tokens + 400, 60 + sum(len(c) for c in files.values()) // 4),
        tools(purpose, [("run", RUN_TESTS)], tokens + 900, 30),
        tools(purpose, [("finish", {"summary": summary})], tokens + 1100, 40),
    ]


def records() -> list[dict[str, object]]:
    out = [
        answer("specify", SPEC, 1450, 1180),
        answer("plan", PLAN, 2300, 760),
        answer("tasks", TASKS, 3100, 900),
    ]
    out += implement("T001", {"unitconv/numbers.py": NUMBERS, "tests/test_numbers.py": TEST_NUMBERS}, "Added ConversionError and fmt() with tests.", 1600)
    out += implement("T002", {"unitconv/temperature.py": TEMPERATURE, "tests/test_temperature.py": TEST_TEMPERATURE}, "Temperature conversions through Kelvin, refusing values below absolute zero.", 1800)
    out += implement("T003", {"unitconv/length.py": LENGTH, "tests/test_length.py": TEST_LENGTH}, "Length conversions through metres.", 1700)
    out += implement("T004", {"unitconv/weight.py": WEIGHT, "tests/test_weight.py": TEST_WEIGHT}, "Weight conversions through grams.", 1700)
    out += implement("T005", {"unitconv/cli.py": CLI, "unitconv/__main__.py": MAIN, "tests/test_cli.py": TEST_CLI}, "Command-line entry point with errors on stderr and exit status 2.", 2600)
    out.append(tools("implement/T006", [("read_file", {"path": "README.md"})], 1500, 30))
    out.append(tools("implement/T006", [("edit_file", {"path": "README.md", "old": README_OLD, "new": README_NEW})], 1700, 160))
    out.append(tools("implement/T006", [("finish", {"summary": "Documented the command and the unit symbols."})], 1900, 30))
    return out


def write(recs: list[dict[str, object]]) -> None:
    lines = [json.dumps(r, sort_keys=True) for r in recs]
    (HERE / "recording.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def stage_inputs() -> dict[str, dict[str, str]]:
    """The inputs each generation stage sees in the demo (specify, clarify, plan, tasks)."""
    import tempfile

    from specflow.artifacts import ArtifactStore
    from specflow.project import Project
    from specflow.stages.demo import run_demo

    with tempfile.TemporaryDirectory() as tmp:
        res = run_demo(Path(tmp) / "demo", lambda _line: None, implement=False)
        project = Project.discover(res.root)
        assert project is not None
        store = ArtifactStore(project, project.resolve_feature(res.feature))
        return {
            "specify": {"feature.md": (HERE / "feature.md").read_text(encoding="utf-8")},
            "plan": store.input_texts("plan"),
            "tasks": store.input_texts("tasks"),
        }


if __name__ == "__main__":
    recs = records()
    write(recs)  # answers first: the demo run that finds the inputs replays them
    inputs = stage_inputs()
    for rec in recs:
        if rec["purpose"] in inputs:
            rec["inputs"] = inputs[str(rec["purpose"])]
    write(recs)
    print(f"wrote {len(recs)} responses to recording.jsonl")
