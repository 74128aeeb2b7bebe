# The two commands of the README:
#   make demo   installs what is needed, then classifies, judges and runs
#               agent commands in the sandbox (scripts/demo)
#   make test   runs every test (what .ci/run runs)
.PHONY: fuzz-ci demo test check deps fmt lint unit isolation-warm isolation-as-user bench bench-python bench-node bench-docker build-release python python-test node node-test agent docker snippets mcp-test uniffi uniffi-test uniffi-kotlin

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
# is installed (its summary closes the run), else with cargo test. A test
# that would skip (no root, Docker, curl, ...) fails here
# (SANDBOXCORE_NO_SKIP=1; see "Skipped tests" in docs/design.md).
unit:
	$(CARGO) test --workspace --doc
	if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  SANDBOXCORE_NO_SKIP=1 $(CARGO) nextest run --workspace --all-targets --profile ci; \
	else \
	  SANDBOXCORE_NO_SKIP=1 $(CARGO) test --workspace --all-targets; \
	fi

# The quick loop while working: formatting, lints, doc tests and every
# Rust test, with nothing installed and no daemon started (tests that need
# Docker skip, saying so; the skips are listed at the end).
SKIPPED_LIST = $${CARGO_TARGET_DIR:-target}/tmp/skipped.txt
check: fmt lint
	rm -f $(SKIPPED_LIST)
	$(CARGO) test --workspace --doc
	if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  $(CARGO) nextest run --workspace --all-targets; \
	else \
	  $(CARGO) test --workspace --all-targets; \
	fi
	@if [ -s $(SKIPPED_LIST) ]; then echo "skipped tests ($(SKIPPED_LIST)):"; cat $(SKIPPED_LIST); fi

# The isolation, process backend and egress tests again as an ordinary
# user (the user namespace path of the process backend; CI runs everything
# else as root).
isolation-as-user:
	CARGO=$(CARGO) ./scripts/test-as-user

# The isolation tests as root again, every attack in a view built ahead of
# it (the process backend's fast path; see tests/isolation.rs). Built with
# `--workspace --all-targets` like `unit`, so that cargo unifies the same
# features and reuses unit's build instead of compiling the dependencies
# again.
isolation-warm:
	if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  SANDBOXCORE_TEST_WARM=1 SANDBOXCORE_NO_SKIP=1 $(CARGO) nextest run --workspace --all-targets --profile ci -E 'binary(isolation)'; \
	else \
	  SANDBOXCORE_TEST_WARM=1 SANDBOXCORE_NO_SKIP=1 $(CARGO) test --test isolation -- --test-threads=1; \
	fi

# Tests build everything in the dev profile, so that the Python and Node
# extensions share the workspace's target/debug with the Rust tests (one
# build of the dependencies instead of one per front end); the benches
# build the bindings alone in release (BINDINGS_PROFILE=release).
BINDINGS_PROFILE ?= debug
# Where cargo puts what it builds (CARGO_TARGET_DIR when set, as in a git
# worktree sharing another checkout's build), as an absolute path.
CARGO_OUT := $(abspath $(or $(CARGO_TARGET_DIR),target))
bindings_build = $(if $(filter release,$(BINDINGS_PROFILE)),--release -p $(1),--workspace --all-targets)

# The Python bindings: a venv with maturin, pytest and mypy, and the
# extension installed into it (editable) from the workspace build — the
# same `cargo build --workspace --all-targets` as `unit`, so nothing is
# compiled again (scripts/install-python-dev says why not `maturin
# develop`; maturin stays the way to build wheels).
python: deps
	test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'maturin>=1.5,<2' 'pytest>=7' 'mypy>=1.8' 'hypothesis>=6' 'mcp>=2.3,<3'
	$(CARGO) build --quiet $(call bindings_build,sandboxcore-python)
	./scripts/install-python-dev $(VENV) $(CARGO_OUT)/$(BINDINGS_PROFILE)/lib_native.so

# The stubs (__init__.pyi) are checked against the built module by
# mypy's stubtest (stub-only aliases listed in the allowlist).
python-test: python
	$(VENV)/bin/python -m pytest -q -rs bindings-python/tests
	$(VENV)/bin/python -m mypy.stubtest sandboxcore --allowlist bindings-python/stubtest-allowlist.txt

# The Node bindings: npm packages from the lockfile; the addon is the
# workspace build's cdylib (`unit`'s build: nothing compiled again), with
# napi-derive recording its type definitions (NAPI_TYPE_DEF_TMP_FOLDER;
# the crate is recompiled when they are missing or older than its
# sources), assembled by bindings-node/scripts/assemble.mjs into the
# .node file, native.js and native.d.ts through @napi-rs/cli's own
# generators; then node --test and tsc. (`npm run build`, napi's own
# build, gives the same files but compiles the dependency tree again
# for an explicit --target.)
NAPI_TYPE_DEFS := target/napi-typedefs
node: deps
	cd bindings-node && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(NAPI_TYPE_DEFS)
	if [ ! -s $(NAPI_TYPE_DEFS)/sandboxcore-node ] || [ -n "$$(find bindings-node/src bindings-node/Cargo.toml -newer $(NAPI_TYPE_DEFS)/sandboxcore-node)" ]; then \
	  rm -f $(NAPI_TYPE_DEFS)/sandboxcore-node; touch bindings-node/src/lib.rs; \
	fi
	NAPI_TYPE_DEF_TMP_FOLDER=$(abspath $(NAPI_TYPE_DEFS)) $(CARGO) build --quiet $(call bindings_build,sandboxcore-node)
	cd bindings-node && node scripts/assemble.mjs $(CARGO_OUT)/$(BINDINGS_PROFILE)/libsandboxcore_node.so ../$(NAPI_TYPE_DEFS) $(HOST_TRIPLE)

node-test: node
	cd bindings-node && npm test

# The uniffi bindings (bindings-uniffi/): the library and uniffi-bindgen
# built (`--workspace --all-targets`, as `unit` builds: the same features,
# so after `unit` only the library's cdylib and the binary are linked), the Python, Kotlin and Swift sources generated into
# target/uniffi/ (never committed: always those of the code being built),
# then the behaviour tests run through the generated Python module.
UNIFFI_OUT := target/uniffi
uniffi:
	$(CARGO) build --quiet --workspace --all-targets
	rm -rf $(UNIFFI_OUT)
	for lang in python kotlin swift; do \
	  $(CARGO_OUT)/debug/uniffi-bindgen generate --no-format --library $(CARGO_OUT)/debug/libsandboxcore_uniffi.so \
	    --language $$lang --out-dir $(UNIFFI_OUT)/$$lang >/dev/null || exit 1; \
	done
	test -s $(UNIFFI_OUT)/kotlin/dev/sandboxcore/sandboxcore_uniffi.kt
	test -s $(UNIFFI_OUT)/swift/SandboxCore.swift
	cp $(CARGO_OUT)/debug/libsandboxcore_uniffi.so $(UNIFFI_OUT)/python/

uniffi-test: uniffi python
	$(VENV)/bin/python -m pytest -q bindings-uniffi/tests
	PYTHONPATH=$(abspath $(UNIFFI_OUT))/python ./scripts/check-snippets --python $(VENV)/bin/python bindings-uniffi/README.md

# The generated Kotlin compiled, with the Kotlin behaviour test, by
# JetBrains' compiler from npm (Debian's kotlin 1.3 is too old for
# uniffi's output), run on the JDK with Debian's JNA; then the Kotlin
# example of bindings-uniffi/README.md, compiled and run the same way.
KOTLIN_CP := /usr/share/java/jna.jar:bindings-uniffi/kotlin/node_modules/kotlin-compiler/lib/kotlinx-coroutines-core-jvm.jar
uniffi-kotlin: deps uniffi
	cd bindings-uniffi/kotlin && npm ci --no-audit --no-fund --loglevel=error
	bindings-uniffi/kotlin/node_modules/kotlin-compiler/bin/kotlinc -nowarn \
	  $(UNIFFI_OUT)/kotlin/dev/sandboxcore/sandboxcore_uniffi.kt bindings-uniffi/kotlin/BehaviourTest.kt \
	  -cp $(KOTLIN_CP) -d $(UNIFFI_OUT)/kotlin-test.jar
	java -Djna.library.path=$(CARGO_OUT)/debug \
	  -cp $(UNIFFI_OUT)/kotlin-test.jar:bindings-uniffi/kotlin/node_modules/kotlin-compiler/lib/kotlin-stdlib.jar:$(KOTLIN_CP) \
	  BehaviourTestKt
	mkdir -p $(UNIFFI_OUT)/readme
	awk '/^```kotlin/{f=1;next} /^```/{f=0} f' bindings-uniffi/README.md > $(UNIFFI_OUT)/readme/Readme.kt
	bindings-uniffi/kotlin/node_modules/kotlin-compiler/bin/kotlinc -nowarn $(UNIFFI_OUT)/readme/Readme.kt \
	  -cp $(KOTLIN_CP):$(UNIFFI_OUT)/kotlin-test.jar -d $(UNIFFI_OUT)/readme.jar
	java -Djna.library.path=$(CARGO_OUT)/debug \
	  -cp $(UNIFFI_OUT)/readme.jar:$(UNIFFI_OUT)/kotlin-test.jar:bindings-uniffi/kotlin/node_modules/kotlin-compiler/lib/kotlin-stdlib.jar:$(KOTLIN_CP) \
	  ReadmeKt

# `sandboxcore mcp` driven by the official MCP clients: the Python SDK
# (in the venv) and the TypeScript SDK (tests/mcp/node, from its lockfile).
# The binary is built with `unit`'s features (nothing compiled again).
mcp-test: python
	$(CARGO) build --quiet --workspace --all-targets
	SANDBOXCORE_BIN=$(CARGO_OUT)/debug/sandboxcore $(VENV)/bin/python -m pytest -q tests/mcp
	cd tests/mcp/node && npm ci --no-audit --no-fund --loglevel=error && SANDBOXCORE_BIN=$(CARGO_OUT)/debug/sandboxcore npm test

# Every Python and JavaScript snippet of README.md, docs/*.md and the
# bindings' READMEs, run against the built bindings (scripts/check-snippets;
# the Rust snippets are doc tests, run by `unit`).
snippets: python node
	./scripts/check-snippets --python $(VENV)/bin/python

# `unit` compiles the examples and benches too (dev profile): no separate
# release build of the workspace.
test: deps fmt lint agent docker unit isolation-warm isolation-as-user python-test node-test mcp-test uniffi-test uniffi-kotlin snippets fuzz-ci

# Every fuzz target (fuzz/) for FUZZ_SECONDS each with libFuzzer on the
# stable toolchain (scripts/fuzz-ci); a crash fails the run and keeps the
# input in target/fuzz/artifacts/.
FUZZ_SECONDS ?= 8
fuzz-ci: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/fuzz-ci

# The Docker backend's in-container agent, linked statically (it runs in
# images without a libc), at target/agent/sandboxcore-agent where
# sandboxcore finds it (or set SANDBOXCORE_AGENT).
HOST_TRIPLE := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
agent:
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release --quiet -p sandboxcore-agent --bin sandboxcore-agent --target $(HOST_TRIPLE) --target-dir target/agent
	cp target/agent/$(HOST_TRIPLE)/release/sandboxcore-agent target/agent/sandboxcore-agent

# A Docker daemon and the test image (see scripts/docker-setup; CI sets
# SANDBOXCORE_NO_SKIP=1 so that a missing daemon fails the run).
docker:
	./scripts/docker-setup

build-release:
	$(CARGO) build --release --examples --benches

bench: bench-python bench-node
	$(CARGO) bench --bench classify
	$(CARGO) build --release -p sandboxcore-cli
	$(CARGO) bench --bench process
	$(CARGO) bench --bench egress

bench-docker: agent docker
	$(CARGO) bench --bench docker

bench-python:
	$(MAKE) python BINDINGS_PROFILE=release
	$(CARGO) build --release --example loop_true
	$(VENV)/bin/python benches/python_bindings.py

bench-node:
	$(MAKE) node BINDINGS_PROFILE=release
	$(CARGO) build --release --example loop_true
	node benches/node_bindings.js
