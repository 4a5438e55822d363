"""The entitlement list's bulk actions (revoke, end now, extend): a confirmation that names the entitlements and the
viewers it acts on (the first 50 of each, then how many more), says what happens to playback already running, and
counts in words ("1 entitlement", "2 viewers"); then the write and a message that counts the same way."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.visible_text import visible_text
from viewers.models import Entitlement, User

ENTITLEMENTS = "/admin/viewers/entitlement/"
ACTIONS = ["revoke", "end_now", "extend"]
QUESTION = {"revoke": "Revoke {}, held by {}", "end_now": "End {} now, held by {}", "extend": "Extend {}, held by {}"}


def run_action(client, action, entitlements, query="", **extra):
    return client.post(
        ENTITLEMENTS + query, {"action": action, ACTION_CHECKBOX_NAME: [e.pk for e in entitlements], **extra}
    )


def text(response) -> str:
    """The page's visible text, its whitespace collapsed: what a reader sees as sentences."""
    return " ".join(visible_text(response.content.decode()).split())


def messages_of(response):
    return [str(m) for m in response.wsgi_request._messages]


def many(count, channel):
    """`count` entitlements, one per new viewer."""
    start = User.objects.count()
    users = User.objects.bulk_create(User(username=f"v{i:04d}") for i in range(start, start + count))
    return Entitlement.objects.bulk_create(Entitlement(user=user, channel=channel) for user in users)


@pytest.mark.django_db
class TestTheConfirmation:
    @pytest.mark.parametrize("action", ACTIONS)
    def test_one_entitlement_is_named_and_counted_in_the_singular(self, admin_client, alice, action):
        page = text(run_action(admin_client, action, [Entitlement.objects.get(user=alice)]))
        assert QUESTION[action].format("1 entitlement", "1 viewer (directly or through their groups)?") in page
        assert "alice" in page and "Main Event" in page and "active" in page
        assert "(s)" not in page and "more." not in page

    @pytest.mark.parametrize("action", ACTIONS)
    def test_sixty_entitlements_show_the_first_fifty_of_each_list(self, admin_client, private_channel, action):
        chosen = many(60, private_channel)
        response = run_action(admin_client, action, chosen)
        page = text(response)
        assert QUESTION[action].format("60 entitlements", "60 viewers") in page
        assert page.count("… and 10 more.") == 2
        assert len(response.context["rows"]) == len(response.context["viewers"]) == 50

    @pytest.mark.parametrize("action", ["revoke", "end_now"])
    def test_withdrawing_says_running_playback_stops_within_the_reconcile_interval(
        self, admin_client, alice, action, settings
    ):
        settings.IVS_RECONCILE_SECONDS = 45
        page = text(run_action(admin_client, action, [Entitlement.objects.get(user=alice)]))
        assert "playback already running stops too, within about 45 seconds" in page
        settings.IVS_RECONCILE_SECONDS = 1
        page = text(run_action(admin_client, action, [Entitlement.objects.get(user=alice)]))
        assert "within about 1 second " in page

    def test_extending_says_what_it_does_and_that_nothing_stops(self, admin_client, alice):
        response = run_action(admin_client, "extend", [Entitlement.objects.get(user=alice)])
        page = text(response)
        assert "Nothing stops now; playback already running carries on." in page and "stops too" not in page
        body = response.content.decode()
        # The admin's own date and time widgets, laid out as the change form lays out its fields.
        assert 'name="until_0"' in body and 'class="vDateField"' in body and 'class="vTimeField"' in body
        assert 'fieldset class="module aligned' in body and "admin/js/calendar.js" in body
        assert "/admin/jsi18n/" in body and "admin/js/core.js" in body

    def test_it_says_which_of_the_selected_ones_would_change(self, admin_client, alice, erin, frank):
        chosen = list(Entitlement.objects.filter(user__in=[alice, erin, frank]))
        assert "1 of the 3 is in force now: only that one changes." in text(run_action(admin_client, "end_now", chosen))
        assert "2 of the 3 are not revoked yet: only those change." in text(run_action(admin_client, "revoke", chosen))
        frank_only = [Entitlement.objects.get(user=frank)]
        page = text(run_action(admin_client, "end_now", frank_only))
        assert "Nothing would change: no selected entitlement is in force now." in page
        page = text(run_action(admin_client, "revoke", frank_only))
        assert "Nothing would change: every selected entitlement is revoked already." in page

    def test_group_members_count_as_viewers_and_are_named(self, admin_client, bob, subscribers):
        for name in ["m1", "m2"]:
            User.objects.create_user(name).groups.add(subscribers)
        page = text(run_action(admin_client, "extend", [Entitlement.objects.get(group=subscribers)]))
        assert "held by 3 viewers" in page and "group subscribers" in page
        assert all(name in page for name in ["bob", "m1", "m2"])

    def test_a_past_end_is_shown_as_the_admin_shows_form_errors(self, admin_client, alice):
        past = timezone.localtime() - timedelta(days=1)
        extra = {"apply": "1", "until_0": past.strftime("%Y-%m-%d"), "until_1": past.strftime("%H:%M")}
        response = run_action(admin_client, "extend", [Entitlement.objects.get(user=alice)], **extra)
        body = response.content.decode()
        assert response.status_code == 200 and 'class="errornote"' in body
        assert "Choose a time in the future." in body and "form-row errors" in body
        assert Entitlement.objects.get(user=alice).ends_at is None


@pytest.mark.django_db
class TestSelectAcrossPages:
    def test_two_hundred_entitlements_cost_the_same_queries_as_three(
        self, admin_client, private_channel, django_assert_max_num_queries
    ):
        many(3, private_channel)
        first = Entitlement.objects.order_by("pk")[:1]
        with CaptureQueriesContext(connection) as few:
            run_action(admin_client, "revoke", first, select_across="1")
        many(197, private_channel)
        with django_assert_max_num_queries(len(few)):
            response = run_action(admin_client, "revoke", first, select_across="1")
        page = text(response)
        assert "Revoke 200 entitlements, held by 200 viewers" in page and page.count("… and 150 more.") == 2
        # Only the first selected box goes back, with "select all": the rows are not written into the page.
        assert response.content.decode().count(f'name="{ACTION_CHECKBOX_NAME}"') == 1

    def test_select_all_keeps_the_filter(self, admin_client, alice, bob, public_channel, private_channel):
        other = Entitlement.objects.create(user=User.objects.create_user("zoe"), channel=public_channel)
        query = f"?channel__id__exact={public_channel.pk}"
        page = run_action(admin_client, "revoke", [other], query=query, select_across="1")
        assert 'name="select_across" value="1"' in page.content.decode()
        run_action(admin_client, "revoke", [other], query=query, select_across="1", apply="yes")
        assert Entitlement.objects.get(pk=other.pk).is_revoked
        assert not Entitlement.objects.filter(channel=private_channel, revoked_at__isnull=False).exists()


@pytest.mark.django_db
class TestTheWrite:
    def test_end_now_ends_only_what_is_in_force_and_says_so_in_the_singular(self, admin_client, alice, erin, frank):
        chosen = list(Entitlement.objects.filter(user__in=[alice, erin, frank]))
        done = run_action(admin_client, "end_now", chosen, apply="yes")
        assert messages_of(done) == ["Ended 1 entitlement."]
        assert Entitlement.objects.get(user=alice).ends_at <= timezone.now()
        assert Entitlement.objects.get(user=erin).ends_at is None

    def test_revoke_counts_in_the_plural(self, admin_client, alice, erin):
        chosen = list(Entitlement.objects.filter(user__in=[alice, erin]))
        assert messages_of(run_action(admin_client, "revoke", chosen, apply="yes")) == ["Revoked 2 entitlements."]

    def test_extend_takes_the_admins_split_date_and_time(self, admin_client, alice):
        until = timezone.localtime() + timedelta(days=3)
        extra = {"apply": "1", "until_0": until.strftime("%Y-%m-%d"), "until_1": until.strftime("%H:%M")}
        done = run_action(admin_client, "extend", [Entitlement.objects.get(user=alice)], **extra)
        assert messages_of(done) == ["Extended 1 entitlement."]
        assert Entitlement.objects.get(user=alice).ends_at == until.replace(second=0, microsecond=0)
