# The two commands of the README, and the steps they stand on. Every install step lives here.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
SPEURDER := $(VENV)/bin/speurder
# Debian packages the services and tests need; installed only when one is missing. The JDK, not only
# the JRE: the phonetic analysis plugin is compiled when the OpenSearch home is built.
DEBIAN_PACKAGES := openjdk-17-jdk-headless maven tesseract-ocr tesseract-ocr-nld tesseract-ocr-fra \
	tesseract-ocr-deu tesseract-ocr-eng frog frogdata uctodata redis-server postgresql chromium \
	fonts-dejavu-core
# Test runs use the production path too: S3, PostgreSQL and the system Redis.
TEST_ENV := SPEURDER_ENVIRONMENT=test SPEURDER_REDIS_EMBEDDED=false

.PHONY: demo test bench install system-deps services down lint clean

demo: install
	$(SPEURDER) demo

test: install
	$(TEST_ENV) $(SPEURDER) services up --all
	$(TEST_ENV) $(VENV)/bin/pytest

# The benchmarks in full, on an otherwise idle machine (bench/README.md), about two hours on two cores:
# B1 (1,000,000 records), B3 and B4 on a generated world of 1,000,000 records (built once, then reused),
# B2 (the document pipeline against its stages), then B5 (1,000 uploads, predicted from B2).
bench: install
	$(TEST_ENV) $(SPEURDER) services up --all
	$(VENV)/bin/python -m bench.b1_ingest
	$(VENV)/bin/python -m bench.b3_search --profile production
	$(VENV)/bin/python -m bench.b4_graph
	$(VENV)/bin/python -m bench.b2_pipeline
	$(VENV)/bin/python -m bench.b5_upload

install: system-deps $(VENV)/.installed

system-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[dev]'
	touch $@

services: install
	$(SPEURDER) services up

down:
	$(SPEURDER) services down

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

clean:
	-$(SPEURDER) services down
	rm -rf var $(VENV)
