"""Who moderates: the chat token's one statement (viewers/chat/sql.py) and the reconciler's set form
(withdrawal.holds_moderation) give the same answer for every way of holding, or not holding, the permission."""

import pytest
from django.contrib.auth.models import Group, Permission

from tests.factories import make_user
from viewers.chat import tokens, withdrawal
from viewers.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db):
    moderate = Permission.objects.get(codename="moderate_chat")
    other = Permission.objects.get(codename="view_chatban")
    moderators, viewers_group = Group.objects.create(name="moderators"), Group.objects.create(name="viewers")
    moderators.permissions.add(moderate)
    viewers_group.permissions.add(other)
    people = {
        "plain": make_user("plain"),
        "direct": make_user("direct"),
        "grouped": make_user("grouped"),
        "other-permission": make_user("other"),
        "other-group": make_user("othergroup"),
        "superuser": User.objects.create_superuser("root", "root@example.com", "password"),
        "inactive-direct": make_user("gone", is_active=False),
    }
    people["direct"].user_permissions.add(moderate)
    people["inactive-direct"].user_permissions.add(moderate)
    people["grouped"].groups.add(moderators)
    people["other-permission"].user_permissions.add(other)
    people["other-group"].groups.add(viewers_group)
    return people


def test_the_statement_and_the_set_rule_agree(cast):
    by_rule = set(User.objects.filter(withdrawal.holds_moderation("pk", "")).values_list("username", flat=True))
    assert by_rule == {"direct", "grouped", "root", "gone"}
    for user in cast.values():
        expected = user.username in by_rule and user.is_active
        assert tokens.is_moderator(user) is expected, user.username
        assert user.has_perm("viewers.moderate_chat") is expected, user.username  # Django's own answer agrees


def test_anonymous_moderates_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert tokens.is_moderator(AnonymousUser()) is False
