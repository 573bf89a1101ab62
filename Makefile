# Two commands do all the set-up: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

BIN := target/debug/provisioner
RUN_DIR := .run
API_LISTEN ?= 127.0.0.1:8080
SIM_LISTEN ?= 127.0.0.1:9090
export DATABASE_URL ?= postgres://provisioner:provisioner@127.0.0.1:5432/provisioner
export AMQP_URL ?= amqp://guest:guest@127.0.0.1:5672/%2f
export TEST_DATABASE_URL ?= postgres://provisioner:provisioner@127.0.0.1:5432/postgres

.PHONY: help services build run stop test lint bench chaos clean-test-databases

help:
	@echo "make run    start PostgreSQL and RabbitMQ if needed, the whole system and the SaaS simulator, with a demo tenant"
	@echo "make stop   stop what make run started"
	@echo "make test   start the services if needed and run every test"
	@echo "make lint   rustfmt and clippy, as CI runs them"
	@echo "make bench  the release binaries under load next to the broker's own limit (~5 min)"
	@echo "make chaos  10,000 requests through faults, SIGKILLs and restarts of a broker and database of its own (~10 min)"

services:
	@deploy/local/ensure-services.sh

build:
	cargo build --locked -p provisioner

run: services build stop
	@mkdir -p $(RUN_DIR)
	@PROVISIONER_LOG_FORMAT=text $(BIN) migrate
	@PROVISIONER_LOG_FORMAT=text nohup $(BIN) sim --listen $(SIM_LISTEN) >$(RUN_DIR)/sim.log 2>&1 & echo $$! >$(RUN_DIR)/sim.pid
	@PROVISIONER_ALLOW_PRIVATE_NETWORKS=true PROVISIONER_LOG_FORMAT=text PROVISIONER_LISTEN=$(API_LISTEN) \
		nohup $(BIN) serve >$(RUN_DIR)/serve.log 2>&1 & echo $$! >$(RUN_DIR)/serve.pid
	@for i in $$(seq 1 120); do curl -fsS http://$(API_LISTEN)/readyz >/dev/null 2>&1 && break; sleep 0.5; done
	@curl -fsS http://$(API_LISTEN)/readyz >/dev/null || { echo "provisioner did not become ready; see $(RUN_DIR)/serve.log"; tail -n 20 $(RUN_DIR)/serve.log; exit 1; }
	@API_URL=http://$(API_LISTEN) SIM_URL=http://$(SIM_LISTEN) PROVISIONER_BIN=$(BIN) deploy/local/demo.py

stop:
	@for name in serve sim; do \
		if [ -f $(RUN_DIR)/$$name.pid ]; then \
			pid=$$(cat $(RUN_DIR)/$$name.pid); \
			kill $$pid 2>/dev/null && while kill -0 $$pid 2>/dev/null; do sleep 0.2; done; \
			rm -f $(RUN_DIR)/$$name.pid; \
		fi; \
	done

# Test databases are named prov_test_*; ones left by an interrupted run are dropped first.
clean-test-databases:
	@psql "$(TEST_DATABASE_URL)" -Atqc "select datname from pg_database where datname like 'prov\_test\_%'" \
		| while read -r db; do psql "$(TEST_DATABASE_URL)" -qc "drop database if exists \"$$db\"" >/dev/null; done

# nextest when present (it is on the machines this project targets): a process per test
# and a time limit for each; plain cargo test otherwise.
test: services clean-test-databases
	@deploy/local/ensure-scim2-server.sh
	@deploy/local/ensure-standardwebhooks.sh
	@deploy/local/ensure-schemathesis.sh
	@deploy/local/ensure-browser.sh
	@if cargo nextest --version >/dev/null 2>&1; then \
		cargo nextest run --locked --workspace; \
	else \
		cargo test --locked --workspace --no-fail-fast; \
	fi

lint:
	cargo fmt --all -- --check
	cargo clippy --locked --workspace --all-targets -- -D warnings

# Release binaries, as they would run in production; the bench starts and stops its own
# processes, database and queues, and writes bench/results/latest.{json,md}.
bench: services
	cargo build --locked --release -p provisioner -p provisioner-bench
	target/release/provisioner-bench

# The release binaries on a RabbitMQ node and a PostgreSQL cluster of the run's own (on
# free ports, under the temp directory), so restarting them disturbs nothing else.
# Exits non-zero unless nothing was lost, left unfinished, duplicated or logged wrongly.
# CHAOS_ARGS="--requests 2000 --keep" changes the run.
chaos: services
	cargo build --locked --release -p provisioner -p provisioner-chaos
	target/release/provisioner-chaos --binary target/release/provisioner $(CHAOS_ARGS)
