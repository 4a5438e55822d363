"""Reading SCIM requests strictly: the JSON body, `filter=attr eq "value"` (the only filter Okta and Entra ID send),
PatchOp operations and their paths. Anything else is a 400 with a SCIM error, before anything is written."""

import json
import re

from django.core.exceptions import RequestDataTooBig

from sso.scim.errors import PATCH_OP, ScimError, bad

FILTER = re.compile(r'^\s*([A-Za-z][\w.:]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.I)
MEMBER_PATH = re.compile(r'^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$', re.I)
OPS = {"add", "replace", "remove"}


def body(request) -> dict:
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ScimError(413, "The request body is too large.") from None
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise bad("The body is not valid JSON.", "invalidSyntax") from None
    if not isinstance(data, dict):
        raise bad("The body must be a JSON object.", "invalidSyntax")
    return data


def equality_filter(text: str, attributes: set[str]) -> tuple[str, str] | None:
    """`userName eq "alice"` → ("username", "alice"); None without a filter."""
    if not text:
        return None
    match = FILTER.match(text)
    if not match or match.group(1).lower() not in attributes:
        raise bad(f'Only `<{" | ".join(sorted(attributes))}> eq "…"` filters are supported.', "invalidFilter")
    try:
        return match.group(1).lower(), json.loads(f'"{match.group(2)}"')
    except ValueError:
        raise bad("The filter's value is not a valid string.", "invalidFilter") from None


def paging(request) -> tuple[int, int]:
    try:
        start = max(1, int(request.GET.get("startIndex", 1)))
        count = min(max(0, int(request.GET.get("count", 100))), 100)
    except ValueError:
        raise bad("startIndex and count must be integers.", "invalidValue") from None
    return start, count


def text(value, name: str, *, max_length: int = 150, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_length:
        raise bad(f"{name} must be a string of at most {max_length} characters.")
    return value.strip()


def boolean(value, name: str) -> bool:
    """A boolean; Entra ID sends "True" and "False" as strings in PATCH."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad(f"{name} must be true or false.")


def operations(data: dict) -> list[tuple[str, str, object]]:
    """A PatchOp's operations as (op, path, value): op lower-cased, path "" when absent."""
    schemas = data.get("schemas")
    if not isinstance(schemas, list) or PATCH_OP not in schemas:
        raise bad(f"A PATCH body must declare the schema {PATCH_OP}.", "invalidSyntax")
    ops = data.get("Operations")
    if not isinstance(ops, list) or not ops or len(ops) > 1000:
        raise bad("Operations must be a list of 1 to 1000 operations.", "invalidSyntax")
    parsed = []
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("op"), str) or op["op"].lower() not in OPS:
            raise bad('Each operation needs an "op" of add, replace or remove.', "invalidSyntax")
        path = op.get("path") or ""
        if not isinstance(path, str) or len(path) > 300:
            raise bad("An operation's path must be a string.", "invalidPath")
        if op["op"].lower() != "remove" and "value" not in op:
            raise bad(f"The {op['op']} operation needs a value.", "invalidSyntax")
        if not path and not isinstance(op.get("value"), dict):
            raise bad("An operation without a path needs an object as its value.", "invalidSyntax")
        parsed.append((op["op"].lower(), path, op.get("value")))
    return parsed


def member_ids(value, name: str = "members") -> list[str]:
    """[{"value": "<scim id>"}, …] → the ids."""
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or len(value) > 10000:
        raise bad(f'{name} must be a list of {{"value": id}} objects.')
    ids = []
    for member in value:
        if not isinstance(member, dict) or not isinstance(member.get("value"), str):
            raise bad(f'Each of {name} needs a "value" (the member\'s id).')
        ids.append(member["value"])
    return ids
