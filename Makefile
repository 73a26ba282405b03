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

demo: install
	$(THREADS) $(BIN)/automimic validate examples/i_before_e_pfa.yaml
	@mkdir -p $(DEMO_OUT)
	@if command -v dot >/dev/null 2>&1; then \
	  $(BIN)/automimic render examples/i_before_e_pfa.yaml -o $(DEMO_OUT)/i_before_e_pfa.svg --highlight ceia; \
	else $(BIN)/automimic render examples/i_before_e_pfa.yaml -o $(DEMO_OUT)/i_before_e_pfa.dot; fi
	$(BIN)/automimic sample examples/i_before_e_pfa.yaml -n 10 --seed 1
	$(BIN)/automimic score examples/i_before_e_pfa.yaml ceiba cieba abeic aibe ""
	$(BIN)/automimic complete examples/i_before_e_pfa.yaml ce -k 5

lint: $(STAMP)
	$(BIN)/ruff check .

test: install
	$(BIN)/ruff check .
	$(THREADS) $(BIN)/python -m pytest --doctest-modules automata tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
