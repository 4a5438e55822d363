"""Model fields several models share."""

from django.db import models

from viewers import validators

# IVS's API models cap channel and playback-key ARNs at 128 characters.
_ARNS = {
    "channel": (
        "IVS channel ARN",
        validators.validate_channel_arn,
        "arn:aws:ivs:&lt;region&gt;:&lt;account&gt;:channel/&lt;id&gt;",
    ),
    "playback-key": (
        "IVS key-pair ARN",
        validators.validate_key_pair_arn,
        "From ImportPlaybackKeyPair: arn:aws:ivs:&lt;region&gt;:&lt;account&gt;:playback-key/&lt;id&gt;",
    ),
}


def arn_field(resource):
    """The ARN of an IVS `resource` ("channel" or "playback-key"), unique across the site."""
    label, validator, help_text = _ARNS[resource]
    return models.CharField(label, max_length=128, unique=True, validators=[validator], help_text=help_text)
