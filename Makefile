# The two commands a user needs: `make demo` and `make test`. Both set up .venv themselves.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export LITELLM_LOCAL_MODEL_COST_MAP ?= True

.PHONY: demo test lint typecheck unit check-specs bench clean

CORE := $(VENV)/.core-stamp

# The demo needs the package only; the tests also need the dev tools and the extras. The ray
# extra (~12 s, ~280 MB) lets tests/ray start a local Ray cluster (pytest -m 'not ray' skips
# those tests); the otel extra lets tests/observe check the exported spans.
$(CORE): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $(CORE)

$(STAMP): $(CORE)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,ray,otel]'
	touch $(STAMP)

install: $(STAMP)

demo: $(CORE)
	$(VENV)/bin/specflow demo

test: $(STAMP) lint typecheck unit check-specs

lint: $(STAMP)
	$(PY) -m ruff check specflow tests benchmarks tools
	$(PY) -m ruff format --check specflow tests benchmarks tools

typecheck: $(STAMP)
	$(PY) -m mypy

unit: $(STAMP)
	$(PY) -m pytest -n 2 -p no:cacheprovider --durations=10

check-specs: $(STAMP)
	$(VENV)/bin/specflow check

# Import times are measured as users see them: with bytecode caching on.
bench: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(PY) benchmarks/startup.py
	env -u PYTHONDONTWRITEBYTECODE $(PY) benchmarks/implement_overhead.py --quick

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
