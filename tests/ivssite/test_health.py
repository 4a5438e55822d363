"""/healthz, /readyz and database outages: plain answers, no details, a friendly 503."""

import sys

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory

from ivssite import errors


@pytest.mark.django_db
class TestLiveness:
    def test_it_answers_without_touching_the_database(self, django_assert_num_queries):
        with django_assert_num_queries(0):
            response = Client().get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
        assert response["Cache-Control"] == "no-store"

    def test_probes_by_ip_over_plain_http_are_answered(self, settings):
        settings.SECURE_SSL_REDIRECT = True
        settings.ALLOWED_HOSTS = ["watch.example.com"]
        for path in ["/healthz", "/readyz"]:
            response = Client(HTTP_HOST="10.0.3.17:8000").get(path)
            assert response.status_code in (200, 503), path
        assert Client(HTTP_HOST="10.0.3.17:8000").get("/").status_code == 400


@pytest.mark.django_db
class TestReadiness:
    def test_it_is_ready_when_database_and_cache_answer(self):
        response = Client().get("/readyz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}

    def test_a_dead_database_takes_it_out_of_rotation_without_details(self, monkeypatch, caplog):
        def refuse(*args, **kwargs):
            raise OperationalError('connection to server at "10.1.2.3", port 5432 failed: password for "admin"')

        monkeypatch.setattr("django.db.backends.base.base.BaseDatabaseWrapper.cursor", refuse)
        response = Client().get("/readyz")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "database": "unavailable", "cache": "ok"}
        assert b"10.1.2.3" not in response.content and b"admin" not in response.content
        assert "readiness: database unavailable (OperationalError)" in caplog.text
        assert "10.1.2.3" not in caplog.text


@pytest.mark.django_db
class TestDatabaseOutage:
    @pytest.fixture
    def database_down(self, monkeypatch):
        def refuse(*args, **kwargs):
            raise OperationalError("connection refused")

        monkeypatch.setattr("viewers.access.decide", refuse)

    def test_a_page_gets_a_friendly_503_not_a_traceback(self, client, alice, database_down, caplog):
        client.force_login(alice)
        response = client.get("/channels/main-event/")
        assert response.status_code == 503
        body = response.content.decode()
        assert "Back in a moment" in body
        assert "Traceback" not in body and "OperationalError" not in body
        assert response["Retry-After"] == "5"
        assert "no-store" in response["Cache-Control"]
        assert "database unavailable: OperationalError during GET /channels/main-event/" in caplog.text
        assert "Traceback" not in caplog.text

    def test_json_clients_get_json(self, client, alice, database_down):
        client.force_login(alice)
        response = client.post("/channels/main-event/playback", HTTP_ACCEPT="application/json")
        assert response.status_code == 503
        assert response.json()["error"] == "unavailable"

    def test_errors_outside_views_are_503_too(self):
        request = RequestFactory().get("/")
        try:
            raise OperationalError("server closed the connection unexpectedly")
        except OperationalError:
            assert sys.exc_info()[0] is OperationalError
            response = errors.server_error(request)
        assert response.status_code == 503

    def test_other_errors_stay_500(self):
        try:
            raise ValueError("a bug")
        except ValueError:
            response = errors.server_error(RequestFactory().get("/"))
        assert response.status_code == 500
        assert b"Something went wrong" in response.content
