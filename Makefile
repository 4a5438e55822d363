# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DEV_KEY := var/dev-playback-key.pem

# The embedded default: SQLite, local IVS origin, a self-hosted player bundle, a dev key.
DEV_ENV := DEBUG=true IVS_LOCAL_ORIGIN=true SECURE_COOKIES=false \
	IVS_PLAYBACK_PRIVATE_KEY_FILE=$(DEV_KEY) \
	IVS_PLAYER_SDK_URL=/static/vendor/ivs/ivs-player.js \
	IVS_PLAYER_WASM_WORKER_URL=/static/vendor/ivs/amazon-ivs-wasmworker.min.js \
	IVS_PLAYER_WASM_BINARY_URL=/static/vendor/ivs/amazon-ivs-wasmworker.min.wasm

.PHONY: run test install player lint fmt check clean

run: $(BIN)/.installed player $(DEV_KEY)
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py demo --origin http://127.0.0.1:$(PORT)
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: $(BIN)/.installed player
	$(BIN)/python -m pytest

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

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# What CI checks besides the tests.
check: $(BIN)/.installed
	DEBUG=true IVS_LOCAL_ORIGIN=true $(BIN)/python manage.py makemigrations --check --dry-run
	$(MAKE) lint

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles test-artifacts
