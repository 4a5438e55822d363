# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# The local IVS Chat messaging server's port (localivs/chat_server.py): the next one up.
CHAT_PORT ?= $(shell expr $(PORT) + 1)
DEV_KEY := var/dev-playback-key.pem
# The key the demo signs with: the one IVS_PLAYBACK_PRIVATE_KEY_FILE names when the environment gives one (a
# rotation's new key), else the development key made on the first run.
PLAYBACK_KEY := $(or $(IVS_PLAYBACK_PRIVATE_KEY_FILE),$(DEV_KEY))

# The embedded default: SQLite, local IVS origin, local identity provider (single sign-on), a self-hosted player
# bundle, a dev key.
# Revocations go through boto3 to the local origin's copy of the IVS API, as they would go to AWS; chat through its
# copy of the IVS Chat API, and browsers to its messaging WebSocket on CHAT_PORT.
DEV_ENV := DEBUG=true IVS_LOCAL_ORIGIN=true IVS_LOCAL_IDP=true SECURE_COOKIES=false \
	SITE_URL=http://127.0.0.1:$(PORT) \
	IVS_PLAYBACK_PRIVATE_KEY_FILE=$(PLAYBACK_KEY) \
	AWS_REGION=us-west-2 AWS_ACCESS_KEY_ID=local-demo AWS_SECRET_ACCESS_KEY=local-demo \
	AWS_ENDPOINT_URL_IVS=http://127.0.0.1:$(PORT)/ivs \
	AWS_ENDPOINT_URL_IVSCHAT=http://127.0.0.1:$(PORT)/ivschat IVS_CHAT_MESSAGING_URL=ws://127.0.0.1:$(CHAT_PORT) \
	IVS_PLAYER_SDK_URL=/static/vendor/ivs/ivs-player.js \
	IVS_PLAYER_WASM_WORKER_URL=/static/vendor/ivs/amazon-ivs-wasmworker.min.js \
	IVS_PLAYER_WASM_BINARY_URL=/static/vendor/ivs/amazon-ivs-wasmworker.min.wasm

# Production mode on this machine: gunicorn, PostgreSQL, Redis, whitenoise; plain http on loopback,
# so https-only cookies and the https redirect are off. Everything else is as deployed (docs/DEPLOYMENT.md).
PROD_PORT ?= 8001
PROD_CHAT_PORT ?= $(shell expr $(PROD_PORT) + 1)
PROD_DB ?= postgres://postgres@127.0.0.1:5432/ivssite
PROD_CACHE ?= redis://127.0.0.1:6379/0
PROD_SECRET := var/prod-secret-key
PROD_ENV := DEBUG=false DATABASE_URL=$(PROD_DB) CACHE_URL=$(PROD_CACHE) SECRET_KEY_FILE=$(PROD_SECRET) \
	ALLOWED_HOSTS=127.0.0.1,localhost SITE_URL=http://127.0.0.1:$(PROD_PORT) \
	SECURE_SSL_REDIRECT=false SECURE_COOKIES=false SECURE_HSTS_SECONDS=0 \
	IVS_LOCAL_ORIGIN=true IVS_LOCAL_ORIGIN_IN_PRODUCTION_I_KNOW=true IVS_PLAYBACK_PRIVATE_KEY_FILE=$(PLAYBACK_KEY) \
	AWS_REGION=us-west-2 AWS_ACCESS_KEY_ID=local-demo AWS_SECRET_ACCESS_KEY=local-demo \
	AWS_ENDPOINT_URL_IVS=http://127.0.0.1:$(PROD_PORT)/ivs \
	AWS_ENDPOINT_URL_IVSCHAT=http://127.0.0.1:$(PROD_PORT)/ivschat IVS_CHAT_MESSAGING_URL=ws://127.0.0.1:$(PROD_CHAT_PORT) \
	IVS_PLAYER_SDK_URL=/static/vendor/ivs/ivs-player.js \
	IVS_PLAYER_WASM_WORKER_URL=/static/vendor/ivs/amazon-ivs-wasmworker.min.js \
	IVS_PLAYER_WASM_BINARY_URL=/static/vendor/ivs/amazon-ivs-wasmworker.min.wasm

.PHONY: bench-chat bench-heartbeats bench-reconcile run test test-js install player lint fmt check clean serve-prod collectstatic test-postgres test-prod services bench

# migrate skips the system checks: after a rotation that deleted the configured key, `demo` registers it again
# (ivs.E020 would otherwise stop the run before it can); runserver runs every check before it serves.
run: $(BIN)/.installed player $(DEV_KEY)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput --skip-checks
	$(DEV_ENV) $(BIN)/python manage.py demo --origin http://127.0.0.1:$(PORT)
	$(DEV_ENV) CHAT_PORT=$(CHAT_PORT) bin/with-worker $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# The player's rules in node first (seconds, and no browser), then the Python suite; either failing fails `make test`.
# One pytest worker per core (pytest-xdist), a test file to a worker: the browser tests mostly wait on video, so two
# of them share the cores well (8 min → 5 min on 2 cores). Each worker has its own SQLite test database and
# per-process cache; under `make test-postgres` each has its own PostgreSQL test database and Redis database
# (tests/settings.py).
test: $(BIN)/.installed player test-js
	$(BIN)/python -m pytest -n auto --dist loadfile

# node's own test runner, no npm packages. The files are named rather than the directory: node 21+ reads a directory
# argument as a file pattern and fails.
test-js:
	node --test tests/js/*.test.mjs

install: $(BIN)/.installed

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

player:
	bin/build-player

$(DEV_KEY): | $(BIN)/.installed
	mkdir -p var
	DEBUG=true $(BIN)/python manage.py ivs_keygen $(DEV_KEY) --name dev-local

serve-prod: $(BIN)/.installed player $(DEV_KEY) $(PROD_SECRET) services
	$(BIN)/python ops/createdb.py $(PROD_DB)
	$(PROD_ENV) $(BIN)/python manage.py migrate --noinput --skip-checks
	$(PROD_ENV) DEBUG=true $(BIN)/python manage.py demo --origin http://127.0.0.1:$(PROD_PORT)
	$(PROD_ENV) $(BIN)/python manage.py collectstatic --noinput -v 0
	$(PROD_ENV) PORT=$(PROD_PORT) CHAT_PORT=$(PROD_CHAT_PORT) WEB_CONCURRENCY=$${WEB_CONCURRENCY:-3} \
		bin/with-worker $(BIN)/gunicorn -c gunicorn.conf.py ivssite.wsgi

$(PROD_SECRET): | $(BIN)/.installed
	mkdir -p var
	umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > $@

collectstatic: $(BIN)/.installed player
	DEBUG=false SECRET_KEY=collectstatic-only $(BIN)/python manage.py collectstatic --noinput -v 0

# Start this machine's PostgreSQL and Redis if they are down (no-ops when they run).
services:
	ops/services start

# The suite again on PostgreSQL (pytest-django creates and drops test_ivs_ci) with Redis as the cache. Of the
# browser tests, only those where the database matters (the worker's revocations, sessions): the rest run in
# `make test`, and each costs seconds of Chromium.
PG_TEST_ENV := DATABASE_URL=postgres://postgres@127.0.0.1:5432/ivs_ci CACHE_URL=redis://127.0.0.1:6379/14
test-postgres: $(BIN)/.installed player services
	$(PG_TEST_ENV) $(BIN)/python -m pytest -q -n auto --dist loadfile -m "not browser"
	$(PG_TEST_ENV) $(BIN)/python -m pytest -q -n auto --dist loadfile \
		tests/browser/test_sessions.py tests/browser/test_stripe_refund.py \
		"tests/browser/test_withdrawal.py::test_the_window_ends_while_the_viewer_watches" \
		"tests/browser/test_withdrawal.py::test_the_entitling_group_deleted" \
		"tests/browser/test_chat.py::test_revoking_access_stops_the_stream_and_leaves_the_chat"

# Production-mode tests against real gunicorn, PostgreSQL and Redis: scale-out and faults (tests/prod).
test-prod: $(BIN)/.installed player services collectstatic
	ops/prod-tests

# Benchmarks (issue #7): every figure side by side in one run, rewritten into docs/BENCHMARKS.md. Uses its own
# databases (ivs_bench_*: the seeded one is kept between runs) and Redis database 5; bounded at 10 minutes.
bench: $(BIN)/.installed player services
	ops/debian-packages wrk chromium
	# The site's static files and the bench pages' (bench/pages/static/), under the bench's settings.
	DJANGO_SETTINGS_MODULE=bench.settings DEBUG=false SECRET_KEY=collectstatic-only \
		$(BIN)/python manage.py collectstatic --noinput -v 0
	timeout --kill-after=20 600 $(BIN)/python bench/run.py
	timeout --kill-after=20 600 $(BIN)/python bench/heartbeats.py
	timeout --kill-after=20 600 $(BIN)/python bench/chat.py

# Issue 23's figures (heartbeats, the fold, the live page at 100,000 sessions), written into their own section of
# docs/BENCHMARKS.md (so after bench/run.py, which rewrites the rest).
bench-heartbeats: $(BIN)/.installed player services
	ops/debian-packages wrk
	DJANGO_SETTINGS_MODULE=bench.settings DEBUG=false SECRET_KEY=collectstatic-only \
		$(BIN)/python manage.py collectstatic --noinput -v 0
	timeout --kill-after=20 600 $(BIN)/python bench/heartbeats.py

# Issue 25's figures (the chat token's CPU and its share of a player page's), in their own section of
# docs/BENCHMARKS.md.
bench-chat: $(BIN)/.installed player services
	DJANGO_SETTINGS_MODULE=bench.settings DEBUG=false SECRET_KEY=collectstatic-only \
		$(BIN)/python manage.py collectstatic --noinput -v 0
	timeout --kill-after=20 600 $(BIN)/python bench/chat.py

# The withdrawal reconciler at 1,000,000 open sessions on PostgreSQL (issue #10); writes docs/RECONCILE.md.

bench-reconcile: $(BIN)/.installed services
	timeout --kill-after=20 600 $(BIN)/python bench/reconcile.py --markdown docs/RECONCILE.md

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# What CI checks besides the tests.
check: $(BIN)/.installed
	DEBUG=true IVS_LOCAL_ORIGIN=true IVS_LOCAL_IDP=true $(BIN)/python manage.py makemigrations --check --dry-run --skip-checks
	$(MAKE) lint

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles test-artifacts
