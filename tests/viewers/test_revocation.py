"""Withdrawing access stops playback already running: the exact IVS calls, and nothing lost on failure."""

import pytest
from botocore.exceptions import EndpointConnectionError
from django.core.management import call_command

from tests.factories import PRIVATE_ARN, expect_single, revocation_row, watch
from viewers import revocation, services
from viewers.models import Entitlement, Revocation, TokenAudit, User

pytestmark = pytest.mark.django_db


def throttled(ivs, method):
    ivs.add_client_error(method, service_error_code="ThrottlingException", http_status_code=429)


def admin_action(admin_client, action, entitlement):
    """Run an entitlement list action through its confirmation page, as an admin would."""
    data = {"action": action, "_selected_action": [entitlement.pk], "apply": "yes"}
    return admin_client.post("/admin/viewers/entitlement/", data)


class TestWhatTriggersARevocation:
    @pytest.mark.parametrize("action", ["revoke", "end_now"])
    def test_the_admin_actions_that_withdraw_stop_the_viewers_session(
        self, client, admin_client, alice, ivs, act, action
    ):
        version = watch(alice, client=client)
        expect_single(ivs, alice, version)
        act(lambda: admin_action(admin_client, action, Entitlement.objects.get(user=alice)))
        assert Revocation.objects.get().status == "done"
        assert TokenAudit.objects.get(pk=version).end_reason == "revoked"
        entitlement = Entitlement.objects.get()
        assert entitlement.revoked_at is not None if action == "revoke" else entitlement.ends_at is not None

    def test_deactivating_the_user_in_admin_stops_the_session(self, client, admin_client, alice, ivs, act):
        version = watch(alice, client=client)
        expect_single(ivs, alice, version)
        form = admin_client.get(f"/admin/viewers/user/{alice.pk}/change/").context["adminform"].form
        data = {
            k: v
            for k, v in form.initial.items()
            if v is not None and k not in ("password", "groups", "user_permissions")
        }
        data.update(is_active="", date_joined_0=alice.date_joined.date(), date_joined_1="00:00:00")
        act(lambda: admin_client.post(f"/admin/viewers/user/{alice.pk}/change/", data))
        assert not User.objects.get(pk=alice.pk).is_active
        assert Revocation.objects.get().status == "done"

    def test_ending_an_entitlement_now_stops_the_session(self, client, alice, ivs, act):
        version = watch(alice, client=client)
        expect_single(ivs, alice, version)
        act(lambda: services.entitlements_end_now(entitlements=Entitlement.objects.filter(user=alice)))
        assert Revocation.objects.get().status == "done"

    def test_deactivating_the_user_stops_the_session(self, client, alice, ivs, act):
        version = watch(alice, client=client)
        expect_single(ivs, alice, version)
        alice.is_active = False
        act(lambda: alice.save(update_fields=["is_active"]))
        assert Revocation.objects.get().max_version == version

    def test_removing_the_viewer_from_the_entitling_group_stops_the_session(self, client, bob, subscribers, ivs, act):
        version = watch(bob, client=client)
        expect_single(ivs, bob, version)
        act(lambda: bob.groups.remove(subscribers))
        assert Revocation.objects.get().viewer_id == bob.viewer_id

    def test_removing_members_from_the_group_side_works_too(self, client, bob, subscribers, ivs, act):
        version = watch(bob, client=client)
        expect_single(ivs, bob, version)
        act(lambda: subscribers.user_set.clear())
        assert Revocation.objects.get().max_version == version

    def test_deleting_an_entitlement_in_admin_stops_the_session(self, client, admin_client, alice, ivs, act):
        version = watch(alice, client=client)
        expect_single(ivs, alice, version)
        entitlement = Entitlement.objects.get(user=alice)
        act(lambda: admin_client.post(f"/admin/viewers/entitlement/{entitlement.pk}/delete/", {"post": "yes"}))
        assert Revocation.objects.get().status == "done"

    def test_a_viewer_still_entitled_another_way_keeps_watching(self, client, bob, private_channel, ivs, act):
        # The group allows HD; a direct grant at the same level is revoked: the HD session is still allowed.
        Entitlement.objects.create(user=bob, channel=private_channel, max_resolution="HD")
        watch(bob, client=client)
        # No stubbed response: any IVS call would fail the test.
        act(lambda: services.entitlements_revoke(entitlements=Entitlement.objects.filter(user=bob)))
        assert not Revocation.objects.exists()

    def test_a_viewer_who_never_watched_needs_no_call(self, alice, ivs, act):
        act(lambda: services.entitlements_revoke(entitlements=Entitlement.objects.filter(user=alice)))
        assert not Revocation.objects.exists()

    def test_revoking_a_group_revokes_its_members_in_batches_of_twenty(
        self, client, subscribers, private_channel, ivs, act
    ):
        members = []
        for i in range(23):
            user = User.objects.create_user(f"member{i}", password="x")
            user.groups.add(subscribers)
            members.append((user, watch(user, client=client)))
        entries = [
            {"channelArn": PRIVATE_ARN, "viewerId": user.viewer_id, "viewerSessionVersionsLessThanOrEqualTo": version}
            for user, version in members
        ]
        ivs.add_response("batch_start_viewer_session_revocation", {"errors": []}, {"viewerSessions": entries[:20]})
        ivs.add_response("batch_start_viewer_session_revocation", {"errors": []}, {"viewerSessions": entries[20:]})
        act(lambda: services.entitlements_revoke(entitlements=Entitlement.objects.filter(group=subscribers)))
        assert Revocation.objects.filter(status="done").count() == 23


class TestTheAddress:
    """A revocation goes to the ARN the session's token was signed for, whatever the channel became since."""

    def test_a_deleted_channel_s_sessions_are_revoked_at_its_arn(self, client, alice, private_channel, ivs, act):
        version = watch(alice, client=client)
        expect_single(ivs, alice, version)
        act(lambda: private_channel.delete())
        assert Revocation.objects.get().status == "done"
        assert TokenAudit.objects.get(pk=version).channel_arn == PRIVATE_ARN

    def test_a_re_pointed_channel_s_sessions_are_revoked_at_the_old_arn(self, client, alice, private_channel, ivs, act):
        version = watch(alice, client=client)
        expect_single(ivs, alice, version)  # PRIVATE_ARN, the old one

        def re_point():
            private_channel.arn = PRIVATE_ARN.replace("MainEvent01", "MainEvent02")
            private_channel.playback_url = private_channel.playback_url.replace("MainEvent01", "MainEvent02")
            private_channel.save()

        act(re_point)
        assert Revocation.objects.get().status == "done"


class TestNothingIsLost:
    def test_a_throttled_call_is_retried_with_backoff(self, client, alice, ivs, act):
        version = watch(alice, client=client)
        revocation_row(
            channel=alice.entitlements.get().channel, viewer_id=alice.viewer_id, max_version=version, reason="revoked"
        )
        throttled(ivs, "start_viewer_session_revocation")
        expect_single(ivs, alice, version)
        report = revocation.deliver_pending()
        assert (report.delivered, report.pending) == (1, 0)

    def test_a_failed_call_stays_pending_and_the_cron_command_delivers_it(self, client, alice, ivs, act, monkeypatch):
        version = watch(alice, client=client)
        ivs.add_client_error(
            "start_viewer_session_revocation", service_error_code="InternalServerException", http_status_code=500
        )
        act(lambda: services.entitlements_revoke(entitlements=Entitlement.objects.filter(user=alice)))
        pending = Revocation.objects.get()
        assert (pending.status, pending.attempts) == ("pending", 1)
        assert "InternalServerException" in pending.last_error

        Revocation.objects.update(next_attempt_at=pending.created_at)  # due now
        expect_single(ivs, alice, version)
        call_command("ivs_sync_revocations")
        assert Revocation.objects.get().status == "done"

    def test_an_unreachable_aws_keeps_the_revocation(self, client, alice, settings, monkeypatch, act):
        settings.AWS_REGION = "us-west-2"

        class Unreachable:
            def start_viewer_session_revocation(self, **kwargs):
                raise EndpointConnectionError(endpoint_url="https://ivs.us-west-2.amazonaws.com")

        monkeypatch.setattr("viewers.ivs.aws.ivs_client", lambda region=None: Unreachable())
        watch(alice, client=client)
        act(lambda: services.entitlements_revoke(entitlements=Entitlement.objects.filter(user=alice)))
        pending = Revocation.objects.get()
        assert pending.status == "pending" and "EndpointConnectionError" in pending.last_error
        assert pending.next_attempt_at > pending.created_at

    def test_a_permanent_error_is_marked_failed_for_an_admin(self, client, alice, ivs, act):
        watch(alice, client=client)
        ivs.add_client_error("start_viewer_session_revocation", service_error_code="ResourceNotFoundException")
        act(lambda: services.entitlements_revoke(entitlements=Entitlement.objects.filter(user=alice)))
        assert Revocation.objects.get().status == "failed"

    def test_access_denied_is_permanent_and_shown_to_an_admin(self, client, alice, ivs, act):
        watch(alice, client=client)
        ivs.add_client_error(
            "start_viewer_session_revocation", service_error_code="AccessDeniedException", http_status_code=403
        )
        act(lambda: services.entitlements_revoke(entitlements=Entitlement.objects.filter(user=alice)))
        failed = Revocation.objects.get()
        assert failed.status == "failed" and "AccessDeniedException" in failed.last_error

    def test_per_entry_batch_errors_are_recorded_per_viewer(self, client, subscribers, ivs, act):
        users = []
        for i in range(2):
            user = User.objects.create_user(f"m{i}", password="x")
            user.groups.add(subscribers)
            watch(user, client=client)
            users.append(user)
        ivs.add_response(
            "batch_start_viewer_session_revocation",
            {
                "errors": [
                    {"channelArn": PRIVATE_ARN, "viewerId": users[1].viewer_id, "code": "InternalServerException"}
                ]
            },
        )
        act(lambda: services.entitlements_revoke(entitlements=Entitlement.objects.filter(group=subscribers)))
        statuses = dict(Revocation.objects.values_list("viewer_id", "status"))
        assert statuses == {users[0].viewer_id: "done", users[1].viewer_id: "pending"}

    def test_the_admin_can_retry_failed_revocations(self, client, admin_client, alice, ivs, act):
        version = watch(alice, client=client)
        failed = revocation_row(
            channel=alice.entitlements.get().channel,
            viewer_id=alice.viewer_id,
            max_version=version,
            reason="revoked",
            status="failed",
        )
        expect_single(ivs, alice, version)
        act(
            lambda: admin_client.post(
                "/admin/viewers/revocation/", {"action": "retry_now", "_selected_action": [failed.pk]}
            )
        )
        assert Revocation.objects.get().status == "done"

    def test_the_sync_command_has_a_dry_run(self, alice, private_channel, capsys):
        revocation_row(channel=private_channel, viewer_id=alice.viewer_id, max_version=7, reason="revoked")
        call_command("ivs_sync_revocations", "--dry-run")
        out = capsys.readouterr().out
        assert f"{private_channel.arn} viewer {alice.viewer_id} through 7" in out
        assert "1 pending." in out
        assert Revocation.objects.get().status == "pending"

    def test_the_dry_run_lists_a_deleted_channels_revocation_by_its_arn(self, alice, private_channel, capsys):
        """A revocation outlives its channel (the FK is set null; the row keeps the ARN it is addressed to)."""
        revocation_row(channel=private_channel, viewer_id=alice.viewer_id, max_version=7, reason="revoked")
        arn = private_channel.arn
        private_channel.delete()
        call_command("ivs_sync_revocations", "--dry-run")
        assert f"{arn} viewer {alice.viewer_id} through 7" in capsys.readouterr().out
