# One-command set-up: every target below creates .venv when it is missing or stale.
# The stamp is keyed on the content of pyproject.toml, so editing it reinstalls.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell sha256sum pyproject.toml | cut -c1-16)
STAMP := $(VENV)/.stamp-$(HASH)
PYTEST_ARGS ?=

.PHONY: setup test lint book bench release check clean browser sandbox postgres notebooks bench-sandbox bench-grading

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77" wheel
	$(BIN)/python -m pip install --quiet -e '.[course,dev]'
	@rm -f $(VENV)/.stamp-*
	@touch $@

browser:
	@bash scripts/ensure-deb.sh chromium chromium fonts-dejavu-core

sandbox:
	@bash scripts/ensure-deb.sh bwrap bubblewrap

postgres:
	@bash scripts/ensure-deb.sh '/usr/lib/postgresql/*/bin/initdb' postgresql

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup browser sandbox postgres lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

book: setup
	$(BIN)/jupyter-book build book --warningiserror --keep-going
	@test -f book/_build/html/index.html && echo "book: book/_build/html/index.html"

notebooks: setup
	$(BIN)/python scripts/chapter_notebooks.py

bench: setup
	$(BIN)/python scripts/bench.py

bench-sandbox: setup sandbox
	$(BIN)/python scripts/bench_sandbox.py

bench-grading: setup sandbox
	$(BIN)/python scripts/bench_grading.py

release: setup
	$(BIN)/lstm-course release

check: setup
	$(BIN)/lstm-course check

clean:
	rm -rf book/_build .pytest_cache
