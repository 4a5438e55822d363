"""One write path: every entitlement write from the admin goes through viewers.services, and those that may
withdraw access ask for an early reconciliation. Entitlement writes fire no signal of ours any more; only the
events Django's auth owns (membership, a group deleted, a user deactivated or deleted) still do."""

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django_tasks_db.models import DBTaskResult

from viewers import reconcile, services
from viewers.models import Entitlement

pytestmark = pytest.mark.django_db
ENTITLEMENTS = "/admin/viewers/entitlement/"


def early_runs_booked() -> int:
    return DBTaskResult.objects.ready().filter(task_path=reconcile.reconcile_periodically.module_path).count()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def change_form(entitlement, **changes):
    data = {
        "channel": entitlement.channel_id,
        "user": entitlement.user_id or "",
        "group": entitlement.group_id or "",
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
        "max_resolution": entitlement.max_resolution,
        "note": entitlement.note,
    }
    return {**data, **changes}


class TestTheAdminForms:
    def test_adding_records_who_granted_and_books_no_run(self, admin_client, admin_user, carol, private_channel):
        response = admin_client.post(
            ENTITLEMENTS + "add/", change_form(Entitlement(channel=private_channel, user=carol))
        )
        assert response.status_code == 302
        assert Entitlement.objects.get(user=carol).created_by == admin_user
        assert early_runs_booked() == 0  # a grant withdraws nothing

    def test_narrowing_in_the_change_form_books_an_early_run(self, admin_client, alice):
        entitlement = Entitlement.objects.get(user=alice)
        response = admin_client.post(
            f"{ENTITLEMENTS}{entitlement.pk}/change/", change_form(entitlement, max_resolution="SD")
        )
        assert response.status_code == 302
        entitlement.refresh_from_db()
        assert entitlement.max_resolution == "SD" and early_runs_booked() == 1

    def test_saving_an_unchanged_form_books_nothing(self, admin_client, alice):
        entitlement = Entitlement.objects.get(user=alice)
        assert admin_client.post(f"{ENTITLEMENTS}{entitlement.pk}/change/", change_form(entitlement)).status_code == 302
        assert early_runs_booked() == 0

    def test_an_end_before_the_start_is_refused_with_the_models_message(self, admin_client, alice):
        entitlement = Entitlement.objects.get(user=alice)
        form = change_form(
            entitlement, starts_at_0="2026-05-02", starts_at_1="10:00", ends_at_0="2026-05-01", ends_at_1="10:00"
        )
        response = admin_client.post(f"{ENTITLEMENTS}{entitlement.pk}/change/", form)
        assert response.status_code == 200 and "The end must be after the start." in response.content.decode()
        assert early_runs_booked() == 0

    def test_deleting_one_books_an_early_run(self, admin_client, alice):
        entitlement = Entitlement.objects.get(user=alice)
        assert admin_client.post(f"{ENTITLEMENTS}{entitlement.pk}/delete/", {"post": "yes"}).status_code == 302
        assert not Entitlement.objects.exists() and early_runs_booked() == 1

    def test_deleting_selected_books_one_early_run(self, admin_client, alice, bob):
        pks = list(Entitlement.objects.values_list("pk", flat=True))
        form = {"action": "delete_selected", ACTION_CHECKBOX_NAME: pks, "post": "yes"}
        assert admin_client.post(ENTITLEMENTS, form).status_code == 302
        assert not Entitlement.objects.exists() and early_runs_booked() == 1


class TestSignals:
    def test_a_direct_model_write_books_nothing_the_reconciler_is_the_guarantee(self, alice, private_channel):
        Entitlement.objects.filter(user=alice).get().delete()
        assert early_runs_booked() == 0

    def test_deleting_a_group_books_an_early_run(self, bob, subscribers):
        subscribers.delete()
        assert early_runs_booked() == 1

    def test_leaving_a_group_books_an_early_run(self, bob, subscribers):
        bob.groups.remove(subscribers)
        assert early_runs_booked() == 1

    def test_deactivating_a_user_books_an_early_run(self, alice):
        alice.is_active = False
        alice.save(update_fields=["is_active"])
        assert early_runs_booked() == 1


class TestServices:
    def test_the_bulk_grant_is_a_few_inserts_for_many_rows(self, carol, private_channel, django_assert_max_num_queries):
        rows = [Entitlement(user=carol, channel=private_channel, note=str(i)) for i in range(2500)]
        # Batches of 1,000 rows; SQLite splits each further by its 999-parameter limit (~90 rows an INSERT).
        with django_assert_max_num_queries(30):
            assert services.entitlements_grant_bulk(rows, granted_by=carol) == 2500
        assert Entitlement.objects.filter(created_by=carol).count() == 2500

    def test_an_update_that_moves_the_end_earlier_is_checked(self, alice, now):
        entitlement = Entitlement.objects.get(user=alice)
        entitlement.starts_at, entitlement.ends_at = now, now - timedelta(hours=1)
        with pytest.raises(Exception, match="end must be after the start"):
            services.entitlement_update(entitlement=entitlement, fields=["starts_at", "ends_at"])
        assert early_runs_booked() == 0
