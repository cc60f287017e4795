# The front door: `make run` (the local stack) and `make test` (everything), from a fresh clone.
PY      ?= python3.11
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# The SAM CLI builds the artifacts; it lives in its own venv (its pins would move the dev ones).
SAM_CLI := aws-sam-cli==1.170.0
# What the built functions run on locally: an interpreter with the Lambda runtime's boto3, nothing else.
RUNTIME := $(VENV)/lambda-runtime

.PHONY: run test test-fast bench lint install build lock system-deps clean staff-add staff-list

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	[ -x $(VENV)/sam/bin/sam ] || $(PY) -m venv $(VENV)/sam
	$(VENV)/sam/bin/python -m pip install --quiet '$(SAM_CLI)'
	rm -rf $(RUNTIME) && $(PY) -m venv $(RUNTIME)
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

run: $(STAMP)
	$(BIN)/python -m infra.local run

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x -m "not browser"

# A staff member of a deployed stack: make staff-add EMAIL=lea@shop.example GROUP=warehouse [STACK=returns]
STACK ?= returns
staff-add: $(STAMP)
	@test -n "$(EMAIL)" -a -n "$(GROUP)" || { echo "usage: make staff-add EMAIL=... GROUP=warehouse|finance|ops [STACK=...]"; exit 2; }
	$(BIN)/python -m infra.aws --stack '$(STACK)' staff add --email '$(EMAIL)' --group '$(GROUP)'

staff-list: $(STAMP)
	$(BIN)/python -m infra.aws --stack '$(STACK)' staff list

bench: $(STAMP)
	$(BIN)/python -m bench

lint: $(STAMP)
	$(BIN)/cfn-lint template.yaml
	$(BIN)/statelint statemachines/*.json

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam
