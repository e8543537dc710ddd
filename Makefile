# The two commands a newcomer types: `make demo` and `make test`. Each sets everything up,
# installing exactly what uv.lock pins (hashes checked); `make lock` upgrades the lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := .tools/uv-0.13.9/uv
STAMP  := $(VENV)/.installed
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint typecheck pytest bench lock clean system-packages web web-api web-check \
	web-test web-e2e web-e2e-test web-ci hooks

$(UV): tools/bootstrap_uv.py
	$(PYTHON) tools/bootstrap_uv.py .tools >/dev/null

# --locked: fail if uv.lock does not match pyproject.toml (run `make lock`); exact: remove
# whatever the lock does not name, so CI tests exactly what is locked.
$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --extra dev --python $(PYTHON) --quiet
	@touch $@

demo: $(STAMP)
	$(BIN)/anh-reporter demo

test: lint typecheck web-ci pytest

# The Debian tools the deployment tests drive (promtool, amtool, nginx, pgbouncer): installed
# when CI=true (CI must run those tests); elsewhere the tests skip, saying what is missing.
system-packages:
	@if [ "$${CI:-}" = "true" ]; then tools/ci_system_packages.sh; fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

# Run `make lint` before every commit (.pre-commit-config.yaml).
hooks: $(STAMP)
	$(BIN)/pre-commit install

typecheck: $(STAMP)
	$(BIN)/mypy src

# Two worker processes by default (most tests wait on servers and subprocesses, so two share
# 2 cores well); a file's tests stay in one worker. `make pytest PYTEST_WORKERS=0` runs in one.
PYTEST_WORKERS ?= 2
pytest: $(STAMP) system-packages
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile

bench: $(STAMP)
	for b in copy_ceiling ingest bus connectors reports anomaly anomaly_quality api; do \
		$(BIN)/python bench/$$b.py || exit 1; done

# The web UI (web/, Vue 3 + TypeScript): node >= 20.19 and npm; `npm ci` installs exactly
# web/package-lock.json and never downloads a browser (the e2e tests use Debian's chromium).
WEB_NPM := cd web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm
web/node_modules/.package-lock.json: web/package-lock.json
	$(WEB_NPM) ci --no-audit --no-fund --loglevel=error

# Build the UI into the package (src/anh_reporter/web/): commit the result.
web: $(STAMP) web/node_modules/.package-lock.json
	$(WEB_NPM) run build

# Regenerate web/openapi.json from the app and the typed client from it: commit both.
web-api: $(STAMP) web/node_modules/.package-lock.json
	$(WEB_NPM) run gen:api

# The packaged UI is a deterministic build of web/ and the client matches the API.
web-check: $(STAMP) web/node_modules/.package-lock.json
	tools/check_web_build.sh

web-test: web/node_modules/.package-lock.json
	$(WEB_NPM) test

# The UI checks `make test` runs (web-check, web-test, web-e2e-test; about three minutes): when
# node >= 20.19 is here, and on CI (CI=true) always: there a missing or old node fails the run.
web-ci:
	@if tools/node_ok.sh; then $(MAKE) --no-print-directory web-check web-test web-e2e-test; \
	elif [ "$${CI:-}" = "true" ]; then \
		echo "make test: CI=true needs node >= 20.19 and npm for the UI checks (make web-check," \
			"make web-test); install Node.js 20.19+ (Debian 13's nodejs and npm, or nodejs.org)" >&2; exit 1; \
	else echo "make test: UI checks skipped (web-check, web-test): no node >= 20.19 here"; fi

# Browser tests against `anh-reporter demo` on a fresh database (ANH_TEST_DATABASE_URL's
# server, else the embedded PostgreSQL) in Debian's chromium; screenshots go to docs/ui/.
web-e2e: $(STAMP) web/node_modules/.package-lock.json
	@command -v $${ANH_CHROMIUM:-/usr/bin/chromium} >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null)
	$(WEB_NPM) run e2e

# The same in `make test` (about 1.5 minutes), screenshots kept out of the checkout. On CI
# (CI=true) tools/ci_system_packages.sh installs chromium when missing; elsewhere, without
# chromium, the browser tests are skipped, saying so.
CHROMIUM = $${ANH_CHROMIUM:-/usr/bin/chromium}
web-e2e-test: $(STAMP) web/node_modules/.package-lock.json
	@if [ "$${CI:-}" = "true" ]; then tools/ci_system_packages.sh; fi
	@if [ -x "$(CHROMIUM)" ]; then \
		cd web && ANH_E2E_SHOTS=test-results/screens PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm run e2e; \
	else echo "make test: UI browser tests skipped (make web-e2e): no chromium at $(CHROMIUM)" \
		"(Debian: apt-get install chromium; or set ANH_CHROMIUM)"; fi

# Upgrade every pinned version (runtime and dev) to the newest the ranges in pyproject allow.
lock: $(UV)
	$(UV) lock --upgrade
	$(UV) sync --locked --extra dev --python $(PYTHON) --quiet

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
