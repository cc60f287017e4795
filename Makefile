# The front door: `make run` (the local stack) and `make test` (everything), from a fresh clone.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# The SAM CLI builds the artifacts; it lives in its own venv (its pins would move the dev ones).
SAM_CLI := aws-sam-cli==1.170.0
# What the built functions run on locally: the Lambda runtime's Python (python3.13: the machine's, or built
# once by infra/runtime_python.py) with the runtime's boto3, nothing else.
RUNTIME := $(VENV)/lambda-runtime

.PHONY: run demo reset test test-fast bench lint install build lock system-deps clean deploy deploy-check staff-add staff-list

# The local stack's ports (`make run API_PORT=8080 AWS_PORT=5001 STRIPE_PORT=8421`).
API_PORT    ?= 8000
AWS_PORT    ?= 5000
STRIPE_PORT ?= 8420

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	[ -x $(VENV)/sam/bin/sam ] || $(PY) -m venv $(VENV)/sam
	$(VENV)/sam/bin/python -m pip install --quiet '$(SAM_CLI)'
	runtime_python=$$($(BIN)/python -m infra.runtime_python path) && rm -rf $(RUNTIME) && $$runtime_python -m venv $(RUNTIME)
	$(BIN)/python -m infra.artifacts runtime-requirements | xargs -d '\n' $(RUNTIME)/bin/python -m pip install --quiet
	touch $(STAMP)

install: $(STAMP)

# Debian packages the browser and PDF tests need; installed only when missing.
system-deps:
	@command -v chromium >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || { \
	  echo "installing chromium and poppler-utils with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; }

# sam build, unless .aws-sam/build is already the build of this tree (make run and the tests do the same).
build: $(STAMP)
	$(BIN)/python -m infra.artifacts build

# Re-resolve the layer's pinned requirements after a change to pyproject's dependencies.
lock: $(STAMP)
	$(BIN)/python -m infra.artifacts lock

# The data (.local/) is kept across runs; `make reset` wipes it. VERBOSE=1 prints every log line.
run: $(STAMP)
	$(BIN)/python -m infra.local run --api-port $(API_PORT) --aws-port $(AWS_PORT) --stripe-port $(STRIPE_PORT) $(if $(VERBOSE),--verbose)

# The same stack with the workflow's waits shortened (a day of a period in a minute: a drop-off deadline
# expires after 14 minutes, the follow-up comes after 30): customers are still told the real periods.
demo: $(STAMP)
	$(BIN)/python -m infra.local run --demo --api-port $(API_PORT) --aws-port $(AWS_PORT) --stripe-port $(STRIPE_PORT) $(if $(VERBOSE),--verbose)

reset: $(STAMP)
	$(BIN)/python -m infra.local reset

# What ships is built first (sam build, as `make build`), then tested: the workers never wait on a
# first build inside the suite (a no-op when .aws-sam/build matches the sources).
test: lint system-deps
	$(BIN)/python -m infra.artifacts build
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

# Everything but the slow tests (a deployed or launched stack, generated runs, Chromium), in about a minute
# on 2 cores; no lint (`make lint`, seconds), which `make test` runs. tests/workflow and tests/browser hold
# only slow or browser tests, so they are not even collected.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x -n 2 --dist loadgroup -m "not slow and not browser" tests/unit tests/api tests/infra

# Deploy to AWS (README, "Deploy to AWS"): ENV=staging (default) or prod; the store's values from
# SENDER_EMAIL, PUBLIC_BASE_URL and STRIPE_API_KEY on the first deploy. Checked before anything is built.
ENV ?= staging
deploy: $(STAMP)
	$(BIN)/python -m infra.deploy deploy --env $(ENV)

deploy-check: $(STAMP)
	$(BIN)/python -m infra.deploy check --env $(ENV)

# A staff member of a deployed stack: make staff-add EMAIL=lea@shop.example GROUP=warehouse [STACK=returns-staging]
STACK ?= returns-staging
staff-add: $(STAMP)
	@test -n "$(EMAIL)" -a -n "$(GROUP)" || { echo "usage: make staff-add EMAIL=... GROUP=warehouse|finance|ops [STACK=...]"; exit 2; }
	$(BIN)/python -m infra.aws --stack '$(STACK)' staff add --email '$(EMAIL)' --group '$(GROUP)'

staff-list: $(STAMP)
	$(BIN)/python -m infra.aws --stack '$(STACK)' staff list

bench: $(STAMP)
	$(BIN)/python -m bench

# Seconds, so every `make test` runs it first (CI holds the same): the template, the state machines,
# then ruff (rules and why in pyproject) and mypy (strict on the pure domain, rules/).
lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	$(BIN)/statelint statemachines/*.json
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam
