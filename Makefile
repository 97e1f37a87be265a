# The README's two commands, `make demo` and `make test`, build everything they need themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# dbt (make analytics, the dbt package's tests) has a virtual environment of its own: dbt-core's
# pathspec pin excludes the Connector SDK's.
DBT_VENV := .venv-dbt
# The environment to run tests and tools in, from the virtual environment $(1); tools/offline-bin
# first: its pipreqs wrapper spares `fivetran debug` ~12 s of PyPI retries offline.
run_env = PATH="$(CURDIR)/tools/offline-bin:$(CURDIR)/$(1)/bin:$(PATH)" DO_NOT_TRACK=1
RUN_ENV := $(call run_env,$(VENV))

.PHONY: demo connector-dir test test-fast test-py310 lint bench clean analytics

# One recipe builds each virtual environment, with the interpreter set for it below.
$(VENV)/.installed: VENV_PYTHON = $(PYTHON)
%/.installed: requirements.txt requirements-dev.txt
	$(VENV_PYTHON) -m venv $*
	$*/bin/python -m pip install --quiet --disable-pip-version-check \
		-r requirements-dev.txt -r requirements.txt
	touch $@

# DEMO_ARGS="--port 0": the emulator on a free port, where configuration.json's is taken.
demo: $(VENV)/.installed
	$(RUN_ENV) $(BIN)/python tools/demo.py $(DEMO_ARGS)

# A folder holding the connector's runtime files only, and a configuration.json to edit (never
# replaced once there), to run `fivetran debug` in: from the repository root, its requirements
# scan reads tests/, bench/ and tools/ too (seconds of failed look-ups, a traceback about duckdb).
connector-dir: $(VENV)/.installed
	$(BIN)/python deploy.py --stage-only build/connector

test: lint $(DBT_VENV)/.installed
	$(RUN_ENV) $(BIN)/python -m pytest

# The edit-and-test loop: every test but the end-to-end ones (marked e2e: tests/e2e and the
# demo's, minutes of real `fivetran debug` runs), in under a minute. `make test` and CI run them
# all, with the linter.
test-fast: $(VENV)/.installed
	$(RUN_ENV) $(BIN)/python -m pytest -m "not e2e"

# The whole suite on the oldest Python the connector supports (Fivetran deploys 3.10 to 3.14),
# whose datetime parsing is the strictest. Not part of `make test`: it needs a python3.10.
PYTHON310 ?= python3.10
VENV310 := .venv310
$(VENV310)/.installed: VENV_PYTHON = $(PYTHON310)

test-py310: $(VENV310)/.installed $(DBT_VENV)/.installed
	$(call run_env,$(VENV310)) $(VENV310)/bin/python -m pytest -p no:cacheprovider

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The dbt package (dbt/) built on the demo warehouse, one answer per model.
$(DBT_VENV)/.installed: requirements-dbt.txt
	$(PYTHON) -m venv $(DBT_VENV)
	$(DBT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dbt.txt
	touch $@

analytics: $(VENV)/.installed $(DBT_VENV)/.installed
	$(RUN_ENV) $(BIN)/python tools/analytics.py

bench: $(VENV)/.installed
	$(RUN_ENV) $(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(VENV310) $(DBT_VENV) build files
