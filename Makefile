# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py

PORT ?= 8000

.PHONY: run dev serve test lint format css css-check bench screenshot clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## run: serve the chat on SQLite with demo rooms at http://127.0.0.1:8000/
run: $(VENV)/.installed
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	$(MANAGE) runserver 127.0.0.1:$(PORT)

## dev: run with Tailwind's watcher and browser reload (needs Node and npm)
dev: $(VENV)/.installed-dev theme/static_src/node_modules
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	$(VENV)/bin/honcho -f Procfile.dev start

theme/static_src/node_modules:
	$(MANAGE) tailwind install

## serve: the production setup (gunicorn + whitenoise, DEBUG off) on 127.0.0.1:8000
serve: $(VENV)/.installed .secret_key
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY="$$(cat .secret_key)" $(MANAGE) collectstatic --noinput -v0
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY="$$(cat .secret_key)" $(MANAGE) migrate --noinput
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat .secret_key)}" \
		$(VENV)/bin/gunicorn -c gunicorn.conf.py

# A key for local production-mode runs, made once and never committed.
.secret_key:
	$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

## test: the whole suite (browser tests run when a Chromium is found)
test: $(VENV)/.installed-dev
	@if [ -n "$$CHROMIUM_PATH" ] || command -v chromium >/dev/null 2>&1; then \
		echo "Browser tests: using $${CHROMIUM_PATH:-$$(command -v chromium)}"; \
	else \
		echo "Browser tests: SKIPPED, no Chromium found (apt-get install chromium)"; \
	fi
	$(VENV)/bin/pytest

## screenshot: retake the README's docs/screenshot-{desktop,phone,dark}.png with
## the browser tests' Chromium (needs a colour emoji font for the reactions)
screenshot: $(VENV)/.installed-dev
	@fc-list 2>/dev/null | grep -qi emoji || { \
		echo "No emoji font: reactions would be empty boxes. apt-get install fonts-noto-color-emoji"; exit 1; }
	UPDATE_SCREENSHOT=1 $(VENV)/bin/pytest tests/browser -k screenshot -q

$(VENV)/.installed-bench: requirements-bench.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

## bench: measure the poll hot path, delivery under load, history size and
## memory; rewrites docs/benchmarks.md (needs wrk: apt-get install wrk)
bench: $(VENV)/.installed-bench
	$(PY) bench/run.py $(BENCH_ARGS)

## lint: ruff (lint + format) for Python, djlint for templates
lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djlint templates --lint

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## css: rebuild the committed Tailwind CSS (needs Node and npm)
css: $(VENV)/.installed
	$(MANAGE) tailwind install
	$(MANAGE) tailwind build

## css-check: fail if the committed CSS differs from a fresh build
css-check: css
	@git diff --quiet -- theme/static/css/dist/styles.css || { \
		echo "theme/static/css/dist/styles.css is out of date: run 'make css' and commit it."; \
		git --no-pager diff --stat -- theme/static/css/dist/styles.css; exit 1; }
	@echo "Committed CSS matches a fresh build."

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 db.sqlite3-*
