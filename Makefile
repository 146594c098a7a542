# `make run`: the whole service with demo data. `make test`: every test against real PostgreSQL and Redis.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install lock run test test-unit test-slow test-conformance check browser deploy-tools bench schema clean

# The versions come from the lockfile (every package pinned with its hashes: pip refuses a file whose hash differs);
# the project itself is installed editable on top, without resolving anything again.
$(STAMP): pyproject.toml requirements-dev.txt requirements-pip.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r requirements-pip.txt
	$(BIN)/pip install -q --require-hashes -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

# After changing the dependencies in pyproject.toml: pin them again (pip-tools, in a venv of its own), and derive
# requirements.txt, the image's runtime part of the lock (hotline/ops/runtime_lock.py).
# pip-compile runs on this machine's Python (3.11.7) and drops the pins only an older 3.11 asks for (async-timeout,
# which redis needs below 3.11.3: Debian 12's 3.11.2 in the bare-machine check): the lock keeps them from the file
# it replaces, with their hashes.
KEEP_PINS := async-timeout
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install -q pip-tools
	cp requirements-dev.txt .venv-lock/previous.txt
	.venv-lock/bin/pip-compile -q --generate-hashes --extra dev --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements-dev.txt pyproject.toml
	$(PYTHON) -c 'import re, sys; old = open(".venv-lock/previous.txt").read(); new = open("requirements-dev.txt").read(); \
	kept = [m.group(0) for n in sys.argv[1:] if not re.search(rf"^{n}==", new, re.M) \
	        for m in [re.search(rf"^{n}==.*?(?=^[A-Za-z0-9]|\Z)", old, re.M | re.S)] if m]; \
	open("requirements-dev.txt", "a").write("".join(kept)); print("kept by hand:", *kept, sep="\n")' $(KEEP_PINS)
	$(PYTHON) hotline/ops/runtime_lock.py > requirements.txt

install: $(STAMP)

run: install
	$(BIN)/hotline dev

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser), and a CJK font so
# the screenshots they save show the console's Chinese rather than empty boxes.
browser:
	@command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  echo "installing chromium and a Chinese font from Debian's packages for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium \
	    fonts-wqy-microhei >/dev/null; }

# Debian's haproxy and docker-compose for the deployment files' checks (`haproxy -c -f deploy/haproxy.cfg`,
# `docker-compose config`: no daemon), installed the way the private servers' packages are (hotline/ops/packages.py:
# haproxy's packaged service is not started, nor enabled), and systemd for systemd-analyze when it is missing.
deploy-tools: install
	@$(BIN)/python -c 'import shutil; from pathlib import Path; from hotline.ops import packages; \
	  want = [p for p, b in (("haproxy", "haproxy"), ("docker-compose", "docker-compose"), ("systemd", "systemd-analyze")) \
	          if not shutil.which(b)]; \
	  want and packages.apt_install(want, "to check the deployment files; no service started", Path(".hotline/install.log"))'

test: install browser deploy-tools
	@eval "$$($(BIN)/hotline services)" && $(BIN)/pytest --durations=20 --cov --cov-report=term $(PYTEST_ARGS)

# Static gates, all clean: formatting, the import-linter layers, ruff's rules (E,F,W,I,B,UP,ASYNC,C90 with McCabe 12,
# 120 columns) and mypy (default strictness; the --strict flags for sla/ and config/, see pyproject.toml).
check: install
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/mypy

test-unit: install
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

# The slow tier (minutes; installs docker.io and debootstrap if missing): the 60 s database-restart load, `make run` on a
# bare Debian container, the image built and run, the systemd units under a real systemd in a container. CI runs it after `make test`.
test-slow: install
	@eval "$$($(BIN)/hotline services)" && $(BIN)/pytest tests/integration tests/slow -m slow -s $(PYTEST_ARGS)

# The API contract checks, deeper than `make test` runs them: Schemathesis' conformance run with 25 examples per
# operation, role and generation mode (HOTLINE_CONFORMANCE_EXAMPLES, HOTLINE_CONFORMANCE_SEED to change them), with
# the document and generated-client tests. Measured 2026-12-03: 27,678 requests in 16 minutes (`make test`'s run:
# 4 examples, about 4,450 requests in 2.5 minutes).
test-conformance: install
	@eval "$$($(BIN)/hotline services)" && HOTLINE_CONFORMANCE_EXAMPLES=$${HOTLINE_CONFORMANCE_EXAMPLES:-25} \
	  $(BIN)/pytest -s -p no:randomly --timeout 3600 tests/unit/test_openapi_document.py \
	  tests/integration/test_api_conformance.py tests/integration/test_generated_client.py $(PYTEST_ARGS)

bench: install
	@eval "$$($(BIN)/hotline services)" && $(BIN)/python tests/perf/run_all.py

schema: install
	@eval "$$($(BIN)/hotline services)" && $(BIN)/python -m tests.schema_dump hotline/infra/schema.sql

clean:
	rm -rf $(VENV) .hotline .pytest_cache .hypothesis
