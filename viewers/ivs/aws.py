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
    return _client(region or settings.AWS_REGION, settings.AWS_ENDPOINT_URL_IVS or None)


@functools.lru_cache(maxsize=16)
def _client(region: str, endpoint_url: str | None):
    # Imported here so that a site that never talks to AWS does not pay for importing boto3. Clients are
    # thread-safe and costly to build (tens of ms), so the worker keeps one per region and endpoint.
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=settings.AWS_CONNECT_TIMEOUT_SECONDS,
        read_timeout=settings.AWS_READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": 3},
    )
    return boto3.client("ivs", region_name=region, endpoint_url=endpoint_url, config=config)
