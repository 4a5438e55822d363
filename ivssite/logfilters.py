"""Log hygiene: no log line may carry a playback or chat token, a private key, a session id, an IdP's code or a SCIM
token.

Request lines and 404 warnings quote URLs, which may carry ?token=; exception messages and
tracebacks may quote anything. The filter cleans a record's message and arguments before any
handler sees it; the formatter cleans the finished line, tracebacks included.
"""

import logging
import re

_PATTERNS = [
    # ?token=<JWT> in URLs and request lines.
    (re.compile(r"(token=)[^&\s\"']+"), r"\1[redacted]"),
    # A bare JWT anywhere (header and payload are base64url JSON, so both start with "eyJ").
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    # PEM private keys, whole.
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
        "[redacted-private-key]",
    ),
    # An IdP's one-time authorization code in the login callback's URL, and SCIM bearer tokens (sso/scim/auth.py).
    (re.compile(r"([?&]code=)[^&\s\"']+"), r"\1[redacted]"),
    (re.compile(r"ivs-scim-[A-Za-z0-9_-]+"), "ivs-scim-[redacted]"),
    # A chat token: in its JSON (IVS Chat's answer, which botocore's DEBUG log quotes) and as the WebSocket's
    # sub-protocol header (the local messaging server's DEBUG log).
    (re.compile(r'("token"\s*:\s*")[^"]+'), r"\1[redacted]"),
    (re.compile(r"(Sec-WebSocket-Protocol:\s*)[^\s\\]+", re.I), r"\1[redacted]"),
    # Session and CSRF cookies (a quoted Cookie header) and cached_db's session cache keys.
    (re.compile(r"((?:sessionid|csrftoken)=)[^;\s\"']+"), r"\1[redacted]"),
    (re.compile(r"(django\.contrib\.sessions\.cache[a-z_]*)[a-z0-9]+"), r"\1[redacted]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            if isinstance(record.args, dict):
                record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
            else:
                args = record.args if isinstance(record.args, tuple) else (record.args,)
                record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        return True


class RedactingFormatter(logging.Formatter):
    """The last line of defence: whatever reached the formatter, the written line is clean."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def logging_config(level: str) -> dict:
    """The site's LOGGING: one console handler, every line redacted, at `level` (LOG_LEVEL)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            # Redacts tokens, keys and session ids from the whole line, tracebacks included.
            "plain": {
                "()": "ivssite.logfilters.RedactingFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            }
        },
        # Request lines and 404 warnings quote URLs, which may carry ?token=: redact before any handler.
        "filters": {"redact_tokens": {"()": "ivssite.logfilters.RedactTokens"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_tokens"]},
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Named so that these handlers replace those Django's DEFAULT_LOGGING gives them: with DEBUG on, its own
            # console handler on "django" wrote every django.* line a second time, unredacted (and "django.server" has
            # one more). Records then reach the root's handler alone, once, redacted.
            "django": {"handlers": [], "level": "INFO", "propagate": True},
            "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


class QuietHeartbeats(logging.Filter):
    """gunicorn's access log without the players' answered heartbeats: at 100,000 viewers they are 1,700 lines a
    second that say nothing (the live page shows what they said), and writing them costs a heartbeat a sixth of its
    CPU (bench/heartbeats.py). A refused heartbeat (400, 401) is still logged."""

    def filter(self, record):
        atoms = record.args if isinstance(record.args, dict) else None
        return not (atoms and atoms.get("U") == "/heartbeat" and str(atoms.get("s")) == "204")
