"""Fixtures for the viewers app's revocation tests: IVS behind botocore's Stubber, and writes followed by the worker."""

import boto3
import pytest
from botocore.stub import Stubber

from viewers import revocation


@pytest.fixture
def ivs(settings, monkeypatch):
    """A real boto3 IVS client whose HTTP layer is replaced by botocore's Stubber."""
    settings.AWS_REGION = "us-west-2"
    client = boto3.client("ivs", region_name="us-west-2", aws_access_key_id="test", aws_secret_access_key="test")
    monkeypatch.setattr("viewers.ivs.aws.ivs_client", lambda region=None: client)
    monkeypatch.setattr(revocation.time, "sleep", lambda seconds: None)
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def act(django_capture_on_commit_callbacks, worker):
    """Do a write as its request would (no IVS call may happen there: the Stubber has nothing queued yet
    for it to answer when it runs, only for the worker), then let the worker run what it queued."""

    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            result = action()
        worker()
        return result

    return run
