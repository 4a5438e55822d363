"""The IVS control-plane API (REST-JSON, `POST /<Operation>`) for the local origin, under /ivs/.

Why our own code: the site must run its one delivery path, a plain boto3 IVS client, in the demo and
the browser tests, and the calls must act on the local origin's own sessions (a revocation has to stop
the stream this origin is serving). No maintained emulator does that: moto emulates IVS channels but
neither key pairs nor viewer-session revocation, and would run apart from this origin's state;
LocalStack offers IVS only in its paid edition. So the wire format is taken from botocore's service
model (localivs/shapes.py) rather than written by hand, and only the behaviour is ours.

Auth is a stand-in: a request needs an Authorization header shaped like SigV4, whose credential scope
gives the region, but nothing is verified (no accounts, no secrets). It is demo and test equipment,
like the rest of localivs; the `localivs.W001` check warns when it is on without DEBUG.
"""

import json
import re
import uuid

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from localivs import operations, shapes, streams
from localivs.operations import ApiError

# The streams' operations in a module of their own (localivs/streams.py), answered the same way.
OPERATIONS = {**operations.OPERATIONS, **streams.OPERATIONS}

# "AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/<region>/ivs/aws4_request, SignedHeaders=…, Signature=<hex>"
SIGV4_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=[^/\s,]{1,128}/\d{8}/(?P<region>[a-z]{2}(?:-[a-z]+)+-\d{1,2})/ivs/aws4_request,"
    r" ?SignedHeaders=[a-z0-9;-]{1,1000}, ?Signature=[0-9a-f]{64}"
)


@csrf_exempt
@require_POST
def operation(request, name):
    if name not in OPERATIONS:
        return _error(ApiError("UnknownOperationException", f"The local IVS origin does not answer {name}."))
    try:
        region = signed_region(request.headers.get("Authorization", ""))
        body = parse_body(request, name)
        return _answer(200, OPERATIONS[name](region, body))
    except ApiError as exc:
        return _error(exc)


def signed_region(authorization: str) -> str:
    if not authorization:
        raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token (a SigV4 header).")
    match = SIGV4_RE.fullmatch(authorization)
    if match is None:
        raise ApiError(
            "IncompleteSignatureException",
            "The Authorization header is not a SigV4 header with an ivs credential scope.",
        )
    return match["region"]


def parse_body(request, name: str) -> dict:
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
    found = shapes.problems(body, shapes.input_shape(name))
    if found:
        raise ApiError("ValidationException", "; ".join(found))
    return body


def _answer(status: int, body: dict, **headers) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["x-amzn-RequestId"] = str(uuid.uuid4())
    response["Cache-Control"] = "no-store"
    for header, value in headers.items():
        response[header] = value
    return response


def _error(exc: ApiError) -> HttpResponse:
    # botocore reads the code from x-amzn-ErrorType and the text from "message"; the service model
    # names the same text "exceptionMessage", so both are sent.
    body = {"message": exc.message, "exceptionMessage": exc.message}
    return _answer(exc.status, body, **{"x-amzn-ErrorType": exc.code})
