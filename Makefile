# anju — the two commands: `make demo` (set up + build the demo district) and `make test` (set up + run the tests).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
ANJU := $(VENV)/bin/anju
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := fonts-noto-cjk chromium poppler-utils postgresql openjdk-17-jre-headless
DATA_DIR ?= anju-data

.PHONY: setup system python-deps bytecode assets demo test test-fast bench lint clean

setup: system python-deps bytecode assets

# Debian packages: CJK fonts for charts and PDFs, Chromium for browser tests, poppler for PDF checks, Java 17 for
# the Spark engine (--engine spark, docs/scale.md).
system:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	  rm -rf $$HOME/.cache/matplotlib; \
	fi

python-deps: $(VENV)/.installed

# Offline first: every pin is usually in uv's cache already, and online uv re-validates the pyspark sdist (430 MB),
# downloads and rebuilds it (~60 s CPU of a clean-clone CI run). If something is missing from the cache, the
# second, online install runs.
UV_INSTALL = $(VENV)/bin/uv pip install -q --compile-bytecode --python $(PY) -e ".[web,dev,spark]"

$(VENV)/.installed: pyproject.toml $(wildcard src/anju/*/*.c)
	@test -x $(PY) || python3 -m venv $(VENV)
	@test -x $(VENV)/bin/uv || $(PY) -m pip install -q uv
	$(UV_INSTALL) --offline || $(UV_INSTALL)
	@touch $@

# Byte-compile our own sources too: with PYTHONDONTWRITEBYTECODE set (as on CI machines) Python never writes .pyc
# files, and every process would compile every module it imports (~2 s of a release). Up-to-date files are skipped.
bytecode: python-deps
	@$(PY) -m compileall -q -j 0 src

# Front-end libraries for the offline release (index.html inlines them): npm ci, then copy into the package.
RELEASE_ASSETS := src/anju/release/assets
# The web platform serves its own copies (src/anju/web/static/vendor): ECharts, htmx, Pico CSS, Swagger UI.
WEB_VENDOR := src/anju/web/static/vendor
WEB_ASSETS := echarts.min.js:echarts/dist/echarts.min.js htmx.min.js:htmx.org/dist/htmx.min.js \
	pico.min.css:@picocss/pico/css/pico.min.css swagger-ui-bundle.js:swagger-ui-dist/swagger-ui-bundle.js \
	swagger-ui.css:swagger-ui-dist/swagger-ui.css
assets: $(RELEASE_ASSETS)/echarts.min.js $(RELEASE_ASSETS)/echarts-wordcloud.min.js $(WEB_VENDOR)/.copied

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

$(RELEASE_ASSETS)/%.min.js: node_modules/.package-lock.json
	cp node_modules/$(if $(findstring wordcloud,$*),echarts-wordcloud,echarts)/dist/$*.min.js $@

$(WEB_VENDOR)/.copied: node_modules/.package-lock.json
	@mkdir -p $(WEB_VENDOR)
	@for pair in $(WEB_ASSETS); do cp node_modules/$${pair#*:} $(WEB_VENDOR)/$${pair%%:*}; done
	@touch $@

# The demo district, its release and its operational records, then the platform in the foreground (Ctrl-C stops
# it). A second `make demo` reuses the files, the lake, the release and the records, and only starts the server.
PORT ?= 8000
demo: setup
	@if ls $(DATA_DIR)/releases/*/release.json >/dev/null 2>&1; then \
	  $(ANJU) --data-dir $(DATA_DIR) demo --no-release; else $(ANJU) --data-dir $(DATA_DIR) demo; fi
	$(ANJU) --data-dir $(DATA_DIR) ops seed-demo
	$(ANJU) --data-dir $(DATA_DIR) resident seed-demo
	$(ANJU) --data-dir $(DATA_DIR) briefing --date $$(( $$(date +%Y) - 1 ))-12-31
	$(ANJU) --data-dir $(DATA_DIR) serve --host 127.0.0.1 --port $(PORT)

# mypy keeps its incremental cache outside the clone (a clean-clone CI run otherwise type-checks everything from
# scratch on one core: ~50 s CPU); mypy re-checks whatever changed, by content hash. The SQLite cache takes
# concurrent runs. The tests run on two workers, one file per worker at a time; tests/conftest.py starts the longest
# files first (--no-loadscope-reorder keeps that order; see docs/performance.md, "Test suite").
MYPY_CACHE ?= $(HOME)/.cache/anju/mypy
PYTEST_XDIST := -n 2 --dist loadfile --no-loadscope-reorder

test: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy --sqlite-cache --cache-dir $(MYPY_CACHE)
	$(VENV)/bin/pytest $(PYTEST_XDIST)

test-fast: setup
	$(VENV)/bin/pytest $(PYTEST_XDIST) -m "not slow and not browser"

# wrk: the load generator of benchmarks/bench_resident.py (C, so the client does not eat the server's CPU)
bench: setup
	@dpkg -s wrk >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends wrk; }
	$(PY) benchmarks/run.py

lint: python-deps
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy --sqlite-cache --cache-dir $(MYPY_CACHE)

clean:
	rm -rf $(DATA_DIR) .pytest_cache .mypy_cache .ruff_cache
