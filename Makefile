# The README's two commands, `make demo` and `make test`, build everything they need themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# tools/offline-bin first: its pipreqs wrapper spares `fivetran debug` ~12 s of PyPI retries offline.
RUN_ENV := PATH="$(CURDIR)/tools/offline-bin:$(CURDIR)/$(BIN):$(PATH)" DO_NOT_TRACK=1

.PHONY: demo test lint bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-r requirements-dev.txt -r requirements.txt
	touch $@

demo: $(VENV)/.installed
	$(RUN_ENV) $(BIN)/python tools/demo.py

test: lint
	$(RUN_ENV) $(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed
	$(RUN_ENV) $(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build files
