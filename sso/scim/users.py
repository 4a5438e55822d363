"""SCIM Users: a site user as one IdP's SCIM client sees them (sso.IdpIdentity). Deactivation (`active: false`,
DELETE) goes through viewers.services.user_set_active, which asks for an early reconciliation: the running streams
of the user stop within the reconcile period, as for any withdrawal."""

import uuid

from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from sso.adapters import free_username
from sso.models import IdpIdentity
from sso.scim import parse
from sso.scim.errors import USER, ScimError, bad
from viewers import services
from viewers.models import User

FILTERABLE = {"username", "externalid", "id"}


def resource(identity: IdpIdentity, request) -> dict:
    user = identity.user
    return {
        "schemas": [USER],
        "id": str(identity.scim_id),
        "externalId": identity.external_id or None,
        "userName": identity.user_name,
        "name": {"givenName": user.first_name, "familyName": user.last_name},
        "emails": [{"value": user.email, "primary": True, "type": "work"}] if user.email else [],
        "active": user.is_active,
        "meta": {
            "resourceType": "User",
            "created": identity.created_at.isoformat(),
            "location": request.build_absolute_uri(reverse("scim-user", args=[identity.scim_id])),
        },
    }


def get(idp: str, scim_id: str) -> IdpIdentity:
    try:
        key = uuid.UUID(scim_id)
    except ValueError:
        key = None
    identity = IdpIdentity.objects.select_related("user").filter(idp=idp, scim_id=key).first() if key else None
    if identity is None:
        raise ScimError(404, f"No user {scim_id[:64]} at this identity provider.")
    return identity


def search(idp: str, query: tuple[str, str] | None):
    identities = IdpIdentity.objects.filter(idp=idp).select_related("user").order_by("created_at", "pk")
    if query is None:
        return identities
    attribute, value = query
    if attribute == "id":
        try:
            return identities.filter(scim_id=uuid.UUID(value))
        except ValueError:
            return identities.none()
    return identities.filter(**{"username": {"user_name": value}, "externalid": {"external_id": value}}[attribute])


def _attributes(data: dict) -> dict:
    """The attributes the site keeps, read from a full User resource (POST, PUT) or a PATCH value object."""
    found = {}
    if "userName" in data:
        found["user_name"] = parse.text(data["userName"], "userName", max_length=255, required=True)
    if "externalId" in data:
        found["external_id"] = parse.text(data["externalId"], "externalId", max_length=255)
    if "active" in data:
        found["active"] = parse.boolean(data["active"], "active")
    name = data.get("name")
    if name is not None:
        if not isinstance(name, dict):
            raise bad("name must be an object.")
        for scim, field in (("givenName", "first_name"), ("familyName", "last_name")):
            if scim in name:
                found[field] = parse.text(name[scim], f"name.{scim}")
    if "emails" in data:
        emails = data["emails"]
        if not isinstance(emails, list) or not all(isinstance(e, dict) for e in emails):
            raise bad("emails must be a list of objects.")
        primary = [e for e in emails if e.get("primary") is True] or emails
        found["email"] = parse.text(primary[0].get("value"), "emails.value", max_length=254) if primary else ""
    for attribute in ("name.givenName", "name.familyName"):  # Entra ID's PATCH value objects use dotted keys
        if attribute in data:
            found[{"name.givenName": "first_name", "name.familyName": "last_name"}[attribute]] = parse.text(
                data[attribute], attribute
            )
    return found


def _check_user_name_free(idp: str, user_name: str, identity: IdpIdentity | None = None) -> None:
    taken = IdpIdentity.objects.filter(idp=idp, user_name=user_name)
    if identity is not None:
        taken = taken.exclude(pk=identity.pk)
    if taken.exists():
        raise ScimError(409, f"A user named {user_name[:64]} exists at this identity provider.", "uniqueness")


def _apply(identity: IdpIdentity, found: dict) -> IdpIdentity:
    user = identity.user
    for field in ("user_name", "external_id"):
        if field in found:
            setattr(identity, field, found[field])
    identity.save()
    changed = [field for field in ("first_name", "last_name", "email") if field in found]
    for field in changed:
        setattr(user, field, found[field])
    if changed:
        user.save(update_fields=changed)
    if "active" in found:
        services.user_set_active(user=user, active=found["active"])
    return identity


def create(idp: str, data: dict) -> IdpIdentity:
    found = _attributes(data)
    if "user_name" not in found:
        raise bad("userName is required.")
    _check_user_name_free(idp, found["user_name"])
    # A user who logged in already with this IdP subject (an IdP whose externalId is the OIDC subject).
    account = None
    if found.get("external_id"):
        account = SocialAccount.objects.filter(provider=idp, uid=found["external_id"]).select_related("user").first()
    if account is not None and IdpIdentity.objects.filter(idp=idp, user=account.user).exists():
        raise ScimError(409, "That user exists at this identity provider under another userName.", "uniqueness")
    user = account.user if account else None
    if user is None:
        user = User(username=free_username(idp, found["user_name"]), password=make_password(None))
        user.save()
    identity = IdpIdentity(idp=idp, user=user, user_name=found["user_name"])
    return _apply(identity, found)


def replace(identity: IdpIdentity, data: dict) -> IdpIdentity:
    found = _attributes(data)
    if "user_name" not in found:
        raise bad("userName is required.")
    _check_user_name_free(identity.idp, found["user_name"], identity)
    found.setdefault("active", True)  # PUT replaces the whole resource: no "active" means the default, active
    return _apply(identity, found)


PATHS = {
    "active": "active",
    "username": "userName",
    "externalid": "externalId",
    "name.givenname": "name.givenName",
    "name.familyname": "name.familyName",
    'emails[type eq "work"].value': "emails",
    "emails": "emails",
}


def patch(identity: IdpIdentity, operations: list) -> IdpIdentity:
    """add/replace of the attributes the site keeps; others (title, manager, …) are accepted and ignored."""
    found = {}
    for op, path, value in operations:
        if not path:
            found.update(_attributes(value))
            continue
        attribute = PATHS.get(path.lower())
        if attribute is None:
            continue
        if op == "remove":
            value = [] if attribute == "emails" else None
            if attribute in ("active", "userName"):
                raise bad(f"{attribute} cannot be removed.", "mutability")
        if attribute == "emails" and isinstance(value, str):
            value = [{"value": value, "primary": True}]
        found.update(_attributes({attribute: value}))
    if "user_name" in found:
        _check_user_name_free(identity.idp, found["user_name"], identity)
    return _apply(identity, found)


def delete(identity: IdpIdentity) -> None:
    """The IdP forgets the user: the account is switched off (kept, with its history) and SCIM stops knowing it."""
    services.user_set_active(user=identity.user, active=False)
    identity.delete()
