# Two commands a newcomer needs: `make run` (the main job) and `make test` (all tests).
# Both bootstrap .venv from requirements.lock first, so they work on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DBT_DIR := dbt
# One Dagster instance under the data root, so runs, check results and sensor cursors are kept,
# and what `make run` did shows in `make dev` (dagster_project/instance/dagster.yaml).
# (Tests use Dagster's ephemeral instances, so `make test` leaves it alone.)
DATA_ROOT := $(abspath $(or $(DIGITAL_PROGRESS_DATA),data))
instance run dev: export DAGSTER_HOME := $(DATA_ROOT)/.dagster

.PHONY: help setup check-settings check-warehouse instance run test dev lint manifest docs demo bench clean

help:
	@echo "make run   - set up, then run the whole pipeline on ./data (demo submissions if landing/ is empty)"
	@echo "make test  - set up, then run every test"
	@echo "make dev   - the Dagster UI on http://127.0.0.1:3000"
	@echo "make docs  - dbt docs, with descriptions from the indicator dictionary"
	@echo "make bench - speed and memory at named scales (BENCH_SCALES=\"wales 2k-bodies uk\")"
	@echo "make lint  - ruff"

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# dagster-dbt loads the dbt manifest when the code location starts: parse first, after writing
# what derives from the indicator dictionary (the docs blocks, the list of indicator columns and
# the marts' contract columns), so a changed dictionary needs no other edit.
# Each step runs only when a file it reads is newer than what it wrote (2-4 s saved a run); the
# folders are prerequisites too, as a deleted or renamed file changes only its folder's time.
DBT_DOCS := $(DBT_DIR)/models/_indicator_docs.md
DBT_MANIFEST := $(DBT_DIR)/target/manifest.json
DBT_DOCS_INPUTS := $(DBT_DIR)/seeds/indicator_dictionary.csv $(DBT_DIR)/dbt_project.yml \
	exports/methodology.py exports/templating.py exports/templates/dbt_indicator_docs.md.j2 \
	dagster_project/reference.py dagster_project/transform/dictionary.py
DBT_PARSE_INPUTS := $(DBT_DIR)/dbt_project.yml $(DBT_DIR)/profiles.yml \
	$(shell find $(DBT_DIR)/models $(DBT_DIR)/macros $(DBT_DIR)/tests $(DBT_DIR)/seeds 2>/dev/null)

manifest: $(DBT_MANIFEST)

$(DBT_DOCS): $(DBT_DOCS_INPUTS) $(STAMP)
	@$(BIN)/python -m dagster_project.transform.dictionary

$(DBT_MANIFEST): $(DBT_DOCS) $(DBT_PARSE_INPUTS) $(STAMP)
	@cd $(DBT_DIR) && ../$(BIN)/dbt parse --quiet --profiles-dir .

# dbt docs (descriptions from the indicator dictionary) for the warehouse under the data root.
docs: manifest
	cd $(DBT_DIR) && ../$(BIN)/dbt docs generate --profiles-dir . \
		--vars "{\"warehouse\": \"$$(cd .. && $(BIN)/python -c 'from dagster_project.settings import DataPaths, default_data_root; print(DataPaths(default_data_root()).warehouse)')\"}"
	@echo "dbt docs: $(DBT_DIR)/target/index.html (serve with: cd $(DBT_DIR) && ../$(BIN)/dbt docs serve --profiles-dir .)"

# Demo returns with receipt times spread as real ones are; those received by the last demo
# month's due date are collected at those times (dagster_project/collect/demo_data.py).
demo: $(STAMP)
	@$(BIN)/digital-progress-demo --if-empty

# A bad DIGITAL_PROGRESS_PERIOD or DIGITAL_PROGRESS_AS_OF stops `make run` here, with the value
# found and what was expected, before dbt parses, demo data is written or the job moves a file.
check-settings: $(STAMP)
	@$(BIN)/python -m dagster_project.settings --check

# One writer at a time: while another run holds the data root, this waits and says so. A damaged
# warehouse stops `make run` here, naming the file and the command that rebuilds it.
check-warehouse: $(STAMP)
	@$(BIN)/python -m dagster_project.warehouse --check

# The instance's settings are written once; an operator's own dagster.yaml is never replaced.
instance:
	@mkdir -p $(DAGSTER_HOME)
	@test -f $(DAGSTER_HOME)/dagster.yaml || cp dagster_project/instance/dagster.yaml $(DAGSTER_HOME)/

# A line per stage, then what this run did and where the outputs are; the full log (Dagster's
# events, dbt's output) goes to <data root>/logs/ (dagster_project/console.py).
run: check-settings check-warehouse manifest demo instance
	@GX_ANALYTICS_ENABLED=false $(BIN)/python -m dagster_project.console

test: manifest
	$(BIN)/ruff check .
	GX_ANALYTICS_ENABLED=false $(BIN)/pytest

dev: manifest instance
	GX_ANALYTICS_ENABLED=false $(BIN)/dagster dev -h 127.0.0.1 -p 3000

# Speed and memory at named scales (wales, 2k-bodies, uk), each beside hand-written DuckDB and
# pandas references on the same files: tests/bench/run.py. JSON and a chart per scale in
# tests/bench/results/, the table on stdout. Not part of `make test`: timings are not tests.
BENCH_SCALES ?= wales 2k-bodies
bench: $(STAMP)
	GX_ANALYTICS_ENABLED=false $(BIN)/python -m tests.bench.run \
		$(foreach scale,$(BENCH_SCALES),--scale $(scale)) --out tests/bench/results

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(DBT_DIR)/target $(DBT_DIR)/logs
