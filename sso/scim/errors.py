"""SCIM answers: the JSON media type, error bodies (RFC 7644 §3.12) and list responses."""

import json

from django.http import HttpResponse

MEDIA_TYPE = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class ScimError(Exception):
    """A request the site refuses; nothing it asked for has been written (the view's transaction rolls back)."""

    def __init__(self, status: int, detail: str, scim_type: str = ""):
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def bad(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(400, detail, scim_type)


def answer(body: dict | None, status: int = 200, **headers) -> HttpResponse:
    response = HttpResponse(
        b"" if body is None else json.dumps(body), status=status, content_type=None if body is None else MEDIA_TYPE
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    response["Cache-Control"] = "no-store"
    return response


def error_answer(error: ScimError) -> HttpResponse:
    body = {"schemas": [ERROR], "status": str(error.status), "detail": error.detail}
    if error.scim_type:
        body["scimType"] = error.scim_type
    headers = {"WWW_Authenticate": 'Bearer realm="scim"'} if error.status == 401 else {}
    return answer(body, error.status, **headers)


def list_answer(resources: list[dict], total: int, start: int) -> HttpResponse:
    return answer(
        {
            "schemas": [LIST],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )
