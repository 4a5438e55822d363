"""The site's tests, laid out like the code they test (tests/viewers/player/ tests viewers/player/, …)."""

from pathlib import Path

# The repository: what a test runs (manage.py, gunicorn.conf.py) or reads (templates, static files) is found from here.
ROOT = Path(__file__).resolve().parent.parent
