"""Rendering a model and parsing the result gives the same model back (DESIGN.md §4)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from specflow.domain.plan import ContextItem, GateCheck, Plan, Risk
from specflow.domain.spec import (
    Clarification,
    Entity,
    Requirement,
    Scenario,
    Spec,
    SuccessCriterion,
    UserStory,
)
from specflow.domain.tasks import Phase, Task, TaskList
from specflow.formats import parse_artifact, render_artifact
from specflow.formats.tasks_md import infer_files


def _tidy(text: str) -> None:
    """Rendered Markdown is tidy: no runs of blank lines, no trailing spaces, one final newline."""
    assert "\n\n\n" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert all(line == line.rstrip() for line in text.split("\n"))


SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Realistic prose: words of letters and digits, punctuation only inside a word, so no field
# starts or ends with Markdown syntax and none contains the separators the formats use.
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éüßñ"
core = st.text(ALNUM, min_size=1, max_size=8)
word = st.one_of(
    core,
    st.tuples(core, st.sampled_from(".'/-"), st.text(ALNUM[:62], min_size=1, max_size=5)).map(
        "".join
    ),
)
line = st.lists(word, min_size=1, max_size=8).map(" ".join)
opt_line = st.one_of(st.just(""), line)
paragraphs = st.lists(line, min_size=1, max_size=3).map("\n\n".join)
opt_paragraphs = st.one_of(st.just(""), paragraphs)


def _ids(prefix: str, width: int = 3, max_size: int = 5) -> st.SearchStrategy[list[str]]:
    return st.lists(st.integers(1, 999), unique=True, max_size=max_size).map(
        lambda ns: [f"{prefix}{n:0{width}d}" for n in ns]
    )


# -- spec ---------------------------------------------------------------------------------

scenario = st.builds(Scenario, given=line, when=line, then=line)


@st.composite
def stories(draw: st.DrawFn) -> list[UserStory]:
    numbers = draw(st.lists(st.integers(1, 30), unique=True, max_size=4))
    return [
        UserStory(
            id=f"US{n}",
            title=draw(line),
            priority=draw(st.sampled_from(["P1", "P2", "P3", "P10"])),
            description=draw(opt_paragraphs),
            why=draw(opt_line),
            independent_test=draw(opt_line),
            scenarios=draw(st.lists(scenario, max_size=3)),
        )
        for n in numbers
    ]


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    return Spec(
        title=draw(line),
        summary=draw(opt_paragraphs),
        stories=draw(stories()),
        edge_cases=draw(st.lists(line, max_size=3)),
        requirements=[Requirement(id=i, text=draw(line)) for i in draw(_ids("FR-"))],
        entities=draw(st.lists(st.builds(Entity, name=line, description=opt_line), max_size=3)),
        success_criteria=[SuccessCriterion(id=i, text=draw(line)) for i in draw(_ids("SC-"))],
        clarifications=draw(
            st.lists(st.builds(Clarification, question=line, answer=line), max_size=3)
        ),
    )


@SETTINGS
@given(specs())
def test_spec_round_trip(spec: Spec) -> None:
    text = render_artifact("spec", spec)
    _tidy(text)
    assert parse_artifact("spec", text).model_dump() == spec.model_dump()


# -- plan ---------------------------------------------------------------------------------

structure = st.one_of(
    st.just(""),
    paragraphs,
    paragraphs.map(lambda p: f"```text\nsrc/\n## not a heading\n└── cli/\n```\n\n{p}"),
)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    return Plan(
        title=draw(line),
        summary=draw(opt_paragraphs),
        technical_context=draw(
            st.lists(st.builds(ContextItem, key=line, value=opt_line), max_size=5)
        ),
        constitution_check=draw(
            st.lists(
                st.builds(
                    GateCheck,
                    gate=line,
                    status=st.sampled_from(["pass", "fail", "n/a"]),
                    note=opt_line,
                ),
                max_size=4,
            )
        ),
        structure=draw(structure),
        design_notes=draw(st.lists(line, max_size=3)),
        risks=draw(st.lists(st.builds(Risk, risk=line, mitigation=opt_line), max_size=3)),
    )


@SETTINGS
@given(plans())
def test_plan_round_trip(plan: Plan) -> None:
    text = render_artifact("plan", plan)
    _tidy(text)
    assert parse_artifact("plan", text).model_dump() == plan.model_dump()


# -- tasks --------------------------------------------------------------------------------

segment = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=6)
path = st.tuples(
    st.lists(segment, min_size=1, max_size=3), st.sampled_from(["py", "ts", "md"])
).map(lambda p: "/".join(p[0]) + "." + p[1])
title = st.one_of(line, st.tuples(line, path).map(lambda lp: f"{lp[0]} in {lp[1]}"))


@st.composite
def tasks(draw: st.DrawFn, tid: str) -> Task:
    t = draw(title)
    files = draw(st.one_of(st.just(infer_files(t)), st.just([]), st.lists(path, max_size=3)))
    return Task(
        id=tid,
        title=t,
        done=draw(st.booleans()),
        parallel=draw(st.booleans()),
        story=draw(st.one_of(st.none(), st.integers(1, 12).map(lambda n: f"US{n}"))),
        depends=draw(st.one_of(st.none(), _ids("T", max_size=3))),
        files=files,
        covers=draw(_ids("FR-", max_size=3)),
        verify=draw(st.one_of(st.none(), line)),
        risk=draw(st.sampled_from([None, "low", "medium", "high"])),
        model=draw(st.one_of(st.none(), word)),
    )


@st.composite
def tasklists(draw: st.DrawFn) -> TaskList:
    sizes = draw(st.lists(st.integers(1, 4), max_size=4))
    ids = iter(
        draw(st.lists(st.integers(1, 9999), unique=True, min_size=sum(sizes), max_size=sum(sizes)))
    )
    phases = [
        Phase(title=draw(line), tasks=[draw(tasks(f"T{next(ids):03d}")) for _ in range(size)])
        for size in sizes
    ]
    return TaskList(title=draw(line), phases=phases)


@SETTINGS
@given(tasklists())
def test_tasks_round_trip(tl: TaskList) -> None:
    text = render_artifact("tasks", tl)
    _tidy(text)
    assert parse_artifact("tasks", text).model_dump() == tl.model_dump()
