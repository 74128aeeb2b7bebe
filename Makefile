# The two commands of the README:
#   make demo   installs what is needed and runs the classifier demo
#   make test   runs every test (what .ci/run runs)
.PHONY: demo test deps fmt lint unit bench build-release

CARGO ?= cargo

deps:
	./scripts/install-deps

demo: deps
	$(CARGO) run --quiet --release --example classify_demo
	@echo
	$(CARGO) run --quiet --release -p sandboxcore-cli -- classify --pretty -- 'sudo rm -rf /'

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

test: deps fmt lint build-release unit

build-release:
	$(CARGO) build --release --examples --benches

bench:
	$(CARGO) bench --bench classify
	$(CARGO) bench --bench process
