"""IVS's naming rule for channels, shared by the local origin (which answers the site's channels as IVS would
store them) and the channel sync (which must not mistake that rule for a rename).

IVS channel names are letters, digits, "-" and "_", at most 128 of them (botocore's ChannelName shape:
pattern [a-zA-Z0-9-_]*, max 128); the site's names are free text ("Demo Event"). A name IVS accepts is kept as it
is. Any other name: accents are dropped ("Café" → "Cafe"), every run of other characters (spaces, "-", "&", "日本")
becomes one "-", and "-" is trimmed from both ends, so "Demo Event" → "Demo-Event" and "Q&A - Live" → "Q-A-Live".
The rule gives a name it already gave back unchanged, so comparing two names under it is comparing what IVS stores.
"""

import re
import unicodedata

MAX_LENGTH = 128
_ACCEPTED = re.compile(r"[a-zA-Z0-9_-]*")
_OTHERS = re.compile(r"[^a-zA-Z0-9_]+")


def ivs_name(name: str) -> str:
    """`name` as an IVS channel name; "" when nothing of it is left (IVS allows an empty name)."""
    if len(name) <= MAX_LENGTH and _ACCEPTED.fullmatch(name):
        return name
    unaccented = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return _OTHERS.sub("-", unaccented)[:MAX_LENGTH].strip("-")


def same_name(local: str, remote: str) -> bool:
    """Whether the site's name and an IVS name are the same name once IVS's rule is applied to both."""
    return ivs_name(local) == ivs_name(remote)
