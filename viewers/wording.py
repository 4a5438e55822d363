"""How the site counts things in its messages: "1 row", "2 rows", "1,200 entitlements", never "row(s)"."""


def counted(count: int, noun: str, plural: str = "") -> str:
    """`count` `noun`s, in words an operator reads: "1 row", "2 rows", "1 address" / "2 addresses" (`plural`)."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
