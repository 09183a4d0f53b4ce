# sinp_import — every target is idempotent and works on a fresh Debian 12 machine (run as root).
#   make demo   install what is missing, build, install, load a sample archive into sinp_demo
#   make test   unit tests, in-database tests (cargo pgrx test) and end-to-end tests on the cluster
#   make psql   psql on the demo database

PG_MAJOR      ?= 15
PG_CONFIG     ?= /usr/lib/postgresql/$(PG_MAJOR)/bin/pg_config
PGRX_VERSION  := 0.18.1
DEMO_DB       ?= sinp_demo
DEMO_ROWS     ?= 20000
ROWS          ?= 100000 1000000
REPEAT        ?= 3
BENCH_DIR     := /var/tmp/sinp_bench
OUT           := $(CURDIR)/out
# Archives are read by the server process: they live where the postgres user can read them.
ARCHIVES      := /var/tmp/sinp_import
TEST_PGDATA   := /tmp/sinp-test-pgdata
PSQL          := sudo -u postgres psql -X -v ON_ERROR_STOP=1
GEN           := target/release/sinp-gen
DEB_PACKAGES  := postgresql-$(PG_MAJOR) postgresql-server-dev-$(PG_MAJOR) postgresql-$(PG_MAJOR)-postgis-3 \
                 postgresql-$(PG_MAJOR)-cron libclang-dev clang sudo unzip

.PHONY: deps install cluster demo psql test core-test generator-test unit-test pg-test e2e-test bench bench-diff bench-export fuzz fuzz-smoke lint clean

## deps: Debian packages, cargo-pgrx $(PGRX_VERSION), cargo pgrx init, cargo-fuzz (fast when already done)
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@if ! cargo pgrx --version 2>/dev/null | grep -q '$(PGRX_VERSION)'; then \
	  cargo install cargo-pgrx --version $(PGRX_VERSION) --locked; \
	fi
	@if ! grep -q '^pg$(PG_MAJOR) *=' $${PGRX_HOME:-$$HOME/.pgrx}/config.toml 2>/dev/null; then \
	  cargo pgrx init --pg$(PG_MAJOR) $(PG_CONFIG); \
	fi
	@cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked

## install: release build installed into the system PostgreSQL. The library is replaced by a
## rename, never overwritten in place: backends that have the old one loaded keep running.
PKG_DIR := target/release/sinp_import-pg$(PG_MAJOR)
install: deps
	cargo pgrx package --pg-config $(PG_CONFIG)
	@libdir=$$($(PG_CONFIG) --pkglibdir); sharedir=$$($(PG_CONFIG) --sharedir); \
	install -m 755 $(PKG_DIR)$$libdir/sinp_import.so $$libdir/.sinp_import.so.new && \
	mv -f $$libdir/.sinp_import.so.new $$libdir/sinp_import.so && \
	install -m 644 $(PKG_DIR)$$sharedir/extension/sinp_import* sql/upgrade/sinp_import--*--*.sql $$sharedir/extension/ && \
	echo "installed $$libdir/sinp_import.so and $$sharedir/extension/sinp_import*"

## cluster: the system cluster, started if down, with pg_cron preloaded (it runs the nightly
## CALL sinp_import.load_inbox(); its jobs live in the database postgres). Libraries already
## preloaded are kept.
CRON_CONF := /etc/postgresql/$(PG_MAJOR)/main/conf.d/50-sinp_import-pg_cron.conf
cluster: deps
	@pg_lsclusters -h | grep -q '^$(PG_MAJOR) *main .*online' || pg_ctlcluster $(PG_MAJOR) main start
	@until sudo -u postgres pg_isready -q; do sleep 0.2; done
	@preloaded=$$(sudo -u postgres psql -XAtc "SHOW shared_preload_libraries"); \
	if ! echo "$$preloaded" | grep -q pg_cron; then \
	  install -d /etc/postgresql/$(PG_MAJOR)/main/conf.d; \
	  { echo "# Written by sinp_import's make cluster: pg_cron runs scheduled archive loads."; \
	    echo "shared_preload_libraries = '$${preloaded:+$$preloaded,}pg_cron'"; \
	    echo "cron.database_name = 'postgres'"; \
	    echo "cron.use_background_workers = on"; } > $(CRON_CONF); \
	  echo "preloading pg_cron ($(CRON_CONF)): restarting PostgreSQL $(PG_MAJOR)"; \
	  pg_ctlcluster $(PG_MAJOR) main restart; \
	  until sudo -u postgres pg_isready -q; do sleep 0.2; done; \
	fi
	@sudo -u postgres psql -XAtq -d postgres -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS pg_cron"

$(GEN): $(shell find bench/src -name '*.rs') bench/Cargo.toml
	cargo build --release -q -p sinp-bench --bin sinp-gen

## demo: a fresh sinp_demo database with a sample archive loaded
demo: install cluster $(GEN)
	@install -d -m 755 $(ARCHIVES)
	$(GEN) synthetic --rows $(DEMO_ROWS) --out $(ARCHIVES)/2020-08-26_sinp_paca_demo.zip >/dev/null
	$(GEN) real --fixture-dir tests/fixtures/cen-paca-2020 --out $(ARCHIVES)/2020-02-13_sinp_paca_cenpaca.zip >/dev/null
	@chmod 644 $(ARCHIVES)/*.zip
	$(PSQL) -q -c "DROP DATABASE IF EXISTS $(DEMO_DB) WITH (FORCE)" -c "CREATE DATABASE $(DEMO_DB)"
	$(PSQL) -q -d $(DEMO_DB) -v archives=$(ARCHIVES) -f tests/sql/demo.sql

## psql: psql on the demo database, as a DBA would
psql: cluster
	sudo -u postgres psql -d $(DEMO_DB)

## test: everything (under 30 minutes from a clean clone), formatting and clippy first; each fuzz
## target briefly, so that they keep building and their seeds keep passing
test: lint core-test fuzz-smoke generator-test pg-test e2e-test

## core-test: the pure-Rust core (crate sinp-core: readers, field tables, validation), no PostgreSQL
core-test: deps
	cargo test -q -p sinp-core

generator-test: deps
	cargo test -q -p sinp-bench

## unit-test: the pure-Rust tests only, fast (cargo pgrx test runs the extension's too)
unit-test: deps
	cargo test -q -p sinp-core
	cargo test -q --lib -- --skip pg_

## pg-test: cargo pgrx test — the unit tests and the in-database tests, as the postgres user
pg-test: deps
	@install -d -o postgres -g postgres $(TEST_PGDATA)
	cargo pgrx test pg$(PG_MAJOR) --runas postgres --pgdata $(TEST_PGDATA)

## e2e-test: the installed release extension in the real running cluster
e2e-test: install cluster $(GEN)
	tests/e2e.sh

## bench: load_archive against a plain COPY of the same rows (docs/benchmarks.md); not part of test
bench: install cluster
	cargo build --release -q -p sinp-bench --bin sinp-bench
	@install -d -o postgres -g postgres -m 755 $(BENCH_DIR)
	sudo -u postgres env PGOPTIONS="$(PGOPTIONS)" target/release/sinp-bench --rows "$(ROWS)" --repeat $(REPEAT) --dir $(BENCH_DIR)
	$(MAKE) --no-print-directory bench-export

## bench-diff: nightly differential loads (10 000 U, 1 000 D, 1 000 I rows) into bases of ROWS rows,
## against an initial load of the same rows (docs/benchmarks.md); not part of test
bench-diff: install cluster
	cargo build --release -q -p sinp-bench --bin sinp-bench-diff
	@install -d -o postgres -g postgres -m 755 /var/tmp/sinp_bench_diff
	sudo -u postgres env PGOPTIONS="$(PGOPTIONS)" target/release/sinp-bench-diff --rows "$(ROWS)" --repeat $(REPEAT) --dir /var/tmp/sinp_bench_diff

## bench-export: export_archive() of ROWS observations against COPY (the same columns, codes
## joined) TO a file, with the backend's peak memory (docs/benchmarks.md); not part of test
bench-export: install cluster
	cargo build --release -q -p sinp-bench --bin sinp-bench-export
	@install -d -o postgres -g postgres -m 755 /var/tmp/sinp_bench_export
	sudo -u postgres env PGOPTIONS="$(PGOPTIONS)" target/release/sinp-bench-export --rows "$(ROWS)" --repeat $(REPEAT) --dir /var/tmp/sinp_bench_export

## fuzz: each cargo fuzz target of sinp-core (fuzz/fuzz_targets) for FUZZ_SECONDS, one after
## another, from its seeds (fuzz/corpus/<target>, committed) and what earlier runs found
## (fuzz/work/<target>); crashes go to fuzz/artifacts/<target>/. Not part of test.
## Stable Rust: RUSTC_BOOTSTRAP=1 lets cargo fuzz pass its -Z flags (address sanitizer, coverage).
## FUZZ_FLAGS="--sanitizer none" if the address sanitizer is not available.
FUZZ_TARGETS  := archive tsv meta_ini values rows
FUZZ_SECONDS  ?= 1800
FUZZ_FLAGS    ?=
FUZZ_CARGO    := RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz
# Runs the shell's $$t on corpus $(1) then its seeds; inputs up to 1 MB for archive, 64 kB else.
fuzz_run       = case $$t in archive) len=1048576;; *) len=65536;; esac; \
                 $(FUZZ_CARGO) run $(FUZZ_FLAGS) $$t $(1) fuzz/corpus/$$t -- \
                 -max_total_time=$(FUZZ_SECONDS) -max_len=$$len \
                 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
fuzz:
	@cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
	$(FUZZ_CARGO) build $(FUZZ_FLAGS)
	@failed=""; for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/work/$$t; echo "== fuzz $$t: $(FUZZ_SECONDS) s"; \
	  { $(call fuzz_run,fuzz/work/$$t); } || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in$$failed (fuzz/artifacts/)"; exit 1; fi

## fuzz-smoke: every fuzz target briefly (FUZZ_SECONDS=20) from its seeds, so that they keep building
fuzz-smoke: FUZZ_SECONDS = 20
fuzz-smoke: deps
	@cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
	$(FUZZ_CARGO) build $(FUZZ_FLAGS)
	@scratch=$$(mktemp -d); trap 'rm -rf $$scratch' EXIT; \
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p $$scratch/$$t; echo "== fuzz-smoke $$t: $(FUZZ_SECONDS) s"; \
	  { $(call fuzz_run,$$scratch/$$t); } 2>$$scratch/$$t.log || { tail -n 60 $$scratch/$$t.log; exit 1; }; \
	  grep -h '^#[0-9].*DONE\|stat::number_of_executed_units' $$scratch/$$t.log | tail -n 2; \
	done

## lint: formatting and clippy, as CI expects them
lint: deps
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

clean:
	cargo clean
	rm -rf $(OUT) $(ARCHIVES) $(BENCH_DIR)
