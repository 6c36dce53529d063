# ecom_analytics: the commands of the README. Every target installs what it needs first.
VENV := .venv
BIN := $(VENV)/bin
# Test modules run in two processes, each with its own JVM and warehouse: much of a test's time
# is spent waiting for JVMs and servers to start.
TEST_WORKERS ?= 2

.PHONY: help setup demo test lint docs dashboard bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 16

setup:  ## create .venv with everything (checks Java 17+ first)
	@bash scripts/setup.sh

demo: setup  ## the main job end to end: demo data, dbt build, docs site
	@$(BIN)/ecom demo

test: setup  ## the whole test suite (TEST_WORKERS=1 for one process)
	@$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

lint: setup  ## sqlfluff (SQL), ruff (Python), actionlint (workflows): the checks of the suite
	@$(BIN)/sqlfluff lint models macros tests --processes 2
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/actionlint

dashboard: setup  ## start the dashboards on http://127.0.0.1:8501 (ecom dashboard --help)
	@$(BIN)/ecom dashboard

docs: setup  ## (re)generate the dbt docs site into target/
	@$(BIN)/dbt docs generate --static

bench: setup  ## benchmark: dbt build vs a hand-written PySpark job, and the stream (ecom bench --help)
	@$(BIN)/ecom bench $(BENCH_ARGS)

clean:  ## remove the local warehouse, demo data and dbt artefacts
	rm -rf .warehouse data target logs
