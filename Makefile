# One-command set-up: every target below creates .venv when it is missing or stale.
# .venv holds exactly requirements.lock (every package pinned, installers included) plus the project
# itself (`-e .`, no deps), installed by scripts/lock.sh with uv, or pip where uv cannot be had
# (INSTALLER=pip forces it). The stamp is keyed on the content of pyproject.toml and requirements.lock,
# so editing either reinstalls. `make lock` resolves pyproject.toml again into requirements.lock.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)
STAMP := $(VENV)/.stamp-$(HASH)
PYTEST_ARGS ?= --durations=25
PYTEST_JOBS ?= 2

.PHONY: setup lock test lint book translations bench release check clean browser sandbox postgres notebooks bench-sandbox bench-grading bench-trace cheatsheet slides pdf reveal site shellcheck

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	VENV=$(VENV) PY=$(PY) bash scripts/lock.sh install
	@rm -f $(VENV)/.stamp-*
	@touch $@

lock:
	VENV=$(VENV) PY=$(PY) bash scripts/lock.sh compile

# Chromium, and fonts for what it prints: DejaVu, and a CJK font for the glossary's Chinese terms.
browser:
	@bash scripts/ensure-deb.sh chromium chromium fonts-dejavu-core
	@bash scripts/ensure-deb.sh '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc' fonts-wqy-microhei

sandbox:
	@bash scripts/ensure-deb.sh bwrap bubblewrap

postgres:
	@bash scripts/ensure-deb.sh '/usr/lib/postgresql/*/bin/initdb' postgresql

shellcheck:
	@bash scripts/ensure-deb.sh shellcheck shellcheck

# actionlint checks the GitHub Actions workflow offline, with shellcheck on its `run:` scripts.
lint: setup shellcheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/actionlint .github/workflows/*.yml

# Two passes (tests/conftest.py says which files and why): the files that can share the machine on
# $(PYTEST_JOBS) workers, then the EXCLUSIVE ones alone. Both always run; a pass that selects nothing
# (exit 5) fails only when the other one selected nothing too.
test: setup browser sandbox postgres reveal lint
	@set +e; \
	echo "pytest, pass 1 of 2: the shared files on $(PYTEST_JOBS) workers"; \
	LSTM_TESTS=shared $(BIN)/python -m pytest -n $(PYTEST_JOBS) $(PYTEST_ARGS); a=$$?; \
	echo "pytest, pass 2 of 2: the exclusive files, alone"; \
	LSTM_TESTS=exclusive $(BIN)/python -m pytest $(PYTEST_ARGS); b=$$?; \
	for rc in $$a $$b; do case $$rc in 0|5) ;; *) exit $$rc ;; esac; done; \
	test $$a -eq 0 -o $$b -eq 0 || exit 5

# Both editions (scripts/book.py): the English at book/_build/html/, the Chinese at book/_build/html/zh_CN/,
# the code executed once. After editing the English, `make translations` merges it into the catalogues.
book: setup cheatsheet
	$(BIN)/python -m scripts.book
	@test -f book/_build/html/index.html && test -f book/_build/html/zh_CN/index.html && \
	  echo "book: book/_build/html/index.html (English), book/_build/html/zh_CN/index.html (中文)"

translations: setup
	$(BIN)/python -m scripts.book_i18n update
	$(BIN)/python -m scripts.book_i18n check

# The workshop kit (README: "The workshop kit"), in English and Chinese. The cheat sheet is built before the
# book, which links it: lstm-shapes-cheatsheet-{a4,letter}.pdf, and .zh_CN.pdf for the Chinese edition.
cheatsheet: setup browser
	$(BIN)/python -m scripts.cheatsheet --out book/_static/cheatsheet

reveal:
	@bash scripts/ensure-reveal.sh

slides: book reveal
	$(BIN)/python -m scripts.slides --out book/_build/slides
	$(BIN)/python -m scripts.slides --lang zh_CN --out book/_build/slides/zh_CN

# lstm-shapes-book.pdf and lstm-shapes-book.zh_CN.pdf
pdf: book browser
	$(BIN)/python -m scripts.book_pdf --out book/_build/pdf

# What .github/workflows/publish.yml deploys to GitHub Pages, both languages: the book (html/ holds the
# Chinese edition in zh_CN/), slides/ (slides/zh_CN/) and the printable books (lstm-shapes-book.pdf,
# lstm-shapes-book.zh_CN.pdf).
site: book slides pdf
	rm -rf book/_build/site
	cp -r book/_build/html book/_build/site
	cp -r book/_build/slides book/_build/site/slides
	cp book/_build/pdf/lstm-shapes-book.pdf book/_build/pdf/lstm-shapes-book.zh_CN.pdf book/_build/site/
	@test -f book/_build/site/zh_CN/index.html && test -f book/_build/site/slides/zh_CN/index.html
	@echo "site: book/_build/site/index.html (English), book/_build/site/zh_CN/index.html (中文)"

notebooks: setup
	$(BIN)/python -m scripts.chapter_notebooks

bench: setup
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python -m scripts.bench

bench-sandbox: setup sandbox
	$(BIN)/python -m scripts.bench_sandbox

# the Dask/PostgreSQL checks of tests/test_course_dask.py on a class of 100 (200 submissions), then throughput
bench-grading: setup sandbox postgres
	LSTM_CLASS=100 LSTM_TESTS=exclusive $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_course_dask.py
	$(BIN)/python -m scripts.bench_grading

bench-trace: setup
	$(BIN)/python -m scripts.bench_trace

release: setup
	$(BIN)/lstm-course --root . release

check: setup
	$(BIN)/lstm-course --root . check

clean:
	rm -rf book/_build book/_static/cheatsheet .pytest_cache
