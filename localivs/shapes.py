"""botocore's service models for IVS and IVS Chat, used as the contract of the local control planes.

botocore's own ParamValidator checks types, required and unknown members and minimums: the checks a
client makes before sending. The rest (maximums, patterns, enums, 32-bit integers) AWS checks on the
server, so the stand-in checks them here. Both together reject what IVS would answer with a
ValidationException, and the tests run the same checks over every response the stand-in sends.
"""

from functools import cache

import botocore.session
import regex
from botocore.validate import ParamValidator

# The API version each stand-in answers, pinned so that a botocore upgrade adding a newer one changes nothing here.
API_VERSIONS = {"ivs": "2020-07-14", "ivschat": "2020-07-14"}
INT32_MAX = 2**31 - 1
MAX_MESSAGE = 1000  # a wrong-typed value is quoted in botocore's report: keep error bodies small


@cache
def service_model(service: str = "ivs"):
    return botocore.session.get_session().get_service_model(service, api_version=API_VERSIONS[service])


def input_shape(operation: str, service: str = "ivs"):
    return service_model(service).operation_model(operation).input_shape


def output_shape(operation: str, service: str = "ivs"):
    return service_model(service).operation_model(operation).output_shape


def response_code(operation: str, service: str = "ivs") -> int:
    """The status of a successful answer: 200 for most, 204 (no body) for some, as the model says."""
    return service_model(service).operation_model(operation).http.get("responseCode", 200)


def problems(value, shape) -> list[str]:
    """Everything wrong with a parsed JSON value for this shape; empty when it conforms."""
    if shape is None:
        return [] if value in ({}, None) else ["the operation takes no input"]
    report = ParamValidator().validate(value, shape)
    # The report quotes the bad value: an unpaired surrogate or a NUL in it would spoil the error body too.
    text = report.generate_report()[:MAX_MESSAGE].encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")
    found = [text] if report.has_errors() else []
    _server_checks(value, shape, shape.name, found)
    return found


def _server_checks(value, shape, where, found):
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value and "location" not in member.serialization:
                _server_checks(value[name], member, f"{where}.{name}", found)
    elif kind == "list" and isinstance(value, list):
        _sized(len(value), meta, where, found)
        for index, item in enumerate(value):
            _server_checks(item, shape.member, f"{where}[{index}]", found)
    elif kind == "map" and isinstance(value, dict):
        _sized(len(value), meta, where, found)
        for key, item in value.items():
            _server_checks(key, shape.key, f"{where} key", found)
            _server_checks(item, shape.value, f"{where}[{key!r}]"[:200], found)
    elif kind == "string" and isinstance(value, str):
        _string(value, meta, where, found)
    elif kind in ("integer", "long"):
        if isinstance(value, bool):  # a JSON true is not a number, though Python's bool is an int
            found.append(f"{where} must be a number, not a boolean")
        elif isinstance(value, int):
            high = min(meta.get("max", INT32_MAX), INT32_MAX) if kind == "integer" else meta.get("max")
            if high is not None and value > high:
                found.append(f"{where} must be at most {high}")


def _string(value, meta, where, found):
    _sized(len(value), meta, where, found)
    # `regex`, not `re`: the model's tag patterns use Unicode classes (\p{L}) that `re` lacks.
    if "pattern" in meta and not regex.fullmatch(meta["pattern"], value):
        found.append(f"{where} must match the pattern {meta['pattern']}")
    if "enum" in meta and value not in meta["enum"]:
        found.append(f"{where} must be one of {', '.join(meta['enum'])}")
    # Not IVS's rules, but no database could store these: refuse them rather than fail later.
    if "\x00" in value:
        found.append(f"{where} must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        found.append(f"{where} is not valid Unicode (unpaired surrogate)")


def _sized(size, meta, where, found):
    if "max" in meta and size > meta["max"]:
        found.append(f"{where} must have at most {meta['max']} items or characters")
