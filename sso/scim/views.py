"""The SCIM 2.0 endpoints, /scim/v2/…: Users and Groups (list with an equality filter, create, read, PUT, PATCH,
DELETE) and ServiceProviderConfig, authenticated by each IdP's bearer token (sso/scim/auth.py).

Our own rather than django-scim2, which was considered: its documentation says PostgreSQL is the only database it
supports (the embedded default here is SQLite), and it lets a request in when `request.user` is authenticated
(SCIMAuthCheckMiddleware), so a per-IdP bearer token would be a login of its own; each IdP must also see only its
own users and groups, and every change that may withdraw access must go through viewers.services so that the
running streams stop, while its adapters save users and memberships themselves. What is left is small: the JSON
shapes and the PatchOp forms Okta and Entra ID send (sso/scim/parse.py).

Every request runs in one transaction: a refused one (bad JSON, an unknown member, a name taken) writes nothing and
gets a SCIM error body, never a 500. The IdP's last request (method, path, status) is recorded for the admin.
"""

import logging

from django.db import IntegrityError, transaction
from django.views.decorators.csrf import csrf_exempt

from sso.scim import auth, groups, parse, users
from sso.scim.errors import ScimError, answer, error_answer, list_answer

logger = logging.getLogger("sso.scim")
SCHEMES = [
    {
        "type": "oauthbearertoken",
        "name": "Bearer token",
        "description": "The token shown once in the admin (SCIM tokens) for this identity provider.",
        "primary": True,
    }
]


def scim_view(allowed: tuple[str, ...]):
    def wrap(handler):
        @csrf_exempt
        def view(request, **kwargs):
            token = auth.idp_of(request)
            if token is None:
                return error_answer(ScimError(401, "A valid SCIM bearer token is required."))
            try:
                if request.method not in allowed:
                    raise ScimError(405, f"{request.method} is not supported here.")
                with transaction.atomic():
                    response = handler(request, token.idp, **kwargs)
            except ScimError as error:
                response = error_answer(error)
            except IntegrityError:  # a concurrent request made the same name first
                response = error_answer(ScimError(409, "That name or id exists already.", "uniqueness"))
            except Exception:
                logger.exception("scim: %s %s failed", request.method, request.path)
                response = error_answer(ScimError(500, "The request failed on the site; nothing was changed."))
            detail = "" if response.status_code < 400 else response.content.decode(errors="replace")
            auth.record(token, request, response.status_code, detail)
            return response

        return view

    return wrap


def _listing(request, found, render):
    start, count = parse.paging(request)
    total = found.count()
    return list_answer([render(row) for row in found[start - 1 : start - 1 + count]], total, start)


def _members_wanted(request) -> bool:
    """Okta and Entra ID list groups with excludedAttributes=members: the members of a big group cost a query each."""
    return "members" not in request.GET.get("excludedAttributes", "").lower()


@scim_view(("GET", "POST"))
def users_view(request, idp):
    if request.method == "POST":
        identity = users.create(idp, parse.body(request))
        return answer(users.resource(identity, request), 201)
    found = users.search(idp, parse.equality_filter(request.GET.get("filter", ""), users.FILTERABLE))
    return _listing(request, found, lambda identity: users.resource(identity, request))


@scim_view(("GET", "PUT", "PATCH", "DELETE"))
def user_view(request, idp, scim_id):
    identity = users.get(idp, scim_id)
    if request.method == "PUT":
        identity = users.replace(identity, parse.body(request))
    elif request.method == "PATCH":
        identity = users.patch(identity, parse.operations(parse.body(request)))
    elif request.method == "DELETE":
        users.delete(identity)
        return answer(None, 204)
    return answer(users.resource(identity, request))


@scim_view(("GET", "POST"))
def groups_view(request, idp):
    if request.method == "POST":
        idp_group = groups.create(idp, parse.body(request))
        return answer(groups.resource(idp_group, request), 201)
    found = groups.search(idp, parse.equality_filter(request.GET.get("filter", ""), groups.FILTERABLE))
    members = _members_wanted(request)
    return _listing(request, found, lambda row: groups.resource(row, request, members=members))


@scim_view(("GET", "PUT", "PATCH", "DELETE"))
def group_view(request, idp, scim_id):
    idp_group = groups.get(idp, scim_id)
    if request.method == "PUT":
        idp_group = groups.replace(idp_group, parse.body(request))
    elif request.method == "PATCH":
        idp_group = groups.patch(idp_group, parse.operations(parse.body(request)))
    elif request.method == "DELETE":
        groups.delete(idp_group)
        return answer(None, 204)
    return answer(groups.resource(idp_group, request, members=_members_wanted(request)))


@scim_view(("GET",))
def service_provider_config(request, idp):
    unsupported = {"supported": False}
    return answer(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": True},
            "bulk": {**unsupported, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": 100},
            "changePassword": unsupported,
            "sort": unsupported,
            "etag": unsupported,
            "authenticationSchemes": SCHEMES,
        }
    )


@csrf_exempt
def not_found(request, rest=""):
    return error_answer(ScimError(404, "No such SCIM endpoint."))
