# The two commands of the README: `make run` (build if needed, then serve on http://127.0.0.1:8000)
# and `make test`. Both make their own virtual environment.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run build test docs bench bench-smoke load-test load-test-smoke clean

$(BIN)/statecraft: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

HOST ?= 127.0.0.1
PORT ?= 8000

run: $(BIN)/statecraft
	$(BIN)/statecraft serve --host $(HOST) --port $(PORT)

build: $(BIN)/statecraft
	$(BIN)/statecraft build

test: $(BIN)/statecraft
	$(BIN)/python -m pytest

bench: $(BIN)/statecraft
	$(BIN)/python benchmarks/bench.py --sizes 100k,1M,10M

bench-smoke: $(BIN)/statecraft
	$(BIN)/python benchmarks/bench.py --smoke

load-test: $(BIN)/statecraft
	$(BIN)/python benchmarks/load_test.py --seconds 20 --clients 8,32 --out benchmarks/results/load-test.json \
	    --report docs/benchmarks-load.md

load-test-smoke: $(BIN)/statecraft
	$(BIN)/python benchmarks/load_test.py --seconds 5 --clients 8

docs: $(BIN)/statecraft
	$(BIN)/statecraft docs

clean:
	rm -rf dist build *.egg-info
