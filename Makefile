# Two commands a newcomer needs: `make run` (the main job) and `make test` (all tests).
# Both bootstrap .venv from requirements.lock first, so they work on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DBT_DIR := dbt
# dagster-dbt looks for `dbt` on PATH when it re-parses the project under `dagster dev`.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup run test dev lint manifest demo clean

help:
	@echo "make run   - set up, then run the whole pipeline on ./data (demo submissions if landing/ is empty)"
	@echo "make test  - set up, then run every test"
	@echo "make dev   - the Dagster UI on http://127.0.0.1:3000"
	@echo "make lint  - ruff"

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# dagster-dbt loads the dbt manifest when the code location starts: parse first.
manifest: $(STAMP)
	cd $(DBT_DIR) && ../$(BIN)/dbt parse --quiet --profiles-dir .

demo: $(STAMP)
	$(BIN)/digital-progress-demo --if-empty

run: manifest demo
	GX_ANALYTICS_ENABLED=false $(BIN)/dagster job execute -m dagster_project.definitions \
		-j digital_progress --tags "{\"dagster/partition\": \"$$($(BIN)/python -m dagster_project.settings --partition)\"}"
	@$(BIN)/python -m dagster_project.settings --summary

test: manifest
	$(BIN)/ruff check .
	GX_ANALYTICS_ENABLED=false $(BIN)/pytest

dev: manifest
	GX_ANALYTICS_ENABLED=false $(BIN)/dagster dev -h 127.0.0.1 -p 3000

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(DBT_DIR)/target $(DBT_DIR)/logs
