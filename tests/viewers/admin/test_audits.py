"""The token audit in the admin: a row's title says who watched what, and the list is searchable."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import audit_row, make_user
from viewers.models import TokenAudit

AUDITS = "/admin/viewers/tokenaudit/"


def found(client, query):
    response = client.get(AUDITS, {"q": query})
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.mark.django_db
class TestARowsPage:
    def test_its_title_names_the_viewer_and_the_channel(self, admin_client, alice, private_channel, now):
        row = audit_row(alice, private_channel, issued_at=now)
        body = admin_client.get(f"{AUDITS}{row.pk}/change/").content.decode()
        assert f"alice on Main Event, issued {now:%Y-%m-%d}" in body
        assert f"token for {alice.pk} " not in body

    def test_a_deleted_users_row_says_so(self, alice, private_channel, now):
        row = audit_row(alice, private_channel, issued_at=now)
        alice.delete()
        row.refresh_from_db()
        assert str(row).startswith("a deleted user on Main Event, issued ")


@pytest.mark.django_db
class TestTheList:
    @pytest.fixture
    def rows(self, alice, bob, private_channel, public_channel, now):
        return {
            "alice": audit_row(
                alice, private_channel, issued_at=now, client_ip="203.0.113.9", viewer_id=alice.viewer_id
            ),
            "bob": audit_row(bob, public_channel, issued_at=now, client_ip="198.51.100.7", viewer_id=bob.viewer_id),
        }

    def test_it_says_what_the_search_box_searches(self, admin_client, rows):
        body = admin_client.get(AUDITS).content.decode()
        assert 'id="searchbar"' in body
        assert "Username or e-mail, channel name or slug, client IP, viewer id" in body

    @pytest.mark.parametrize(
        "query,who",
        [
            ("alice", "alice"),
            ("bob@example.com", "bob"),
            ("Main Ev", "alice"),
            ("main-event", "alice"),  # the slug: the name is "Main Event"
            ("198.51.100.7", "bob"),
        ],
    )
    def test_it_finds_rows(self, admin_client, rows, query, who):
        assert found(admin_client, query) == [rows[who]]

    def test_it_finds_a_viewer_id(self, admin_client, rows, alice):
        assert found(admin_client, alice.viewer_id[:12]) == [rows["alice"]]

    def test_a_search_costs_the_same_queries_for_many_rows(self, admin_client, private_channel, now):
        viewers = [make_user(f"fan{i}") for i in range(30)]
        audit_row(viewers[0], private_channel, issued_at=now)
        with CaptureQueriesContext(connection) as few:
            found(admin_client, "fan")
        TokenAudit.objects.bulk_create([audit_row(v, private_channel, issued_at=now, save=False) for v in viewers])
        with CaptureQueriesContext(connection) as many:
            assert len(found(admin_client, "fan")) == 31
        assert len(many) <= len(few)
