"""The site's own settings plus the benchmark's pages (bench/pages/), which the site itself never mounts."""

from ivssite.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "bench.pages"]  # noqa: F405
ROOT_URLCONF = "bench.pages.urls"
