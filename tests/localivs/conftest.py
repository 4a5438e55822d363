"""Fixtures for the local origin's control-plane tests: boto3 IVS and IVS Chat clients for the live server, each
answer checked against botocore's model."""

import boto3
import pytest
from botocore.config import Config

from tests.factories import PRIVATE_ARN, playback_url_for
from tests.localivs.answers import check_answer, close_after_each_answer
from viewers.models import Channel


@pytest.fixture
def checked():
    """Names of the operations whose answers check_answer() saw, so a test proves the hook ran."""
    return []


def _clients_of(service, live_server, checked):
    """A generator yielding make(region): a boto3 client of `service` for the local origin, signing for that region,
    every answer checked against the model; the clients close afterwards."""
    clients = []

    def make(region):
        client = boto3.client(
            service,
            endpoint_url=f"{live_server.url}/{service}",
            region_name=region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
            config=Config(retries={"max_attempts": 1}),
        )

        def on_answer(http_response, model, **kwargs):
            status, headers, content = http_response.status_code, http_response.headers, http_response.content
            check_answer(model.name, status, headers, content, service=service)
            checked.append(model.name)

        client.meta.events.register(f"after-call.{service}", on_answer)
        client.meta.events.register(f"request-created.{service}", close_after_each_answer)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def ivs_in(live_server, checked):
    """ivs_in(region): a boto3 IVS client for the local origin, signing for that region."""
    yield from _clients_of("ivs", live_server, checked)


@pytest.fixture
def ivs(ivs_in):
    return ivs_in("us-west-2")


@pytest.fixture
def ivschat_in(live_server, checked):
    """ivschat_in(region): a boto3 IVS Chat client for the local stand-in (/ivschat/), signing for that region."""
    yield from _clients_of("ivschat", live_server, checked)


@pytest.fixture
def ivschat(ivschat_in):
    return ivschat_in("us-west-2")


@pytest.fixture
def channel(transactional_db, registered_key):
    return Channel.objects.create(
        name="Main Event", slug="main-event", arn=PRIVATE_ARN, playback_url=playback_url_for(PRIVATE_ARN)
    )
