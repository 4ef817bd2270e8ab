# pollsite — `make run` starts the local stack, `make test` runs every suite.
SHELL := /bin/bash
VENV ?= .venv
# The newest Python >= 3.11 on this machine (a pyenv install counts too).
PYTHON ?= $(shell for p in python3.13 python3.12 $$(ls -d $$HOME/.pyenv/versions/3.1[23]*/bin/python3 2>/dev/null | sort -rV) python3.11 python3; do \
	  if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then echo $$p; break; fi; done)
STAMP := $(VENV)/.installed-$(shell cat requirements/base.txt requirements/dev.txt | cksum | cut -d' ' -f1)

PACKAGES := $(shell cat requirements/base.txt requirements/dev.txt | grep -c '^[A-Za-z0-9].*==')
NO_PYTHON := pollsite needs Python 3.11 or newer; none found (tried python3.13, python3.12, pyenv's, python3.11, python3)

.PHONY: run ports-free test lint lock bench clean help

help:
	@echo "make run    start polls, choice and vote behind http://127.0.0.1:8000 (Ctrl-C stops; ROLES=vote for one, PORT=9000 to move it)"
	@echo "make test   lint + every role's suite + system, chart, image and cluster suites"
	@echo "make bench  benchmark the vote path (see docs/BENCHMARKS.md)"
	@echo "make lock   re-lock requirements/*.txt from requirements/*.in"

$(STAMP): requirements/base.txt requirements/dev.txt
	@if [ -z "$(PYTHON)" ]; then echo "$(NO_PYTHON)" >&2; exit 1; fi
	@echo "Installing pollsite's $(PACKAGES) locked packages into $(VENV) with $(PYTHON) ($$($(PYTHON) -V)), once:"
	@echo "about 1-2 minutes with an empty pip cache, under one with a warm cache. pip lists each package as it goes."
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --disable-pip-version-check --progress-bar off --require-hashes -r requirements/base.txt -r requirements/dev.txt
	@rm -f $(VENV)/.installed-*; touch $@
	@echo "$(VENV) is ready."

# Before anything is installed: a port already taken stops `make run` at once, with what to do.
ports-free:
	@if [ -z "$(PYTHON)" ]; then echo "$(NO_PYTHON)" >&2; exit 1; fi
	@$(PYTHON) -m pollsite.local.ports $(if $(PORT),--port $(PORT)) $(if $(ROLES),--roles $(ROLES))

run: ports-free $(STAMP)
	$(VENV)/bin/python -m pollsite.local.launcher $(if $(ROLES),--roles $(ROLES)) $(if $(PORT),--port $(PORT))

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

test: lint
	$(VENV)/bin/python tests/run_suites.py $(ARGS)

# Full run (about 7 minutes) writes bench/results.json and docs/BENCHMARKS.md; QUICK=1 (or
# BENCH_MODE=quick) runs seconds per phase and writes under bench/out/. Needs wrk and
# pgbench (.ci/setup-bench.sh) and the local PostgreSQL and Redis.
bench: $(STAMP)
	$(VENV)/bin/python bench/run.py $(if $(QUICK),--quick) $(BENCH_ARGS)

lock: $(STAMP)
	$(VENV)/bin/python -m pip install --quiet uv
	$(VENV)/bin/python -m uv pip compile --universal --python-version 3.11 --generate-hashes -q requirements/base.in -o requirements/base.txt
	$(VENV)/bin/python -m uv pip compile --universal --python-version 3.11 --generate-hashes -q requirements/dev.in -o requirements/dev.txt

clean:
	rm -rf var staticfiles .pytest_cache
