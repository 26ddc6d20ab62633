# teleconf: the local stack and CI entry points. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

EMULATOR ?= moto
ifeq ($(EMULATOR),localstack)
EMULATOR_PORT ?= 4566
# LocalStack serves S3, SES, SQS and CloudFormation; moto beside it serves DynamoDB and its
# streams (scripts/emulator.sh says why), reached through the SDK's per-service endpoints (the
# SDKs name DynamoDB Streams' variable after its service id, "DynamoDB Streams": _DYNAMODB_STREAMS).
EMULATOR_DYNAMODB_PORT ?= $(shell echo $$(($(EMULATOR_PORT) + 1)))
export EMULATOR_DYNAMODB_PORT
export AWS_ENDPOINT_URL_DYNAMODB := http://127.0.0.1:$(EMULATOR_DYNAMODB_PORT)
export AWS_ENDPOINT_URL_DYNAMODB_STREAMS := http://127.0.0.1:$(EMULATOR_DYNAMODB_PORT)
else
EMULATOR_PORT ?= 4577
unexport AWS_ENDPOINT_URL_DYNAMODB AWS_ENDPOINT_URL_DYNAMODB_STREAMS
endif
API_ADDR ?= 127.0.0.1:8080
SIP_ADDR ?= 127.0.0.1:5060
# `make run NODES=2`: Kamailio on SIP_ADDR in front of that many media nodes.
NODES ?= 1
CARGO ?= cargo
# Extra arguments for `cargo test`, e.g. make test TEST_ARGS='-p teleconf-adapters -- --nocapture'
TEST_ARGS ?=
# Arguments of the media benchmark, e.g. make bench-media BENCH_MEDIA_ARGS='--steps 500,1000'
BENCH_MEDIA_ARGS ?=
# The month `make bill` bills (YYYY-MM); last month by default.
MONTH ?= $(shell date -u -d "$$(date -u +%Y-%m-01) -1 month" +%Y-%m)

# Every recipe talks to the local emulator with dummy credentials, never to a real AWS account
# (`:=` on purpose: credentials from the caller's environment are not used).
export EMULATOR EMULATOR_PORT API_ADDR SIP_ADDR NODES
export AWS_ENDPOINT_URL := http://127.0.0.1:$(EMULATOR_PORT)
export AWS_ACCESS_KEY_ID := test
export AWS_SECRET_ACCESS_KEY := test
export AWS_REGION := us-east-1
export TELECONF_TABLE := teleconf-local
export TELECONF_BUCKET := teleconf-local-media
export TELECONF_MAIL_FROM := conferences@teleconf.example
export TELECONF_EMULATOR := $(EMULATOR)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_GET := $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get

# $(call install_missing,COMMAND:PACKAGE ...): apt-get installs each Debian PACKAGE whose
# COMMAND is not on PATH, with one `apt-get update` first; does nothing when all are there.
define install_missing
pkgs=""; \
for pair in $(1); do command -v "$${pair%%:*}" >/dev/null 2>&1 || pkgs="$$pkgs $${pair#*:}"; done; \
if [ -n "$$pkgs" ]; then \
  echo "installing:$$pkgs"; \
  $(APT_GET) update -qq && $(APT_GET) install -y -qq $$pkgs; \
fi
endef

# $(call rust_component,COMPONENT): adds a rustup component (clippy, rustfmt) when cargo lacks it.
define rust_component
$(CARGO) $(subst rustfmt,fmt,$(1)) --version >/dev/null 2>&1 || rustup component add $(1)
endef

.PHONY: help deps deps-emulator deps-infra deps-tools deps-sip deps-browser build test run bill bench bench-api bench-media bench-cascade bench-billing \
	fmt fmt-check lint lint-infra package deploy emulator-start emulator-stop emulator-status clean-run

help: ## List the targets
	@echo "usage: make TARGET [EMULATOR=moto|localstack] [EMULATOR_PORT=…] [API_ADDR=…] [SIP_ADDR=…] [NODES=…]"
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  %-16s %s\n", $$1, $$2 }' $(firstword $(MAKEFILE_LIST))
	@echo
	@echo "now: EMULATOR=$(EMULATOR) AWS_ENDPOINT_URL=$(AWS_ENDPOINT_URL) API_ADDR=$(API_ADDR) SIP_ADDR=$(SIP_ADDR)"

deps: deps-emulator deps-infra deps-tools deps-sip deps-browser ## Install what build/test/run need and is missing (idempotent)

deps-emulator: ## Install the AWS emulator into its venv (.venv, or .venv-localstack)
	@scripts/emulator.sh install

TOOLS_VENV := .venv-tools
deps-infra: ## Install the pinned deployment tools (SAM translator, cfn-lint, cargo-lambda, zig) into .venv-tools
	@if ! cmp -s infra/requirements-tools.txt $(TOOLS_VENV)/.installed 2>/dev/null; then \
	  echo "installing infra/requirements-tools.txt into $(TOOLS_VENV)/"; \
	  rm -rf $(TOOLS_VENV) && python3 -m venv $(TOOLS_VENV) && \
	  $(TOOLS_VENV)/bin/pip install -q --disable-pip-version-check -r infra/requirements-tools.txt && \
	  cp infra/requirements-tools.txt $(TOOLS_VENV)/.installed; \
	fi

deps-tools: ## Install curl, jq and pdftotext (the invoice PDF test) when missing
	@$(call install_missing,curl:curl jq:jq pdftotext:poppler-utils)

deps-sip: ## Install the real SIP peers (sipp, baresip) and the SIP entry (kamailio) when missing
	@$(call install_missing,sipp:sip-tester baresip:baresip-core kamailio:kamailio)

deps-browser: ## Install chromium and chromedriver when missing
	@$(call install_missing,chromium:chromium chromedriver:chromium-driver)

build: ## Build every crate and target (tests included, so `make test` reuses them)
	$(CARGO) build --workspace --all-targets

test: deps build ## Run every test, with the emulator up (started and stopped if not running)
	scripts/with-emulator.sh $(CARGO) test --workspace --all-targets $(TEST_ARGS)

run: deps ## Run the local stack (emulator, API + portal, loops, media node; NODES=2: Kamailio + 2 nodes) until Ctrl-C
	$(CARGO) build --workspace --bins
	scripts/run-local.sh

bill: ## Bill a month on the running local stack: make bill MONTH=YYYY-MM (last month by default)
	@$(CARGO) run --quiet -p teleconf-billing -- --month $(MONTH)

bench: bench-api bench-media bench-cascade bench-billing ## Run every benchmark and print its figures
	@if $(CARGO) metadata --no-deps --format-version 1 | grep -q '"kind":\["bench"\]'; then \
	  $(CARGO) bench --workspace --bench '*'; \
	fi

# The bench builds for the host with an explicit --target, so its binary lands in
# target/<host>/lambda/: target/lambda/<bin>/ is where `make package` puts the zips (the
# template's CodeUri), and a file target/lambda/<bin> from a plain --profile lambda build
# would stop cargo-lambda from making that directory.
HOST_TARGET := $(shell rustc -vV | sed -n 's/^host: //p')
bench-api: ## The API's cold start and size, built as deployed (profile lambda) for this machine
	$(CARGO) build --profile lambda --target $(HOST_TARGET) -p teleconf-api --bin teleconf-api
	$(CARGO) run --quiet --profile lambda --target $(HOST_TARGET) -p teleconf-api --example cold_start -- \
	  target/$(HOST_TARGET)/lambda/teleconf-api

bench-billing: ## Billing: legs/s of the pricing core (1M legs), and 100k legs billed end to end on the emulator
	scripts/with-emulator.sh $(CARGO) run --quiet --release -p teleconf-billing --example bench_billing

# The media benches run their binary (cargo's runner for the host) under SCHED_FIFO where the
# user may (`chrt -f 1`): on a machine shared with other work, another process on the node's
# pinned core then waits instead of taking a share of it, so a step measures the node, not its
# neighbours; a real node has its vCPUs to itself. `make bench-media BENCH_RT=` runs it as is.
BENCH_RT ?= $(shell chrt -f 1 true 2>/dev/null && echo "chrt -f 1")
BENCH_RUNNER = $(if $(BENCH_RT),env CARGO_TARGET_$(shell echo '$(HOST_TARGET)' | tr 'a-z-' 'A-Z_')_RUNNER='$(BENCH_RT)')

bench-media: ## The media node's callers per core, with its load generator on loopback (BENCH_MEDIA_ARGS='--help')
	$(BENCH_RUNNER) $(CARGO) run --quiet --release -p teleconf-media-node --example bench_media -- $(BENCH_MEDIA_ARGS)

bench-cascade: ## A cascaded participant's CPU on each node against a local one, and the mouth-to-ear delay the cascade adds (BENCH_CASCADE_ARGS)
	$(BENCH_RUNNER) $(CARGO) run --quiet --release -p teleconf-media-node --example bench_media -- --cascade $(BENCH_CASCADE_ARGS)

fmt: ## Format the code
	@$(call rust_component,rustfmt)
	$(CARGO) fmt --all

fmt-check: ## Check the formatting
	@$(call rust_component,rustfmt)
	$(CARGO) fmt --all -- --check

lint: lint-infra ## Clippy on every target (warnings are errors), and the template
	@$(call rust_component,clippy)
	$(CARGO) clippy --workspace --all-targets -- -D warnings

lint-infra: deps-infra ## Check infra/template.json with cfn-lint (pinned, in .venv-tools)
	$(TOOLS_VENV)/bin/cfn-lint infra/template.json

# The four functions as deployed: aarch64 (Graviton), provided.al2023, profile lambda.
LAMBDA_BINS := teleconf-api teleconf-scheduler teleconf-mailer teleconf-billing
package: deps-infra ## Build the four Lambda functions for arm64 as target/lambda/*/bootstrap.zip and print their sizes
	@rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/$(TOOLS_VENV)/bin:$$PATH" $(TOOLS_VENV)/bin/cargo-lambda lambda build --profile lambda --arm64 \
	  --output-format zip $(addprefix --bin ,$(LAMBDA_BINS))
	@for bin in $(LAMBDA_BINS); do \
	  zip="target/lambda/$$bin/bootstrap.zip"; \
	  unzipped=$$(unzip -Zt "$$zip" | awk '{print $$3}'); \
	  printf '%-20s bootstrap.zip %6.2f MB zipped, %6.2f MB unzipped\n' "$$bin" \
	    "$$(echo "$$(stat -c %s "$$zip") / 1000000" | bc -l)" "$$(echo "$$unzipped / 1000000" | bc -l)"; \
	done

# make deploy STAGE=prod PARAMS='MailFrom=… MediaNodeImage=… …' (README, "Deploy to AWS").
STAGE ?= prod
PARAMS ?=
deploy: ## sam deploy of infra/template.json with the packaged functions (needs an AWS account and the SAM CLI)
	@command -v sam >/dev/null || { echo "deploy: the AWS SAM CLI is not installed (pip install aws-sam-cli)"; exit 1; }
	@test -f target/lambda/teleconf-api/bootstrap.zip || { echo "deploy: run make package first"; exit 1; }
	env -u AWS_ENDPOINT_URL -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	  sam deploy --template-file infra/template.json --stack-name teleconf-$(STAGE) \
	  --capabilities CAPABILITY_IAM --resolve-s3 --no-fail-on-empty-changeset \
	  --parameter-overrides Stage=$(STAGE) $(PARAMS)

emulator-start: deps-emulator ## Start the emulator in the background (reused if running)
	@scripts/emulator.sh start

emulator-stop: ## Stop the emulator started by emulator-start
	@scripts/emulator.sh stop

emulator-status: ## Is the emulator running?
	@scripts/emulator.sh status

clean-run: ## Stop the emulator and remove .run/ (logs, PID files)
	@scripts/emulator.sh stop
	rm -rf .run
