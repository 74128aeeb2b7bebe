# The two commands of the README:
#   make demo   installs what is needed and runs the classifier demo
#   make test   runs every test (what .ci/run runs)
.PHONY: demo test deps fmt lint unit bench

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

unit:
	CI=true $(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

test: deps fmt lint unit
	$(CARGO) build --release --examples --benches

bench:
	$(CARGO) bench --bench classify
