# Two commands do everything on a fresh machine (Python >= 3.11 and a C compiler for durable-rules):
#   make demo   set up, then judge the founding case (DPRK-Russia 2023-24) leg by leg
#   make test   set up, then run the whole test suite
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python

.PHONY: demo test test-thorough bench clean pg-server system-deps

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	@$(VENV)/bin/check-transfer fixtures/dprk_russia_arms_for_oil.json; code=$$?; \
	  echo "(exit code $$code: 1 means at least one prohibited finding)"; test $$code -le 1
	@mkdir -p build; $(VENV)/bin/check-transfer fixtures/dprk_russia_arms_for_oil.json --format html \
	  --out build/dprk_russia_arms_for_oil.html; test $$? -le 1 && \
	  echo "HTML report: $(CURDIR)/build/dprk_russia_arms_for_oil.html"

# The HTML report's browser tests drive Debian's chromium and chromium-driver: install them when missing (quick
# when installed). Outside CI a machine that cannot install them skips those tests, saying so; CI fails.
system-deps:
	@scripts/ensure-system-deps || test -z "$$CI"

# The ledger suites run against a real PostgreSQL server: install Debian's package when missing (the tests
# start and stop a throw-away server themselves). Outside CI a machine without it skips those tests, saying so.
pg-server:
	@$(PY) scripts/pg-test-server install >/dev/null || test -z "$$CI"

test: $(VENV)/.installed pg-server system-deps
	$(PY) -m pytest -q -n 2

test-thorough: $(VENV)/.installed pg-server system-deps
	SANCTIONS_HYPOTHESIS_PROFILE=thorough $(PY) -m pytest -q -n 2

bench: $(VENV)/.installed
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
