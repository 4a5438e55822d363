import socket
import uuid

import pytest

from viewers.attendance import store as stores

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_running() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.fixture
def database_store(settings):
    """The embedded default: heartbeats wait in PendingHeartbeat rows."""
    settings.IVS_HEARTBEAT_REDIS_URL = ""
    stores.reset()
    yield stores.store()
    stores.reset()


@pytest.fixture
def redis_store(settings, monkeypatch):
    """A real Redis, with keys of this test's own (xdist workers share the database)."""
    if not redis_running():
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.IVS_HEARTBEAT_REDIS_URL = REDIS_URL
    store = stores.RedisStore(REDIS_URL, prefix=f"tests:heartbeats:{uuid.uuid4().hex}")
    monkeypatch.setattr(stores, "_store", store)
    yield store
    store.client.delete(store.pending, store.folding, store.lock)
    stores.reset()
