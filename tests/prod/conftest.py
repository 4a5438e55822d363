"""Production-mode tests: real gunicorn processes on loopback, sharing this machine's PostgreSQL and Redis.

They run only with PROD_TESTS=1 (`ops/prod-tests`, `make test-prod`, `.ci/run`): they start servers,
create a database and, in test_faults.py, stop PostgreSQL for a few seconds.

Helpers for more assertions (revocation, device limits):
- `cluster.a`, `cluster.b`: the two app servers (Server); `cluster.sql(query, params)` reads the database;
- `Browser(server)`: a cookie-keeping HTTP client; `.login(user)`, `.watch(slug)` → the token's claims,
  `.on(other_server)` → the same browser (same cookies) talking to the other server.
"""

import os
import secrets

import pytest

from tests.prod.cluster import (
    ARN,
    CHANNEL,
    PASSWORD,
    PG_ADMIN,
    PORTS,
    REDIS_DB,
    SETUP_DATA,
    VIEWERS,
    Cluster,
    Server,
    Worker,
    base_env,
    manage,
)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PROD_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="production-mode tests: run ops/prod-tests (PROD_TESTS=1)")
    for item in items:
        if "tests/prod/" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    import psycopg
    import redis
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    tmp = tmp_path_factory.mktemp("prod")
    key_file = tmp / "playback.pem"
    key_file.write_bytes(
        ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o600)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS ivs_prod_test WITH (FORCE)")
        conn.execute("CREATE DATABASE ivs_prod_test")
    redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()

    env = base_env(tmp, key_file, PORTS[0])
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")
    script = SETUP_DATA.format(slug=CHANNEL, arn=ARN, port=PORTS[0], viewers=VIEWERS, password=PASSWORD)
    manage({**env, "DEBUG": "false"}, "shell", "-c", script)

    a = Server("a", PORTS[0], env, tmp)
    b = Server("b", PORTS[1], base_env(tmp, key_file, PORTS[1]), tmp)
    workers = [Worker(name, env, tmp) for name in ("worker-1", "worker-2")]
    try:
        a.start()
        b.start()
        for worker in workers:
            worker.start()
        yield Cluster(a, b, tmp, key_file)
    finally:
        for process in (a, b, *workers):
            process.stop()


@pytest.fixture
def secret_token():
    return secrets.token_hex(8)
