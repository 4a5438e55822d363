"""SCIM Groups: an IdP group as a Django group marked IdP-managed (sso.IdpGroup). Membership changes go through
viewers.services.group_members_change: a member taken out loses what the group's entitlements gave, and their
running streams stop within the reconcile period. Members are the same IdP's SCIM users only."""

import uuid

from django.contrib.auth.models import Group
from django.db.models import Prefetch
from django.urls import reverse

from sso.models import IdpGroup, IdpIdentity
from sso.scim import parse
from sso.scim.errors import GROUP, ScimError, bad
from viewers import services

FILTERABLE = {"displayname", "externalid", "id"}


def resource(idp_group: IdpGroup, request, *, members: bool = True) -> dict:
    body = {
        "schemas": [GROUP],
        "id": str(idp_group.scim_id),
        "displayName": idp_group.display_name,
        "externalId": idp_group.external_id or None,
        "meta": {
            "resourceType": "Group",
            "created": idp_group.created_at.isoformat(),
            "location": request.build_absolute_uri(reverse("scim-group", args=[idp_group.scim_id])),
        },
    }
    if members:
        identities = IdpIdentity.objects.filter(idp=idp_group.idp, user__groups=idp_group.group_id).order_by("pk")
        body["members"] = [{"value": str(i.scim_id), "display": i.user_name} for i in identities]
    return body


def get(idp: str, scim_id: str) -> IdpGroup:
    try:
        key = uuid.UUID(scim_id)
    except ValueError:
        key = None
    idp_group = IdpGroup.objects.select_related("group").filter(idp=idp, scim_id=key).first() if key else None
    if idp_group is None:
        raise ScimError(404, f"No group {scim_id[:64]} at this identity provider.")
    return idp_group


def search(idp: str, query: tuple[str, str] | None):
    groups = IdpGroup.objects.filter(idp=idp).select_related("group").order_by("created_at", "pk")
    if query is None:
        return groups
    attribute, value = query
    if attribute == "id":
        try:
            return groups.filter(scim_id=uuid.UUID(value))
        except ValueError:
            return groups.none()
    return groups.filter(**{"displayname": {"display_name": value}, "externalid": {"external_id": value}}[attribute])


def _users(idp: str, ids: list[str]) -> list:
    """The site users behind these SCIM user ids of `idp`; an unknown id refuses the whole request."""
    keys = set()
    for value in ids:
        try:
            keys.add(uuid.UUID(value))
        except ValueError:
            raise bad(f"No user {value[:64]} at this identity provider.") from None
    identities = list(IdpIdentity.objects.filter(idp=idp, scim_id__in=keys).prefetch_related(Prefetch("user")))
    if len(identities) != len(keys):
        raise bad("A member is not a user of this identity provider.")
    return [identity.user for identity in identities]


def _name(idp: str, value, idp_group: IdpGroup | None = None) -> str:
    display_name = parse.text(value, "displayName", max_length=120, required=True)
    taken = IdpGroup.objects.filter(idp=idp, display_name=display_name)
    group_name = IdpGroup.django_name(idp, display_name)
    name_taken = Group.objects.filter(name=group_name)
    if idp_group is not None:
        taken, name_taken = taken.exclude(pk=idp_group.pk), name_taken.exclude(pk=idp_group.group_id)
    if taken.exists() or name_taken.exists():
        raise ScimError(409, f"A group named {group_name[:80]} exists already.", "uniqueness")
    return display_name


def _set_members(idp_group: IdpGroup, users: list) -> None:
    current = set(idp_group.group.user_set.values_list("pk", flat=True))
    wanted = {user.pk for user in users}
    services.group_members_change(group=idp_group.group, add=wanted - current, remove=current - wanted)


def create(idp: str, data: dict) -> IdpGroup:
    display_name = _name(idp, data.get("displayName"))
    external_id = parse.text(data.get("externalId"), "externalId", max_length=255)
    users = _users(idp, parse.member_ids(data.get("members")))
    group = Group.objects.create(name=IdpGroup.django_name(idp, display_name))
    idp_group = IdpGroup.objects.create(group=group, idp=idp, display_name=display_name, external_id=external_id)
    _set_members(idp_group, users)
    return idp_group


def _rename(idp_group: IdpGroup, display_name: str) -> None:
    idp_group.display_name = display_name
    idp_group.save(update_fields=["display_name"])
    idp_group.group.name = IdpGroup.django_name(idp_group.idp, display_name)
    idp_group.group.save(update_fields=["name"])


def replace(idp_group: IdpGroup, data: dict) -> IdpGroup:
    _rename(idp_group, _name(idp_group.idp, data.get("displayName"), idp_group))
    idp_group.external_id = parse.text(data.get("externalId"), "externalId", max_length=255)
    idp_group.save(update_fields=["external_id"])
    _set_members(idp_group, _users(idp_group.idp, parse.member_ids(data.get("members"))))
    return idp_group


def patch(idp_group: IdpGroup, operations: list) -> IdpGroup:
    """Member add/remove/replace as Okta (members[value eq "…"]) and Entra ID (a members list) send them, and the
    display name. Every member named is checked before the first change."""
    add, remove, replace_with, rename = [], [], None, None
    for op, path, value in operations:
        lowered = path.lower()
        if not path:
            if "displayName" in value:
                rename = value["displayName"]
            if "members" in value:
                replace_with = parse.member_ids(value["members"])
            continue
        member = parse.MEMBER_PATH.match(path)
        if member and op == "remove":
            remove.append(member.group(1))
        elif lowered == "members" and op == "add":
            add += parse.member_ids(value)
        elif lowered == "members" and op == "remove":
            if value is None:
                replace_with = []
            else:
                remove += parse.member_ids(value)
        elif lowered == "members" and op == "replace":
            replace_with = parse.member_ids(value)
        elif lowered == "displayname" and op in ("add", "replace"):
            rename = value
        elif lowered not in ("externalid",):
            raise bad(f"The path {path[:80]} cannot be changed on a group.", "invalidPath")
    if rename is not None:
        rename = _name(idp_group.idp, rename, idp_group)
    idp = idp_group.idp
    adding, removing = _users(idp, add), _users(idp, remove)
    replacing = None if replace_with is None else _users(idp, replace_with)
    if rename is not None:
        _rename(idp_group, rename)
    if replacing is not None:
        _set_members(idp_group, replacing)
    services.group_members_change(group=idp_group.group, add=[u.pk for u in adding], remove=[u.pk for u in removing])
    return idp_group


def delete(idp_group: IdpGroup) -> None:
    """The IdP deletes the group: its members leave it (their access through it ends) and the IdP lets go of it.
    The Django group stays, empty, with its entitlements for the record: an operator deletes it if they wish."""
    _set_members(idp_group, [])
    group = idp_group.group
    group.name = f"{group.name} [deleted at the IdP {str(idp_group.scim_id)[:8]}]"[:150]
    group.save(update_fields=["name"])
    idp_group.delete()
