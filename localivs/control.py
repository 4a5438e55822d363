"""The IVS control-plane APIs (REST-JSON, `POST /<Operation>`) for the local origin: IVS under /ivs/, IVS Chat under
/ivschat/ (its operations in localivs/chat.py).

Why our own code: the site must run its one delivery path, a plain boto3 IVS client, in the demo and
the browser tests, and the calls must act on the local origin's own sessions (a revocation has to stop
the stream this origin is serving). No maintained emulator does that: moto emulates IVS channels but
neither key pairs nor viewer-session revocation, and would run apart from this origin's state;
LocalStack offers IVS only in its paid edition. So the wire format is taken from botocore's service
model (localivs/shapes.py) rather than written by hand, and only the behaviour is ours. IVS Chat is the
same story (localivs/chat.py says what we found).

Auth is a stand-in: a request needs an Authorization header shaped like SigV4, whose credential scope
gives the region (and must name the mount's service, `ivs` or `ivschat`), but nothing is verified (no
accounts, no secrets). It is demo and test equipment, like the rest of localivs; the `localivs.W001`
check warns when it is on without DEBUG.
"""

import json
import re
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from localivs import chat, operations, shapes, streams
from localivs.operations import ApiError


@dataclass(frozen=True)
class Service:
    """One mounted API: botocore's name for it, its operations, and how its error bodies name their text."""

    name: str
    operations: dict
    message_member: str  # the error shapes' member for the text: IVS says exceptionMessage, IVS Chat message
    error_defaults: dict = field(default_factory=dict)  # {error code: members its shape requires beyond the text}


# The streams' operations in a module of their own (localivs/streams.py), answered the same way.
IVS = Service("ivs", {**operations.OPERATIONS, **streams.OPERATIONS}, "exceptionMessage")
IVSCHAT = Service("ivschat", chat.OPERATIONS, "message", {"ValidationException": {"reason": "FIELD_VALIDATION_FAILED"}})
OPERATIONS = IVS.operations

# "AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/<region>/<service>/aws4_request, SignedHeaders=…, Signature=<hex>"
SIGV4_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=[^/\s,]{1,128}/\d{8}/(?P<region>[a-z]{2}(?:-[a-z]+)+-\d{1,2})"
    r"/(?P<service>[a-z]{1,32})/aws4_request, ?SignedHeaders=[a-z0-9;-]{1,1000}, ?Signature=[0-9a-f]{64}"
)


@csrf_exempt
@require_POST
def operation(request, name):
    """/ivs/<Operation>"""
    return _serve(IVS, request, name)


@csrf_exempt
@require_POST
def chat_operation(request, name):
    """/ivschat/<Operation>"""
    return _serve(IVSCHAT, request, name)


def _serve(service: Service, request, name: str) -> HttpResponse:
    if name not in service.operations:
        exc = ApiError("UnknownOperationException", f"The local {service.name} stand-in does not answer {name}.")
        return _error(service, exc)
    try:
        region = signed_region(request.headers.get("Authorization", ""), service.name)
        body = parse_body(request, name, service.name)
        return _answer(shapes.response_code(name, service.name), service.operations[name](region, body))
    except ApiError as exc:
        return _error(service, exc)


def signed_region(authorization: str, service: str = "ivs") -> str:
    if not authorization:
        raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token (a SigV4 header).")
    match = SIGV4_RE.fullmatch(authorization)
    if match is None or match["service"] != service:
        raise ApiError(
            "IncompleteSignatureException",
            f"The Authorization header is not a SigV4 header with an {service} credential scope.",
        )
    return match["region"]


def parse_body(request, name: str, service: str = "ivs") -> dict:
    """The request's JSON body, checked against the operation's input shape."""
    try:
        raw = request.body
        body = json.loads(raw) if raw.strip() else {}
    except RequestDataTooBig:
        raise ApiError("ValidationException", "The request body is too large.") from None
    except (ValueError, RecursionError):  # bad JSON, bad UTF-8, absurd nesting
        raise ApiError("ValidationException", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError("ValidationException", "The request body must be a JSON object.")
    found = shapes.problems(body, shapes.input_shape(name, service))
    if found:
        raise ApiError("ValidationException", "; ".join(found))
    return body


def _answer(status: int, body: dict | None, **headers) -> HttpResponse:
    # A 204 (IVS Chat's DeleteRoom) has no body at all.
    content = "" if status == 204 else json.dumps(body or {})
    response = HttpResponse(content, status=status, content_type="application/json")
    response["x-amzn-RequestId"] = str(uuid.uuid4())
    response["Cache-Control"] = "no-store"
    for header, value in headers.items():
        response[header] = value
    return response


def _error(service: Service, exc: ApiError) -> HttpResponse:
    # botocore reads the code from x-amzn-ErrorType and the text from "message"; IVS's model names the same text
    # "exceptionMessage", so both are sent there. IVS Chat's error shapes also require members of their own
    # (resourceId and resourceType, a reason…): the operation gives them, or the service's defaults.
    body = {**service.error_defaults.get(exc.code, {}), **exc.fields}
    body.update({"message": exc.message, service.message_member: exc.message})
    return _answer(exc.status, body, **{"x-amzn-ErrorType": exc.code})
