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

.PHONY: setup up down status test bench bench-runtime clean-state

setup: $(PY_STAMP) $(KAFKA_STAMP)

$(PY_STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

$(KAFKA_STAMP): $(KAFKA_POM)
	@command -v mvn >/dev/null || { echo "Maven (mvn) is needed to fetch Apache Kafka from Maven Central"; exit 1; }
	rm -rf $(KAFKA_DIR)/libs
	mvn --batch-mode --quiet -f $(KAFKA_POM) dependency:copy-dependencies \
	    -DincludeScope=runtime -DoutputDirectory=$(CURDIR)/$(KAFKA_DIR)/libs
	@touch $@

up: setup
	$(BIN)/tradeplat up

down: setup
	$(BIN)/tradeplat down

status: setup
	$(BIN)/tradeplat status

test: setup
	$(BIN)/python -m pytest

bench: bench-runtime

bench-runtime: setup
	$(BIN)/python benchmarks/runtime.py

clean-state:
	$(BIN)/tradeplat down || true
	rm -rf state
