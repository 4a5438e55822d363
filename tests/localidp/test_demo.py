"""The demo's single sign-on: `manage.py demo` makes an IdP user in an IdP group entitled to the Demo Event; logging
in with the local IdP as that user plays it, and out of the group at the IdP, the next login refuses it."""

import pytest
from django.core.management import call_command

from localidp.models import LocalUser
from tests.sso.idp import authorize, finish, start

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, registered_key):
    settings.DEBUG = True
    call_command("demo", "--origin", "http://127.0.0.1:8000")


def log_in_as_the_demo_idp_user(client):
    return finish(client, authorize(client, start(client), "idp-viewer", "watch-the-demo"))


def test_the_demo_idp_user_logs_in_and_may_watch_the_demo_event(demo, client, idp_http):
    assert log_in_as_the_demo_idp_user(client).status_code == 302
    assert client.get("/channels/demo-event/").status_code == 200


def test_out_of_the_group_at_the_idp_the_next_login_refuses_the_channel(demo, client, idp_http):
    log_in_as_the_demo_idp_user(client)
    LocalUser.objects.get(username="idp-viewer").groups.clear()
    client.post("/accounts/logout/")
    log_in_as_the_demo_idp_user(client)
    assert client.get("/channels/demo-event/").status_code == 403


def test_the_demo_keeps_the_idp_users_groups_as_the_operator_left_them(demo, settings):
    LocalUser.objects.get(username="idp-viewer").groups.clear()
    call_command("demo", "--origin", "http://127.0.0.1:8000")
    assert not LocalUser.objects.get(username="idp-viewer").groups.exists()
