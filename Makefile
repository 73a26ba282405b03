# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when needed,
# install the project into it, and are safe to run again.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= runs/demo
THREADS := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: demo test install graphviz lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch: the CPU wheel this machine provides; pyproject.toml states the supported range
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) graphviz

# Graphviz's `dot` draws the automata; installed with apt as root, otherwise explained.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz; \
	  else \
	    echo "note: Graphviz's 'dot' is not installed: pictures will be skipped."; \
	    echo "      Install it with 'sudo apt-get install graphviz' or 'brew install graphviz'."; \
	  fi; }

# The main job on the shipped example: validate, render, sample, train, compare, report.
# Running it again resumes the same run folder (nothing is recomputed that is already there).
demo: install
	$(THREADS) $(BIN)/automimic run automata/examples/i_before_e_pfa.yaml --out $(DEMO_OUT)

lint: $(STAMP)
	$(BIN)/ruff check .

test: install
	$(BIN)/ruff check .
	$(THREADS) $(BIN)/python -m pytest --doctest-modules automata neural compare automimic automimic_io tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
