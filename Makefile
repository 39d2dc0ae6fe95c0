# The verbs people type. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

FUNCTIONS := $(notdir $(wildcard functions/*))
VENV := .venv
TOOLS := $(VENV)/.installed
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
EMULATOR_PORT := 4566
WATCH_PORT := 9000

# Tools from PyPI (cargo-lambda with zig, moto) come first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# Point functions run by `make watch` at the local emulator started by `make emulator`.
LOCAL_AWS := AWS_ENDPOINT_URL=http://127.0.0.1:$(EMULATOR_PORT) AWS_REGION=us-east-1 \
	AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing LOG_FORMAT=text

.PHONY: help tools build test fmt lint emulator watch invoke clean

help: ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(TOOLS): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

tools: $(TOOLS) ## install the pinned tools from PyPI into .venv (done on first use by every verb)

build: $(TOOLS) ## release arm64 bootstraps, zipped for Lambda: target/lambda/<function>/bootstrap.zip
	@rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	cargo lambda build --release --arm64 --output-format zip $(addprefix --package ,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do ls -l $(TARGET_DIR)/lambda/$$f/bootstrap.zip; done

test: $(TOOLS) ## every test: unit (SDK mocks), emulator integration, end to end
	cargo test --workspace --all-features

fmt: ## format the code
	cargo fmt --all

lint: ## formatting check and clippy with warnings as errors
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings

emulator: $(TOOLS) ## local AWS (moto) on 127.0.0.1:4566 with the café's queue, table, topics and bucket
	$(VENV)/bin/python local/emulator.py

watch: $(TOOLS) ## serve every function on 127.0.0.1:9000 (Lambda Invoke API), pointed at the emulator
	$(LOCAL_AWS) cargo lambda watch --invoke-address 127.0.0.1 --invoke-port $(WATCH_PORT)

invoke: $(TOOLS) ## invoke a function served by `make watch`: make invoke FN=order-writer EVENT=events/sqs-orders.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=events/<file>.json" >&2; exit 2; }
	@(exec 3<>/dev/tcp/127.0.0.1/$(WATCH_PORT)) 2>/dev/null || { echo "nothing on 127.0.0.1:$(WATCH_PORT): run 'make emulator' and 'make watch' in other terminals first" >&2; exit 1; }
	cargo lambda invoke $(FN) --invoke-address 127.0.0.1 --invoke-port $(WATCH_PORT) --data-file $(EVENT)

clean: ## remove build output and the tools folder
	cargo clean
	rm -rf $(VENV)
