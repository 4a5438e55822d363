"""Bulk import speed: 50,000 CSV rows (half existing users, half invitations) previewed, imported, re-imported.

Runs against a fresh SQLite database in a temporary directory (or DATABASE_URL if given), so it never touches
the development data. Prints one JSON line with the seconds each step took.
"""

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(rows=50_000):
    workdir = tempfile.mkdtemp(prefix="ivs-bench-")
    try:
        run(rows, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def run(rows, workdir):
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3")
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivssite.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from viewers.models import Channel, Entitlement, User
    from viewers.operators import csv_import

    call_command("migrate", verbosity=0)
    channels = []
    for i in range(5):
        arn = f"arn:aws:ivs:us-west-2:123456789012:channel/Bench{i:04d}"
        url = f"https://a1b2c3d4e5f6.us-west-2.playback.live-video.net/api/video/v1/us-west-2.123456789012.channel.Bench{i:04d}.m3u8"
        channels.append(Channel.objects.create(name=f"Bench {i}", slug=f"bench-{i}", arn=arn, playback_url=url).slug)
    existing = rows // 2
    password = make_password(None)
    User.objects.bulk_create(
        [User(username=f"fan{i}", email=f"fan{i}@example.com", password=password) for i in range(existing)],
        batch_size=2000,
    )
    lines = ["email,channel,starts_at,ends_at,max_resolution,note"]
    for i in range(rows):
        who = f"fan{i}@example.com" if i < existing else f"new{i}@example.com"
        lines.append(f"{who},{channels[i % 5]},2026-03-01T18:00,2026-03-02T02:00,{('', 'SD', 'HD')[i % 3]},ticket {i}")
    data = ("\n".join(lines) + "\n").encode()

    timings = {}
    started = time.perf_counter()
    text = csv_import.decode(data)
    plan = csv_import.plan_import(text, create_users=True)
    timings["preview_s"] = round(time.perf_counter() - started, 2)
    assert not plan.errors, plan.errors[:3]

    started = time.perf_counter()
    first = csv_import.import_entitlements(text, create_users=True)
    timings["import_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    second = csv_import.import_entitlements(text, create_users=True)
    timings["reimport_s"] = round(time.perf_counter() - started, 2)

    assert first["new"] == rows and second["new"] == 0 and second["unchanged"] == rows
    assert Entitlement.objects.count() == rows
    print(
        json.dumps(
            {
                "bench": "import_entitlements",
                "rows": rows,
                "file_mb": round(len(data) / 1024 / 1024, 2),
                "invited": first["invitations"],
                "database": django.db.connection.vendor,
                **timings,
            }
        )
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
