"""The one place that builds AWS clients. Credentials come from boto3's standard chain
(environment, shared config/credentials files, instance or task role): the site never stores them."""

import functools

from django.conf import settings


def error_code(exc) -> str:
    """The AWS error code of a botocore ClientError (ThrottlingException…), "" for anything else."""
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


def describe_error(exc) -> str:
    """ "Code: message" of an AWS error, or the exception's type and text (no credentials, unreachable, timeout)."""
    error = getattr(exc, "response", {}).get("Error", {})
    if error:
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
    return f"{type(exc).__name__}: {exc}"


def aws_configured() -> bool:
    """True when the site may call AWS: a region has been set (AWS_REGION or IVS_AWS_REGION)."""
    return bool(getattr(settings, "AWS_REGION", ""))


def ivs_client(region: str | None = None):
    """A boto3 IVS client for `region` (default settings.AWS_REGION), with short timeouts and standard retries."""
    return _client("ivs", region or settings.AWS_REGION, settings.AWS_ENDPOINT_URL_IVS or None)


def ivschat_client(region: str | None = None, *, in_request: bool = False):
    """A boto3 IVS Chat client for `region`. The worker's waits as for IVS; a request's (the chat token, the one AWS
    call a request makes) IVS_CHAT_TOKEN_TIMEOUT_SECONDS to connect and to read, and one retry."""
    endpoint = settings.AWS_ENDPOINT_URL_IVSCHAT or None
    if in_request:
        timeout = settings.IVS_CHAT_TOKEN_TIMEOUT_SECONDS
        return _client("ivschat", region or settings.AWS_REGION, endpoint, timeout, timeout, retries=1)
    return _client("ivschat", region or settings.AWS_REGION, endpoint)


@functools.lru_cache(maxsize=32)
def _client(service: str, region: str, endpoint_url: str | None, connect=None, read=None, retries=3):
    # Imported here so that a site that never talks to AWS does not pay for importing boto3. Clients are
    # thread-safe and costly to build (tens of ms), so the worker keeps one per region and endpoint.
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=connect or settings.AWS_CONNECT_TIMEOUT_SECONDS,
        read_timeout=read or settings.AWS_READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": retries},  # botocore's max_attempts counts the retries only
    )
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=config)
