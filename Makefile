# casemgmt: the two commands of the README, and a few for developers.
#   make run    set everything up, migrate SQLite, load demo data if empty, serve on :5000
#   make test   set everything up and run the whole suite on SQLite and on PostgreSQL

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export FLASK_APP := casemgmt

.PHONY: run test setup test-setup system-deps i18n bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[production]'
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[production,test]'
	touch $@

setup: $(VENV)/.installed
	$(BIN)/python tools/i18n.py compile >/dev/null

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load --if-empty
	$(BIN)/flask run --host 127.0.0.1 --port 5000

system-deps:
	bash tools/system-deps.sh

test-setup: $(VENV)/.installed-test
	$(BIN)/python tools/i18n.py compile >/dev/null

test: system-deps test-setup
	bash tools/test-all.sh

i18n: setup
	$(BIN)/python tools/i18n.py

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache

bench: test-setup
	$(BIN)/python bench/generate.py --cases $${BENCH_CASES:-1000000}
	$(BIN)/python bench/run.py
