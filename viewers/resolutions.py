"""The resolution ladder: the one ordered list every part of the site derives its resolutions from.

An entitlement's max_resolution and a token's aws:maximum-resolution claim take these values. Least generous
first; the empty value, no limit at all, is the most generous and comes last (a token then carries no claim).
The model's choices, the token's allowed claim values, the access rule's "most generous wins", the reconciler's
"allows at least" and the local origin's renditions all read it. Pure Python: no Django, no database.
"""

from collections.abc import Iterable

NO_LIMIT = ""

# (value, label), least generous first.
LEVELS = (
    ("SD", "SD (480p and below)"),
    ("HD", "HD (720p and below)"),
    ("FULL_HD", "Full HD (1080p and below)"),
)

#: The values of the aws:maximum-resolution claim, least generous first.
CLAIM_VALUES = tuple(value for value, _ in LEVELS)
#: Every entitlement value, least generous first, no limit last.
LADDER = (*CLAIM_VALUES, NO_LIMIT)


def at_least(level: str) -> tuple[str, ...]:
    """The values that allow at least `level` (ValueError for a value not on the ladder)."""
    return LADDER[LADDER.index(level) :]


def most_generous(values: Iterable[str]) -> str:
    return max(values, key=LADDER.index)
