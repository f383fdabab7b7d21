# The two commands in README.md. Both build .venv from nothing when it is missing
# or older than pyproject.toml, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# Running JupyterLab as root (containers, CI) needs --allow-root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_ARGS ?=

.PHONY: lab test bench lessons lint clean demo slides

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "concurrency-lab needs Python 3.11 or newer; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test,dask]"
	@touch $(STAMP)

## make lab: set up, then open the lessons in JupyterLab (LAB_ARGS="--no-browser" for a headless server)
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --notebook-dir=notebooks $(ROOT_FLAG) $(LAB_ARGS)

## make demo: set up, then serve the explorers of every lesson (LESSON=02: of one; LARGE=1: large text) on a page with no code (Voila, 127.0.0.1, a token)
demo: $(STAMP)
	$(BIN)/concurrency-lab demo $(or $(LESSON),all) $(if $(LARGE),--large,)

## make slides: set up, then write every lesson as one HTML file of slides that needs no network, into slides/
slides: $(STAMP)
	mkdir -p slides
	for nb in notebooks/[0-9][0-9]_*.ipynb; do $(BIN)/concurrency-lab slides $$nb --out slides/$$(basename $${nb%.ipynb}).html || exit 1; done

## make test: set up, then run the whole test suite
test: $(STAMP)
	$(BIN)/python -m pytest

## make bench: the overhead and plotting benchmarks (ratios against the raw stdlib)
bench: $(STAMP)
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/plots.py
	$(BIN)/python benchmarks/watch.py
	$(BIN)/python benchmarks/gil_release.py
	$(BIN)/python benchmarks/where_time_goes.py
	$(BIN)/python benchmarks/call_paths.py

## make lessons: sync each notebooks/NN_topic.md into its .ipynb (jupytext), execute it (SMALL mode, as CI checks it), strip the solutions' outputs, sync again
lessons: $(STAMP)
	cd notebooks && for md in [0-9][0-9]_*.md; do ../$(BIN)/jupytext --sync $$md || exit 1; done
	cd notebooks && for md in [0-9][0-9]_*.md; do \
		CONCURRENCY_LAB_SMALL=1 ../$(BIN)/jupyter nbconvert --to notebook --execute --inplace $${md%.md}.ipynb || exit 1; \
		../$(BIN)/python ../tools/strip_solutions.py $${md%.md}.ipynb || exit 1; \
		../$(BIN)/jupytext --sync $$md || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check concurrency_lab tests benchmarks tools conftest.py setup.py

clean:
	rm -rf $(VENV) .venv-py3.* .pytest_cache artifacts slides
