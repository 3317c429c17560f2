# The two commands: `make up` (run the platform on the embedded stack) and
# `make test` (run the test suite). Both set up what they need through `make setup`,
# which is idempotent: it only redoes a step whose inputs changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
KAFKA_POM := platform_streams/embedded/kafka/pom.xml
KAFKA_DIR := .embedded/kafka
KAFKA_STAMP := $(KAFKA_DIR)/.resolved
NATIVE_DIR := native
NATIVE_SOURCES := $(NATIVE_DIR)/Cargo.toml $(NATIVE_DIR)/Cargo.lock $(NATIVE_DIR)/pyproject.toml \
    $(NATIVE_DIR)/tradeplat_native.pyi $(wildcard $(NATIVE_DIR)/src/*.rs)
NATIVE_STAMP := $(VENV)/.native-installed
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed
# For the benchmark's comparison only, never in the project venv: cryptofeed and its requirements,
# at the versions it was measured with.
BENCH_REQUIREMENTS := cryptofeed==2.4.1 yapic.json==1.9.5 order_book==0.6.1 aiohttp==3.14.5 aiofile==3.12.3 \
    aiodns==4.0.4 websockets==17.4 uvloop==0.23.0 PyYAML==6.0.4 requests==2.34.2

.PHONY: setup native browser up down status test test-fast doc-screenshots bench bench-runtime bench-simulator bench-market-data bench-backtest bench-venv clean-state

setup: $(PY_STAMP) $(NATIVE_STAMP) $(KAFKA_STAMP)

$(PY_STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

native: $(NATIVE_STAMP)

# The Rust extension (native/), built by the venv's maturin with the crates pinned in Cargo.lock
# (fetched from crates.io); rebuilt only when its sources change.
$(NATIVE_STAMP): $(NATIVE_SOURCES) | $(PY_STAMP)
	@command -v cargo >/dev/null || { echo "Rust's cargo is needed to build native/ (install it with rustup)"; exit 1; }
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/maturin develop --release --locked --manifest-path $(NATIVE_DIR)/Cargo.toml
	@touch $@

$(KAFKA_STAMP): $(KAFKA_POM)
	@command -v mvn >/dev/null || { echo "Maven (mvn) is needed to fetch Apache Kafka from Maven Central"; exit 1; }
	rm -rf $(KAFKA_DIR)/libs
	mvn --batch-mode --quiet -f $(KAFKA_POM) dependency:copy-dependencies \
	    -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(KAFKA_DIR)/libs
	@touch $@

# Market data and trading (the four strategies on the simulator, paper and simulated-live), run as
# one supervised deployment; e.g. `make up DEPLOYMENTS=deployments/market-data.yaml` for market data only.
DEPLOYMENTS ?= deployments/market-data.yaml deployments/trading.yaml

up: setup
	$(BIN)/tradeplat up $(foreach spec,$(DEPLOYMENTS),--deployment $(spec))

down: setup
	$(BIN)/tradeplat down

status: setup
	$(BIN)/tradeplat status

# The UI test drives Debian's chromium (Playwright with executable_path, no browser download).
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the Dagster UI test"; \
	    $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Three workers (pytest-xdist), each with its own embedded broker and database: most tests wait on
# servers and processes (two workers kept the 2 cores ~70 % busy), so three at a time finish sooner
# on 2 cores (fresh clone, 2026-12-07: 9:12 against 10:24 with two). Work stealing: a worker that
# runs out takes half of another's queue (the slow e2e tests are collected first, see
# tests/conftest.py), so the run does not end on one long test while the others idle.
TEST_WORKERS ?= 3

test: setup browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

# the suite without the slow end-to-end and fault tests (marked e2e)
test-fast: setup browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal -m "not e2e"

# the Dagster UI screenshots in docs/ (docs/images/dagster-*.png), taken again by the browser test
doc-screenshots: setup browser
	TRADEPLAT_DOC_SCREENSHOTS=$(CURDIR)/docs/images $(BIN)/python -m pytest -p no:cacheprovider tests/platform_assets/test_dagster_ui.py

bench: bench-runtime bench-simulator bench-market-data bench-backtest

bench-runtime: setup
	$(BIN)/python benchmarks/runtime.py

bench-simulator: setup
	$(BIN)/python benchmarks/simulator.py

bench-backtest: setup
	$(BIN)/python benchmarks/backtest.py

bench-market-data: setup bench-venv
	$(BIN)/python benchmarks/market_data.py --pipeline --cryptofeed-python $(BENCH_VENV)/bin/python

bench-venv: $(BENCH_STAMP)

$(BENCH_STAMP): Makefile
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet $(BENCH_REQUIREMENTS)
	@touch $@

clean-state:
	$(BIN)/tradeplat down || true
	rm -rf state
