# The two commands a newcomer types: `make demo` and `make test`. Each sets everything up,
# installing exactly what uv.lock pins (hashes checked); `make lock` upgrades the lock.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := .tools/uv-0.13.9/uv
STAMP  := $(VENV)/.installed
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never

.PHONY: demo test lint typecheck pytest bench lock clean system-packages

$(UV): tools/bootstrap_uv.py
	$(PYTHON) tools/bootstrap_uv.py .tools >/dev/null

# --locked: fail if uv.lock does not match pyproject.toml (run `make lock`); exact: remove
# whatever the lock does not name, so CI tests exactly what is locked.
$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --extra dev --python $(PYTHON) --quiet
	@touch $@

demo: $(STAMP)
	$(BIN)/anh-reporter demo

test: lint typecheck pytest

# The Debian tools the deployment tests drive (promtool, amtool, nginx, pgbouncer): installed
# when CI=true (CI must run those tests); elsewhere the tests skip, saying what is missing.
system-packages:
	@if [ "$${CI:-}" = "true" ]; then tools/ci_system_packages.sh; fi

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy src

pytest: $(STAMP) system-packages
	$(BIN)/python -m pytest

bench: $(STAMP)
	for b in copy_ceiling ingest bus connectors reports anomaly anomaly_quality api; do \
		$(BIN)/python bench/$$b.py || exit 1; done

# Upgrade every pinned version (runtime and dev) to the newest the ranges in pyproject allow.
lock: $(UV)
	$(UV) lock --upgrade
	$(UV) sync --locked --extra dev --python $(PYTHON) --quiet

clean:
	rm -rf $(VENV) .tools .pytest_cache .mypy_cache .ruff_cache
