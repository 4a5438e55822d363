"""The one place that builds AWS clients. Credentials come from boto3's standard chain
(environment, shared config/credentials files, instance or task role): the site never stores them."""

from django.conf import settings


def aws_configured() -> bool:
    """True when the site may call AWS: a region has been set (AWS_REGION or IVS_AWS_REGION)."""
    return bool(getattr(settings, "AWS_REGION", ""))


def ivs_client(region: str | None = None):
    """A boto3 IVS client for `region` (IVS resources are regional), by default settings.AWS_REGION."""
    # Imported here so that a site that never talks to AWS does not pay for importing boto3.
    import boto3

    return boto3.client("ivs", region_name=region or settings.AWS_REGION)
