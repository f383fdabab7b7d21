# The two commands in README.md. Both build .venv from nothing when it is missing
# or older than pyproject.toml, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Running JupyterLab as root (containers, CI) needs --allow-root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_ARGS ?=

.PHONY: lab test bench lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "concurrency-lab needs Python 3.11 or newer; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test]"
	@touch $(STAMP)

## make lab: set up, then open the lessons in JupyterLab (LAB_ARGS="--no-browser" for a headless server)
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

## make test: set up, then run the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## make bench: the overhead and plotting benchmarks (ratios against the raw stdlib)
bench: $(STAMP)
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/plots.py

lint: $(STAMP)
	$(BIN)/ruff check concurrency_lab tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
