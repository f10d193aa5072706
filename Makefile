# Everything a fresh clone needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/dsr reconstruct lorenz63

# Two pytest-xdist workers, each test file (or group of files, tests/conftest.py) in one of them, module fixtures
# built once; TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

clean:
	rm -rf $(VENV) build src/*.egg-info

# Mutation testing of checkpoint and member selection, divergence status, `reconstruct` and the neural baselines'
# trainer (Cosmic Ray; about an hour on 2 cores, not part of `make test`): see benchmarks/mutation/README.md.
.PHONY: mutation
mutation: $(VENV)/.installed-test
	$(BIN)/python -m pip install -q -e ".[test,mutation]"
	PYTHON=$(abspath $(BIN)/python) benchmarks/mutation/run.sh $(MUTATION_ARGS)

# The documentation site (MkDocs): `make docs` builds it into site/ with warnings as errors (tests/test_docs.py
# does the same in `make test`); `.venv/bin/mkdocs serve` serves it at http://127.0.0.1:8000.
.PHONY: docs
docs: $(VENV)/.installed-test
	$(BIN)/mkdocs build --strict
