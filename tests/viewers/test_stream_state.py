"""The worker's read of the channels' live state (viewers/stream_state.py) against boto3 clients stubbed with
botocore's Stubber: live and offline, pagination, and errors that keep the last known state and mark it."""

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber
from django.core.management import call_command
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.factories import PRIVATE_ARN, PUBLIC_ARN, playback_url_for
from tests.visible_text import visible_text
from viewers import stream_state
from viewers.models import Channel
from viewers.models.streams import stale_after

pytestmark = pytest.mark.django_db

EU_ARN = "arn:aws:ivs:eu-west-1:123456789012:channel/EuShow01"
STARTED = datetime(2026, 12, 3, 13, 25, tzinfo=UTC)


def summary(arn, viewers=7):
    return {
        "channelArn": arn,
        "streamId": "st-" + "a" * 23,
        "state": "LIVE",
        "health": "HEALTHY",
        "viewerCount": viewers,
        "startTime": STARTED,
    }


def client(region="us-west-2", endpoint_url=None):
    return boto3.client(
        "ivs",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id="tests",
        aws_secret_access_key="tests",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )


@pytest.fixture
def stubbed():
    """stubbed(region): a client for `region` and its Stubber, activated."""
    stubbers = []

    def make(region="us-west-2"):
        made = client(region)
        stubber = Stubber(made)
        stubber.activate()
        stubbers.append(stubber)
        return made, stubber

    yield make
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
        stubber.deactivate()


@pytest.fixture
def channels(private_channel, public_channel):
    return private_channel, public_channel


def state_of(arn):
    return Channel.objects.get(arn=arn)


class TestLiveAndOffline:
    def test_a_listed_stream_is_live_and_every_other_channel_of_the_region_offline(self, stubbed, channels, now):
        ivs, stub = stubbed()
        stub.add_response("list_streams", {"streams": [summary(PRIVATE_ARN)]}, {})
        assert stream_state.refresh(clients={"us-west-2": ivs}, now=now) == {"live": 1, "offline": 1, "failed": []}
        live, offline = state_of(PRIVATE_ARN), state_of(PUBLIC_ARN)
        assert (live.stream_state, live.stream_started_at, live.stream_viewers) == ("live", STARTED, 7)
        assert (live.stream_health, live.stream_checked_at, live.stream_error) == ("HEALTHY", now, "")
        assert (offline.stream_state, offline.stream_started_at, offline.stream_checked_at) == ("offline", None, now)
        assert live.live_state(now) == "live" and offline.live_state(now) == "offline"

    def test_a_stream_that_ended_makes_its_channel_offline(self, stubbed, channels, now):
        ivs, stub = stubbed()
        stub.add_response("list_streams", {"streams": [summary(PRIVATE_ARN)]}, {})
        stub.add_response("list_streams", {"streams": []}, {})
        stream_state.refresh(clients={"us-west-2": ivs}, now=now)
        stream_state.refresh(clients={"us-west-2": ivs}, now=now + timedelta(seconds=30))
        assert state_of(PRIVATE_ARN).stream_state == "offline"
        assert state_of(PRIVATE_ARN).stream_viewers is None

    def test_it_reads_every_page_with_one_call_per_page(self, stubbed, channels, now):
        ivs, stub = stubbed()
        stub.add_response("list_streams", {"streams": [summary(PRIVATE_ARN)], "nextToken": "page-2"}, {})
        stub.add_response("list_streams", {"streams": [summary(PUBLIC_ARN, 3)]}, {"nextToken": "page-2"})
        assert stream_state.refresh(clients={"us-west-2": ivs}, now=now)["live"] == 2
        assert state_of(PUBLIC_ARN).stream_viewers == 3

    def test_streams_of_channels_the_site_does_not_have_are_ignored(self, stubbed, channels, now):
        ivs, stub = stubbed()
        stub.add_response("list_streams", {"streams": [summary(PRIVATE_ARN.replace("MainEvent01", "Other01"))]}, {})
        assert stream_state.refresh(clients={"us-west-2": ivs}, now=now) == {"live": 0, "offline": 2, "failed": []}

    def test_its_queries_do_not_grow_with_channels(self, stubbed, channels, now, django_assert_max_num_queries):
        for n in range(50):
            arn = f"arn:aws:ivs:us-west-2:123456789012:channel/More{n}"
            Channel.objects.create(name=f"More {n}", slug=f"more-{n}", arn=arn, playback_url=playback_url_for(arn))
        ivs, stub = stubbed()
        live = [summary(f"arn:aws:ivs:us-west-2:123456789012:channel/More{n}") for n in range(0, 50, 2)]
        stub.add_response("list_streams", {"streams": live}, {})
        # The regions' channels, the live rows read, their one UPDATE, the offline UPDATE, and the savepoints.
        with django_assert_max_num_queries(8):
            assert stream_state.refresh(clients={"us-west-2": ivs}, now=now)["live"] == 25


class TestErrors:
    @pytest.mark.parametrize(("code", "status"), [("ThrottlingException", 429), ("AccessDeniedException", 403)])
    def test_a_refusal_keeps_the_last_known_state_and_records_why(self, stubbed, channels, now, code, status):
        ivs, stub = stubbed()
        stub.add_response("list_streams", {"streams": [summary(PRIVATE_ARN)]}, {})
        stub.add_client_error("list_streams", service_error_code=code, http_status_code=status)
        stream_state.refresh(clients={"us-west-2": ivs}, now=now)
        later = now + timedelta(seconds=30)
        assert stream_state.refresh(clients={"us-west-2": ivs}, now=later)["failed"] == ["us-west-2"]
        live, offline = state_of(PRIVATE_ARN), state_of(PUBLIC_ARN)
        assert (live.stream_state, live.stream_checked_at) == ("live", now)  # not flipped to offline
        assert offline.stream_state == "offline"
        assert live.stream_error.startswith(code) and live.stream_is_stale and offline.stream_is_stale
        assert live.live_state(later) == "live"
        # …until it is too old to be worth saying.
        assert live.live_state(now + stale_after() + timedelta(seconds=1)) is None

    def test_an_unreachable_endpoint_is_an_error_of_its_region_only(self, stubbed, channels, settings, now):
        Channel.objects.create(name="EU Show", slug="eu-show", arn=EU_ARN, playback_url=playback_url_for(EU_ARN))
        ivs, stub = stubbed()
        stub.add_response("list_streams", {"streams": [summary(PRIVATE_ARN)]}, {})
        unreachable = client("eu-west-1", endpoint_url="http://127.0.0.1:9")  # nothing listens on the discard port
        report = stream_state.refresh(clients={"us-west-2": ivs, "eu-west-1": unreachable}, now=now)
        assert report == {"live": 1, "offline": 1, "failed": ["eu-west-1"]}
        eu = state_of(EU_ARN)
        assert (eu.stream_state, eu.live_state(now)) == ("", None)  # never known, still not known
        assert "EndpointConnectionError" in eu.stream_error
        assert state_of(PRIVATE_ARN).stream_error == ""

    def test_a_later_answer_clears_the_error(self, stubbed, channels, now):
        ivs, stub = stubbed()
        stub.add_client_error("list_streams", service_error_code="ThrottlingException", http_status_code=429)
        stub.add_response("list_streams", {"streams": []}, {})
        stream_state.refresh(clients={"us-west-2": ivs}, now=now)
        stream_state.refresh(clients={"us-west-2": ivs}, now=now)
        assert state_of(PRIVATE_ARN).stream_error == "" and state_of(PRIVATE_ARN).stream_state == "offline"


class TestWhatOperatorsSee:
    def test_an_edit_of_the_channel_does_not_write_an_older_state_back(self, private_channel, now):
        form_read = Channel.objects.get(pk=private_channel.pk)  # as the admin's form read it
        Channel.objects.filter(pk=private_channel.pk).update(stream_state="live", stream_checked_at=now)
        form_read.description = "Edited."
        form_read.save()
        saved = Channel.objects.get(pk=private_channel.pk)
        assert (saved.description, saved.stream_state) == ("Edited.", "live")

    def test_the_channel_list_shows_the_state_the_viewers_and_a_failed_read(self, admin_client, channels, now):
        Channel.objects.filter(arn=PRIVATE_ARN).update(
            stream_state="live", stream_viewers=1, stream_checked_at=now, stream_error="ThrottlingException: Slow down"
        )
        Channel.objects.filter(arn=PUBLIC_ARN).update(stream_state="live", stream_viewers=3, stream_checked_at=now)
        text = " ".join(visible_text(admin_client.get("/admin/viewers/channel/").content.decode()).split())
        assert "Live · 1 viewer (last read failed: ThrottlingException: Slow down)" in text
        assert "Live · 3 viewers" in text


class TestWithoutAws:
    def test_nothing_is_asked_or_booked_and_nothing_is_known(self, settings, channels, now):
        settings.AWS_REGION = ""
        assert stream_state.refresh() == {"skipped": "AWS is not configured"}
        stream_state.schedule(delay=0)
        assert not DBTaskResult.objects.exists()
        assert state_of(PRIVATE_ARN).live_state(now) is None


class TestTheWorker:
    def test_the_periodic_run_books_exactly_one_next_run(self, settings, worker, monkeypatch):
        settings.AWS_REGION = "us-west-2"
        runs = []
        monkeypatch.setattr(stream_state, "refresh", lambda: runs.append(1) or {"live": 0})
        stream_state.schedule(delay=0)
        stream_state.schedule(delay=0)  # a second start finds the first booking
        worker()
        waiting = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
        assert runs == [1] and waiting.count() == 1
        assert waiting.get().run_after > timezone.now() + timedelta(seconds=settings.IVS_STREAM_STATE_SECONDS - 5)

    def test_the_worker_command_books_it_at_start(self, settings, monkeypatch):
        settings.AWS_REGION = "us-west-2"
        from viewers.management.commands import ivs_worker

        monkeypatch.setattr(ivs_worker.Worker, "run", lambda self: None)  # book, then stop at once
        monkeypatch.setattr(ivs_worker.ResilientWorker, "configure_signals", lambda self: None)
        call_command("ivs_worker", "--batch")
        assert DBTaskResult.objects.filter(task_path=stream_state.refresh_periodically.module_path).exists()


@pytest.mark.parametrize(("seconds", "check_id"), [(1, "ivs.E052"), (3600, "ivs.W052")])
def test_silly_periods_are_reported_at_start_up(settings, seconds, check_id):
    settings.IVS_STREAM_STATE_SECONDS = seconds
    assert [message.id for message in stream_state.check_stream_state_settings()] == [check_id]


def test_a_sensible_period_passes(settings):
    settings.IVS_STREAM_STATE_SECONDS = 30
    assert stream_state.check_stream_state_settings() == []
