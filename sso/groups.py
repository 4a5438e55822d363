"""IdP groups → Django groups at each login: the configured claim (SSO_PROVIDERS' groups_claim, "groups" by default)
of the verified ID token names the user's groups at the IdP. The user is put in the IdP-managed groups (sso.IdpGroup)
of that IdP the claim names, by display name or by the IdP's id, and taken out of that IdP's other groups. Groups
of other IdPs and hand-made groups are left alone; claim values that name no IdP group are ignored (the site does
not make a group for each of an employee's hundred groups: an operator or SCIM makes the ones that matter).

A token without the claim changes nothing: Entra ID leaves it out (and says so in `_claim_names`) when the user
has too many groups, and "no claim" must not read as "in no group". SCIM then keeps the memberships current."""

import logging

from sso.models import IdpGroup
from viewers import services

logger = logging.getLogger("sso")


def claim_values(claims: dict, claim: str) -> set[str] | None:
    """The claim's group names or ids, or None when the token says nothing about groups."""
    value = claims.get(claim)
    if value is None:
        if claim in (claims.get("_claim_names") or {}):
            logger.warning("sso: the ID token's %s claim was left out (too many groups); memberships kept", claim)
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        logger.warning("sso: the ID token's %s claim is not a list; memberships kept", claim)
        return None
    return {str(item) for item in value if isinstance(item, str | int)}


def sync_from_claims(user, idp: str, claims: dict, claim: str) -> tuple[int, int]:
    """Make `user`'s memberships in `idp`'s groups what the claim says. Returns (added, removed)."""
    values = claim_values(claims, claim)
    if values is None:
        return 0, 0
    managed = IdpGroup.objects.filter(idp=idp)
    wanted = {g.group_id for g in managed if g.display_name in values or (g.external_id and g.external_id in values)}
    current = set(user.groups.filter(idp_group__idp=idp).values_list("pk", flat=True))
    add, remove = wanted - current, current - wanted
    if add or remove:
        services.user_groups_change(user=user, add=add, remove=remove)
    return len(add), len(remove)
