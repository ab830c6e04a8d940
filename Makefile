# Two entry points for users: `make run` and `make test`. Both set up what they need.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= cdktf.out
REPORTS ?= reports
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: run test setup check-node browser synth gate bench bench-synth bench-gate clean

setup: $(STAMP)

# Reinstall when the pinned dependencies change.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) is required" >&2; exit 2; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Installing pinned dependencies into $(VENV) (log: $(VENV)/install.log)"
	@$(PY) -m pip install --disable-pip-version-check --upgrade pip > $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log >&2; exit 2; }
	@$(PY) -m pip install --disable-pip-version-check -e ".[test]" >> $(VENV)/install.log 2>&1 || { cat $(VENV)/install.log >&2; exit 2; }
	@touch $(STAMP)

# The HTML report's browser test drives Debian's chromium: install it when missing, as root with
# apt-get (CI runs as root on a fresh machine). Never a downloaded browser build (no `playwright install`).
CHROMIUM := /usr/bin/chromium
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
browser:
	@test -x $(CHROMIUM) && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium for the browser test (log: $(VENV)/apt.log)"; \
	  { $(APT_INSTALL) > $(VENV)/apt.log 2>&1 || { apt-get update -qq >> $(VENV)/apt.log 2>&1 && \
	    $(APT_INSTALL) >> $(VENV)/apt.log 2>&1; }; } || { cat $(VENV)/apt.log >&2; exit 2; }; \
	else \
	  echo "note: $(CHROMIUM) is missing (install Debian's chromium as root); the browser test is skipped" >&2; \
	fi

check-node:
	@$(PY) -c "import sys; from modules.node import node_problem; p = node_problem(); p and print('error: ' + p, file=sys.stderr); sys.exit(2 if p else 0)"

synth: setup check-node
	@$(PY) main.py synth --out $(OUT)

# Synthesize every environment, gate it and write the reports into reports/ (exit code of the gate).
# One process: the gate synthesizes when $(OUT) is missing or older than its inputs (and checks for
# Node.js then), and both steps reuse .aegis/cache/ when nothing they depend on changed.
run: setup
	@$(PY) main.py gate --synth-out $(OUT) --out $(REPORTS)

gate: setup check-node
	@$(PY) main.py gate --synth-out $(OUT) --out $(REPORTS)

test: setup check-node browser
	@$(PY) -m pytest -q

# One table, every target of the performance contract (tests/bench/bench.py); writes bench/results.json.
bench: setup check-node
	@$(PY) -m tests.bench.bench

bench-synth: setup check-node
	@$(PY) -m tests.bench.synth_bench

# The gate (every check, every report) vs bare checkov on the same output; target ratio <= 1.0.
bench-gate: setup check-node
	@$(PY) -m tests.bench.gate_bench

# Never .aegis/state: it holds the local Terraform state of bootstrap (and of local-backend envs).
clean:
	rm -rf $(OUT) .aegis/cache $(REPORTS)
