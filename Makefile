# Two commands a fresh machine needs: `make run` and `make test`. Both create .venv when missing.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run demo test test-fast lint bench install clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/hotline up --sandbox --samples

demo: $(STAMP)
	$(VENV)/bin/hotline demo

test: $(STAMP)
	$(VENV)/bin/pytest -q

test-fast: $(STAMP)
	$(VENV)/bin/pytest -q -m "not broker"

lint: $(STAMP)
	$(VENV)/bin/ruff check pipeline agents schemas tests
	$(VENV)/bin/ruff format --check pipeline agents schemas tests
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(VENV)/bin/hotline bench received --reports 20000

clean:
	rm -rf $(VENV) .hotline
