# Buyergroup: `make demo` serves a demo site, `make test` runs the whole suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app buyergroup
HOST   ?= 127.0.0.1
PORT   ?= 5000
# make demo serves with gunicorn, the production server (make serve: the development one).
WORKERS ?= 2
export BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: demo serve scheduler install install-test translations db seed test lint bench clean \
	cluster-check

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

translations: install
	$(FLASK) translate compile

db: install
	$(FLASK) db upgrade

seed: db
	$(FLASK) seed load
	$(FLASK) search reindex --procs 2

demo: translations seed
	@echo ""
	@echo "Buyergroup demo is starting at $(BASE_URL)"
	@echo ""
	@echo "  Demo accounts (password: buyergroup-demo)"
	@echo "    admin      admin@example.org"
	@echo "    organiser  organiser@example.org"
	@echo "    member     member@example.org"
	@echo ""
	@echo "  No MAIL_SERVER is set: emails (password resets, invitations, event reminders)"
	@echo "    are written to $(CURDIR)/instance/mail/"
	@echo ""
	@echo "  The scheduler (event reminders, mail retries) runs beside the web server;"
	@echo "    its log: $(CURDIR)/instance/scheduler.log"
	@echo ""
	@# One shell: the scheduler in the background, stopped when the web server stops.
	@mkdir -p instance; \
	$(FLASK) scheduler run > instance/scheduler.log 2>&1 & scheduler=$$!; \
	trap 'kill $$scheduler 2>/dev/null; wait $$scheduler 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - \
	  --log-level warning 'buyergroup:create_app()'

# The background jobs on their own (one scheduler process per site, never one per worker).
scheduler: install
	$(FLASK) scheduler run

serve: install
	$(FLASK) run --host $(HOST) --port $(PORT)

# Two pytest-xdist workers (the suite waits on subprocesses, SMTP and PostgreSQL a good
# part of the time); tests sharing an expensive fixture run in one (tests/conftest.py).
# PYTEST_WORKERS=0 runs everything in one process. Bytecode is written even where the
# environment says PYTHONDONTWRITEBYTECODE (as this machine's does): otherwise each of the
# suite's processes compiles the app again, and each run rewrites every test module's asserts.
PYTEST_WORKERS ?= 2
test: install-test translations
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check buyergroup tests bench

# Search backends and pages at 10,000 items (docs/performance.md); BENCH_ITEMS to change it.
BENCH_ITEMS ?= 10000
bench: install-test translations
	$(BIN)/python -m bench --items $(BENCH_ITEMS)
	$(BIN)/python -m bench.pages --items $(BENCH_ITEMS)

# Two gunicorn instances and two schedulers on one fresh PostgreSQL database, Redis rate
# limits, a shared uploads folder; kill -9 of one instance and the working scheduler
# mid-load; then no lost or duplicate registrations, mail or index entries (a few minutes).
# PostgreSQL: CLUSTER_DATABASE_URL or TEST_DATABASE_URL; Redis: CLUSTER_REDIS_URL.
cluster-check: install-test translations
	$(BIN)/python scripts/cluster_check.py $(CLUSTER_CHECK_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
