# The two commands a new user needs (see README):
#   make run    set up, render the BN graph to bn_graph.svg, print the comparison table
#   make test   set up, lint (ruff), type-check (mypy), run the test suite on the plain kernels
#               (AUTOGRAD_BN_PLAIN=1), then on the fast ones
# Set-up installs the Graphviz `dot` program (and for tests Chromium) with apt-get when missing,
# then makes a virtual environment in .venv with the project and its test tools.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup run test lint images bench why clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	bash .ci/system-deps venv graphviz
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: setup
	$(BIN)/autograd-bn graph -o bn_graph.svg
	$(BIN)/autograd-bn compare

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: setup
	bash .ci/system-deps chromium
	$(BIN)/ruff check .
	$(BIN)/mypy
	AUTOGRAD_BN_PLAIN=1 $(BIN)/python -m pytest -q -p no:cacheprovider
	$(BIN)/python -m pytest

images: setup
	$(BIN)/autograd-bn graph -o docs/bn_graph.png
	$(BIN)/autograd-bn graph -o docs/bn_graph.svg
	$(BIN)/python examples/small_network.py docs
	$(BIN)/python examples/backprop_ninja.py docs > /dev/null
	bash .ci/system-deps chromium
	$(BIN)/python -m tests.browser

bench: setup
	$(BIN)/python -m pip install --quiet -e '.[peers]' \
	  || echo "make bench: could not install the peers extra (autograd, jax, micrograd): their rows are skipped"
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/render.py

why: setup
	$(BIN)/python benchmarks/why.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis bn_graph.svg bn_report.html
