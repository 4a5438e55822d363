"""What bench/run.py drives: gunicorn app servers, databases, wrk and the CPU clock of the workers.

Every process started here is registered and stopped by `cleanup()` (bench/run.py calls it in `finally`,
also on SIGTERM/SIGINT), by its own process group id, never by name.
"""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "bench"
PYTHON = sys.executable
PG = "postgres://postgres@127.0.0.1:5432/"
REDIS = "redis://127.0.0.1:6379/5"  # the bench's own Redis database: flushed before and after
TICKS = os.sysconf("SC_CLK_TCK")

_started: list["Server"] = []


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- databases ----------------------------------------------------------------------------------


def pg_url(name: str) -> str:
    assert name.startswith("ivs_bench_"), name  # never touch a colleague's database
    return PG + name


def _admin():
    import psycopg

    return psycopg.connect(PG + "postgres", autocommit=True, connect_timeout=5)


def pg_create(name: str, *, fresh: bool) -> str:
    url = pg_url(name)
    with _admin() as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return url


def pg_drop(name: str) -> None:
    pg_url(name)
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sql(database_url: str, query: str, params=()):
    """One query through a short connection of its own (PostgreSQL or SQLite)."""
    if database_url.startswith("sqlite:"):
        with sqlite3.connect(urlsplit(database_url).path, timeout=30) as conn:
            return conn.execute(query.replace("%s", "?"), params).fetchall()
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return conn.execute(query, params).fetchall()


def audit_rows(database_url: str, purpose: str | None = None) -> int:
    if purpose:
        return sql(database_url, "SELECT count(*) FROM viewers_tokenaudit WHERE purpose = %s", [purpose])[0][0]
    return sql(database_url, "SELECT count(*) FROM viewers_tokenaudit")[0][0]


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS).flushdb()


# --- the site's environment and processes --------------------------------------------------------


def site_env(database_url: str, cache_url: str, port: int, **extra) -> dict:
    """Production settings (as `make serve-prod`: plain http on loopback), plus the bench pages."""
    vendor = "/static/vendor/ivs/"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "s" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": database_url,
        "CACHE_URL": cache_url,
        "IVS_LOCAL_ORIGIN": "true",
        "IVS_LOCAL_ORIGIN_IN_PRODUCTION_I_KNOW": "true",
        "IVS_PLAYBACK_PRIVATE_KEY_FILE": str(WORK / "playback-key.pem"),
        "IVS_PLAYER_SDK_URL": vendor + "ivs-player.js",
        "IVS_PLAYER_WASM_WORKER_URL": vendor + "amazon-ivs-wasmworker.min.js",
        "IVS_PLAYER_WASM_BINARY_URL": vendor + "amazon-ivs-wasmworker.min.wasm",
        # The fetch-first workflow and the browser runs hit the refresh endpoint many times a minute.
        "IVS_REFRESH_PER_MINUTE": "1000000",
        # wrk reloads each of 600 viewers' player page up to ~50 times a minute here (500 pages/s); the limit reads
        # at most this many of a viewer's newest audit rows per page (viewers/player/pageread.py), so not a million.
        "IVS_PLAYER_PAGES_PER_MINUTE": "200",
        "PORT": str(port),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update(extra)
    return env


def manage(env: dict, *args: str, timeout: float = 300) -> None:
    run([PYTHON, "manage.py", *args], env, timeout)


def run(argv: list[str], env: dict, timeout: float = 300) -> str:
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout + result.stderr


def ensure_key() -> None:
    """A P-384 playback key of the bench's own, made once (the cached seeded database registers it)."""
    path = WORK / "playback-key.pem"
    if path.exists():
        return
    sys.path.insert(0, str(ROOT))
    from viewers.ivs import tokens

    WORK.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tokens.private_key_pem(tokens.generate_private_key()))
    path.chmod(0o600)


class Server:
    """One gunicorn app server with the project's gunicorn.conf.py (workers, timeouts: as deployed)."""

    def __init__(self, name: str, env: dict):
        self.name, self.env = name, env
        self.port = int(env["PORT"])
        self.log_path = WORK / f"gunicorn-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> "Server":
        self.log_path.write_bytes(b"")
        logfile = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py", "ivssite.wsgi"],
            cwd=ROOT,
            env=self.env,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped by that id, workers included
        )
        _started.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as response:  # noqa: S310
                    if response.status == 200 and len(self.worker_pids()) >= self.workers_expected():
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.name} not ready in {timeout:.0f} s:\n{self.log_path.read_text()[-3000:]}")

    def workers_expected(self) -> int:
        return int(self.env.get("WEB_CONCURRENCY", min(2 * os.cpu_count() + 1, 9)))

    def worker_pids(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def cpu_seconds(self) -> float:
        """utime+stime of the live workers, plus what the master reaped from recycled ones."""
        total = 0
        master = _stat(self.process.pid)
        if master:
            total += master[14] + master[15] + master[16] + master[17]  # utime stime cutime cstime
        for pid in self.worker_pids():
            stat = _stat(pid)
            if stat:
                total += stat[14] + stat[15]
        return total / TICKS

    def served(self, method: str, path: str, status: int) -> int:
        """How many such requests the access log recorded (gunicorn logs the path without the query)."""
        needle = f'"{method} {path} HTTP/1.1" {status} '
        return self.log_path.read_text(errors="replace").count(needle)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass


def _stat(pid: int) -> list[int] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    # After the command name comes field 3 (state): pad so that index n is field n of proc(5).
    return [0, 0, 0] + [int(f) if f.lstrip("-").isdigit() else 0 for f in fields]


def cleanup() -> None:
    for server in reversed(_started):
        try:
            server.stop()
        except Exception as exc:  # noqa: BLE001  keep stopping the others
            log(f"could not stop {server.name}: {exc}")


# --- wrk -------------------------------------------------------------------------------------------


def wrk(
    port: int,
    path: str,
    cookies: Path,
    *,
    seconds: float,
    connections: int,
    threads: int = 2,
    beats: Path | None = None,
) -> dict:
    """wrk with bench/cookies.lua: GET `path` as the viewers in `cookies`, or with `beats`, their heartbeats."""
    env = {**os.environ, "BENCH_PATH": path, "BENCH_COOKIES": str(cookies)}
    if beats is not None:
        env["BENCH_BEATS"] = str(beats)
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(ROOT / "bench" / "cookies.lua"),
        f"http://127.0.0.1:{port}",
    ]
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=seconds + 30, check=True)  # noqa: S603
    match = re.search(r"^BENCH_JSON (.*)$", result.stdout, re.M)
    if not match:
        raise RuntimeError(f"wrk printed no result:\n{result.stdout}\n{result.stderr}")
    data = json.loads(match.group(1))
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    data["errors"] = data["non2xx"] + data["socket_errors"]
    return data


def redact(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=""))


def write_section(path: Path, section: str, begin: str, end: str) -> None:
    """Put `section` (which starts with `begin` and ends with `end`) into the report at `path`: in place of the
    section between those markers, or at its end. The rest of the report is left as another benchmark wrote it."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if begin in text:
        text = text[: text.index(begin)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)
