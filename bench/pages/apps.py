from django.apps import AppConfig


class BenchPagesConfig(AppConfig):
    """The benchmark's own pages (views.py); installed only by bench/settings.py, never by the site."""

    name = "bench.pages"
    label = "bench_pages"
