"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py ivssite.wsgi`.

Everything can be overridden by the environment (GUNICORN_CMD_ARGS works too). The app servers are
stateless: run several behind a load balancer, all pointing at the same DATABASE_URL and CACHE_URL.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
# Signing a token is CPU work (one ECDSA P-384 signature): about two processes per core.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 9)))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, staggered, so none grows without bound.
max_requests = 5000
max_requests_jitter = 500
# Import the app (and run the start-up checks) in the master, before forking: a missing or corrupt
# playback key stops gunicorn at once with the message, instead of every worker failing to boot.
preload_app = True
# Workers' heartbeat files in memory, as gunicorn's docs advise (a disk-backed /tmp can stall them).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
# X-Forwarded-* is trusted only from these proxies (the load balancer).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Access log without the query string: player URLs never reach gunicorn with a token, but a refresh or a
# hand-typed URL might. %(U)s is the path only. Both logs pass through the same redaction as Django's.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "ivssite.logfilters.RedactTokens"},
        "quiet_heartbeats": {"()": "ivssite.logfilters.QuietHeartbeats"},
    },
    "formatters": {
        "plain": {
            "()": "ivssite.logfilters.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact"],
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
            "filters": ["quiet_heartbeats"],
        },
    },
}


def post_fork(server, worker):
    # Belt and braces with ivssite/wsgi.py: a child must never reuse a connection the master opened.
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        connection.close()


# gunicorn 27's control socket defaults to one path per user: several instances on one machine would
# fight over it. Off unless asked for. (`--no-control-socket` on the command line; `control_socket_disable` here.)
if os.environ.get("GUNICORN_CONTROL_SOCKET"):
    control_socket = os.environ["GUNICORN_CONTROL_SOCKET"]
else:
    control_socket_disable = True
