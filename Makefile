# Two commands are all the set-up there is: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DEMO   := .demo

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[bench]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	@mkdir -p $(DEMO)
	RECON_HOME=$(DEMO) $(BIN)/recon run sample_data/invoice.csv sample_data/invoice-eur.csv \
		sample_data/subscriptions.csv --changes sample_data/changes.csv --xlsx $(DEMO)/recon.xlsx \
		--csv $(DEMO)/recon.csv --json $(DEMO)/recon.json --min-margin 10 --as-of 2026-11-09 --fail-on never
	RECON_HOME=$(DEMO) $(BIN)/recon explain G000123456-3
	RECON_HOME=$(DEMO) $(BIN)/recon explain G000123456-46
	RECON_HOME=$(DEMO) $(BIN)/recon run sample_data/2026-11/invoice.csv sample_data/2026-11/invoice-eur.csv \
		sample_data/2026-11/subscriptions.csv --changes sample_data/2026-11/changes.csv --as-of 2026-12-09 \
		--xlsx $(DEMO)/recon-november.xlsx --min-margin 10 --fail-on never --quiet
	RECON_HOME=$(DEMO) $(BIN)/recon diff
	RECON_HOME=$(DEMO) $(BIN)/recon runs

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

# Months of these sizes are generated once under bench/out/; the report goes to bench/results.md.
# `make bench SIZES=100000 ROUNDS=1` for a quick look.
SIZES  ?= 100000 1000000 3000000
ROUNDS ?= 3
bench: $(VENV)/.installed-bench
	$(BIN)/python bench/bench.py $(SIZES) --rounds $(ROUNDS)

clean:
	rm -rf $(VENV) $(DEMO) .recon .pytest_cache
