# The two commands of the README:
#   make demo   installs what is needed, then classifies, judges and runs
#               agent commands in the sandbox (scripts/demo)
#   make test   runs every test (what .ci/run runs)
.PHONY: demo test deps fmt lint unit isolation-as-user bench bench-python bench-node bench-docker build-release python python-test node node-test agent docker

CARGO ?= cargo
VENV ?= .venv
# The Python extension links against libpython only when loaded by Python;
# tell pyo3 so for every cargo build of the workspace.
export PYO3_BUILD_EXTENSION_MODULE = 1

deps:
	./scripts/install-deps

demo: deps
	./scripts/demo

fmt:
	$(CARGO) fmt --all -- --check

lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# Doc tests first; then every other test target, with cargo-nextest when it
# is installed (its summary closes the run), else with cargo test.
unit:
	$(CARGO) test --workspace --doc
	if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  CI=true $(CARGO) nextest run --workspace --all-targets --profile ci; \
	else \
	  CI=true $(CARGO) test --workspace --all-targets; \
	fi

# The isolation tests again as an ordinary user (the user namespace path
# of the process backend; CI runs everything else as root).
isolation-as-user:
	CARGO=$(CARGO) ./scripts/test-as-user

# The Python bindings: a venv with maturin, pytest and mypy, and the
# extension built and installed into it (editable).
python: deps
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'maturin>=1.5,<2' 'pytest>=7' 'mypy>=1.8'
	cd bindings-python && VIRTUAL_ENV=$(abspath $(VENV)) PATH=$(abspath $(VENV))/bin:$$PATH maturin develop --release --quiet

python-test: python
	$(VENV)/bin/python -m pytest -q bindings-python/tests

# The Node bindings: npm packages from the lockfile, the addon built with
# cargo through @napi-rs/cli, then node --test and tsc.
node: deps
	cd bindings-node && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent

node-test: node
	cd bindings-node && npm test

test: deps fmt lint build-release agent docker unit isolation-as-user python-test node-test

# The Docker backend's in-container agent, linked statically (it runs in
# images without a libc), at target/agent/sandboxcore-agent where
# sandboxcore finds it (or set SANDBOXCORE_AGENT).
AGENT_TRIPLE := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
agent:
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release --quiet -p sandboxcore-agent --bin sandboxcore-agent --target $(AGENT_TRIPLE) --target-dir target/agent
	cp target/agent/$(AGENT_TRIPLE)/release/sandboxcore-agent target/agent/sandboxcore-agent

# A Docker daemon and the test image (see scripts/docker-setup; CI sets
# SANDBOXCORE_REQUIRE_DOCKER=1 so that a missing daemon fails the run).
docker:
	./scripts/docker-setup

build-release:
	$(CARGO) build --release --examples --benches

bench: bench-python bench-node
	$(CARGO) bench --bench classify
	$(CARGO) build --release -p sandboxcore-cli
	$(CARGO) bench --bench process

bench-docker: agent docker
	$(CARGO) bench --bench docker

bench-python: python
	$(VENV)/bin/python benches/python_bindings.py

bench-node: node
	node benches/node_bindings.js
