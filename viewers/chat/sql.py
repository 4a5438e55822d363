"""The chat token's moderator question as one plain statement (withdrawal.holds_moderation's rule, for one user).

Why SQL: the ORM's form of the same rule (two correlated EXISTS on the permission tables) costs ~1.5 ms of CPU to
build and compile on every chat token, several times what the database spends answering it. Table names come from
the models; tests/viewers/chat/test_moderators.py checks the answer against the ORM's rule for every way of holding
the permission.
"""

import functools

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connections, router

from viewers.models import User

MODERATE = ("viewers", "moderate_chat")

_STATEMENT = """
SELECT 1 FROM {user_permissions} WHERE user_id = %(user_id)s AND permission_id IN ({permission})
UNION ALL
SELECT 1 FROM {user_groups} JOIN {group_permissions} ON {group_permissions}.group_id = {user_groups}.group_id
WHERE {user_groups}.user_id = %(user_id)s AND {group_permissions}.permission_id IN ({permission})
"""


@functools.cache
def statement() -> str:
    permission = (
        f"SELECT p.id FROM {Permission._meta.db_table} p JOIN {ContentType._meta.db_table} ct "  # noqa: S608
        "ON ct.id = p.content_type_id WHERE ct.app_label = %(app_label)s AND p.codename = %(codename)s"
    )
    return _STATEMENT.format(
        user_permissions=User.user_permissions.through._meta.db_table,
        user_groups=User.groups.through._meta.db_table,
        group_permissions=Group.permissions.through._meta.db_table,
        permission=permission,
    )


def holds_moderation(user_id: int) -> bool:
    """Does the user hold viewers.moderate_chat directly or through a group? (Superusers: the caller's check.)"""
    app_label, codename = MODERATE
    with connections[router.db_for_read(User)].cursor() as cursor:
        cursor.execute(statement() + " LIMIT 1", {"user_id": user_id, "app_label": app_label, "codename": codename})
        return cursor.fetchone() is not None
