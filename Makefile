# fairshare — two commands for users: `make demo` and `make test`.
# Needs only Python >= 3.11 and make; everything else is installed into .venv.

# the first interpreter that runs and is 3.11+ (a pyenv shim may exist for one that does not)
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench lint golden docs clean serve chromium loadtest

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "fairshare needs Python 3.11 or newer (python3 on PATH)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

## demo: install, then run the whole flow on the synthetic district into demo-out/
demo: $(STAMP)
	$(BIN)/fairshare demo --out demo-out

## test: install, then run the whole test suite (the browser tests need Chromium: installed here when we can)
test: $(STAMP) chromium
	$(BIN)/pytest

## serve: install, then start the workbench on the demo data at http://127.0.0.1:8000/
serve: $(STAMP)
	$(BIN)/fairshare serve

# Debian's Chromium for the browser tests: installed with apt-get when it is missing and we are root
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "Chromium is not installed: the browser tests will be skipped (apt-get install chromium)"

## bench: the engine on 100,000 and 1,000,000 generated schools beside a pandas baseline; ledger import on 100,000 and 1,000,000 rows; the simulator's preview latency
bench: $(STAMP)
	$(BIN)/python bench/bench_engine.py
	$(BIN)/python bench/bench_ledger.py
	$(BIN)/python bench/bench_simulator.py

## loadtest: 50 signed-in users on the grant draw-down flow (and simulator previews) against uvicorn on loopback; SQLite, or PostgreSQL with FAIRSHARE_DATABASE_URL (not part of `make test`)
loadtest: $(STAMP)
	$(BIN)/python bench/loadtest.py

## lint: ruff and mypy --strict
lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

## golden: regenerate golden test outputs (review the diff before committing)
golden: $(STAMP)
	FAIRSHARE_UPDATE_GOLDEN=1 $(BIN)/pytest tests/test_golden.py tests/ledger/test_benchmark.py

## docs: regenerate docs/cli.md from the command-line app
docs: $(STAMP)
	FAIRSHARE_UPDATE_DOCS=1 $(BIN)/pytest tests/test_cli_reference.py

clean:
	rm -rf demo-out bench-out .pytest_cache .mypy_cache .ruff_cache
