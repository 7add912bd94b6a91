# Two commands do everything on a fresh machine (Python >= 3.11 and a C compiler for durable-rules):
#   make demo   set up, then judge the founding case (DPRK-Russia 2023-24) leg by leg
#   make test   set up, then run the whole test suite
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python

.PHONY: demo test test-thorough bench clean pg-server

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	@$(VENV)/bin/check-transfer fixtures/dprk_russia_arms_for_oil.json; code=$$?; \
	  echo "(exit code $$code: 1 means at least one prohibited finding)"; test $$code -le 1

# The ledger suites run against a real PostgreSQL server: install Debian's package when missing (the tests
# start and stop a throw-away server themselves). Outside CI a machine without it skips those tests, saying so.
pg-server:
	@$(PY) scripts/pg-test-server install >/dev/null || test -z "$$CI"

test: $(VENV)/.installed pg-server
	$(PY) -m pytest -q -n 2

test-thorough: $(VENV)/.installed pg-server
	SANCTIONS_HYPOTHESIS_PROFILE=thorough $(PY) -m pytest -q -n 2

bench: $(VENV)/.installed
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
