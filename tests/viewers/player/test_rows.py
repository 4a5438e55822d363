"""The player page's statements on PostgreSQL: prepared once per connection, unless prepared statements are off
(viewers/player/rows.py hot_cursor; settings DB_PREPARED_STATEMENTS). On SQLite there is nothing to prepare."""

import pytest
from django.db import connection
from django.test import Client

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"),
]

PAGE = "/channels/main-event/"


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_player_page_statements_are_prepared_and_reused(alice):
    client = Client()
    client.force_login(alice)
    assert client.get(PAGE).status_code == 200
    prepared = prepared_statements()
    assert any("UNION ALL" in sql and "viewers_channel" in sql for sql in prepared), prepared
    assert any(sql.startswith("INSERT INTO viewers_tokenaudit") for sql in prepared), prepared
    for _ in range(3):
        assert client.get(PAGE).status_code == 200
    assert len(prepared_statements()) == len(prepared)  # the same statements again, not new ones


def test_with_prepared_statements_off_nothing_is_prepared(alice, monkeypatch):
    connection.ensure_connection()
    monkeypatch.setattr(connection.connection, "prepare_threshold", None)
    client = Client()
    client.force_login(alice)
    assert client.get(PAGE).status_code == 200
    assert b"?token=" in client.get(PAGE).content
    assert prepared_statements() == []


def test_the_setting_reaches_psycopg():
    connection.ensure_connection()
    assert connection.connection.prepare_threshold == 0
