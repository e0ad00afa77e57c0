# Social Care Connect. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SCALE ?= 1
PORT ?= 8000

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $@

.PHONY: setup
setup: $(VENV)/.installed ## Install Python and front-end dependencies and build the assets
	@bin/build-assets

.PHONY: run
run: setup ## Set everything up and run the site on the embedded default with demo data
	$(PY) manage.py migrate --verbosity 0
	$(PY) manage.py seed_demo --if-empty
	@echo "Social Care Connect is at http://127.0.0.1:$(PORT)/ (Ctrl+C to stop)"
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

.PHONY: test
test: setup ## Set everything up, start PostgreSQL, Elasticsearch, Redis and stripe-mock, run every test, stop them
	@bin/test

.PHONY: test-quick
test-quick: setup ## Run the tests that need no server, on SQLite (for a fast loop while coding)
	$(PY) -m pytest -m "not browser and not elasticsearch and not stripe_mock and not redis and not postgresql" -q

.PHONY: lint
lint: setup ## Check style with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: services-up
services-up: ## Start the throwaway servers (see docs/services.md)
	@bin/services up

.PHONY: services-down
services-down: ## Stop the throwaway servers
	@bin/services down

.PHONY: demo-code
demo-code: ## Print the current security codes of the demo staff accounts
	@$(PY) manage.py demo_code

.PHONY: bench
bench: setup ## Benchmark the site on PostgreSQL + Elasticsearch: make bench SCALE=1
	@bin/bench --scale $(SCALE)
